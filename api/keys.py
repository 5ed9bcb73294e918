"""Keys derived from LIKEGRAPH_SECRET: one per purpose, none usable for another.

HKDF-SHA256 (RFC 5869) with a purpose label in `info` gives independent subkeys, so the
ID cipher, the cursor cipher and the cursor binding never share a key with each other or
with the HS256 tokens (which sign with the secret itself): learning or misusing one
purpose's key tells nothing about another's.
"""

from __future__ import annotations

from typing import Literal

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

Purpose = Literal["ids", "cursors", "cursor-binding"]

KEY_BYTES = 32  # AES-256 keys; BLAKE2b takes up to 64


def derive_key(secret: str, purpose: Purpose) -> bytes:
    return HKDF(
        algorithm=SHA256(),
        length=KEY_BYTES,
        salt=b"likegraph",
        info=f"likegraph/{purpose}/v1".encode(),
    ).derive(secret.encode())
