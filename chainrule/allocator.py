"""glibc's malloc told to keep freed memory for reuse: the two ``mallopt`` calls behind the malloc tuning in
``runtime.py`` (which holds the values, the switch and why; Linux with glibc only).

By default glibc serves blocks above an adaptive threshold with fresh pages from the kernel (mmap), and
hands freed memory at the top of the heap back, so a program that frees and reallocates the same large
blocks pays a page fault per 4 KiB touched each time. Raising the mmap threshold serves such blocks from
the heap; raising the trim threshold keeps the heap's free top for the next allocation.
"""
import ctypes
import sys

M_TRIM_THRESHOLD = -1  # mallopt's parameter numbers, from glibc's <malloc.h>
M_MMAP_THRESHOLD = -3


def keep_freed_memory(mmap_threshold, trim_threshold):
    """Serve blocks up to ``mmap_threshold`` bytes from the heap, and give the heap's top back to the kernel
    only beyond ``trim_threshold`` bytes free; True if glibc took both (False elsewhere)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(M_TRIM_THRESHOLD, trim_threshold))
