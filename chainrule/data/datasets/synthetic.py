"""Small synthetic sets for the lab and the tests, drawn from a ``chainrule.Generator``.

Each takes ``generator=`` (default: the global one, seeded by ``chainrule.manual_seed``) or ``seed=``
(a private generator), and returns (x float (n, features), y) with x of ``dtype`` (float32 by default).
"""
import numpy as np

from ...random import Generator, rng


def _gen(generator, seed, name):
    if generator is not None and seed is not None:
        raise ValueError(f"{name}: give either generator or seed, not both")
    return rng(Generator(seed) if seed is not None else generator)


def _shuffled(x, y, gen, dtype):
    order = gen.permutation(len(x))
    return x[order].astype(dtype), y[order].astype(np.int64)


def spirals(n_per_class=100, n_classes=2, noise=0.02, turns=1.5, generator=None, seed=None, dtype=np.float32):
    """``n_classes`` interleaved spiral arms in the plane: x (K·n, 2), y (K·n,) in 0..K−1.

    Arm k: r = t/t_max, angle = t + 2πk/K, t = √u · 2π·turns, u ~ U(0, 1) (√ spreads points evenly
    along the arm), plus N(0, noise²) per coordinate. Not linearly separable: a model needs hidden units.
    """
    if n_per_class < 1 or n_classes < 1:
        raise ValueError(f"spirals: n_per_class and n_classes must be positive, got {n_per_class}, {n_classes}")
    gen = _gen(generator, seed, "spirals")
    t_max = 2 * np.pi * turns
    t = np.sqrt(gen.random((n_classes, n_per_class))) * t_max
    angle = t + 2 * np.pi * np.arange(n_classes)[:, None] / n_classes
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=-1).reshape(-1, 2) / t_max
    x += noise * gen.standard_normal(x.shape)
    y = np.repeat(np.arange(n_classes), n_per_class)
    return _shuffled(x, y, gen, dtype)


def xor(n=200, noise=0.2, generator=None, seed=None, dtype=np.float32):
    """The XOR problem: four Gaussian blobs (std ``noise``) at (±1, ±1); label 1 where the signs of the
    two coordinates differ. x (n, 2), y (n,). No line separates the classes."""
    if n < 1:
        raise ValueError(f"xor: n must be positive, got {n}")
    gen = _gen(generator, seed, "xor")
    corners = gen.integers(0, 2, size=(n, 2))
    x = (2.0 * corners - 1) + noise * gen.standard_normal((n, 2))
    y = corners[:, 0] ^ corners[:, 1]
    return x.astype(dtype), y.astype(np.int64)


def moons(n=200, noise=0.1, generator=None, seed=None, dtype=np.float32):
    """Two interleaving half circles, as ``sklearn.datasets.make_moons``: x (n, 2), y (n,).

    Outer moon, label 0, n//2 points: (cos s, sin s); inner moon, label 1, the other n − n//2:
    (1 − cos s, 1/2 − sin s); s evenly spaced on [0, π]. Then shuffled, and N(0, noise²) added.
    """
    if n < 2:
        raise ValueError(f"moons: n must be at least 2, got {n}")
    gen = _gen(generator, seed, "moons")
    n_out, n_in = n // 2, n - n // 2
    s_out, s_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    outer = np.stack([np.cos(s_out), np.sin(s_out)], axis=1)
    inner = np.stack([1 - np.cos(s_in), 0.5 - np.sin(s_in)], axis=1)
    x = np.concatenate([outer, inner])
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    x, y = _shuffled(x, y, gen, np.float64)
    return (x + noise * gen.standard_normal(x.shape)).astype(dtype), y


def linear_regression(n=100, features=1, noise=0.1, collinear=0.0, bias=0.0, coef=False, generator=None, seed=None,
                      dtype=np.float32):
    """y = x·w + b + noise·ε, ε ~ N(0, 1), with w ~ N(0, 1) per feature: x (n, features), y (n,).

    ``collinear`` = c ∈ [0, 1] is the correlation between every pair of features:
    x = √(1−c)·z + √c·s·1ᵀ with z ~ N(0, I) and one shared factor s ~ N(0, 1) per sample, so the
    features have unit variance and cov = (1−c)I + c·11ᵀ, whose condition number (1 + (p−1)c)/(1−c)
    grows without bound as c → 1; c = 1 (or ``collinear=True``) makes all columns equal and XᵀX singular
    — the case where the normal equation breaks down and gradient descent still converges.
    ``coef=True`` also returns (w, b).
    """
    if n < 1 or features < 1:
        raise ValueError(f"linear_regression: n and features must be positive, got {n}, {features}")
    c = float(collinear)
    if not 0 <= c <= 1:
        raise ValueError(f"linear_regression: collinear must be in [0, 1] (a correlation), got {collinear}")
    gen = _gen(generator, seed, "linear_regression")
    z = gen.standard_normal((n, features))
    shared = gen.standard_normal((n, 1))
    x = np.sqrt(1 - c) * z + np.sqrt(c) * shared
    w = gen.standard_normal(features)
    y = x @ w + bias + noise * gen.standard_normal(n)
    x, y = x.astype(dtype), y.astype(dtype)
    return (x, y, w.astype(dtype), np.dtype(dtype).type(bias)) if coef else (x, y)
