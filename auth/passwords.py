"""Password hashing with argon2id."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when a handle is unknown, so a wrong handle and a wrong password
# cost the same time and cannot be told apart.
_DUMMY_HASH = _hasher.hash("likegraph-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    # A password with no UTF-8 form (a lone surrogate) matches no hash: a wrong password.
    except (VerificationError, InvalidHashError, UnicodeEncodeError):
        return False


async def hash_password_async(password: str) -> str:
    """argon2 is deliberately slow: keep it off the event loop."""
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    return await asyncio.to_thread(verify_password, password_hash, password)
