"""Opaque global IDs: clients never parse them, only hand them back.

An ID is one AES-256 block, written in base64url (22 characters), that holds a kind tag
(1 byte), the row id (8 bytes, big-endian) and 7 zero bytes:

- AES is a pseudo-random permutation: without the key, the IDs of rows 41, 42 and 43 look
  like three independent random strings, so an ID shows no row number, no count and no
  order of creation;
- deterministic: the same object has the same ID for every viewer and across restarts, as
  long as LIKEGRAPH_SECRET stays the same (the key is derived from it, api/keys.py);
- the fixed bytes authenticate: a forged, garbled or foreign (other secret) ID decrypts to
  a random block, which has a known tag, a row id in range and 7 zero bytes with a
  probability below 2^-90, so it is refused as `INVALID_ID` like any other non-ID. One
  block is the whole message, so a PRP with redundancy is as strong here as an AEAD,
  and twice as short as one with a nonce and a tag.

The key is process-wide: every entry point that makes or reads IDs configures it from
its settings (create_app, `likegraph demo`, `likegraph generate`), and the GraphQL
endpoint binds its own for each request, so two apps with different secrets in one
process never mix keys. Using IDs before any configuration raises instead of falling back
to a constant key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum

from api.blocks import BLOCK_BYTES, BlockCipher, from_text, to_text
from api.errors import BadUserInput
from api.keys import derive_key

MAX_KEY = 2**31 - 1  # primary keys are 32-bit integers
INVALID_ID = "Invalid ID: use an ID exactly as the API returned it."


class Kind(StrEnum):
    ACCOUNT = "Account"
    VIDEO = "Video"
    APP_TOKEN = "AppToken"


# Tags are part of every issued ID: never renumber one, only add.
_TAGS = {Kind.ACCOUNT: 1, Kind.VIDEO: 2, Kind.APP_TOKEN: 3}
_KINDS = {tag: kind for kind, tag in _TAGS.items()}
_PK_BYTES = 8
_PADDING = bytes(BLOCK_BYTES - 1 - _PK_BYTES)


class IdCodec:
    """The global IDs of one secret."""

    def __init__(self, secret: str) -> None:
        self._cipher = BlockCipher(derive_key(secret, "ids"))

    def encode(self, kind: Kind, pk: int) -> str:
        block = _TAGS[kind].to_bytes(1, "big") + pk.to_bytes(_PK_BYTES, "big") + _PADDING
        return to_text(self._cipher.encrypt(block))

    def decode(self, global_id: str) -> tuple[Kind, int]:
        sealed = from_text(global_id)
        if sealed is None:
            raise BadUserInput(INVALID_ID)
        block = self._cipher.decrypt(sealed)
        kind = _KINDS.get(block[0])
        pk = int.from_bytes(block[1 : 1 + _PK_BYTES], "big")
        if kind is None or not 0 < pk <= MAX_KEY or block[1 + _PK_BYTES :] != _PADDING:
            raise BadUserInput(INVALID_ID)
        return kind, pk


_process: list[IdCodec] = []  # the key configured for this process, once set
_request: ContextVar[IdCodec | None] = ContextVar("likegraph_ids", default=None)


def configure(secret: str) -> IdCodec:
    """Sets the process's ID key from LIKEGRAPH_SECRET; the last call wins."""
    codec = IdCodec(secret)
    _process[:] = [codec]
    return codec


@contextmanager
def keyed(codec: IdCodec) -> Iterator[None]:
    """IDs made and read inside this block (one request) use `codec`."""
    token = _request.set(codec)
    try:
        yield
    finally:
        _request.reset(token)


def _codec() -> IdCodec:
    codec = _request.get()
    if codec is not None:
        return codec
    if not _process:
        raise RuntimeError(
            "Global IDs have no key: call api.ids.configure(settings.secret) at start-up."
        )
    return _process[0]


def encode_id(kind: Kind, pk: int) -> str:
    return _codec().encode(kind, pk)


def decode_id(global_id: str) -> tuple[Kind, int]:
    """The kind and key of a global ID; BAD_USER_INPUT when it is not one of ours."""
    return _codec().decode(global_id)
