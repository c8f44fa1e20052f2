"""OpenMP's spin-wait, cut short before torch loads (issue 31: the training keeps its speed when
something else wants a core).

torch's CPU kernels run on a team of OpenMP threads (GNU libgomp in the pip wheels), one per core,
that meet at a barrier after every parallel region. A thread that arrives first spins (GOMP_SPINCOUNT
iterations; libgomp's default 300,000) before it sleeps. When every core is the team's, that
spinning is free; when one core is shared with anything else (another job, a browser, and above
all another *session*: Linux's autogroup shares the CPU between sessions first, so a run started
in a session of its own gets half of 2 cores against one busy process elsewhere) the spinning
thread burns the time slice its late partner needs, and every barrier costs a slice. Measured on
this 2-core machine (scratch recipe, images/s per epoch, `python -m benchmarks.contention_probe`):
quiet, the default 3,377 and 3,000 spins 3,376 (the same); beside one busy process in another
session, the default 110 and 3,000 spins 1,216 (11x). OMP_WAIT_POLICY=PASSIVE (no spin at all)
gave 1,000-1,400 there but cost a fifth when quiet (2,550). The cost when quiet is not settled:
benchmark case 1 (8 pairs, quiet) put `cnn-tui run` at 0.886 of a loop keeping libgomp's default,
against 1.007 without the limit that morning (docs/dashboard.md); GOMP_SPINCOUNT=300000 restores it.

Set only where the user has not set it, and before the first `import torch` (libgomp reads its
environment once, when it is loaded); every process the run starts (data-parallel ranks, helpers)
inherits it.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

SPIN_COUNT = "3000"  # iterations a waiting OpenMP thread spins before it sleeps


def limit_spin_wait(env: MutableMapping[str, str] = os.environ) -> str:
    """GOMP_SPINCOUNT=SPIN_COUNT unless the environment has its own; returns the value in force."""
    return env.setdefault("GOMP_SPINCOUNT", SPIN_COUNT)
