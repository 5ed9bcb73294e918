"""The demo world: a creator, her popular video, and likers that tell the privacy story.

Every write goes through the real GraphQL mutations, executed in-process with
`schema.execute` and a `Context` per acting account. So the demo cannot bypass
anything: a like is the mutation's like row plus its like_count bump in one
transaction, a follow of a private account is PENDING until that account approves
it, and a block drops the pair's follow edges, exactly as for a client. The ORM is
only read, to see which parts of the world exist already; each part is made only
when missing, so loading twice changes nothing.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from api import db
from api.context import Context
from api.cursors import CursorCodec
from api.demo_insights import INSIGHTS_VIDEO, seed_insights_audience
from api.ids import Kind, configure, decode_id, encode_id
from api.schema import schema
from api.settings import Settings
from auth.sessions import start_session
from auth.viewer import Viewer
from models import Account, Block, Follow, FollowState, Like, Video

PASSWORD = "password123"  # every demo account's password: the demo is for trying things


@dataclass(frozen=True)
class Persona:
    handle: str
    display_name: str
    is_private: bool
    role: str


CAST: tuple[Persona, ...] = (
    Persona(
        "alice",
        "Alice Andersen",
        False,
        "the creator of the popular video; follows bob, has a PENDING request to carol,"
        " blocked mallory",
    ),
    Persona(
        "bob",
        "Bob Brown",
        True,
        "private liker that alice follows (approved): alice sees his like;"
        " he follows dave, so he sees dave's like",
    ),
    Persona(
        "carol",
        "Carol Chen",
        True,
        "private liker with a PENDING follow request from alice to review: a request"
        " grants nothing, so alice does not see her like until carol approves it",
    ),
    Persona(
        "dave",
        "Dave Diaz",
        True,
        "private liker that alice does not follow: hidden from alice, shown to bob",
    ),
    Persona("erin", "Erin Evans", False, "public liker: everyone sees her like; posts a video"),
    Persona("frank", "Frank Fischer", False, "public liker: everyone sees his like"),
    Persona(
        "mallory",
        "Mallory Moss",
        False,
        "public liker of erin's video that alice blocked: alice no longer sees her like"
        " there, and alice and mallory no longer see each other",
    ),
)

POPULAR = ("alice", "Sunset over the fjord, a 4K timelapse")
VIDEOS: tuple[tuple[str, str], ...] = (
    ("alice", "Morning run along the harbour"),
    ("alice", "Cooking with leftovers"),
    ("erin", "First try at latte art"),
    ("bob", "My cat versus the vacuum cleaner"),
    INSIGHTS_VIDEO,  # liked on past days by the fans of api/demo_insights.py
    POPULAR,  # made last, so it heads alice's videos (newest first)
)
# (follower, followee): a follow of a private account stays PENDING unless approved below.
FOLLOWS: tuple[tuple[str, str], ...] = (
    ("bob", "alice"),
    ("erin", "alice"),
    ("alice", "bob"),
    ("bob", "dave"),
    ("alice", "carol"),
)
APPROVALS: tuple[tuple[str, str], ...] = (("bob", "alice"), ("dave", "bob"))  # (approver, follower)
# (liker, (author, caption)), in the order the likes are made: newest like first in lists.
LIKES: tuple[tuple[str, tuple[str, str]], ...] = (
    # Of erin's video, not alice's: a block removes the pair's likes of each other's
    # videos (rule 11), this one stays, hidden from alice alone.
    ("mallory", ("erin", "First try at latte art")),
    ("erin", POPULAR),
    ("frank", POPULAR),
    ("dave", POPULAR),
    ("carol", POPULAR),
    ("bob", POPULAR),
    ("erin", ("alice", "Morning run along the harbour")),
    ("alice", ("erin", "First try at latte art")),
    ("frank", ("erin", "First try at latte art")),
    ("alice", ("bob", "My cat versus the vacuum cleaner")),
)
BLOCKS: tuple[tuple[str, str], ...] = (("alice", "mallory"),)  # (blocker, blocked)


class DemoError(Exception):
    """The demo cannot be loaded as written (say, `alice` exists with another password)."""


@dataclass
class DemoWorld:
    account_ids: dict[str, int]
    popular_video_id: str  # global ID
    created: dict[str, int] = field(default_factory=dict)  # what this run added, by kind


class _Api:
    """Runs GraphQL documents in-process as one account, the way the HTTP endpoint does."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cursors = CursorCodec(settings.secret)
        # The demo makes and prints IDs outside any request: the process's key is its.
        configure(settings.secret)

    async def __call__(
        self, document: str, variables: dict[str, Any], *, as_: int | None = None
    ) -> dict[str, Any]:
        viewer = Viewer.anonymous() if as_ is None else Viewer.of(as_)
        context = Context(viewer=viewer, settings=self.settings, cursors=self.cursors)
        result = await schema.execute(document, variable_values=variables, context_value=context)
        if result.errors:
            messages = "; ".join(
                f"{(e.extensions or {}).get('code', 'INTERNAL')}: {e.message}"
                for e in result.errors
            )
            raise DemoError(f"{document.split('(', 1)[0].strip()} {variables}: {messages}")
        data: dict[str, Any] = result.data or {}
        return data


def _account_pk(global_id: str) -> int:
    kind, pk = decode_id(global_id)
    if kind is not Kind.ACCOUNT:
        raise DemoError(f"Expected an account ID, got {global_id!r}.")
    return pk


async def _ensure_account(api: _Api, persona: Persona) -> tuple[int, bool]:
    """The persona's account id, and whether it was created now."""
    if not await Account.exists(handle=persona.handle):
        data = await api(
            "mutation SignUp($h: String!, $p: String!, $n: String, $priv: Boolean) {"
            " signUp(handle: $h, password: $p, displayName: $n, isPrivate: $priv)"
            " { account { id } } }",
            {
                "h": persona.handle,
                "p": PASSWORD,
                "n": persona.display_name,
                "priv": persona.is_private,
            },
        )
        return _account_pk(data["signUp"]["account"]["id"]), True
    try:
        data = await api(
            "mutation LogIn($h: String!, $p: String!) {"
            " logIn(handle: $h, password: $p) { account { id isPrivate } } }",
            {"h": persona.handle, "p": PASSWORD},
        )
    except DemoError as exc:
        raise DemoError(
            f"the account {persona.handle!r} exists but its password is not the demo's:"
            " it is not a demo account. Load the demo into another database, e.g."
            " DATABASE_URL=sqlite://demo.sqlite3 likegraph demo."
        ) from exc
    account = data["logIn"]["account"]
    pk = _account_pk(account["id"])
    if account["isPrivate"] != persona.is_private:  # changed since: the story needs it back
        await api(
            "mutation SetPrivacy($p: Boolean!) { setPrivacy(isPrivate: $p) { id } }",
            {"p": persona.is_private},
            as_=pk,
        )
    return pk, False


async def _video_id(author_id: int, caption: str) -> int | None:
    video = await Video.filter(author_id=author_id, caption=caption).order_by("id").first()
    return None if video is None else video.id


async def seed_demo(settings: Settings) -> DemoWorld:
    """Makes whatever part of the demo world is missing; Tortoise must be initialised."""
    api = _Api(settings)
    created = dict.fromkeys(
        ("accounts", "videos", "follows", "approvals", "likes", "blocks", "fans", "past likes"),
        0,
    )
    ids: dict[str, int] = {}
    for persona in CAST:
        ids[persona.handle], new = await _ensure_account(api, persona)
        created["accounts"] += new

    videos: dict[tuple[str, str], int] = {}
    for author, caption in VIDEOS:
        found = await _video_id(ids[author], caption)
        if found is None:
            data = await api(
                "mutation CreateVideo($c: String!) { createVideo(caption: $c) { id } }",
                {"c": caption},
                as_=ids[author],
            )
            found = decode_id(data["createVideo"]["id"])[1]
            created["videos"] += 1
        videos[(author, caption)] = found

    for follower, followee in FOLLOWS:
        if not await Follow.exists(follower_id=ids[follower], followee_id=ids[followee]):
            await api(
                "mutation Follow($h: String!) { follow(handle: $h) }",
                {"h": followee},
                as_=ids[follower],
            )
            created["follows"] += 1
    for approver, follower in APPROVALS:
        if await Follow.exists(
            follower_id=ids[follower], followee_id=ids[approver], status=FollowState.PENDING
        ):
            await api(
                "mutation Approve($h: String!) { approveFollower(handle: $h) }",
                {"h": follower},
                as_=ids[approver],
            )
            created["approvals"] += 1

    for liker, video in LIKES:
        if not await Like.exists(account_id=ids[liker], video_id=videos[video]):
            await api(
                "mutation Like($v: ID!) { likeVideo(videoId: $v) { likeCount } }",
                {"v": encode_id(Kind.VIDEO, videos[video])},
                as_=ids[liker],
            )
            created["likes"] += 1

    for blocker, blocked in BLOCKS:
        if not await Block.exists(blocker_id=ids[blocker], blocked_id=ids[blocked]):
            await api(
                "mutation Block($h: String!) { block(handle: $h) }",
                {"h": blocked},
                as_=ids[blocker],
            )
            created["blocks"] += 1

    fans, past_likes = await seed_insights_audience(videos[INSIGHTS_VIDEO], PASSWORD)
    created["fans"] += fans
    created["past likes"] += past_likes

    return DemoWorld(
        account_ids=ids,
        popular_video_id=encode_id(Kind.VIDEO, videos[POPULAR]),
        created=created,
    )


async def _existing_demo(settings: Settings) -> DemoWorld | None:
    """The demo world when its accounts are all there with the demo password, else None."""
    api = _Api(settings)
    ids: dict[str, int] = {}
    for persona in CAST:
        try:
            data = await api(
                "mutation LogIn($h: String!, $p: String!) {"
                " logIn(handle: $h, password: $p) { account { id } } }",
                {"h": persona.handle, "p": PASSWORD},
            )
        except DemoError:
            return None
        ids[persona.handle] = _account_pk(data["logIn"]["account"]["id"])
    popular = await _video_id(ids[POPULAR[0]], POPULAR[1])
    if popular is None:
        return None
    return DemoWorld(account_ids=ids, popular_video_id=encode_id(Kind.VIDEO, popular))


def _where(database_url: str) -> str:
    """The database URL without its password, fit to print."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", database_url)


async def bearer_header(settings: Settings, account_id: int) -> str:
    """A fresh `{"Authorization": "Bearer ..."}` for GraphiQL's Headers tab: a new session."""
    token = await start_session(account_id, settings.secret, settings.token_ttl)
    return json.dumps({"Authorization": f"Bearer {token}"})


async def describe(settings: Settings, world: DemoWorld) -> str:
    """How to log in as each demo account, and the ID of the video the story is about."""
    hours = settings.token_ttl / 3600
    lines = [
        f"Demo accounts (every password: {PASSWORD}). Paste an account's headers into"
        f" GraphiQL's Headers tab; the tokens last {hours:g} h (`likegraph demo` prints"
        " fresh ones, and logIn makes them too).",
        "",
    ]
    for persona in CAST:
        privacy = "private" if persona.is_private else "public"
        lines += [
            f"{persona.handle}  password: {PASSWORD}  {privacy}",
            f"  role: {persona.role}",
            f"  headers: {await bearer_header(settings, world.account_ids[persona.handle])}",
            "",
        ]
    lines += [
        f'Popular video ({POPULAR[0]}\'s "{POPULAR[1]}"): {world.popular_video_id}',
        "Try, as no one, as alice and as bob:",
        f'  {{ video(id: "{world.popular_video_id}") {{ caption likeCount'
        " likers { edges { node { handle isPrivate } } } } }",
        "And as alice, her insights (released past days, noised; anyone else: FORBIDDEN):",
        "  { viewer { insights { likesByDay(days: 7) { day count withheld }"
        " audience(dimension: REGION, days: 7) { key count withheld } } } }",
        "Review a follow request as carol, then run the query above as alice again:",
        "  { viewer { followRequests { edges { node { handle } } } } }",
        '  mutation { approveFollower(handle: "alice") }',
    ]
    return "\n".join(lines)


async def load_demo(
    settings: Settings, *, only_if_empty: bool, out: TextIO | None = None
) -> DemoWorld | None:
    """`likegraph demo`: migrate, load the demo (idempotent), print how to log in.

    With `only_if_empty`, a database holding any account is left as it is; if that
    database is the demo's, the logins are printed anyway.
    """
    stream = out or sys.stdout
    await db.migrate(settings.database_url)
    try:
        accounts = await Account.all().count()
        if only_if_empty and accounts:
            print(
                f"The database already has {accounts} account(s): demo not loaded"
                " (`likegraph demo` loads it into any database).",
                file=stream,
            )
            world = await _existing_demo(settings)
            if world is not None:
                print("It holds the demo world; fresh logins follow.\n", file=stream)
                print(await describe(settings, world), file=stream)
            return world
        if only_if_empty:
            print("The database has no accounts: loading the demo.", file=stream)
        world = await seed_demo(settings)
        made = ", ".join(
            f"{n} {kind if n > 1 else kind.removesuffix('s')}"
            for kind, n in world.created.items()
            if n
        )
        print(
            f"Demo loaded into {_where(settings.database_url)}: "
            + (f"created {made}." if made else "it was all there already; nothing changed."),
            file=stream,
        )
        print("", file=stream)
        print(await describe(settings, world), file=stream)
        return world
    finally:
        await db.close()
