"""Signed access tokens, and the `Authorization` header that carries them.

No header is the anonymous viewer; a header that is present but wrong raises
`InvalidToken`. The two never merge.
"""

from __future__ import annotations

import functools
import time

import jwt

from auth.viewer import Viewer

ALGORITHM = "HS256"
ISSUER = "likegraph"


class InvalidToken(Exception):
    """A malformed, forged or expired credential."""


def issue_token(account_id: int, secret: str, ttl_seconds: int, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    claims = {"sub": str(account_id), "iss": ISSUER, "iat": issued, "exp": issued + ttl_seconds}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


# A client sends its token with every request, and checking a signature and its claims
# costs as much as serving a few dozen fields. A token that passed is remembered (the
# whole token, with the secret that signed it, so one changed byte is checked afresh);
# its expiry is checked again on every use. Tokens are never revoked before they expire,
# so a remembered verdict cannot go stale in any other way.
@functools.lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> tuple[int, float]:
    """The account id and expiry time of a valid token; InvalidToken (not kept) otherwise."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["sub", "exp", "iat", "iss"]},
        )
        account_id, expires = int(claims["sub"]), float(claims["exp"])
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise InvalidToken("invalid or expired token") from exc
    if account_id <= 0:
        raise InvalidToken("invalid or expired token")
    return account_id, expires


def viewer_from_token(token: str, secret: str) -> Viewer:
    account_id, expires = _verified(token, secret)
    # PyJWT's own rule: a token is expired once its `exp` is no longer in the future.
    if expires <= time.time():
        raise InvalidToken("invalid or expired token")
    return Viewer.of(account_id)


def viewer_from_authorization(header: str | None, secret: str) -> Viewer:
    if header is None:
        return Viewer.anonymous()
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("the Authorization header must be 'Bearer <token>'")
    return viewer_from_token(token.strip(), secret)
