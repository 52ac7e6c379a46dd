"""chainrule.allocator: glibc malloc tuning at import, and the environment switch that turns it off."""
import os
import platform
import subprocess
import sys

import pytest

import chainrule
from chainrule import allocator

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def _tuned_in_child(env_value):
    env = dict(os.environ, CHAINRULE_MALLOC_TUNING=env_value)
    out = subprocess.run([sys.executable, "-c", "import chainrule; print(chainrule.MALLOC_TUNED)"],
                         env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.mark.skipif(not GLIBC, reason="malloc tuning applies to Linux with glibc only")
def test_glibc_takes_the_settings():
    assert chainrule.MALLOC_TUNED is (os.environ.get("CHAINRULE_MALLOC_TUNING", "1") != "0")
    assert allocator.tune_malloc() is True  # mallopt accepts both values (1 = success)


def test_environment_switch_turns_it_off():
    assert _tuned_in_child("0") == "False"
    assert _tuned_in_child("1") == str(GLIBC)
