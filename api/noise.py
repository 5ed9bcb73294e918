"""The one source of noise in likegraph: OpenDP's discrete Laplace mechanism.

likegraph never draws noise itself. OpenDP's `make_laplace` over integer vectors samples
the discrete Laplace (two-sided geometric) distribution exactly, from the operating
system's randomness; its privacy map is proven in the library (docs/insights.md). Each
coordinate gets independent noise of scale 1/epsilon, so each released count, whose
value one like moves by at most 1, costs epsilon.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import opendp.prelude as dp

dp.enable_features("contrib")


@functools.cache
def _mechanism(epsilon: float) -> dp.Measurement:
    return dp.m.make_laplace(
        dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int), scale=1.0 / epsilon
    )


def privacy_loss(epsilon: float, counts_touched: int) -> float:
    """The epsilon OpenDP's map gives for a change of `counts_touched` in L1 distance:
    what one like costs when it moves that many released counts by one each."""
    loss: float = _mechanism(epsilon).map(counts_touched)  # type: ignore[no-untyped-call]
    return loss


def noised(counts: Sequence[int], epsilon: float) -> list[int]:
    """Each count plus its own discrete Laplace noise (whole numbers, so nothing to round),
    clamped at zero: post-processing, at no privacy cost."""
    if not counts:
        return []
    released: list[int] = _mechanism(epsilon)(list(counts))
    return [max(0, value) for value in released]
