"""Every privacy rule, written once: the read side (rules 1 to 10) and the write side
(what the mutations store: rules 7 and 11). docs/privacy-rules.md lists them all.

The content rule is an ordered list of named rules. Each rule has two halves side by
side: a yes/no test for one account whose relationship facts are loaded, and a SQL
condition that filters a list in the database. `can_see_content` and
`content_visible_sql` are both folded from the same list, so they cannot drift; a
property test checks that they select the same accounts on random worlds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from auth.app_tokens import INSIGHTS_READ
from auth.viewer import Viewer
from models.entities import FollowState
from models.sql import Sql


class Decision(Enum):
    ALLOW = "allow"
    DENY = "deny"


@dataclass(frozen=True)
class Relationship:
    """The facts about one account that the rules read, as seen from one viewer."""

    owner_id: int
    owner_private: bool
    blocked_pair: bool  # either side blocked the other
    follow_state: str | None  # the viewer's edge to the owner: None or a FollowState value

    @property
    def viewer_follows(self) -> bool:
        """A *follows* B only through an APPROVED edge; a PENDING request grants nothing."""
        return self.follow_state == FOLLOWER_STATE


@dataclass(frozen=True)
class Owner:
    """SQL expressions naming an account's id and privacy in the query a rule joins."""

    id: str
    is_private: str

    @classmethod
    def account(cls, alias: str) -> Owner:
        return cls(id=f"{alias}.id", is_private=f"{alias}.is_private")

    @classmethod
    def liker(cls, like_alias: str) -> Owner:
        """The liker of a like row, through the copy of its privacy kept on the row."""
        return cls(id=f"{like_alias}.account_id", is_private=f"{like_alias}.liker_public = FALSE")


FALSE = "FALSE"

# What counts as a follower (the words of section 4): A follows B when the edge A→B is in
# this state. A PENDING request grants nothing, is counted nowhere and listed only to the
# two accounts it joins (rule 10's self-only lists).
FOLLOWER_STATE = FollowState.APPROVED


def state_sql(state: FollowState) -> str:
    """A follow state as a SQL literal (the enum's values are fixed identifiers)."""
    return f"'{state.value}'"


def approved_followees_sql(viewer: Viewer, sql: Sql) -> str:
    """Accounts the viewer follows (an APPROVED edge; a PENDING one grants nothing)."""
    return (
        f"SELECT followee_id FROM follow WHERE follower_id = {sql.p(viewer.account_id)}"
        f" AND status = {state_sql(FOLLOWER_STATE)}"
    )


def blocked_pair_ids_sql(viewer: Viewer, sql: Sql) -> str:
    """Accounts on the other side of a blocked pair with the viewer, either direction."""
    me = sql.p(viewer.account_id)
    return (
        f"SELECT blocked_id FROM block WHERE blocker_id = {me}"
        f" UNION ALL SELECT blocker_id FROM block WHERE blocked_id = {me}"
    )


@dataclass(frozen=True)
class Rule:
    name: str
    decision: Decision
    test: Callable[[Viewer, Relationship], bool]
    sql: Callable[[Viewer, Sql, Owner], str]


def _is_self(viewer: Viewer, rel: Relationship) -> bool:
    return viewer.account_id == rel.owner_id


def _is_self_sql(viewer: Viewer, sql: Sql, owner: Owner) -> str:
    return FALSE if viewer.is_anonymous else f"{owner.id} = {sql.p(viewer.account_id)}"


def _blocked_pair(viewer: Viewer, rel: Relationship) -> bool:
    return not viewer.is_anonymous and rel.blocked_pair


def _blocked_pair_sql(viewer: Viewer, sql: Sql, owner: Owner) -> str:
    return FALSE if viewer.is_anonymous else f"{owner.id} IN ({blocked_pair_ids_sql(viewer, sql)})"


def _is_public(viewer: Viewer, rel: Relationship) -> bool:
    return not rel.owner_private


def _is_public_sql(viewer: Viewer, sql: Sql, owner: Owner) -> str:
    return f"NOT ({owner.is_private})"


def _follows(viewer: Viewer, rel: Relationship) -> bool:
    return not viewer.is_anonymous and rel.viewer_follows


def _follows_sql(viewer: Viewer, sql: Sql, owner: Owner) -> str:
    return (
        FALSE if viewer.is_anonymous else f"{owner.id} IN ({approved_followees_sql(viewer, sql)})"
    )


CONTENT_RULES: tuple[Rule, ...] = (
    # Rules 1 and 8: the viewer always sees the viewer's own content.
    Rule("self allows", Decision.ALLOW, _is_self, _is_self_sql),
    # Rule 1: a blocked pair sees none of each other's content, public or followed.
    Rule("blocked pair denies", Decision.DENY, _blocked_pair, _blocked_pair_sql),
    # Rule 1: a public account's content is for everyone, the anonymous viewer included.
    Rule("public allows", Decision.ALLOW, _is_public, _is_public_sql),
    # Rule 1: a private account's content is for its approved followers.
    Rule("approved follow allows", Decision.ALLOW, _follows, _follows_sql),
)
# Anything no rule allowed is denied (the end of both folds below).


def can_see_content(viewer: Viewer, rel: Relationship) -> bool:
    """Rule 1: may the viewer see this account's videos and which videos it liked?"""
    for rule in CONTENT_RULES:
        if rule.test(viewer, rel):
            return rule.decision is Decision.ALLOW
    return False


def content_visible_sql(viewer: Viewer, sql: Sql, owner: Owner) -> str:
    """Rule 1 as a SQL condition over `owner`: the fold of CONTENT_RULES, first rule first."""
    condition = FALSE
    for rule in reversed(CONTENT_RULES):
        test = rule.sql(viewer, sql, owner)
        if test == FALSE:
            continue
        if rule.decision is Decision.ALLOW:
            condition = test if condition == FALSE else f"({test} OR {condition})"
        else:
            condition = FALSE if condition == FALSE else f"(NOT ({test}) AND {condition})"
    return condition


def can_see_video(viewer: Viewer, author: Relationship) -> bool:
    """Rule 2: a video is visible when its author's content is."""
    return can_see_content(viewer, author)


def video_visible_sql(viewer: Viewer, sql: Sql, author: Owner) -> str:
    """Rule 2 as SQL over the video's author."""
    return content_visible_sql(viewer, sql, author)


def can_see_profile(viewer: Viewer, rel: Relationship) -> bool:
    """Rule 6: every profile is visible except across a blocked pair."""
    return not _blocked_pair(viewer, rel)


def profile_visible_sql(viewer: Viewer, sql: Sql, owner: Owner) -> str:
    """Rule 6 as SQL."""
    if viewer.is_anonymous:
        return "TRUE"
    return f"NOT ({_blocked_pair_sql(viewer, sql, owner)})"


def liker_streams_sql(viewer: Viewer, sql: Sql, like_alias: str, video_id: int) -> list[str]:
    """Rule 4 over the likes of one video, as conditions on `like_alias` split into streams.

    The union of the streams is exactly the likes of `video_id` whose liker passes
    `content_visible_sql` (the property tests check it), and the streams are disjoint
    (public likers, private likers), but each is shaped so that a page costs the page
    size plus the viewer's follow count, however many likers are hidden
    (docs/likers-query.md has the plans):

    1. public likers, minus the viewer's blocked pairs: a walk of the index
       (video_id, liker_public, id) in id order, stopping after the page;
    2. private likers that are the viewer or an approved followee outside a blocked
       pair: one probe of the unique index (video_id, account_id) per followee, then
       the matching like rows by primary key. The followees drive it from inside a
       scalar subquery, so no planner (nor PostgreSQL's generic plan) can turn it
       into a walk over the video's private likes instead.
    """
    liker = Owner.liker(like_alias)
    video = sql.p(video_id)
    public = f"{like_alias}.video_id = {video} AND {like_alias}.liker_public = TRUE"
    if viewer.is_anonymous:
        return [public]
    # Rule 1 in its order, for a public liker: self allows, a blocked pair denies, public
    # allows; for a private one: self allows, a blocked pair denies, a follow allows.
    is_self = _is_self_sql(viewer, sql, liker)
    public_visible = f"{public} AND ({is_self} OR NOT ({_blocked_pair_sql(viewer, sql, liker)}))"
    followed_or_self = (
        f"SELECT x.followee_id FROM ({approved_followees_sql(viewer, sql)}) AS x"
        f" WHERE x.followee_id NOT IN ({blocked_pair_ids_sql(viewer, sql)})"
        f" UNION ALL SELECT CAST({sql.p(viewer.account_id)} AS INTEGER)"
    )
    probe = f"{like_alias}_probe"
    private_visible = (
        f"{like_alias}.id IN (SELECT (SELECT {probe}.id FROM video_like {probe}"
        f" WHERE {probe}.video_id = {video} AND {probe}.account_id = f.followee_id"
        f" AND {probe}.liker_public = FALSE)"
        f" FROM ({followed_or_self}) AS f)"
    )
    return [public_visible, private_visible]


# -- Rule 10: the social graph's lists --------------------------------------------------------


def can_see_graph_lists(viewer: Viewer, owner: Relationship) -> bool:
    """Rule 10: `followers` and `following` of an account are its content (rule 1)."""
    return can_see_content(viewer, owner)


def graph_lists_visible_sql(viewer: Viewer, sql: Sql, owner: Owner) -> str:
    """Rule 10 as SQL over the list's owner."""
    return content_visible_sql(viewer, sql, owner)


def can_see_graph_entry(viewer: Viewer, entry: Relationship) -> bool:
    """Rule 10: each entry of a graph list is a profile (rule 6): none across a blocked pair."""
    return can_see_profile(viewer, entry)


def graph_entry_visible_sql(viewer: Viewer, sql: Sql, entry: Owner) -> str:
    """Rule 10's entry filter as SQL."""
    return profile_visible_sql(viewer, sql, entry)


def is_viewer(viewer: Viewer, account_id: int) -> bool:
    """The account is the viewer itself (rules 8 and 10; `Video.viewerIsAuthor`)."""
    return not viewer.is_anonymous and viewer.account_id == account_id


def can_see_self_only(viewer: Viewer, owner_id: int) -> bool:
    """Rule 10: `followRequests`, `sentFollowRequests` and `blockedAccounts` are the
    account's own; anyone else (the anonymous viewer included) gets null."""
    return is_viewer(viewer, owner_id)


def self_only_sql(viewer: Viewer, sql: Sql, owner: Owner) -> str:
    """The self-only rule as SQL over the list's owner."""
    return _is_self_sql(viewer, sql, owner)


def can_see_blocked_entry(viewer: Viewer, entry: Relationship) -> bool:
    """Rule 10: `blockedAccounts` is the one list that shows profiles across a blocked pair,
    its owner's own blocks; the self-only gate has already made the viewer its owner, and
    the list's rows are the blocks the owner made, never the ones made against it."""
    return True


def blocked_entry_visible_sql(viewer: Viewer, sql: Sql, entry: Owner) -> str:
    """`can_see_blocked_entry` as SQL."""
    return "TRUE"


# -- The write side: what the mutations store (rules 7 and 11) ----------------------------------
#
# The mutations, the loaders and `likegraph check` all take these from here, so what a follow
# becomes, what a privacy change approves and what a block removes are each written once.


def follow_state_on_request(followee_private: bool) -> FollowState:
    """Rule 7: following a public account is APPROVED at once, a private one PENDING."""
    return FollowState.PENDING if followee_private else FollowState.APPROVED


def follow_state_on_request_sql(followee: Owner) -> str:
    """`follow_state_on_request` as a SQL expression over the followee's row, built from it."""
    private, public = follow_state_on_request(True), follow_state_on_request(False)
    return f"CASE WHEN {followee.is_private} THEN {state_sql(private)} ELSE {state_sql(public)} END"


def state_on_turning_public(state: FollowState) -> FollowState:
    """Rule 7: an account that turns public approves every pending request to it (and one
    that turns private keeps the followers it has)."""
    return FOLLOWER_STATE if state is FollowState.PENDING else state


def requests_approved_on_turning_public_sql(followees: str) -> str:
    """`state_on_turning_public` as one UPDATE of the follow table, for the requests to the
    accounts `followees` (a SQL condition on `followee_id`) names."""
    pending = FollowState.PENDING
    return (
        f"UPDATE follow SET status = {state_sql(state_on_turning_public(pending))}"
        f" WHERE status = {state_sql(pending)} AND {followees}"
    )


def blocked_pair_sql(first: str, second: str) -> str:
    """A SQL condition: the accounts `first` and `second` (SQL expressions) are a blocked
    pair, either of them the blocker."""
    return (
        "EXISTS (SELECT 1 FROM block bp"
        f" WHERE (bp.blocker_id = {first} AND bp.blocked_id = {second})"
        f" OR (bp.blocker_id = {second} AND bp.blocked_id = {first}))"
    )


def block_removes_sql(sql: Sql, blocker_id: int, blocked_id: int) -> list[str]:
    """Rules 7 and 11: what a block removes, as statements to run in the block's transaction
    in this order, each with `sql`'s two parameters (the pair). Every follow edge between
    the pair, both ways; and each side's likes of the other's videos, each counter lowered
    before its likes go (an account likes a video at most once: by one per liker), so
    `likeCount` stays exact. Unblocking restores none of it."""
    a, b = sql.p(blocker_id), sql.p(blocked_id)
    statements = [
        f"DELETE FROM follow WHERE (follower_id = {a} AND followee_id = {b})"
        f" OR (follower_id = {b} AND followee_id = {a})"
    ]
    for liker, author in ((a, b), (b, a)):
        statements.append(
            f"UPDATE video SET like_count = like_count - 1 WHERE author_id = {author}"
            f" AND id IN (SELECT video_id FROM video_like WHERE account_id = {liker})"
        )
        statements.append(
            f"DELETE FROM video_like WHERE account_id = {liker}"
            f" AND video_id IN (SELECT id FROM video WHERE author_id = {author})"
        )
    return statements


def block_removes_like(liker_id: int, author_id: int, blocker_id: int, blocked_id: int) -> bool:
    """Rule 11's yes/no form: does a block between the two remove this like?"""
    return {liker_id, author_id} == {blocker_id, blocked_id}


def can_read_insights(viewer: Viewer, owner_id: int) -> bool:
    """Rules 14 and 17: a video's insights are its author's, an account's insights its
    own (the owner id is the video's author or the account), and those of an app token
    of theirs holding INSIGHTS_READ. No follow, publicity or block grants them to anyone
    else."""
    if viewer.account_id is not None:
        return viewer.account_id == owner_id
    return (
        viewer.app_owner_id == owner_id
        and viewer.app_scopes is not None
        and INSIGHTS_READ in viewer.app_scopes
    )


# Rule 17: an app token. Its viewer has no account_id, so every rule above already treats
# it as the anonymous viewer (content, videos, likers, profiles); what follows is what it
# gets beyond that, and what it is refused that the anonymous viewer is not.


def viewer_account_id(viewer: Viewer) -> int | None:
    """Rule 17: `Query.viewer` is the logged-in account, or the account an app token acts
    for (its profile fields only: everything under it follows the rules above)."""
    return viewer.account_id if viewer.account_id is not None else viewer.app_owner_id


def can_read_identity_lists(viewer: Viewer) -> bool:
    """Rule 17: lists of accounts or likes (`likers`, `Account.likes`, `followers`,
    `following`, the self-only lists) are never for an app token, whatever its scopes:
    an app gets aggregates only. People, the anonymous viewer included, get them as the
    rules above filter them."""
    return not viewer.is_app


def can_run_mutations(viewer: Viewer) -> bool:
    """Rule 17: an app token changes nothing; mutations are for people (and the
    anonymous viewer, for signUp and logIn)."""
    return not viewer.is_app


def can_manage_app_tokens(viewer: Viewer, owner_id: int) -> bool:
    """Rule 17: an account's app tokens are listed, made and revoked by the account
    itself, logged in: never by one of its apps."""
    return viewer.account_id is not None and viewer.account_id == owner_id


def can_read_audience_profile(viewer: Viewer, owner_id: int) -> bool:
    """Rule 14: an account's declared birth year, region and language are its own to read."""
    return viewer.account_id is not None and viewer.account_id == owner_id
