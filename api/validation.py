"""The input rules of contract section 3."""

from __future__ import annotations

import re
import unicodedata

from api.errors import BadUserInput

HANDLE_RE = re.compile(r"[a-z0-9_.]{3,30}")
GIVEN_HANDLE_RE = re.compile(r"[A-Za-z0-9_.]{3,30}")  # as typed: any case
PASSWORD_MIN, PASSWORD_MAX = 8, 256
CAPTION_MAX = 2200
DISPLAY_NAME_MAX = 100


def normalize_handle(handle: str) -> str | None:
    """The stored form of a handle (lower case), or None when it cannot be one."""
    # Checked before lower-casing too: the Kelvin sign K (U+212A) lower-cases to an ASCII
    # k, yet is no letter of a-z in any case.
    if not GIVEN_HANDLE_RE.fullmatch(handle):
        return None
    return handle.lower()


def valid_handle(handle: str) -> str:
    """A new account's handle. `...` or `___` fit the shape but name no one a person
    could tell apart in a list: a handle also needs a letter or a digit."""
    key = normalize_handle(handle)
    if key is None or not re.search(r"[a-z0-9]", key):
        raise BadUserInput(
            "A handle is 3 to 30 characters of a-z, 0-9, '_' and '.', with at least one"
            " letter or digit: choose another."
        )
    return key


def storable(text: str, *, nul: bool = False) -> str:
    """Text as given, when both engines can keep it: valid Unicode (a lone surrogate, which
    JSON can carry, has no UTF-8 form) and, unless `nul`, no NUL (PostgreSQL text refuses
    it; a password is only ever hashed, so it may hold one)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        unstorable = True
    else:
        unstorable = not nul and "\x00" in text
    if unstorable:
        raise BadUserInput(
            "The text holds a character that cannot be stored (a NUL or a lone surrogate):"
            " remove it and send the text again."
        )
    return text


# Characters that take no room on screen: spaces and separators of every script, control
# and format characters (a zero-width space or joiner, a direction mark).
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})


def _visible(char: str) -> bool:
    return not char.isspace() and unicodedata.category(char) not in _INVISIBLE_CATEGORIES


def valid_password(password: str) -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise BadUserInput(f"A password has {PASSWORD_MIN} to {PASSWORD_MAX} characters.")
    return storable(password, nul=True)


def valid_display_name(display_name: str | None, handle: str) -> str:
    if display_name is None:
        return handle
    name = display_name.strip()
    if len(name) > DISPLAY_NAME_MAX or not any(map(_visible, name)):
        raise BadUserInput(
            f"A display name has 1 to {DISPLAY_NAME_MAX} characters, at least one of them visible."
        )
    return storable(name)


def valid_caption(caption: str) -> str:
    if len(caption) > CAPTION_MAX:
        raise BadUserInput(f"A caption has at most {CAPTION_MAX} characters.")
    if not any(map(_visible, caption)):
        raise BadUserInput("A caption needs at least one visible character: write a few words.")
    return storable(caption)
