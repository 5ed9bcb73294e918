"""Keyset cursors: a position in one viewer's walk of one list, sealed with a MAC.

A cursor names the list (kind and owner), the viewer it was minted for and the id
of the last row that viewer saw. The MAC makes forged or altered cursors, cursors
from another list and cursors replayed by another viewer all BAD_USER_INPUT.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass

from api.errors import BadUserInput

_MAC_BYTES = 16


@dataclass(frozen=True)
class ListKey:
    kind: str  # "likers", "likes", "videos"
    owner_id: int  # the video (likers) or account (likes, videos) the list hangs off
    viewer_id: int | None


class CursorCodec:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"likegraph-cursor:" + secret.encode()).digest()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, key: ListKey, position: int) -> str:
        payload = json.dumps(
            [key.kind, key.owner_id, key.viewer_id, position], separators=(",", ":")
        ).encode()
        return base64.urlsafe_b64encode(self._mac(payload) + payload).decode().rstrip("=")

    def decode(self, key: ListKey, cursor: str) -> int:
        """The row id after which the next page starts."""
        invalid = BadUserInput("Invalid cursor.")
        try:
            raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode("ascii"))
        except (ValueError, UnicodeError, binascii.Error) as exc:
            raise invalid from exc
        mac, payload = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
        if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, self._mac(payload)):
            raise invalid
        try:
            kind, owner_id, viewer_id, position = json.loads(payload)
        except (ValueError, TypeError) as exc:
            raise invalid from exc
        if ListKey(kind, owner_id, viewer_id) != key or not isinstance(position, int):
            raise invalid
        return position
