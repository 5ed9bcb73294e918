from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.entities import FollowState


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="Account",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                ("handle", fields.CharField(unique=True, max_length=30)),
                ("display_name", fields.CharField(max_length=100)),
                ("password_hash", fields.CharField(max_length=255)),
                ("is_private", fields.BooleanField(default=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "account", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Block",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "blocker",
                    fields.ForeignKeyField(
                        "models.Account",
                        source_field="blocker_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="blocks_made",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "blocked",
                    fields.ForeignKeyField(
                        "models.Account",
                        source_field="blocked_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="blocks_received",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "block",
                "app": "models",
                "unique_together": (("blocker_id", "blocked_id"),),
                "indexes": [Index(fields=["blocked_id", "blocker_id"], name="block_blocked_idx")],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Follow",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "follower",
                    fields.ForeignKeyField(
                        "models.Account",
                        source_field="follower_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="following",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "followee",
                    fields.ForeignKeyField(
                        "models.Account",
                        source_field="followee_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="followers",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        description="PENDING: PENDING\nAPPROVED: APPROVED",
                        enum_type=FollowState,
                        max_length=8,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "follow",
                "app": "models",
                "unique_together": (("follower_id", "followee_id"),),
                "indexes": [
                    Index(
                        fields=["follower_id", "status", "followee_id"], name="follow_follower_idx"
                    ),
                    Index(
                        fields=["followee_id", "status", "follower_id"], name="follow_followee_idx"
                    ),
                ],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Video",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "author",
                    fields.ForeignKeyField(
                        "models.Account",
                        source_field="author_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="videos",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("caption", fields.TextField(unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("like_count", fields.IntField(default=0)),
            ],
            options={
                "table": "video",
                "app": "models",
                "indexes": [Index(fields=["author_id", "id"], name="video_author_id_idx")],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Like",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "account",
                    fields.ForeignKeyField(
                        "models.Account",
                        source_field="account_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="likes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "video",
                    fields.ForeignKeyField(
                        "models.Video",
                        source_field="video_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="likes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("liked_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("liker_public", fields.BooleanField()),
            ],
            options={
                "table": "video_like",
                "app": "models",
                "unique_together": (("video_id", "account_id"),),
                "indexes": [
                    Index(fields=["video_id", "liker_public", "id"], name="like_video_public_idx"),
                    Index(fields=["account_id", "id"], name="like_account_id_idx"),
                ],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
