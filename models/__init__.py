"""The stored data of likegraph. Data only: every visibility rule lives in auth.policy."""

from models.entities import (
    Account,
    AudienceProfile,
    Block,
    Follow,
    FollowState,
    InsightsFigure,
    InsightsRelease,
    Like,
    Video,
)

__all__ = [
    "Account",
    "AudienceProfile",
    "Block",
    "Follow",
    "FollowState",
    "InsightsFigure",
    "InsightsRelease",
    "Like",
    "Video",
]
