"""Random number generation: one default Generator, seeded by ``manual_seed`` for reproducible runs."""
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
        return self.initial_seed_value

    def get_state(self):
        """The generator's state as a JSON-serializable dict (for checkpoints)."""
        return self.rng.bit_generator.state

    def set_state(self, state):
        self.rng.bit_generator.state = state
        return self


default_generator = Generator(0)


def manual_seed(seed):
    """Seed the default generator (every random op without an explicit ``generator=`` uses it)."""
    return default_generator.manual_seed(seed)


def rng(generator=None):
    """The NumPy generator behind ``generator`` (or the default one)."""
    return (generator or default_generator).rng
