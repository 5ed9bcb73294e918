"""The stored data of likegraph. Data only: every visibility rule lives in auth.policy."""

from models.entities import Account, Block, Follow, FollowState, Like, Session, Video

__all__ = ["Account", "Block", "Follow", "FollowState", "Like", "Session", "Video"]
