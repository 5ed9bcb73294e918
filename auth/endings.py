"""Sessions and app tokens ended by any worker of one `likegraph serve`, in memory the
workers share.

Each worker remembers the sessions it found alive for `LIKEGRAPH_SESSION_RECHECK`
seconds (auth/sessions.py). On its own, a worker would go on accepting a session that
a sibling ended for that long. With this board, the worker that ends a session posts it
here before it answers, and every worker trusts a remembered session only while nothing
posted since names it (or its account). So within one `serve --workers N` an ended
session is refused on the next request, whichever worker takes it. Separate servers
(several machines) still have only the recheck period between them.

The board is one ring per worker, written by that worker alone: a post is the key, then
the ring's count; no lock, so a worker killed mid-post holds nothing up. A reader reads
the counts, then the keys they cover. A reader that fell a ring's length behind (as
many endings in one worker as RING_SLOTS since it last looked) cannot tell what it
missed and asks the database, as after the recheck period. (x86 makes the two stores
visible in order; on a CPU that may not, a reader could miss a key posted at that very
moment, and the recheck period would bound it, as it did before the board.)
"""

from __future__ import annotations

import copy
import ctypes
from collections.abc import Sequence
from multiprocessing.context import BaseContext
from typing import Any

# Endings one worker can post before a reader that has not looked since must ask the
# database again: at 1,000 endings a second, four seconds of them.
RING_SLOTS = 4096

# How many endings each ring had posted when a verdict was formed: the rings' counts as
# raw bytes, since comparing them is all most requests do.
Seen = bytes


def session_key(digest: str) -> int:
    """A session's or app token's key: 60 bits of its SHA-256 (hex). Two digests that
    share them only cost a remembered session a lookup in the database."""
    return int(digest[:15], 16)


def account_key(account_id: int) -> int:
    """Every session of the account: negative, so never a session's key."""
    return -account_id


class Board:
    """The rings of one server's workers, in shared memory; made by the supervisor
    before it starts them and handed to each (see api/serve.py)."""

    def __init__(self, context: BaseContext, workers: int) -> None:
        self._counts: Any = context.RawArray(ctypes.c_int64, workers)
        self._keys: Any = [context.RawArray(ctypes.c_int64, RING_SLOTS) for _ in range(workers)]
        self.ring = 0  # the ring this copy writes to

    def writing_to(self, ring: int) -> Board:
        """The same board, for the worker that writes to `ring`."""
        mine = copy.copy(self)  # the arrays are shared, not copied
        mine.ring = ring
        return mine

    def post(self, key: int) -> None:
        count = self._counts[self.ring]
        self._keys[self.ring][count % RING_SLOTS] = key
        self._counts[self.ring] = count + 1  # after the key: a reader never sees it unset

    def seen(self) -> Seen:
        return bytes(self._counts)

    def names_any(self, since: Seen, keys: Sequence[int]) -> bool:
        """Whether an ending posted after `since` names one of `keys`, or may have: a
        ring that moved a whole ring's length on cannot say."""
        counts = memoryview(since).cast("q")
        for ring, (then, now) in enumerate(zip(counts, self._counts, strict=True)):
            if now == then:
                continue
            if now - then >= RING_SLOTS:
                return True
            posted = self._keys[ring]
            if any(posted[i % RING_SLOTS] in keys for i in range(then, now)):
                return True
            if self._counts[ring] - then >= RING_SLOTS:  # overwritten while read
                return True
        return False
