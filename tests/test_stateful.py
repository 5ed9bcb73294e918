"""A Hypothesis state machine: random sequences of the contract's mutations, sent through
the real GraphQL API on a real database, each answer and every read path checked against
the independent model of tests/privacy_model.py, for every viewer including the anonymous.
Deletions (rule 12) are among the steps: what was deleted must then read, for every viewer,
byte for byte as what never existed.

In `make test` it runs a bounded number of short sequences; `make test-deep` (or
`LIKEGRAPH_DEEP=1`) runs thousands of long ones. Failures shrink to a short sequence of
named steps (`state.follow(actor='ann', other='bob')`).
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from tortoise import Tortoise

from api import db
from api.app import create_app
from api.ids import Kind, encode_id
from api.settings import Settings
from tests.conftest import SECRET, drop_database, new_database
from tests.privacy_model import (
    NOT_FOUND,
    Failure,
    Handle,
    LikeView,
    PrivacyModel,
    Viewer,
)
from tests.test_adversarial import TELLTALES

T = TypeVar("T")

# Small worlds reach the interesting states (blocked pairs, pending requests, relikes)
# in few steps, and keep every invariant check to one request per viewer and page depth.
MAX_ACCOUNTS = 5
MAX_VIDEOS = 4
NAMES = ("ann", "bob", "cat", "dan", "eve", "fay")
MISSING_HANDLE = "nobody"  # never signed up: what a hidden account must look like
MISSING_VIDEO = encode_id(Kind.VIDEO, 2**31 - 1)
MISSING_ACCOUNT = encode_id(Kind.ACCOUNT, 2**31 - 1)
PASSWORD = "password123"

# `make test`: about a minute per engine on a 2-core machine (14 sequences: since likes pile
# up and deletions walk longer lists, each costs about 1.6 times what one did before
# deletions were steps). `LIKEGRAPH_DEEP=1`: as long as
# you let it (LIKEGRAPH_DEEP_EXAMPLES sets how many sequences; 5,000 by default).
settings.register_profile(
    "likegraph-stateful-ci",
    max_examples=int(os.environ.get("LIKEGRAPH_STATEFUL_EXAMPLES", "14")),
    stateful_step_count=50,
    # Request times on a shared 2-core machine are noise, not a property of the code.
    deadline=None,
)
settings.register_profile(
    "likegraph-stateful-deep",
    max_examples=int(os.environ.get("LIKEGRAPH_DEEP_EXAMPLES", "5000")),
    stateful_step_count=60,
    deadline=None,
)
DEEP = os.environ.get("LIKEGRAPH_DEEP", "") not in ("", "0")
PROFILE = settings.get_profile("likegraph-stateful-deep" if DEEP else "likegraph-stateful-ci")


class Progress:
    """In deep mode, a line on stderr every 100 sequences (`make test-deep` shows it live)."""

    sequences = 0
    steps = 0
    started = time.monotonic()

    @classmethod
    def sequence_done(cls, steps: int) -> None:
        cls.sequences += 1
        cls.steps += steps
        if DEEP and cls.sequences % 100 == 0:
            minutes = (time.monotonic() - cls.started) / 60
            print(
                f"deep: {cls.sequences} sequences, {cls.steps} steps, {minutes:.1f} min",
                file=sys.stderr,
                flush=True,
            )


# Rule 10's lists of an account, walked like the others; the last three are self-only.
GRAPH_LISTS = (
    "followers",
    "following",
    "followRequests",
    "sentFollowRequests",
    "blockedAccounts",
)

# Fragments keep each document short: parsing and validating it is most of a request's cost.
FRAGMENTS = {
    "LikerPage": "on LikerConnection { edges { cursor likedAt node { handle } } PI }",
    "VideoPage": "on VideoConnection { edges { cursor node { id } } PI }",
    "LikePage": "on LikeConnection { edges { cursor node { likedAt account { handle }"
    " video { id likeCount } } } PI }",
    "V": "on Video { id likeCount viewerHasLiked author { handle }"
    " likers(first: $first) { ...LikerPage } }",
    "AccountPage": "on AccountConnection { edges { cursor node { handle } } PI }",
    "A": "on Account { id handle isPrivate followerCount followingCount viewerFollowStatus"
    " followsViewer viewerHasBlocked"
    " videos(first: $first) { ...VideoPage } likes(first: $first) { ...LikePage }"
    + "".join(f" {kind}(first: $first) {{ ...AccountPage }}" for kind in GRAPH_LISTS)
    + " }",
    "N": "on Node { id ... on Video { likeCount } ... on Account { handle } }",
}
PAGE_INFO = "pageInfo { hasNextPage endCursor }"
PAGE_OF = {"likers": "LikerPage", "videos": "VideoPage", "likes": "LikePage"} | dict.fromkeys(
    GRAPH_LISTS, "AccountPage"
)


def document(operation: str, declared: list[str], parts: list[str]) -> str:
    """A query of `parts`, with the fragments it spreads (and only those: unused is invalid)."""
    text = " ".join(parts)
    used: list[str] = []
    pending = [text]
    while pending:
        source = pending.pop()
        for name, body in FRAGMENTS.items():
            if name not in used and f"...{name} " in source:
                used.append(name)
                pending.append(body)
    fragments = " ".join(
        f"fragment {name} {FRAGMENTS[name].replace('PI', PAGE_INFO)}" for name in used
    )
    signature = f"({', '.join(declared)})" if declared else ""
    return f"query {operation}{signature} {{ {text} }} {fragments}"


EDGE_FIELDS = {
    "follow": "follow",
    "unfollow": "unfollow",
    "approve_follower": "approveFollower",
    "remove_follower": "removeFollower",
}

# What a probe of a deleted (or never made) thing asks; `$h` names an account by handle.
PROBE = (
    "query Probe($id: ID!, $h: String!) { node(id: $id) { id } video(id: $id) { id likeCount }"
    " account(handle: $h) { id handle } }"
)


class Session:
    """One example's world: its own event loop, Tortoise context, database and app.

    Tortoise keeps its state in a context variable, so every coroutine of the example runs
    as a task in the one `contextvars.Context` made here: what `Tortoise.init` sets there
    is seen by every later request of the example, and by nothing outside it.
    """

    def __init__(self, base: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
        self.loop = asyncio.new_event_loop()
        self.context = contextvars.Context()
        self.directory = Path(tempfile.mkdtemp(dir=base))
        self.url: str | None = None
        self.http: httpx.AsyncClient | None = None
        try:
            self.url = self.run(new_database(self.directory, tmp_path_factory))
            self.run(db.connect(self.url))
            app = create_app(Settings(database_url=self.url, secret=SECRET, token_ttl=3600))
            self.http = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://test"
            )
        except BaseException:
            self.close()
            raise

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(self.loop.create_task(coro, context=self.context))

    def post(self, query: str, variables: dict[str, Any], token: str | None) -> httpx.Response:
        assert self.http is not None
        headers = {"Accept": "application/graphql-response+json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.run(
            self.http.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            )
        )

    def close(self) -> None:
        try:
            if self.http is not None:
                self.run(self.http.aclose())
            self.run(Tortoise.close_connections())
            if self.url is not None:
                self.run(drop_database(self.url))
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()
            shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class Walk:
    """A video's likers, or an account's videos or likes, walked page by page as one viewer."""

    parent: str  # "video" or "account"
    owner: str  # the video's global ID or the account's handle
    kind: str  # "likers", "videos", "likes" or one of GRAPH_LISTS
    expected: list[Any]
    pages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def done(self) -> bool:
        # A walk that runs past the pages it should have is cut short: the page check fails.
        return (
            not self.pages[-1]["pageInfo"]["hasNextPage"]
            or len(self.pages) > len(self.expected) + 1
        )

    def selection(self, alias: str, first: str, cursor: str | None) -> str:
        after = "" if cursor is None else f", after: {cursor}"
        lookup = "video(id:" if self.parent == "video" else "account(handle:"
        page = f"{self.kind}(first: {first}{after}) {{ ...{PAGE_OF[self.kind]} }}"
        return f"{alias}: {lookup} ${alias}_o) {{ {page} }}"


def chunks(items: list[T], size: int) -> list[tuple[list[T], bool]]:
    """The pages a list must come in: `size` items each, `hasNextPage` true on all but the last."""
    if not items:
        return [([], False)]
    cut = [items[i : i + size] for i in range(0, len(items), size)]
    return [(page, n < len(cut) - 1) for n, page in enumerate(cut)]


def existing_handles() -> st.SearchStrategy[str]:
    """The handle of an account that exists, drawn from the machine's own model."""
    return st.runner().flatmap(lambda machine: st.sampled_from(list(machine.model.private)))


def existing_videos() -> st.SearchStrategy[int]:
    """A video made so far, by its number in creation order (0 is ann's first); it may have
    been deleted since, and must then answer as one never made."""
    return st.runner().flatmap(lambda machine: st.integers(0, len(machine.model.authors) - 1))


def viewers() -> st.SearchStrategy[Viewer]:
    """An existing account, or the anonymous viewer."""
    return st.runner().flatmap(lambda machine: st.sampled_from([None, *machine.model.private]))


def deletable_accounts() -> st.SearchStrategy[str]:
    """Any account, half of the time one that liked another's video: the deletion that
    must lower other accounts' counters."""

    def draw(machine: PrivacyMachine) -> st.SearchStrategy[str]:
        model = machine.model
        likers = sorted({liker for liker, v in model.likes if model.authors[v] != liker})
        everyone = st.sampled_from(list(model.private))
        return st.one_of(st.sampled_from(likers), everyone) if likers else everyone

    return st.runner().flatmap(draw)


def handles() -> st.SearchStrategy[str]:
    """A handle from a small pool, sometimes in another case (it must collide all the same)."""
    return st.sampled_from(NAMES).flatmap(lambda n: st.sampled_from([n, n.upper(), n.title()]))


class PrivacyMachine(RuleBasedStateMachine):
    def __init__(self, base: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
        super().__init__()
        self.session = Session(base, tmp_path_factory)
        self.model = PrivacyModel()
        self.tokens: dict[Handle, str] = {}
        self.account_ids: dict[Handle, str] = {}
        self.video_ids: list[str] = []
        # Rule 12: the global IDs of deleted accounts, and their handles not signed up again.
        self.deleted_account_ids: list[str] = []
        self.deleted_handles: list[Handle] = []
        self.page_size = 2
        self.steps = 0  # invariant checks run, for the deep mode's progress lines
        # (liker, video) -> the likedAt first seen; a repeated like must keep it.
        self.liked_at: dict[tuple[Handle, int], str] = {}

    def teardown(self) -> None:
        Progress.sequence_done(self.steps)
        self.session.close()

    # -- talking to the API -------------------------------------------------------------------

    def post(
        self, query: str, variables: dict[str, Any], as_: Viewer
    ) -> tuple[str, dict[str, Any]]:
        token = None if as_ is None else self.tokens[as_]
        response = self.session.post(query, variables, token)
        assert not TELLTALES.search(response.text), response.text
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return response.text, body

    def ok(self, query: str, variables: dict[str, Any], as_: Viewer) -> dict[str, Any]:
        _, body = self.post(query, variables, as_)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    def mutate(
        self,
        query: str,
        variables: dict[str, Any],
        as_: Viewer,
        expected: object,
        missing: dict[str, Any] | None = None,
    ) -> Any:
        """The mutation's field when the model expects success; else checks the failure.

        A NOT_FOUND must be byte-identical to the answer for a target that never existed
        (`missing` names that target): hidden and missing cannot be told apart.
        """
        text, body = self.post(query, variables, as_)
        if isinstance(expected, Failure):
            codes = [e["extensions"]["code"] for e in body.get("errors", [])]
            assert codes == [expected.code], body
            assert body.get("data") is None, body
            if expected.code == NOT_FOUND and missing is not None:
                missing_text, _ = self.post(query, {**variables, **missing}, as_)
                assert text == missing_text
            return None
        assert "errors" not in body, body
        (value,) = body["data"].values()
        return value

    # -- rules: the contract's mutations ------------------------------------------------------

    @initialize(page_size=st.integers(1, 3), ann_private=st.booleans(), bob_private=st.booleans())
    def start(self, page_size: int, ann_private: bool, bob_private: bool) -> None:
        """Two accounts and a video by ann from the start, so that relationships and likes
        form within the first steps; every list is walked in pages of `page_size` (1-3)."""
        self.page_size = page_size
        self.sign_up("ann", ann_private)
        self.sign_up("bob", bob_private)
        self.create_video("ann")

    @precondition(lambda self: len(self.model.private) < MAX_ACCOUNTS)
    @rule(handle=handles(), private=st.booleans())
    def sign_up(self, handle: str, private: bool) -> None:
        """signUp; a handle taken in any case is a CONFLICT (and adds no account)."""
        expected = self.model.sign_up(handle, private)
        account = self.mutate(
            "mutation($h: String!, $p: Boolean) { signUp(handle: $h, password: "
            f'"{PASSWORD}", isPrivate: $p) {{ token account {{ id handle isPrivate'
            " followerCount followingCount viewerFollowStatus } } }",
            {"h": handle, "p": private},
            None,
            expected,
        )
        if isinstance(expected, Failure):
            return
        assert account["account"]["handle"] == expected
        assert account["account"]["isPrivate"] is private
        assert account["account"]["followerCount"] == 0
        assert account["account"]["viewerFollowStatus"] == "NONE"
        self.tokens[expected] = account["token"]
        self.account_ids[expected] = account["account"]["id"]
        if expected in self.deleted_handles:  # a deleted account's handle is free (rule 12)
            self.deleted_handles.remove(expected)

    @rule(actor=existing_handles(), private=st.booleans())
    def set_privacy(self, actor: Handle, private: bool) -> None:
        expected = self.model.set_privacy(actor, private)
        account = self.mutate(
            "mutation($p: Boolean!) { setPrivacy(isPrivate: $p) { handle isPrivate } }",
            {"p": private},
            actor,
            expected,
        )
        assert account == {"handle": actor, "isPrivate": expected}

    def _edge_mutation(self, name: str, actor: Handle, other: Handle) -> None:
        expected = getattr(self.model, name)(actor, other)
        field_name = EDGE_FIELDS[name]
        status = self.mutate(
            f"mutation($h: String!) {{ {field_name}(handle: $h) }}",
            {"h": other},
            actor,
            expected,
            missing={"h": MISSING_HANDLE},
        )
        if not isinstance(expected, Failure):
            assert status == expected

    @rule(actor=existing_handles(), other=existing_handles())
    def follow(self, actor: Handle, other: Handle) -> None:
        self._edge_mutation("follow", actor, other)

    @rule(actor=existing_handles(), other=existing_handles())
    def unfollow(self, actor: Handle, other: Handle) -> None:
        self._edge_mutation("unfollow", actor, other)

    @rule(actor=existing_handles(), other=existing_handles())
    def approve_follower(self, actor: Handle, other: Handle) -> None:
        self._edge_mutation("approve_follower", actor, other)

    @rule(actor=existing_handles(), other=existing_handles())
    def remove_follower(self, actor: Handle, other: Handle) -> None:
        self._edge_mutation("remove_follower", actor, other)

    def _block_mutation(self, name: str, actor: Handle, other: Handle) -> None:
        expected = getattr(self.model, name)(actor, other)
        made = self.mutate(
            f"mutation($h: String!) {{ {name}(handle: $h) }}", {"h": other}, actor, expected
        )
        if not isinstance(expected, Failure):
            assert made is expected
            # A block removes likes (rule 11): a later like of the same video is a new like.
            self.liked_at = {k: t for k, t in self.liked_at.items() if k in self.model.likes}

    @rule(actor=existing_handles(), other=existing_handles())
    def block(self, actor: Handle, other: Handle) -> None:
        self._block_mutation("block", actor, other)

    @rule(actor=existing_handles(), other=existing_handles())
    def unblock(self, actor: Handle, other: Handle) -> None:
        self._block_mutation("unblock", actor, other)

    @precondition(
        lambda self: (
            len(self.model.live_videos()) < MAX_VIDEOS and len(self.model.authors) < MAX_VIDEOS + 2
        )
    )
    @rule(author=existing_handles())
    def create_video(self, author: Handle) -> None:
        number = self.model.create_video(author)
        video = self.mutate(
            "mutation($c: String!) { createVideo(caption: $c) { id caption likeCount"
            " viewerHasLiked author { handle } likers(first: 5) { edges { node { handle } } } } }",
            {"c": f"video {number}"},
            author,
            number,
        )
        assert video["caption"] == f"video {number}"
        assert video["likeCount"] == 0 and video["viewerHasLiked"] is False
        assert video["author"] == {"handle": author}
        assert video["likers"] == {"edges": []}
        self.video_ids.append(video["id"])

    def _like_mutation(self, name: str, actor: Handle, video: int) -> None:
        expected: LikeView | Failure = getattr(self.model, name)(actor, video)
        field_name = "likeVideo" if name == "like_video" else "unlikeVideo"
        answer = self.mutate(
            f"mutation($v: ID!) {{ {field_name}(videoId: $v) {{ id likeCount viewerHasLiked }} }}",
            {"v": self.video_ids[video]},
            actor,
            expected,
            missing={"v": MISSING_VIDEO},
        )
        if isinstance(expected, LikeView):
            assert answer == {
                "id": self.video_ids[video],
                "likeCount": expected.like_count,
                "viewerHasLiked": expected.viewer_has_liked,
            }
            if not expected.viewer_has_liked:
                self.liked_at.pop((actor, video), None)  # a later like is a new like

    @rule(actor=existing_handles(), video=existing_videos())
    def like_video(self, actor: Handle, video: int) -> None:
        self._like_mutation("like_video", actor, video)

    @rule(actor=existing_handles(), video=existing_videos())
    def unlike_video(self, actor: Handle, video: int) -> None:
        self._like_mutation("unlike_video", actor, video)

    def _visible_pairs(self) -> list[tuple[Handle, int]]:
        model = self.model
        return [
            (actor, video)
            for actor in model.private
            for video in model.live_videos()
            if model.can_see_video(actor, video)
        ]

    @precondition(lambda self: self._visible_pairs())
    @rule(data=st.data())
    def like_a_visible_video(self, data: st.DataObject) -> None:
        """likeVideo on a video the actor sees: blind picks are often hidden or deleted, and
        blocks and deletions only matter once likes have piled up."""
        actor, video = data.draw(st.sampled_from(self._visible_pairs()), label="like")
        self._like_mutation("like_video", actor, video)

    @rule(actor=existing_handles(), video=existing_videos())
    def delete_video(self, actor: Handle, video: int) -> None:
        """deleteVideo: the author's own; any other is NOT_FOUND as for one never made."""
        expected = self.model.delete_video(actor, video)
        deleted = self.mutate(
            "mutation($v: ID!) { deleteVideo(id: $v) }",
            {"v": self.video_ids[video]},
            actor,
            expected,
            missing={"v": MISSING_VIDEO},
        )
        if not isinstance(expected, Failure):
            assert deleted is True
            self.liked_at = {k: t for k, t in self.liked_at.items() if k[1] != video}

    # At least one account stays, so that every rule still has an actor.
    @precondition(lambda self: len(self.model.private) > 1)
    @rule(actor=deletable_accounts(), password_right=st.booleans())
    def delete_account(self, actor: Handle, password_right: bool) -> None:
        """deleteAccount: FORBIDDEN with a wrong password (nothing changes); else the account
        and all it owns go, and its token is refused from the next request."""
        owned = {v for v in self.model.live_videos() if self.model.authors[v] == actor}
        expected = self.model.delete_account(actor, password_right)
        deleted = self.mutate(
            "mutation($p: String!) { deleteAccount(password: $p) }",
            {"p": PASSWORD if password_right else PASSWORD + "x"},
            actor,
            expected,
        )
        if isinstance(expected, Failure):
            return
        assert deleted is True
        token = self.tokens.pop(actor)
        refused = self.session.post("{ viewer { handle } }", {}, token)
        assert refused.status_code == 401, refused.text
        self.deleted_account_ids.append(self.account_ids.pop(actor))
        self.deleted_handles.append(actor)
        self.liked_at = {
            (liker, video): t
            for (liker, video), t in self.liked_at.items()
            if liker != actor and video not in owned
        }

    @precondition(lambda self: self.deleted_account_ids or self.model.deleted_videos)
    @rule(viewer=viewers(), data=st.data())
    def probe_deleted(self, viewer: Viewer, data: st.DataObject) -> None:
        """Rule 12: a deleted account or video, looked up by ID (and the account by its
        handle, unless signed up again), answers byte for byte as one never made; so does
        following a deleted handle."""
        targets = [(gid, MISSING_ACCOUNT) for gid in self.deleted_account_ids] + [
            (self.video_ids[v], MISSING_VIDEO) for v in sorted(self.model.deleted_videos)
        ]
        gid, missing_id = data.draw(st.sampled_from(targets), label="deleted")
        handle = data.draw(st.sampled_from([*self.deleted_handles, MISSING_HANDLE]))
        text, _ = self.post(PROBE, {"id": gid, "h": handle}, viewer)
        never, body = self.post(PROBE, {"id": missing_id, "h": MISSING_HANDLE}, viewer)
        assert body == {"data": {"node": None, "video": None, "account": None}}, never
        assert text == never, (viewer, gid, handle)
        if viewer is not None and handle != MISSING_HANDLE:
            self.mutate(
                "mutation($h: String!) { follow(handle: $h) }",
                {"h": handle},
                viewer,
                Failure(NOT_FOUND),
                missing={"h": MISSING_HANDLE},
            )

    # -- invariants: every read path, as every viewer ----------------------------------------

    @invariant()
    def every_viewer_reads_what_the_model_says(self) -> None:
        self.steps += 1
        for viewer in [None, *self.model.private]:
            self.check_viewer(viewer)

    def check_viewer(self, viewer: Viewer) -> None:
        model, first = self.model, self.page_size
        variables: dict[str, Any] = {"first": first}
        parts = ["me: viewer { handle }"]
        for n, gid in enumerate(self.video_ids):
            variables[f"v{n}"] = gid
            parts.append(f"v{n}: video(id: $v{n}) {{ ...V }} n{n}: node(id: $v{n}) {{ ...N }}")
        for n, handle in enumerate(model.private):
            variables[f"h{n}"], variables[f"a{n}"] = handle, self.account_ids[handle]
            parts.append(
                f"p{n}: account(handle: $h{n}) {{ ...A }} m{n}: node(id: $a{n}) {{ ...N }}"
            )
        # Rule 12: deleted accounts, by their old IDs and (unless signed up again) handles.
        for n, gid in enumerate(self.deleted_account_ids):
            variables[f"g{n}"] = gid
            parts.append(f"g{n}: node(id: $g{n}) {{ ...N }}")
        for n, handle in enumerate(self.deleted_handles):
            variables[f"hx{n}"] = handle
            parts.append(f"x{n}: account(handle: $hx{n}) {{ ...A }}")
        if len(variables) == 1:
            del variables["first"]  # a declared variable must be used
        declared = [
            f"${name}: {'Int!' if name == 'first' else 'String!' if name[0] == 'h' else 'ID!'}"
            for name in variables
        ]
        data = self.ok(document("Check", declared, parts), variables, viewer)
        who = viewer or "anonymous"

        assert data["me"] == (None if viewer is None else {"handle": viewer}), who
        for n in range(len(self.deleted_account_ids)):
            assert data[f"g{n}"] is None, (who, self.deleted_account_ids[n])
        for n, handle in enumerate(self.deleted_handles):
            assert data[f"x{n}"] is None, (who, handle)
        walks: list[Walk] = []
        for n, gid in enumerate(self.video_ids):
            video, node = data[f"v{n}"], data[f"n{n}"]
            if not model.can_see_video(viewer, n):
                assert video is None and node is None, (who, n, video, node)
                continue
            count = model.like_count(n)
            assert video is not None and node == {"id": gid, "likeCount": count}, (who, n, node)
            assert video["id"] == gid
            assert video["author"] == {"handle": model.authors[n]}
            assert video["likeCount"] == count, (who, n, video)
            assert video["viewerHasLiked"] is model.viewer_has_liked(viewer, n), (who, n)
            walk = Walk("video", gid, "likers", model.likers(viewer, n), [video["likers"]])
            walks.append(walk)
        for n, handle in enumerate(model.private):
            account, node = data[f"p{n}"], data[f"m{n}"]
            profile = model.profile(viewer, handle)
            if profile is None:
                assert account is None and node is None, (who, handle, account, node)
                continue
            gid = self.account_ids[handle]
            assert node == {"id": gid, "handle": handle}, (who, node)
            got = {k: account[k] for k in ("handle", "isPrivate", "followerCount")}
            got |= {k: account[k] for k in ("followingCount", "viewerFollowStatus")}
            got |= {k: account[k] for k in ("followsViewer", "viewerHasBlocked")}
            assert got == {
                "handle": profile.handle,
                "isPrivate": profile.is_private,
                "followerCount": profile.follower_count,
                "followingCount": profile.following_count,
                "viewerFollowStatus": profile.viewer_follow_status,
                "followsViewer": model.follows_viewer(viewer, handle),
                "viewerHasBlocked": model.viewer_has_blocked(viewer, handle),
            }, (who, handle)
            for kind in GRAPH_LISTS:
                entries = model.graph_list(viewer, handle, kind)
                if entries is None:  # self-only, and not the viewer's: null, no error
                    assert account[kind] is None, (who, handle, kind)
                else:
                    walks.append(Walk("account", handle, kind, entries, [account[kind]]))
            walks.append(
                Walk(
                    "account",
                    handle,
                    "videos",
                    model.account_videos(viewer, handle),
                    [account["videos"]],
                )
            )
            walks.append(
                Walk(
                    "account",
                    handle,
                    "likes",
                    model.account_likes(viewer, handle),
                    [account["likes"]],
                )
            )
        self.walk_pages(viewer, walks)
        for walk in walks:
            self.check_walk(who, walk)

    def walk_pages(self, viewer: Viewer, walks: list[Walk]) -> None:
        """Fetches the next page of every unfinished walk, all in one request per round."""
        while pending := [w for w in walks if not w.done]:
            variables: dict[str, Any] = {"first": self.page_size}
            parts, declared = [], ["$first: Int!"]
            for n, walk in enumerate(pending):
                alias = f"w{n}"
                variables[f"{alias}_o"], variables[f"{alias}_c"] = (
                    walk.owner,
                    walk.pages[-1]["pageInfo"]["endCursor"],
                )
                declared.append(f"${alias}_o: {'ID!' if walk.parent == 'video' else 'String!'}")
                declared.append(f"${alias}_c: String!")
                parts.append(walk.selection(alias, "$first", f"${alias}_c"))
            data = self.ok(document("More", declared, parts), variables, viewer)
            for n, walk in enumerate(pending):
                walk.pages.append(data[f"w{n}"][walk.kind])

    def check_walk(self, who: str, walk: Walk) -> None:
        """Order, no duplicates, no omissions, full pages, and an exact `hasNextPage`."""
        index = {gid: n for n, gid in enumerate(self.video_ids)}
        got: list[tuple[list[Any], bool]] = []
        for page in walk.pages:
            edges = page["edges"]
            end = page["pageInfo"]["endCursor"]
            assert end == (edges[-1]["cursor"] if edges else None), (who, walk.kind)
            keys = []
            for edge in edges:
                node = edge["node"]
                if walk.kind in GRAPH_LISTS:
                    keys.append(node["handle"])
                elif walk.kind == "likers":
                    video = index[walk.owner]
                    keys.append(node["handle"])
                    self.check_liked_at(node["handle"], video, edge["likedAt"])
                elif walk.kind == "videos":
                    keys.append(index[node["id"]])
                else:
                    video = index[node["video"]["id"]]
                    assert node["account"] == {"handle": walk.owner}, (who, node)
                    assert node["video"]["likeCount"] == self.model.like_count(video)
                    keys.append(video)
                    self.check_liked_at(walk.owner, video, node["likedAt"])
            got.append((keys, page["pageInfo"]["hasNextPage"]))
        expected = chunks(walk.expected, self.page_size)
        assert got == expected, (who, walk.kind, walk.owner, got, expected)

    def check_liked_at(self, liker: Handle, video: int, liked_at: str) -> None:
        """A repeated like keeps the first likedAt, in every list that shows it."""
        first_seen = self.liked_at.setdefault((liker, video), liked_at)
        assert liked_at == first_seen, (liker, video, liked_at, first_seen)


def test_every_read_path_agrees_with_the_privacy_model(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Any sequence of mutations leaves every viewer seeing exactly what section 4 allows."""
    run_state_machine_as_test(lambda: PrivacyMachine(tmp_path, tmp_path_factory), settings=PROFILE)
