"""An independent reference model of CONTRACT section 4 (and rules 10 to 12 of section 6),
for the stateful test.

Plain sets and dicts, written from the contract alone: this module imports nothing from
`api`, `auth` or `models`, so a mistake in the policy cannot be copied into the model that
checks it. It knows what every mutation should answer and what every read should show
to every viewer. Viewers and accounts are named by handle; `None` is the anonymous viewer.
Videos are named by the order they were created in (0, 1, ...); a deleted video keeps its
number, and a deleted account's handle may be signed up again as a new account.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

NONE, PENDING, APPROVED = "NONE", "PENDING", "APPROVED"
NOT_FOUND, BAD_USER_INPUT, CONFLICT = "NOT_FOUND", "BAD_USER_INPUT", "CONFLICT"
FORBIDDEN = "FORBIDDEN"

Handle = str
Viewer = Handle | None  # None is the anonymous viewer


@dataclass(frozen=True)
class Failure:
    """A mutation that must fail with this `extensions.code` and change nothing."""

    code: str


@dataclass(frozen=True)
class LikeView:
    """What a like (one video, a verdict on its count) looks like right after a mutation."""

    like_count: int
    viewer_has_liked: bool


@dataclass(frozen=True)
class Profile:
    handle: Handle
    is_private: bool
    follower_count: int
    following_count: int
    viewer_follow_status: str


@dataclass
class PrivacyModel:
    """The world as the contract describes it, changed only through the contract's mutations."""

    private: dict[Handle, bool] = field(default_factory=dict)  # in sign-up order
    follows: dict[tuple[Handle, Handle], str] = field(default_factory=dict)  # PENDING/APPROVED
    # (blocker, blocked), oldest block first (a dict keeps the order blocks were made in).
    blocks: dict[tuple[Handle, Handle], None] = field(default_factory=dict)
    authors: list[Handle] = field(default_factory=list)  # video n's author
    deleted_videos: set[int] = field(default_factory=set)  # rule 12: gone, as if never made
    # (liker, video) -> the like's position in time; a higher number is a newer like.
    likes: dict[tuple[Handle, int], int] = field(default_factory=dict)
    _clock: itertools.count[int] = field(default_factory=itertools.count)

    # -- the words of section 4 ------------------------------------------------------------

    def exists(self, handle: Handle) -> bool:
        return handle.lower() in self.private

    def follows_(self, a: Handle, b: Handle) -> bool:
        """A follows B when the edge A→B is APPROVED; a PENDING request grants nothing."""
        return self.follows.get((a, b)) == APPROVED

    def blocked_pair(self, a: Viewer, b: Handle) -> bool:
        return a is not None and ((a, b) in self.blocks or (b, a) in self.blocks)

    def can_see_content(self, viewer: Viewer, owner: Handle) -> bool:
        """Rule 1 (and 8): self, else not a blocked pair and (public or followed)."""
        if viewer == owner:
            return True
        if self.blocked_pair(viewer, owner):
            return False
        if not self.private[owner]:
            return True
        return viewer is not None and self.follows_(viewer, owner)

    def can_see_video(self, viewer: Viewer, video: int) -> bool:
        """Rule 2: a video is visible when its author's content is; rule 12: a deleted one
        is visible to no one."""
        if video in self.deleted_videos:
            return False
        return self.can_see_content(viewer, self.authors[video])

    def live_videos(self) -> list[int]:
        return [v for v in range(len(self.authors)) if v not in self.deleted_videos]

    def can_see_profile(self, viewer: Viewer, owner: Handle) -> bool:
        """Rule 6: every profile, except to the other side of a blocked pair."""
        return not self.blocked_pair(viewer, owner)

    # -- reads ------------------------------------------------------------------------------

    def like_count(self, video: int) -> int:
        """Rule 3: every like, from every account, whoever asks."""
        return sum(1 for (_, v) in self.likes if v == video)

    def viewer_has_liked(self, viewer: Viewer, video: int) -> bool:
        return viewer is not None and (viewer, video) in self.likes

    def likers(self, viewer: Viewer, video: int) -> list[Handle]:
        """Rule 4: the likers the viewer may see, newest like first (the author gets no pass)."""
        likes = sorted(
            ((when, liker) for (liker, v), when in self.likes.items() if v == video),
            reverse=True,
        )
        return [liker for _, liker in likes if self.can_see_content(viewer, liker)]

    def account_likes(self, viewer: Viewer, owner: Handle) -> list[int]:
        """Rule 5: the owner's likes of videos the viewer may see, newest first."""
        if not self.can_see_content(viewer, owner):
            return []
        likes = sorted(
            ((when, v) for (liker, v), when in self.likes.items() if liker == owner),
            reverse=True,
        )
        return [v for _, v in likes if self.can_see_video(viewer, v)]

    def account_videos(self, viewer: Viewer, owner: Handle) -> list[int]:
        """Rules 1 and 2: the owner's videos, newest first, when its content is visible."""
        if not self.can_see_content(viewer, owner):
            return []
        return [v for v in reversed(self.live_videos()) if self.authors[v] == owner]

    def _edges(self, owner: Handle, state: str, *, to_owner: bool) -> list[Handle]:
        """The other ends of the owner's edges in `state`, newest edge first (an edge keeps
        its place when approved: `follows` keeps the order edges were first made in)."""
        edges = reversed(self.follows.items())
        if to_owner:
            return [a for (a, b), s in edges if b == owner and s == state]
        return [b for (a, b), s in edges if a == owner and s == state]

    def graph_list(self, viewer: Viewer, owner: Handle, kind: str) -> list[Handle] | None:
        """Rule 10: `followers`, `following` (the owner's content, APPROVED edges) and the
        self-only `followRequests`, `sentFollowRequests`, `blockedAccounts` (None for anyone
        but the owner); every entry but a blocked one is a profile the viewer may see."""
        if kind in ("followers", "following"):
            if not self.can_see_content(viewer, owner):
                return []
            state = APPROVED
        elif viewer != owner:
            return None
        else:
            state = PENDING
        if kind == "blockedAccounts":
            return [b for (a, b) in reversed(self.blocks) if a == owner]
        to_owner = kind in ("followers", "followRequests")
        entries = self._edges(owner, state, to_owner=to_owner)
        return [e for e in entries if self.can_see_profile(viewer, e)]

    def follows_viewer(self, viewer: Viewer, owner: Handle) -> bool:
        return viewer is not None and self.follows_(owner, viewer)

    def viewer_has_blocked(self, viewer: Viewer, owner: Handle) -> bool:
        return viewer is not None and (viewer, owner) in self.blocks

    def follow_status(self, a: Handle, b: Handle) -> str:
        return self.follows.get((a, b), NONE)

    def profile(self, viewer: Viewer, owner: Handle) -> Profile | None:
        """Rule 6: `account(handle:)`, null across a blocked pair."""
        if not self.exists(owner) or not self.can_see_profile(viewer, owner):
            return None
        return Profile(
            handle=owner,
            is_private=self.private[owner],
            follower_count=sum(
                1 for (_, b), s in self.follows.items() if b == owner and s == APPROVED
            ),
            following_count=sum(
                1 for (a, _), s in self.follows.items() if a == owner and s == APPROVED
            ),
            viewer_follow_status=(
                NONE if viewer is None or viewer == owner else self.follow_status(viewer, owner)
            ),
        )

    # -- mutations: each changes the model and returns what the API must answer ------------

    def sign_up(self, handle: str, private: bool) -> Handle | Failure:
        """A new account, or CONFLICT for a handle taken in any case."""
        key = handle.lower()
        if key in self.private:
            return Failure(CONFLICT)
        self.private[key] = private
        return key

    def set_privacy(self, me: Handle, private: bool) -> bool:
        """Rule 7: turning public approves every pending request; turning private keeps all."""
        self.private[me] = private
        if not private:
            for edge, status in self.follows.items():
                if edge[1] == me and status == PENDING:
                    self.follows[edge] = APPROVED
        return private

    def _other(self, me: Handle, handle: str) -> Handle | Failure:
        """The account a follow mutation names: NOT_FOUND across a blocked pair or if missing."""
        other = handle.lower()
        if other == me:
            return Failure(BAD_USER_INPUT)
        if not self.exists(other) or self.blocked_pair(me, other):
            return Failure(NOT_FOUND)
        return other

    def follow(self, me: Handle, handle: str) -> str | Failure:
        """APPROVED for a public account, PENDING for a private one; a repeat keeps the edge."""
        other = self._other(me, handle)
        if isinstance(other, Failure):
            return other
        if (me, other) not in self.follows:
            self.follows[me, other] = PENDING if self.private[other] else APPROVED
        return self.follows[me, other]

    def unfollow(self, me: Handle, handle: str) -> str | Failure:
        other = self._other(me, handle)
        if isinstance(other, Failure):
            return other
        self.follows.pop((me, other), None)
        return NONE

    def approve_follower(self, me: Handle, handle: str) -> str | Failure:
        """Approves a pending request; with none, changes nothing and returns the edge's status."""
        other = self._other(me, handle)
        if isinstance(other, Failure):
            return other
        if self.follows.get((other, me)) == PENDING:
            self.follows[other, me] = APPROVED
        return self.follow_status(other, me)

    def remove_follower(self, me: Handle, handle: str) -> str | Failure:
        other = self._other(me, handle)
        if isinstance(other, Failure):
            return other
        self.follows.pop((other, me), None)
        return NONE

    def block(self, me: Handle, handle: str) -> bool | Failure:
        """Works on any existing handle; removes every follow edge of the pair, both ways
        (rule 7), and each side's likes of the other's videos (rule 11), even when a
        block existed already."""
        other = handle.lower()
        if other == me:
            return Failure(BAD_USER_INPUT)
        if not self.exists(other):
            return Failure(NOT_FOUND)
        self.follows.pop((me, other), None)
        self.follows.pop((other, me), None)
        for liker, video in list(self.likes):
            if {liker, self.authors[video]} == {me, other}:
                del self.likes[liker, video]
        if (me, other) in self.blocks:
            return False
        self.blocks[me, other] = None
        return True

    def unblock(self, me: Handle, handle: str) -> bool | Failure:
        """Removes the viewer's own block only; restores no follow edge."""
        other = handle.lower()
        if other == me:
            return Failure(BAD_USER_INPUT)
        if not self.exists(other):
            return Failure(NOT_FOUND)
        if (me, other) not in self.blocks:
            return False
        del self.blocks[me, other]
        return True

    def create_video(self, me: Handle) -> int:
        self.authors.append(me)
        return len(self.authors) - 1

    def like_video(self, me: Handle, video: int) -> LikeView | Failure:
        """Idempotent: a repeat keeps the first like (and its place in every list)."""
        if not self.can_see_video(me, video):
            return Failure(NOT_FOUND)
        if (me, video) not in self.likes:
            self.likes[me, video] = next(self._clock)
        return LikeView(self.like_count(video), True)

    def unlike_video(self, me: Handle, video: int) -> LikeView | Failure:
        """Idempotent; a later like is a new like, the newest of all."""
        if not self.can_see_video(me, video):
            return Failure(NOT_FOUND)
        self.likes.pop((me, video), None)
        return LikeView(self.like_count(video), False)

    def delete_video(self, me: Handle, video: int) -> bool | Failure:
        """Rule 12: the author's video goes with its likes. NOT_FOUND for a video the viewer
        may not see, one already deleted, and someone else's: all as for one never made."""
        if not self.can_see_video(me, video) or self.authors[video] != me:
            return Failure(NOT_FOUND)
        self._forget_video(video)
        return True

    def _forget_video(self, video: int) -> None:
        for like in [like for like in self.likes if like[1] == video]:
            del self.likes[like]
        self.deleted_videos.add(video)

    def delete_account(self, me: Handle, password_right: bool) -> bool | Failure:
        """Rule 12: the account and everything it owns: its videos and their likes, its likes
        (the counters of others' videos drop), follow edges and blocks both ways. Its handle
        is free again; a new account under it starts from nothing."""
        if not password_right:
            return Failure(FORBIDDEN)
        for video in self.live_videos():
            if self.authors[video] == me:
                self._forget_video(video)
        for like in [like for like in self.likes if like[0] == me]:
            del self.likes[like]
        for edge in [edge for edge in self.follows if me in edge]:
            del self.follows[edge]
        for pair in [pair for pair in self.blocks if me in pair]:
            del self.blocks[pair]
        del self.private[me]
        return True
