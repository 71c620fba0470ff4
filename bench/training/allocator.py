"""glibc's malloc told to keep the memory a training process frees, so the next iteration's
tensors reuse it instead of faulting fresh pages in.

torch takes CPU tensors from malloc. glibc serves a block at or above its mmap threshold
(128 KiB, raised to the largest block freed so far) with a fresh mapping, and gives the top of
its heap back to the OS once more than twice that is free. A training iteration allocates and
frees the same blocks over and over: the fused step's [K, 3B, W] activations (1.2 MB at the
quick suite's K = 6, B = 256, W = 64) were mapped anew each time, and the heap shrank and
grew every step, so a WGAN-GP iteration spent 2-6x more time in page faults than with this
setting (docs/PERFORMANCE.md, "The fused step"). Nothing computed changes.
"""

import ctypes
import functools
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
MMAP_THRESHOLD = 32 << 20
"""Blocks below it come from the heap: glibc's own ceiling of its dynamic threshold on 64-bit
(DEFAULT_MMAP_THRESHOLD_MAX)."""
TRIM_THRESHOLD = 256 << 20
"""Free memory at the top of the heap kept for reuse, rather than returned to the OS."""


@functools.cache
def keep_freed_memory() -> bool:
    """Set glibc's thresholds for this process (once); False where the C library is not glibc
    (nothing is changed there)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
