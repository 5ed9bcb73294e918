"""Contract section 5: global IDs and cursors reveal nothing, and only their own work.

An attacker holds IDs and cursors it was given and tries to learn row numbers, counts and
order from them, to forge or alter them, or to use them where they do not belong.
"""

from __future__ import annotations

import base64
import itertools
import os
import subprocess
import sys
from typing import Any

import httpx
import jwt
import pytest

from api.app import create_app
from api.blocks import BlockCipher, to_text
from api.cursors import INVALID_CURSOR
from api.errors import BadUserInput
from api.ids import INVALID_ID, IdCodec, Kind, decode_id
from api.keys import derive_key
from api.settings import Settings
from models import Like
from tests.conftest import Gql, error_codes
from tests.world import BOB_CLIP, FIRST_STEPS, POPULAR, SECRET, World

ALIASES = 16  # variants per request, under the aliases limit
OTHER_SECRET = "another-secret-of-the-same-length-0123456789"
VIDEOS_OF = """
query($h: String!, $first: Int, $after: String) {
  account(handle: $h) {
    id
    videos(first: $first, after: $after) {
      edges { cursor node { id caption } }
    }
  }
}
"""
LIKERS = """
query($id: ID!, $first: Int, $after: String) {
  video(id: $id) {
    likers(first: $first, after: $after) {
      edges { cursor node { handle } }
      pageInfo { endCursor }
    }
  }
}
"""


def batched(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def raw(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def text(block: bytes) -> str:
    return base64.urlsafe_b64encode(block).decode().rstrip("=")


def tampered(token: str) -> list[str]:
    """Every byte of the token altered (lowest and highest bit), and one odd last letter.

    The last letter of 22 base64 letters carries 4 unused bits: a text that differs
    there only must be refused too, or one ID would have several spellings.
    """
    block = raw(token)
    variants = []
    for i in range(len(block)):
        for bit in (0x01, 0x80):
            altered = bytearray(block)
            altered[i] ^= bit
            variants.append(text(bytes(altered)))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(token[-1])
    variants.append(token[:-1] + alphabet[last ^ 1])
    return variants


def common_prefix(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))


async def _videos(world: World, count: int) -> list[str]:
    """erin posts `count` videos, one after another; their IDs in creation order."""
    return [await world.create_video(f"erin clip {n}", as_="erin") for n in range(count)]


async def test_ids_of_consecutive_rows_show_no_row_number_count_or_order(world: World) -> None:
    ids = await _videos(world, 12)
    pks = [decode_id(global_id)[1] for global_id in ids]
    assert pks == list(range(pks[0], pks[0] + 12))  # the rows are consecutive indeed
    assert sorted(ids) != ids and sorted(ids, reverse=True) != ids
    for a, b in itertools.pairwise(ids):
        # Random 22-letter strings agree on about one letter in 64.
        assert sum(x == y for x, y in zip(a, b, strict=True)) < 6, (a, b)
        assert common_prefix(a, b) < 3, (a, b)
    for global_id, pk in zip(ids, pks, strict=True):
        assert b"Video" not in raw(global_id)
        assert pk.to_bytes(4, "big") not in raw(global_id)


async def test_an_id_is_the_same_for_every_viewer(world: World) -> None:
    seen = set()
    for viewer in ("anon", "alice", "bob", "erin"):
        data = await world.ok(VIDEOS_OF, {"h": "alice"}, as_=viewer)
        seen.add(
            (data["account"]["id"], *(e["node"]["id"] for e in data["account"]["videos"]["edges"]))
        )
    assert len(seen) == 1
    assert seen == {
        (world.account_ids["alice"], world.video_ids[POPULAR], world.video_ids[FIRST_STEPS])
    }


async def _alice_ids(settings: Settings) -> tuple[str, str]:
    """alice's ID and her newest video's, as a fresh app with these settings answers."""
    transport = httpx.ASGITransport(app=create_app(settings, apply_migrations=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post(
            "/graphql", json={"query": VIDEOS_OF, "variables": {"h": "alice", "first": 1}}
        )
    data: dict[str, Any] = response.json()["data"]
    return data["account"]["id"], data["account"]["videos"]["edges"][0]["node"]["id"]


async def test_ids_are_stable_across_app_instances_and_differ_with_another_secret(
    world: World, settings: Settings
) -> None:
    expected = (world.account_ids["alice"], world.video_ids[POPULAR])
    other = Settings(database_url=settings.database_url, secret=OTHER_SECRET, token_ttl=3600)
    foreign = await _alice_ids(other)
    assert foreign[0] != expected[0] and foreign[1] != expected[1]
    # The world's app, made before the other one, still answers with its own key.
    data = await world.ok(VIDEOS_OF, {"h": "alice", "first": 1}, as_="anon")
    assert (data["account"]["id"], data["account"]["videos"]["edges"][0]["node"]["id"]) == expected
    assert await _alice_ids(settings) == expected  # a restart: same secret, same IDs
    # Either key refuses the other's IDs as no ID at all.
    with pytest.raises(BadUserInput, match=r"^Invalid ID: "):
        IdCodec(OTHER_SECRET).decode(expected[1])
    result = await world(
        "query($id: ID!) { video(id: $id) { id } }", {"id": foreign[1]}, as_="alice"
    )
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["message"] == INVALID_ID
    assert IdCodec(SECRET).decode(expected[1])[0] is Kind.VIDEO


async def test_every_tampered_byte_of_an_id_is_invalid(world: World) -> None:
    for global_id in (world.video_ids[POPULAR], world.account_ids["alice"]):
        for variants in batched(tampered(global_id), ALIASES):
            document = (
                "{ "
                + " ".join(f'v{n}: node(id: "{v}") {{ id }}' for n, v in enumerate(variants))
                + " }"
            )
            result = await world(document, as_="alice")
            assert result["data"] == {f"v{n}": None for n in range(len(variants))}
            assert sorted(e["path"][0] for e in result["errors"]) == sorted(
                f"v{n}" for n in range(len(variants))
            )
            assert {(e["extensions"]["code"], e["message"]) for e in result["errors"]} == {
                ("BAD_USER_INPUT", INVALID_ID)
            }
        untouched = await world.ok(
            "query($id: ID!) { node(id: $id) { id } }", {"id": global_id}, as_="alice"
        )
        assert untouched == {"node": {"id": global_id}}


async def test_every_tampered_byte_of_a_cursor_is_invalid(world: World) -> None:
    page = await world.ok(LIKERS, {"id": world.video_ids[POPULAR], "first": 1}, as_="bob")
    cursor = page["video"]["likers"]["pageInfo"]["endCursor"]
    for variants in batched(tampered(cursor), ALIASES):
        document = (
            "query($id: ID!) { "
            + " ".join(
                f'p{n}: video(id: $id) {{ likers(after: "{v}") {{ edges {{ cursor }} }} }}'
                for n, v in enumerate(variants)
            )
            + " }"
        )
        result = await world(document, {"id": world.video_ids[POPULAR]}, as_="bob")
        assert result["data"] == {f"p{n}": None for n in range(len(variants))}
        assert len(result["errors"]) == len(variants)
        assert {(e["extensions"]["code"], e["message"]) for e in result["errors"]} == {
            ("BAD_USER_INPUT", INVALID_CURSOR)
        }
    fine = await world.ok(
        LIKERS, {"id": world.video_ids[POPULAR], "first": 1, "after": cursor}, as_="bob"
    )
    assert [e["node"]["handle"] for e in fine["video"]["likers"]["edges"]] == ["bob"]


async def test_a_cursor_works_only_for_its_viewer_and_list_with_one_message(world: World) -> None:
    """bob's cursor on POPULAR's likers, replayed by carol, by anon, or on another video's
    likers, answers as garbage does; so does a cursor on a list carol cannot see."""
    bob_popular = await world.ok(LIKERS, {"id": world.video_ids[POPULAR], "first": 1}, as_="bob")
    bob_cursor = bob_popular["video"]["likers"]["pageInfo"]["endCursor"]
    bob_clip = await world.ok(LIKERS, {"id": world.video_ids[BOB_CLIP], "first": 1}, as_="bob")
    hidden_list_cursor = bob_clip["video"]["likers"]["pageInfo"]["endCursor"]
    attempts = [
        ("carol", POPULAR, bob_cursor),
        ("anon", POPULAR, bob_cursor),
        ("bob", FIRST_STEPS, bob_cursor),
        ("carol", POPULAR, hidden_list_cursor),
        ("erin", FIRST_STEPS, hidden_list_cursor),
        ("carol", POPULAR, "not-a-cursor"),
        ("carol", POPULAR, "A" * 22),
    ]
    answers = set()
    for viewer, caption, cursor in attempts:
        response = await world.gql.raw(
            LIKERS,
            {"id": world.video_ids[caption], "first": 1, "after": cursor},
            as_=None if viewer == "anon" else viewer,
        )
        body = response.json()
        assert error_codes(body) == ["BAD_USER_INPUT"], (viewer, caption)
        assert body["errors"][0]["message"] == INVALID_CURSOR
        answers.add(response.content)
    assert len(answers) == 1


async def test_cursors_carry_no_like_id_and_do_not_sort_by_position(world: World) -> None:
    """Likes of erin's video alternate with likes bob makes of his own private video
    (hidden from anon): the cursors anon gets contain no like id, and their order says
    nothing about the gaps the hidden likes left or about the list's order."""
    video = await world.create_video("erin: crowd", as_="erin")
    likers = [f"fan{n}" for n in range(8)]
    for handle in likers:
        await world.gql.sign_up(handle)
        await world.gql.ok(
            "mutation($v: ID!) { likeVideo(videoId: $v) { id } }", {"v": video}, as_=handle
        )
        assert "errors" not in await world.like(BOB_CLIP, as_="bob")
        assert "errors" not in await world.like(BOB_CLIP, as_="bob", unlike=True)
    data = await world.ok(LIKERS, {"id": video, "first": 20}, as_="anon")
    edges = data["video"]["likers"]["edges"]
    assert [e["node"]["handle"] for e in edges] == likers[::-1]
    video_pk = decode_id(video)[1]
    like_ids = {like.account_id: like.id for like in await Like.filter(video_id=video_pk)}
    assert len(like_ids) == len(likers)
    cursors = [raw(e["cursor"]) for e in edges]
    for cursor in cursors:
        for like_id in like_ids.values():
            assert like_id.to_bytes(4, "big") not in cursor
            assert like_id.to_bytes(8, "big") not in cursor
    assert sorted(cursors) != cursors and sorted(cursors, reverse=True) != cursors
    # The like ids themselves have gaps (bob's likes in between): the cursors do not say so.
    ordered = sorted(like_ids.values())
    assert all(b - a >= 2 for a, b in itertools.pairwise(ordered))
    # Another viewer's cursors of the same rows are unrelated to anon's.
    erin = await world.ok(LIKERS, {"id": video, "first": 20}, as_="erin")
    assert not {e["cursor"] for e in erin["video"]["likers"]["edges"]} & {
        e["cursor"] for e in edges
    }


def test_only_blocks_with_the_fixed_bytes_are_ids() -> None:
    """The redundancy is what authenticates an ID: a block that decrypts to a known kind
    and a row id in range, but not to the 7 zero bytes, is refused."""
    cipher = BlockCipher(derive_key(SECRET, "ids"))
    codec = IdCodec(SECRET)
    good = bytes([2]) + (42).to_bytes(8, "big") + bytes(7)
    assert codec.decode(to_text(cipher.encrypt(good))) == (Kind.VIDEO, 42)
    unknown_tag = bytes([0xEE])  # no kind has it (api/ids.py, _TAGS)
    for bad in (good[:-1] + b"\x01", unknown_tag + good[1:], bytes([2]) + bytes(8) + bytes(7)):
        with pytest.raises(BadUserInput, match=r"^Invalid ID: "):
            codec.decode(to_text(cipher.encrypt(bad)))


async def test_ids_of_the_old_form_are_no_ids(world: World) -> None:
    pk = decode_id(world.video_ids[POPULAR])[1]
    old = text(f"Video:{pk}".encode())
    result = await world("query($id: ID!) { video(id: $id) { id } }", {"id": old}, as_="alice")
    assert error_codes(result) == ["BAD_USER_INPUT"]
    assert result["errors"][0]["message"] == INVALID_ID


def test_ids_without_a_configured_key_fail_loudly() -> None:
    """No constant fallback key: a process that forgot to configure one stops."""
    code = "from api.ids import Kind, encode_id; print(encode_id(Kind.VIDEO, 1))"
    env = {k: v for k, v in os.environ.items() if k != "LIKEGRAPH_SECRET"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode != 0
    assert "Global IDs have no key" in done.stderr
    assert done.stdout == ""


async def test_an_access_token_names_no_account(gql: Gql) -> None:
    """Anyone can decode a JWT: an account number in it would count the accounts made
    between two sign-ups, which no global ID shows. The session row says whose it is."""
    for handle in ("ann", "ben"):
        await gql.sign_up(handle)
        claims = jwt.decode(gql.tokens[handle], options={"verify_signature": False})
        assert set(claims) == {"iss", "iat", "exp", "jti"}, claims
    assert (await gql.ok("{ viewer { handle } }", as_="ben"))["viewer"] == {"handle": "ben"}
