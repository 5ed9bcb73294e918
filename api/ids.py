"""Opaque global IDs: clients never parse them, only hand them back."""

from __future__ import annotations

import base64
import binascii
from enum import StrEnum

from api.errors import BadUserInput

MAX_KEY = 2**31 - 1  # primary keys are 32-bit integers


class Kind(StrEnum):
    ACCOUNT = "Account"
    VIDEO = "Video"


def encode_id(kind: Kind, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{kind.value}:{pk}".encode()).decode().rstrip("=")


def decode_id(global_id: str) -> tuple[Kind, int]:
    """The kind and key of a global ID; BAD_USER_INPUT when it is not one of ours."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
        kind, _, pk = raw.partition(":")
        key = int(pk)
        if not pk.isdigit() or not 0 < key <= MAX_KEY:
            raise ValueError(pk)
        decoded = Kind(kind), key
        if encode_id(*decoded) != global_id:
            raise ValueError("not the canonical form")  # one object, one ID
        return decoded
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise BadUserInput("Invalid ID: use an ID exactly as the API returned it.") from exc
