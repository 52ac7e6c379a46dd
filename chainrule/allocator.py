"""Freed memory kept for reuse: glibc malloc tuning, applied once at import (Linux with glibc only).

A training step allocates and frees the same large temporaries every time (activations, im2col blocks,
gradients). By default glibc serves blocks above an adaptive threshold with fresh pages from the kernel
(mmap) and hands freed memory at the top of the heap back, so every step pays one page fault per 4 KiB
touched — measured at 4.2 µs each on the 2-core VMs we benchmark on (about 1 GB/s, slower than any
kernel we run), which doubled the time of some conv backward passes. Two ``mallopt`` settings keep
freed memory in the heap instead: blocks up to 32 MiB (glibc's largest allowed threshold) are never
mmapped, and the heap top is given back only beyond 1 GiB free. The price: the resident size stays
near its peak. ``CHAINRULE_MALLOC_TUNING=0`` in the environment leaves malloc alone.
"""
import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 1 << 30


def tune_malloc():
    """Apply the settings; True if glibc took them (False elsewhere, or when switched off)."""
    if os.environ.get("CHAINRULE_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


MALLOC_TUNED = tune_malloc()
