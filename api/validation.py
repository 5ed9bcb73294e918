"""The input rules of contract section 3."""

from __future__ import annotations

import re

from api.errors import BadUserInput

HANDLE_RE = re.compile(r"[a-z0-9_.]{3,30}")
PASSWORD_MIN, PASSWORD_MAX = 8, 256
CAPTION_MAX = 2200
DISPLAY_NAME_MAX = 100


def normalize_handle(handle: str) -> str | None:
    """The stored form of a handle (lower case), or None when it cannot be one."""
    key = handle.lower()
    return key if HANDLE_RE.fullmatch(key) else None


def valid_handle(handle: str) -> str:
    key = normalize_handle(handle)
    if key is None:
        raise BadUserInput("A handle is 3 to 30 characters of a-z, 0-9, '_' and '.'.")
    return key


def valid_password(password: str) -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise BadUserInput(f"A password has {PASSWORD_MIN} to {PASSWORD_MAX} characters.")
    return password


def valid_display_name(display_name: str | None, handle: str) -> str:
    if display_name is None:
        return handle
    name = display_name.strip()
    if not 1 <= len(name) <= DISPLAY_NAME_MAX:
        raise BadUserInput(f"A display name has 1 to {DISPLAY_NAME_MAX} characters.")
    return name


def valid_caption(caption: str) -> str:
    if len(caption) > CAPTION_MAX:
        raise BadUserInput(f"A caption has at most {CAPTION_MAX} characters.")
    return caption
