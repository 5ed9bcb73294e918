"""Keyset cursors: a position in one viewer's walk of one list, encrypted and bound.

A cursor is one AES-256 block (api/blocks.py), in base64url, holding the id of the last
row its viewer saw (8 bytes) and a binding of the list it belongs to (8 bytes): a keyed
BLAKE2b of the list's kind, its owner and the viewer it was minted for. So:

- it reveals nothing of the position: the block is a pseudo-random permutation of it,
  so cursors neither carry the app-wide like counter nor sort in list order;
- it is authenticated by the binding: a forged, altered, foreign-list or other-viewer
  cursor decrypts to a random block whose last 8 bytes match this list's binding with
  probability 2^-64, and is BAD_USER_INPUT "Invalid cursor: ...", the same words whoever owns
  the list and whether the viewer may see it;
- it is cheap: a page's cursors are encrypted together in one cipher call, and the
  binding is computed once per page.

The cipher and the binding use separate keys derived from LIKEGRAPH_SECRET (api/keys.py),
distinct from the key of global IDs.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from api.blocks import BLOCK_BYTES, BlockCipher, from_text, to_text
from api.errors import BadUserInput
from api.keys import derive_key

_POSITION_BYTES = 8
INVALID_CURSOR = "Invalid cursor: use a `cursor` or `endCursor` that this list returned to you."
_BINDING_BYTES = BLOCK_BYTES - _POSITION_BYTES


@dataclass(frozen=True)
class ListKey:
    kind: str  # "likers", "likes", "videos"
    owner_id: int  # the video (likers) or account (likes, videos) the list hangs off
    viewer_id: int | None


class CursorCodec:
    def __init__(self, secret: str) -> None:
        self._cipher = BlockCipher(derive_key(secret, "cursors"))
        self._binding_key = derive_key(secret, "cursor-binding")

    def _binding(self, key: ListKey) -> bytes:
        """Keyed, so that no one can search offline for two lists that bind alike."""
        bound = f"{key.kind}:{key.owner_id}:{key.viewer_id}".encode()
        return hashlib.blake2b(bound, key=self._binding_key, digest_size=_BINDING_BYTES).digest()

    def encode_all(self, key: ListKey, positions: Iterable[int]) -> list[str]:
        """The cursors of one page: one per row id, in order."""
        binding = self._binding(key)
        plain = b"".join(p.to_bytes(_POSITION_BYTES, "big") + binding for p in positions)
        sealed = self._cipher.encrypt(plain)
        return [to_text(sealed[i : i + BLOCK_BYTES]) for i in range(0, len(sealed), BLOCK_BYTES)]

    def decode(self, key: ListKey, cursor: str) -> int:
        """The row id after which the next page starts."""
        sealed = from_text(cursor)
        if sealed is None:
            raise BadUserInput(INVALID_CURSOR)
        block = self._cipher.decrypt(sealed)
        if not hmac.compare_digest(block[_POSITION_BYTES:], self._binding(key)):
            raise BadUserInput(INVALID_CURSOR)
        return int.from_bytes(block[:_POSITION_BYTES], "big")
