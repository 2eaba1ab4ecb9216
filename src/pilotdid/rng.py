"""Seeded random numbers, one convention for every resampling loop (placebo, permutation, bootstrap).

Draws come in fixed chunks of :data:`RNG_CHUNK`; chunk ``c`` of a run seeded ``seed`` uses
``numpy.random.Generator(PCG64(SeedSequence(seed, spawn_key=(c,))))``. Block sizes, worker counts and
shard edges therefore never change a result: only the seed does.
"""

from __future__ import annotations

import numpy as np

#: Draws per RNG chunk (seed stream unit); fixed so that results do not depend on the block size.
RNG_CHUNK = 100
#: Relative tolerance for "at least as extreme" comparisons of a resampled statistic with the actual one.
TIE_RTOL = 1e-12


def chunk_rng(seed: int, chunk: int) -> np.random.Generator:
    """The generator of draw chunk ``chunk`` (draws ``chunk*RNG_CHUNK .. +RNG_CHUNK-1``) of a run seeded ``seed``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(chunk,))))
