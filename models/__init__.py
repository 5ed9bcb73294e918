from models.entities import (
    Account,
    AppToken,
    AudienceProfile,
    Block,
    Follow,
    FollowState,
    InsightsAccountFigure,
    InsightsFigure,
    InsightsRelease,
    Like,
    Session,
    Video,
)

__all__ = [
    "Account",
    "AppToken",
    "AudienceProfile",
    "Block",
    "Follow",
    "FollowState",
    "InsightsAccountFigure",
    "InsightsFigure",
    "InsightsRelease",
    "Like",
    "Session",
    "Video",
]
