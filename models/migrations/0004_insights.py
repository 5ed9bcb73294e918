from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("models", "0003_graph_indexes")]

    initial = False

    operations = [
        ops.AddIndex(
            model_name="Like",
            index=Index(fields=["video_id", "liked_at"], name="like_video_liked_at_idx"),
        ),
        ops.CreateModel(
            name="AudienceProfile",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "account",
                    fields.OneToOneField(
                        "models.Account",
                        source_field="account_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="audience_profile",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("birth_year", fields.IntField(null=True)),
                ("region", fields.CharField(null=True, max_length=2)),
                ("language", fields.CharField(null=True, max_length=2)),
            ],
            options={"table": "audience_profile", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="InsightsFigure",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "video",
                    fields.ForeignKeyField(
                        "models.Video",
                        source_field="video_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="insights_figures",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("day", fields.DateField()),
                ("dimension", fields.CharField(max_length=16)),
                ("bucket", fields.CharField(max_length=16)),
                ("count", fields.IntField()),
            ],
            options={
                "table": "insights_figure",
                "app": "models",
                "unique_together": (("video_id", "dimension", "day", "bucket"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="InsightsRelease",
            fields=[
                (
                    "id",
                    fields.IntField(generated=True, primary_key=True, unique=True, db_index=True),
                ),
                (
                    "video",
                    fields.ForeignKeyField(
                        "models.Video",
                        source_field="video_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="insights_releases",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("day", fields.DateField()),
                ("released_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "insights_release",
                "app": "models",
                "unique_together": (("video_id", "day"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
