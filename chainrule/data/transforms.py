"""Data transforms and augmentation (``torchvision.transforms``-shaped), vectorized over batches.

Image transforms take one image (C, H, W) — or (H, W) — or a batch (N, C, H, W), as a NumPy array or a
chainrule Tensor, and return the same kind. A random transform draws once per image of a batch (no
Python loop over samples) from ``generator`` (a ``chainrule.Generator``; default: the global one, so
``chainrule.manual_seed`` makes augmentation reproducible). Transforms are data preparation, outside
the autograd graph.

Augmentation — flips, crops, small rotations, noise — multiplies the training set with label-preserving
variants; it is applied to the training data only [note 003].
"""
import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..ops.geometry import pair
from ..random import rng
from ..tensor import Tensor


def _unwrap(x):
    return (x.data, True) if isinstance(x, Tensor) else (np.asarray(x), False)


def _wrap(array, as_tensor):
    return Tensor(array) if as_tensor else array


def _as_batch(x, name):
    """(H, W), (C, H, W) or (N, C, H, W) → an (N, C, H, W) view and the shape to restore."""
    if x.ndim not in (2, 3, 4):
        raise ValueError(f"{name}: expected an image (H, W) or (C, H, W) or a batch (N, C, H, W), got shape {x.shape}")
    return x.reshape((-1,) + x.shape[-3:] if x.ndim >= 3 else (1, 1) + x.shape), x.shape


def _check_float(x, name):
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: expected floating-point data, got {x.dtype}; convert with ToTensor() first")


class Compose:
    """Apply transforms one after another."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        body = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{body}\n])"


class Lambda:
    """Apply a user function: ``Lambda(lambda x: x.reshape(len(x), -1))``."""

    def __init__(self, fn):
        if not callable(fn):
            raise TypeError(f"Lambda: expected a callable, got {type(fn).__name__}")
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)

    def __repr__(self):
        return f"Lambda({getattr(self.fn, '__name__', repr(self.fn))})"


class ToTensor:
    """Array → chainrule Tensor of float32; uint8 pixels are divided by 255 (so in [0, 1]).

    ``channels_last=True`` moves a trailing channel axis first, (…, H, W, C) → (…, C, H, W), as
    torchvision does for HWC images; chainrule's datasets are already channels-first.
    """

    def __init__(self, channels_last=False):
        self.channels_last = channels_last

    def __call__(self, x):
        x, _ = _unwrap(x)
        out = x.astype(np.float32)
        if x.dtype == np.uint8:
            out /= 255
        if self.channels_last:
            out = np.ascontiguousarray(np.moveaxis(out, -1, -3))
        return Tensor(out)

    def __repr__(self):
        return f"ToTensor(channels_last={self.channels_last})"


class Normalize:
    """x ↦ (x − mean[c]) / std[c] per channel c (axis −3), or with scalars over all values.

    Use the training set's statistics (``preprocessing.channel_stats``) for train and test alike,
    never each sample's own [note 003]. The output keeps the input's float dtype.
    """

    def __init__(self, mean, std):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1 or len(self.mean) != len(self.std):
            raise ValueError(
                f"Normalize: mean and std must be scalars or sequences of equal length, got {mean!r} and {std!r}"
            )
        if np.any(self.std == 0):
            raise ValueError(f"Normalize: std must be non-zero, got {std!r} (division by zero)")

    def __call__(self, x):
        x, as_tensor = _unwrap(x)
        _check_float(x, "Normalize")
        c = len(self.mean)
        if c > 1:
            if x.ndim < 3 or x.shape[-3] != c:
                raise ValueError(f"Normalize: {c} channel means need data (…, {c}, H, W), got shape {x.shape}")
            shape = (c, 1, 1)
        else:
            shape = ()
        mean, std = self.mean.astype(x.dtype).reshape(shape), self.std.astype(x.dtype).reshape(shape)
        out = x - mean
        out /= std
        return _wrap(out, as_tensor)

    def __repr__(self):
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


class _RandomFlip:
    axis = -1

    def __init__(self, p=0.5, generator=None):
        if not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: p must be a probability in [0, 1], got {p}")
        self.p, self.generator = p, generator

    def __call__(self, x):
        x, as_tensor = _unwrap(x)
        batch, shape = _as_batch(x, type(self).__name__)
        flip = rng(self.generator).random(len(batch)) < self.p
        flipped = np.flip(batch, axis=self.axis)
        out = np.where(flip[:, None, None, None], flipped, batch)
        return _wrap(out.reshape(shape), as_tensor)

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    """Mirror left-right (reverse the W axis) each image with probability ``p`` [note 003]."""

    axis = -1


class RandomVerticalFlip(_RandomFlip):
    """Mirror top-bottom (reverse the H axis) each image with probability ``p``."""

    axis = -2


class RandomCrop:
    """Pad, then cut a ``size`` window at a random offset, independently per image [note 003].

    ``padding``: int (all sides), (left/right, top/bottom) or (left, top, right, bottom).
    ``padding_mode``: 'constant' (with ``fill``), 'edge', 'reflect' or 'symmetric'.
    With padding p and size = the image size, each image shifts by up to ±p pixels. The windows are
    gathered in one fancy index over a strided view of all (H′−h+1)×(W′−w+1) windows.
    """

    def __init__(self, size, padding=None, fill=0, padding_mode="constant", generator=None):
        self.size = pair(size, "size", "RandomCrop")
        if padding is None:
            padding = 0
        if isinstance(padding, numbers.Number):
            padding = (int(padding),) * 4
        elif len(padding) == 2:
            padding = (padding[0], padding[1], padding[0], padding[1])
        elif len(padding) != 4:
            raise ValueError(f"RandomCrop: padding must be an int or a sequence of 2 or 4 ints, got {padding!r}")
        if min(padding) < 0:
            raise ValueError(f"RandomCrop: padding must be non-negative, got {padding!r}")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(
                f"RandomCrop: padding_mode must be constant, edge, reflect or symmetric, got {padding_mode!r}"
            )
        self.padding = tuple(int(p) for p in padding)  # left, top, right, bottom
        self.fill, self.padding_mode, self.generator = fill, padding_mode, generator

    def __call__(self, x):
        x, as_tensor = _unwrap(x)
        batch, shape = _as_batch(x, "RandomCrop")
        left, top, right, bottom = self.padding
        if any(self.padding):
            pad = ((0, 0), (0, 0), (top, bottom), (left, right))
            kwargs = {"constant_values": self.fill} if self.padding_mode == "constant" else {}
            batch = np.pad(batch, pad, mode=self.padding_mode, **kwargs)
        n, _, height, width = batch.shape
        h, w = self.size
        if h > height or w > width:
            raise ValueError(f"RandomCrop: crop size {(h, w)} is larger than the padded image {(height, width)}")
        gen = rng(self.generator)
        tops = gen.integers(0, height - h + 1, size=n)
        lefts = gen.integers(0, width - w + 1, size=n)
        windows = sliding_window_view(batch, (h, w), axis=(2, 3))  # (N, C, H′−h+1, W′−w+1, h, w)
        out = windows[np.arange(n), :, tops, lefts]  # the advanced axes go first: (N, C, h, w)
        return _wrap(out.reshape(shape[:-2] + (h, w)), as_tensor)

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding}, padding_mode={self.padding_mode!r})"


class GaussianNoise:
    """x ↦ x + mean + std·ε, ε ~ N(0, 1) drawn per value (any shape; keeps the float dtype) [note 003]."""

    def __init__(self, std=0.1, mean=0.0, generator=None):
        if std < 0:
            raise ValueError(f"GaussianNoise: std must be non-negative, got {std}")
        self.std, self.mean, self.generator = std, mean, generator

    def __call__(self, x):
        x, as_tensor = _unwrap(x)
        _check_float(x, "GaussianNoise")
        dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float32
        noise = rng(self.generator).standard_normal(x.shape, dtype=dtype)
        noise *= self.std
        return _wrap((x + (noise + self.mean)).astype(x.dtype, copy=False), as_tensor)

    def __repr__(self):
        return f"GaussianNoise(std={self.std}, mean={self.mean})"


class RandomRotation:
    """Rotate each image by its own angle θ ~ U(−degrees, degrees) (or U(lo, hi) for a pair),
    counter-clockwise for θ > 0, about the image centre; pixels from outside become ``fill``.

    Output pixel p takes the input at c + R(−θ)(p − c) (c the centre), interpolated
    bilinearly (or ``interpolation='nearest'``); all images are sampled at once with fancy indexing.
    Meant for small angles (a few degrees), where the corners lost are few.
    """

    def __init__(self, degrees, interpolation="bilinear", fill=0.0, generator=None):
        if isinstance(degrees, numbers.Number):
            if degrees < 0:
                raise ValueError(f"RandomRotation: degrees must be non-negative when a single number, got {degrees}")
            degrees = (-degrees, degrees)
        self.degrees = tuple(float(d) for d in degrees)
        if len(self.degrees) != 2 or self.degrees[0] > self.degrees[1]:
            raise ValueError(
                f"RandomRotation: degrees must be a number or a pair (lo, hi) with lo <= hi, got {degrees!r}"
            )
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"RandomRotation: interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
        self.interpolation, self.fill, self.generator = interpolation, fill, generator

    def __call__(self, x):
        x, as_tensor = _unwrap(x)
        _check_float(x, "RandomRotation")
        batch, shape = _as_batch(x, "RandomRotation")
        n, channels, height, width = batch.shape
        theta = np.deg2rad(rng(self.generator).uniform(*self.degrees, size=n))[:, None, None]
        cy, cx = (height - 1) / 2, (width - 1) / 2
        yy, xx = np.meshgrid(np.arange(height) - cy, np.arange(width) - cx, indexing="ij")
        # y grows downward, so a counter-clockwise turn of the picture has the sign of sin flipped;
        # +1: coordinates in the padded image, whose 1-pixel border holds the fill
        cos, sin = np.cos(theta), np.sin(theta)
        src_x = cos * xx - sin * yy + (cx + 1)  # (N, H, W)
        src_y = sin * xx + cos * yy + (cy + 1)
        padded = np.pad(batch, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=self.fill)
        hp, wp = height + 2, width + 2
        flat = padded.ravel()
        offsets = (np.arange(n)[:, None] * channels + np.arange(channels))[..., None, None] * (hp * wp)  # (N, C, 1, 1)

        def gather(iy, ix):  # (N, H, W) integer positions → (N, C, H, W) pixels; outside → the fill border
            pos = np.clip(iy, 0, hp - 1) * wp + np.clip(ix, 0, wp - 1)
            return flat.take(offsets + pos[:, None])

        if self.interpolation == "nearest":
            out = gather(np.floor(src_y + 0.5).astype(np.int64), np.floor(src_x + 0.5).astype(np.int64))
        else:
            x0, y0 = np.floor(src_x), np.floor(src_y)
            wx = (src_x - x0).astype(batch.dtype)[:, None]
            wy = (src_y - y0).astype(batch.dtype)[:, None]
            x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
            top = gather(y0, x0) * (1 - wx) + gather(y0, x0 + 1) * wx
            bottom = gather(y0 + 1, x0) * (1 - wx) + gather(y0 + 1, x0 + 1) * wx
            out = top * (1 - wy) + bottom * wy
        out = out.astype(batch.dtype, copy=False)
        return _wrap(out.reshape(shape), as_tensor)

    def __repr__(self):
        return f"RandomRotation(degrees={self.degrees}, interpolation={self.interpolation!r})"
