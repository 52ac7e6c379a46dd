"""Random number generation: one default Generator, seeded by ``manual_seed`` for reproducible runs.

``using_generator(g)`` makes ``g`` the default of the current thread for a block: the DataLoader runs
each batch's transforms under a generator of its own, so that worker threads draw the same numbers
whatever order they run in.
"""
import threading
from contextlib import contextmanager

import numpy as np


class Generator:
    """A seedable source of random numbers (NumPy's PCG64), like ``torch.Generator``."""

    def __init__(self, seed=None):
        self.manual_seed(np.random.SeedSequence().entropy % 2**64 if seed is None else seed)

    def manual_seed(self, seed):
        """Seed with an int in [−2⁶³, 2⁶⁴), as torch: a negative seed s is the seed s + 2⁶⁴ (its two's
        complement bit pattern), which ``initial_seed()`` returns."""
        seed = int(seed)
        if not -2**63 <= seed < 2**64:
            raise ValueError(f"manual_seed: seed must be an int in [-2**63, 2**64), got {seed}")
        self.initial_seed_value = seed % 2**64
        self.rng = np.random.Generator(np.random.PCG64(self.initial_seed_value))
        return self

    def initial_seed(self):
        """The seed this generator was created or last ``manual_seed``-ed with, in [0, 2⁶⁴) (a negative seed s as s +
        2⁶⁴)."""
        return self.initial_seed_value

    def get_state(self):
        """The generator's state as a JSON-serializable dict (for checkpoints)."""
        return self.rng.bit_generator.state

    def set_state(self, state):
        """Restore a state from ``get_state()`` (so draws repeat from there); returns self."""
        self.rng.bit_generator.state = state
        return self


default_generator = Generator(0)


def manual_seed(seed):
    """Seed the default generator (every random op without an explicit ``generator=`` uses it)."""
    return default_generator.manual_seed(seed)


_thread = threading.local()  # .generator: the current thread's default while using_generator runs


@contextmanager
def using_generator(generator):
    """Within the block, on this thread, random ops without ``generator=`` draw from ``generator``."""
    previous = getattr(_thread, "generator", None)
    _thread.generator = generator
    try:
        yield generator
    finally:
        _thread.generator = previous


def rng(generator=None):
    """The NumPy generator behind ``generator`` (or the default one: the thread's ``using_generator``,
    else the global one)."""
    return (generator or getattr(_thread, "generator", None) or default_generator).rng
