from __future__ import annotations

from datetime import UTC, datetime

import strawberry
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

from api import likes
from api.app_token_mutations import AppTokenMutations
from api.context import Context, Info
from api.db import write_transaction
from api.errors import BadUserInput, Conflict, NotFound, Unauthenticated, account_gone
from api.fresh_loaders import FreshLoaders
from api.insights_mutations import InsightsMutations
from api.lifecycle_mutations import LifecycleMutation
from api.lookups import fresh_visible_video, require_visible_account
from api.permissions import NoApps
from api.rows import AccountRow
from api.session_mutations import SessionMutations, payload
from api.types import Account, AuthPayload, FollowStatus, Video
from api.validation import (
    normalize_handle,
    valid_caption,
    valid_display_name,
    valid_handle,
    valid_password,
)
from auth.passwords import hash_password_async, verify_password_async
from auth.policy import (
    FOLLOWER_STATE,
    Owner,
    block_removes_sql,
    blocked_pair_ids_sql,
    follow_state_on_request_sql,
    requests_approved_on_turning_public_sql,
)
from auth.viewer import Viewer
from models import Account as AccountModel
from models import Block, Follow, FollowState
from models import Video as VideoModel
from models.routing import narrowed
from models.sql import Sql, is_postgres

BAD_LOGIN = "Wrong handle or password."
HANDLE_TAKEN = "That handle is taken: choose another."
NOT_YOURSELF = "Name another account: you cannot follow, approve, remove or block your own."


async def _other_account(ctx: Context, handle: str) -> AccountRow:
    """The account a follow mutation names: NOT_FOUND across a blocked pair, as if missing."""
    me = await _my_account_id(ctx)
    other = await require_visible_account(ctx, handle)
    if other.id == me:
        raise BadUserInput(NOT_YOURSELF)
    return other


async def _my_account_id(ctx: Context) -> int:
    """The viewer's account id, once its account is known to exist."""
    me = ctx.account_id_or_raise()
    if await ctx.loaders.visible_account_by_id.load(me) is None:
        raise account_gone()
    return me


async def _edge_status(follower_id: int, followee_id: int) -> FollowStatus:
    edge = await Follow.get_or_none(follower_id=follower_id, followee_id=followee_id)
    return FollowStatus.NONE if edge is None else FollowStatus(edge.status.value)


@strawberry.type
class Mutation(SessionMutations, InsightsMutations, LifecycleMutation, AppTokenMutations):
    @strawberry.mutation(permission_classes=[NoApps], extensions=[FreshLoaders()])
    async def sign_up(
        self,
        info: Info,
        handle: str,
        password: str,
        display_name: str | None = strawberry.UNSET,
        is_private: bool | None = False,
    ) -> AuthPayload:
        key = valid_handle(handle)
        valid_password(password)
        given_name = None if display_name is strawberry.UNSET else display_name
        name = valid_display_name(given_name, key)
        if await AccountModel.exists(handle=key):
            raise Conflict(HANDLE_TAKEN)
        password_hash = await hash_password_async(password)
        try:
            account = await AccountModel.create(
                handle=key,
                display_name=name,
                password_hash=password_hash,
                is_private=bool(is_private),
            )
        except IntegrityError as exc:  # lost a race for the same handle
            raise Conflict(HANDLE_TAKEN) from exc
        return await payload(info.context, account)

    @strawberry.mutation(permission_classes=[NoApps], extensions=[FreshLoaders()])
    async def log_in(self, info: Info, handle: str, password: str) -> AuthPayload:
        key = normalize_handle(handle)
        account = None if key is None else await AccountModel.get_or_none(handle=key)
        ok = await verify_password_async(account.password_hash if account else None, password)
        if account is None or not ok:
            raise Unauthenticated(BAD_LOGIN)
        return await payload(info.context, account)

    @strawberry.mutation(permission_classes=[NoApps], extensions=[FreshLoaders()])
    async def set_privacy(self, info: Info, is_private: bool) -> Account:
        me = info.context.account_id_or_raise()

        async def change(conn: BaseDBAsyncClient) -> AccountModel | None:
            # The row update comes first: it takes SQLite's write lock before any read, and
            # on PostgreSQL it locks the account row, which likeVideo and follow share-lock,
            # so none of them can copy the old privacy once this commits.
            sql = Sql(conn)
            changed = await sql.rows(
                f"UPDATE account SET is_private = {sql.p(is_private)}"
                f" WHERE id = {sql.p(me)} AND is_private <> {sql.p(is_private)} RETURNING id"
            )
            if changed:
                sql = Sql(conn)
                await sql.execute(
                    f"UPDATE video_like SET liker_public = {sql.p(not is_private)}"
                    f" WHERE account_id = {sql.p(me)}"
                )
            if not is_private:
                sql = Sql(conn)
                await sql.execute(
                    requests_approved_on_turning_public_sql(f"followee_id = {sql.p(me)}")
                )
            return await AccountModel.filter(id=me).using_db(conn).first()

        account = await write_transaction(change)
        if is_private:
            await narrowed()  # read replicas must not show what it now hides
        if account is None:
            raise account_gone()
        return Account.of(AccountRow.of_model(account))

    @strawberry.mutation(permission_classes=[NoApps], extensions=[FreshLoaders()])
    async def create_video(self, info: Info, caption: str) -> Video:
        me = await _my_account_id(info.context)
        text = valid_caption(caption)
        video = await VideoModel.create(author_id=me, caption=text, like_count=0)
        return Video.of(await fresh_visible_video(info.context, video.id))

    @strawberry.mutation(
        description="Idempotent: a repeat keeps the first likedAt.",
        permission_classes=[NoApps],
        extensions=[FreshLoaders()],
    )
    async def like_video(self, info: Info, video_id: strawberry.ID) -> Video:
        return Video.of(await likes.like(info.context, video_id))

    @strawberry.mutation(
        description="Idempotent.", permission_classes=[NoApps], extensions=[FreshLoaders()]
    )
    async def unlike_video(self, info: Info, video_id: strawberry.ID) -> Video:
        return Video.of(await likes.unlike(info.context, video_id))

    @strawberry.mutation(
        description="APPROVED for a public account, PENDING for a private one.",
        permission_classes=[NoApps],
        extensions=[FreshLoaders()],
    )
    async def follow(self, info: Info, handle: str) -> FollowStatus:
        me = info.context.account_id_or_raise()
        other = await _other_account(info.context, handle)

        async def follow(conn: BaseDBAsyncClient) -> str | None:
            if is_postgres(conn):
                await _lock_pair(conn, me, other.id, "FOR SHARE")
            # One statement reads the followee's privacy and the pair's blocks as they are
            # now, not as they were when the request began (rule 7): a setPrivacy(false)
            # or a block that committed meanwhile is seen; on PostgreSQL one still running
            # holds the pair's rows, so the lock above waited for it.
            sql = Sql(conn)
            await sql.execute(
                "INSERT INTO follow (follower_id, followee_id, status, created_at)"
                f" SELECT {sql.p(me)}, a.id, {follow_state_on_request_sql(Owner.account('a'))},"
                f" {sql.p(datetime.now(UTC))} FROM account a WHERE a.id = {sql.p(other.id)}"
                f" AND a.id NOT IN ({blocked_pair_ids_sql(Viewer.of(me), sql)})"
                " ON CONFLICT (follower_id, followee_id) DO NOTHING"
            )
            edge = await Follow.filter(follower_id=me, followee_id=other.id).using_db(conn).first()
            return None if edge is None else edge.status.value

        status = await write_transaction(follow)
        if status is None:  # a block came between the lookup and the insert
            raise NotFound("No account with that handle.")
        return FollowStatus(status)

    @strawberry.mutation(
        description="Withdraws a request or ends a follow.",
        permission_classes=[NoApps],
        extensions=[FreshLoaders()],
    )
    async def unfollow(self, info: Info, handle: str) -> FollowStatus:
        me = info.context.account_id_or_raise()
        other = await _other_account(info.context, handle)
        await Follow.filter(follower_id=me, followee_id=other.id).delete()
        await narrowed()
        return FollowStatus.NONE

    @strawberry.mutation(
        description="Approves that account's pending request to the viewer.",
        permission_classes=[NoApps],
        extensions=[FreshLoaders()],
    )
    async def approve_follower(self, info: Info, handle: str) -> FollowStatus:
        me = info.context.account_id_or_raise()
        other = await _other_account(info.context, handle)
        await Follow.filter(
            follower_id=other.id, followee_id=me, status=FollowState.PENDING
        ).update(status=FOLLOWER_STATE)
        return await _edge_status(other.id, me)

    @strawberry.mutation(
        description="Rejects a request or removes a follower.",
        permission_classes=[NoApps],
        extensions=[FreshLoaders()],
    )
    async def remove_follower(self, info: Info, handle: str) -> FollowStatus:
        me = info.context.account_id_or_raise()
        other = await _other_account(info.context, handle)
        await Follow.filter(follower_id=other.id, followee_id=me).delete()
        await narrowed()
        return FollowStatus.NONE

    @strawberry.mutation(
        description="True when it made a new block, false when one existed.",
        permission_classes=[NoApps],
        extensions=[FreshLoaders()],
    )
    async def block(self, info: Info, handle: str) -> bool:
        me = info.context.account_id_or_raise()
        other = await _any_account(info.context, me, handle)

        async def block(conn: BaseDBAsyncClient) -> bool:
            if is_postgres(conn):
                # A follow between the pair that is under way share-locks both rows: wait
                # for it, so that the deletes below see its edge.
                await _lock_pair(conn, me, other.id, "FOR NO KEY UPDATE")
            sql = Sql(conn)
            created = await sql.rows(
                "INSERT INTO block (blocker_id, blocked_id, created_at)"
                f" VALUES ({sql.p(me)}, {sql.p(other.id)}, {sql.p(datetime.now(UTC))})"
                " ON CONFLICT (blocker_id, blocked_id) DO NOTHING RETURNING id"
            )
            # Rules 7 and 11: the pair's follow edges and each side's likes of the other's
            # videos go in this transaction, counters with them. On PostgreSQL a like
            # between the pair that is under way holds a share lock on both rows (see
            # likeVideo): the lock above waited for it, so its like is removed here too.
            sql = Sql(conn)
            for statement in block_removes_sql(sql, me, other.id):
                await sql.execute(statement)
            return bool(created)

        created = await write_transaction(block)
        await narrowed()
        return created

    @strawberry.mutation(
        description="True when it removed a block, false when none existed.",
        permission_classes=[NoApps],
        extensions=[FreshLoaders()],
    )
    async def unblock(self, info: Info, handle: str) -> bool:
        me = info.context.account_id_or_raise()
        other = await _any_account(info.context, me, handle)
        return await Block.filter(blocker_id=me, blocked_id=other.id).delete() > 0


async def _any_account(ctx: Context, me: int, handle: str) -> AccountModel:
    """`block` and `unblock` work on every existing handle, blocked pair or not (rule 6)."""
    key = normalize_handle(handle)
    other = None if key is None else await AccountModel.get_or_none(handle=key)
    if other is None:
        raise NotFound("No account with that handle.")
    if other.id == me:
        raise BadUserInput(NOT_YOURSELF)
    return other


async def _lock_pair(conn: BaseDBAsyncClient, first: int, second: int, mode: str) -> None:
    """PostgreSQL row locks on two accounts, always in id order so two lockers never
    deadlock. follow takes FOR SHARE, block FOR NO KEY UPDATE, and setPrivacy's update
    holds the same: a follow never interleaves with a block or a privacy change of
    either account."""
    sql = Sql(conn)
    await sql.execute(
        f"SELECT id FROM account WHERE id IN ({sql.ps(sorted((first, second)))}) ORDER BY id {mode}"
    )
