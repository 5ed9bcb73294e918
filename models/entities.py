from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class FollowState(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"


class Account(Model):
    id = fields.IntField(primary_key=True)
    # Stored lower-cased: handles are unique without regard to case.
    handle = fields.CharField(max_length=30, unique=True)
    display_name = fields.CharField(max_length=100)
    password_hash = fields.CharField(max_length=255)
    is_private = fields.BooleanField(default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "account"


class Video(Model):
    id = fields.IntField(primary_key=True)
    author: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="videos", on_delete=fields.CASCADE, db_index=False
    )
    author_id: int
    caption = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    # Kept equal to the number of Like rows in the same transaction as each like/unlike.
    like_count = fields.IntField(default=0)

    class Meta:
        table = "video"
        indexes = (Index(fields=("author_id", "id"), name="video_author_id_idx"),)


class Like(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="likes", on_delete=fields.CASCADE, db_index=False
    )
    account_id: int
    video: fields.ForeignKeyRelation[Video] = fields.ForeignKeyField(
        "models.Video", related_name="likes", on_delete=fields.CASCADE, db_index=False
    )
    video_id: int
    liked_at = fields.DatetimeField(auto_now_add=True)
    # A copy of NOT account.is_private, rewritten by setPrivacy in the same transaction,
    # so that a likers page walks public likes and followed private likes as two index
    # streams instead of stepping over hidden rows (docs/likers-query.md).
    liker_public = fields.BooleanField()

    class Meta:
        table = "video_like"
        unique_together = (("video_id", "account_id"),)
        indexes = (
            Index(fields=("video_id", "liker_public", "id"), name="like_video_public_idx"),
            Index(fields=("account_id", "id"), name="like_account_id_idx"),
            # Creator insights release one video's closed day from this range alone.
            Index(fields=("video_id", "liked_at"), name="like_video_liked_at_idx"),
        )


class Follow(Model):
    id = fields.IntField(primary_key=True)
    follower: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="following", on_delete=fields.CASCADE, db_index=False
    )
    follower_id: int
    followee: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="followers", on_delete=fields.CASCADE, db_index=False
    )
    followee_id: int
    status = fields.CharEnumField(FollowState, max_length=8)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "follow"
        unique_together = (("follower_id", "followee_id"),)
        indexes = (
            Index(fields=("follower_id", "status", "followee_id"), name="follow_follower_idx"),
            Index(fields=("followee_id", "status", "follower_id"), name="follow_followee_idx"),
            # Rule 10's lists, newest edge first (followers, following, both request lists).
            Index(fields=("followee_id", "status", "id"), name="follow_followee_page_idx"),
            Index(fields=("follower_id", "status", "id"), name="follow_follower_page_idx"),
        )


class Block(Model):
    id = fields.IntField(primary_key=True)
    blocker: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="blocks_made", on_delete=fields.CASCADE, db_index=False
    )
    blocker_id: int
    blocked: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="blocks_received", on_delete=fields.CASCADE, db_index=False
    )
    blocked_id: int
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "block"
        unique_together = (("blocker_id", "blocked_id"),)
        indexes = (
            Index(fields=("blocked_id", "blocker_id"), name="block_blocked_idx"),
            # blockedAccounts, newest block first.
            Index(fields=("blocker_id", "id"), name="block_blocker_page_idx"),
        )


class Session(Model):
    """A logged-in session: an access token names one, and lives only as long as it."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="sessions", on_delete=fields.CASCADE, db_index=False
    )
    account_id: int
    # SHA-256 of the token (auth/tokens.py): the token itself is never stored.
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "account_session"
        indexes = (Index(fields=("account_id", "expires_at"), name="session_account_idx"),)


# What an account declared about itself for creators' aggregates (CONTRACT rule 14):
# read by its own account, and otherwise only counted inside released insights.
class AudienceProfile(Model):
    id = fields.IntField(primary_key=True)
    account: fields.OneToOneRelation[Account] = fields.OneToOneField(
        "models.Account", related_name="audience_profile", on_delete=fields.CASCADE
    )
    account_id: int
    birth_year = fields.IntField(null=True)
    region = fields.CharField(max_length=2, null=True)  # ISO 3166-1 alpha-2
    language = fields.CharField(max_length=2, null=True)  # ISO 639-1

    class Meta:
        table = "audience_profile"


# One video's closed UTC day, released once (rule 15): the row's existence says that the
# day's figures are stored, and its uniqueness decides which of two racing releases wins.
class InsightsRelease(Model):
    id = fields.IntField(primary_key=True)
    video: fields.ForeignKeyRelation[Video] = fields.ForeignKeyField(
        "models.Video", related_name="insights_releases", on_delete=fields.CASCADE, db_index=False
    )
    video_id: int
    day = fields.DateField()
    released_at = fields.DatetimeField()

    class Meta:
        table = "insights_release"
        unique_together = (("video_id", "day"),)


# A released, noised count of one video's day: the total (dimension `TOTAL`) or one
# bucket of a dimension. Only figures at or above the threshold are stored; a bucket with
# no row in a released day was withheld.
class InsightsFigure(Model):
    id = fields.IntField(primary_key=True)
    video: fields.ForeignKeyRelation[Video] = fields.ForeignKeyField(
        "models.Video", related_name="insights_figures", on_delete=fields.CASCADE, db_index=False
    )
    video_id: int
    day = fields.DateField()
    dimension = fields.CharField(max_length=16)
    bucket = fields.CharField(max_length=16)
    count = fields.IntField()

    class Meta:
        table = "insights_figure"
        # (video, dimension, day) first: a read is one range of this index.
        unique_together = (("video_id", "dimension", "day", "bucket"),)


# The same released figures summed per author: what `Account.insights` reads. Kept apart
# from the videos' own so that deleting a video changes no released figure of its
# account (rule 15); deleting the account deletes them.
class InsightsAccountFigure(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account",
        related_name="insights_figures",
        on_delete=fields.CASCADE,
        db_index=False,
    )
    account_id: int
    day = fields.DateField()
    dimension = fields.CharField(max_length=16)
    bucket = fields.CharField(max_length=16)
    count = fields.IntField()

    class Meta:
        table = "insights_account_figure"
        # (account, dimension, day) first: a read is one range of this index.
        unique_together = (("account_id", "dimension", "day", "bucket"),)


class AppToken(Model):
    """A third-party app's token (CONTRACT rule 17): acts for its account with its scopes."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="app_tokens", on_delete=fields.CASCADE, db_index=False
    )
    account_id: int
    name = fields.CharField(max_length=100)
    # Comma-separated AppScope names; a token's scopes never change after it is made.
    scopes = fields.CharField(max_length=200)
    # SHA-256 of the token (auth/app_tokens.py): the token itself is never stored.
    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Written at most once a minute per token and process (auth/app_tokens.py).
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "app_token"
        # The account's own list (Account.appTokens), newest first, and its deletion.
        indexes = (Index(fields=("account_id", "id"), name="app_token_account_idx"),)
