from models.entities import (
    Account,
    AudienceProfile,
    Block,
    Follow,
    FollowState,
    InsightsFigure,
    InsightsRelease,
    Like,
    Session,
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
    "Session",
    "Video",
]
