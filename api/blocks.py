"""AES on single 16-byte blocks (a keyed pseudo-random permutation), many per call.

ECB mode is used for what it is, the block cipher applied to independent blocks: every
plaintext this module sees is one self-contained block (a kind or list binding plus a row
id), never a longer message, so no pattern between blocks can leak. One cipher context per
thread is kept and reused, because making one costs 25 times the encryption of a block;
cryptography's contexts are not meant to be shared between threads.
"""

from __future__ import annotations

import base64
import re
import threading

from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

BLOCK_BYTES = 16
TEXT_LENGTH = 22  # base64url of 16 bytes, without padding
_TEXT = re.compile(r"[A-Za-z0-9_-]{22}")


class BlockCipher:
    def __init__(self, key: bytes) -> None:
        self._cipher = Cipher(algorithms.AES(key), modes.ECB())
        self._local = threading.local()

    def _contexts(self) -> tuple[CipherContext, CipherContext]:
        try:
            contexts: tuple[CipherContext, CipherContext] = self._local.contexts
        except AttributeError:
            contexts = (self._cipher.encryptor(), self._cipher.decryptor())
            self._local.contexts = contexts
        return contexts

    def encrypt(self, blocks: bytes) -> bytes:
        """Whole blocks only: a partial one would stay buffered in the context."""
        if len(blocks) % BLOCK_BYTES:
            raise ValueError("whole 16-byte blocks only")
        return self._contexts()[0].update(blocks)

    def decrypt(self, block: bytes) -> bytes:
        if len(block) != BLOCK_BYTES:
            raise ValueError("one 16-byte block only")
        return self._contexts()[1].update(block)


def to_text(block: bytes) -> str:
    return base64.urlsafe_b64encode(block).decode("ascii")[:TEXT_LENGTH]


def from_text(text: str) -> bytes | None:
    """The block a text stands for; None unless it is the one canonical text of a block.

    base64 ignores the last character's 4 spare bits and, unvalidated, skips foreign
    characters: both would give one block several texts, so they are refused.
    """
    if len(text) != TEXT_LENGTH or not _TEXT.fullmatch(text):
        return None
    block = base64.urlsafe_b64decode(text + "==")
    return block if to_text(block) == text else None
