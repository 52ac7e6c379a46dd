"""chainrule.allocator: glibc takes the two mallopt settings behind runtime's malloc tuning (the switches
that turn it off: tests/test_runtime.py)."""
import platform
import sys

import pytest

from chainrule import allocator, runtime

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="malloc tuning applies to Linux with glibc only")
def test_glibc_takes_the_settings():
    assert allocator.keep_freed_memory(runtime.MMAP_THRESHOLD, runtime.TRIM_THRESHOLD) is True  # mallopt: 1 = success
