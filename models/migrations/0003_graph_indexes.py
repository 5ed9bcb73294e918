from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    # The graph lists (rule 10) walk one account's edges newest first: these keep each page
    # a range scan in edge-id order from the cursor, whatever the account's size.
    dependencies = [("models", "0002_sessions")]

    operations = [
        ops.AddIndex(
            model_name="Follow",
            index=Index(fields=["followee_id", "status", "id"], name="follow_followee_page_idx"),
        ),
        ops.AddIndex(
            model_name="Follow",
            index=Index(fields=["follower_id", "status", "id"], name="follow_follower_page_idx"),
        ),
        ops.AddIndex(
            model_name="Block",
            index=Index(fields=["blocker_id", "id"], name="block_blocker_page_idx"),
        ),
    ]
