"""The read-replica watermark (models/routing.py): one row, the primary's WAL position
after the latest privacy-narrowing change. Unused on SQLite and without replicas."""

from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("models", "0005_app_tokens")]

    operations = [
        ops.RunSQL(
            [
                "CREATE TABLE replica_watermark (id INT NOT NULL PRIMARY KEY, lsn BIGINT NOT NULL)",
                "INSERT INTO replica_watermark (id, lsn) VALUES (1, 0)",
            ],
            reverse_sql=["DROP TABLE replica_watermark"],
        )
    ]
