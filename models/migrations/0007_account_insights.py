"""The released insights figures summed per author (`insights_account_figure`), so that
deleting a video changes no released figure of its account (CONTRACT rule 15). Filled
from the figures already released, once."""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0006_replica_watermark")]

    operations = [
        ops.CreateModel(
            name="InsightsAccountFigure",
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
                "table": "insights_account_figure",
                "app": "models",
                "unique_together": (("account_id", "dimension", "day", "bucket"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.RunSQL(
            [
                "INSERT INTO insights_account_figure (account_id, day, dimension, bucket, count)"
                " SELECT v.author_id, f.day, f.dimension, f.bucket, SUM(f.count)"
                " FROM insights_figure f JOIN video v ON v.id = f.video_id"
                " GROUP BY v.author_id, f.day, f.dimension, f.bucket"
            ],
            reverse_sql=["DELETE FROM insights_account_figure"],
        ),
    ]
