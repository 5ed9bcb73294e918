"""Signed access tokens, and the `Authorization` header that carries them.

No header is the anonymous viewer; a header that is present but wrong raises
`InvalidToken`. The two never merge. A token that is well signed and unexpired is not
enough: it must also name a live session (auth/sessions.py).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"
ISSUER = "likegraph"
# One message for every refused token: forged, expired, logged out or of a deleted
# account. Telling them apart would help only someone holding a token not theirs.
INVALID_TOKEN = "The access token is invalid, has expired or was logged out. Log in again."
BAD_HEADER = "Send the Authorization header as 'Bearer <token>', or no header at all."


class InvalidToken(Exception):
    """A malformed, forged, expired or ended credential."""


@dataclass(frozen=True, slots=True)
class Credential:
    """What a well-signed token claims; its session, and so its account, is still to be
    found (auth/sessions.py)."""

    expires: float
    digest: str  # the token's SHA-256: how its session is stored and found


def token_digest(token: str) -> str:
    # A plain hash is enough: a token carries 128 random bits (its jti), so it cannot be
    # found from its hash by trying guesses, as a password could.
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(secret: str, ttl_seconds: int, now: float | None = None) -> str:
    """A token for a new session (auth.sessions.start_session stores it with its account);
    the random jti makes two tokens issued in the same second distinct.

    It names no account: anyone may decode a JWT, and an account number in it would tell
    a client how many accounts were made between two sign-ups, which no global ID shows.
    The session row says whose it is."""
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": ISSUER,
        "iat": issued,
        "exp": issued + ttl_seconds,
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


# A client sends its token with every request, and checking a signature and its claims
# costs as much as serving a few dozen fields. A token that passed is remembered (the
# whole token, with the secret that signed it, so one changed byte is checked afresh);
# its expiry is checked again on every use. What is remembered is only that the token is
# genuine, which never changes: whether its session still lives is auth/sessions.py's
# question, asked on every request.
@functools.lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> Credential:
    """The claims of a genuine token; InvalidToken (not kept) otherwise."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "iss", "jti"]},
        )
        expires = float(claims["exp"])
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise InvalidToken(INVALID_TOKEN) from exc
    return Credential(expires, token_digest(token))


def credential_from_token(token: str, secret: str) -> Credential:
    credential = _verified(token, secret)
    # PyJWT's own rule: a token is expired once its `exp` is no longer in the future.
    if credential.expires <= time.time():
        raise InvalidToken(INVALID_TOKEN)
    return credential


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization` header: None for no header (the anonymous viewer);
    InvalidToken for another scheme or an empty token."""
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken(BAD_HEADER)
    return token.strip()


def credential_from_authorization(header: str | None, secret: str) -> Credential | None:
    """None for no header (the anonymous viewer); InvalidToken for a wrong one."""
    token = bearer_token(header)
    return None if token is None else credential_from_token(token, secret)
