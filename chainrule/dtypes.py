"""Dtypes and PyTorch's promotion rules on top of NumPy's.

chainrule dtypes are NumPy dtypes: ``chainrule.float32 is numpy.dtype('float32')``.
"""
import numpy as np

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
bool = np.dtype("bool")  # noqa: A001 - mirrors torch.bool

_default_float = float32


def set_default_dtype(dtype):
    """Set the dtype Python floats become (float32 unless changed), like ``torch.set_default_dtype``."""
    global _default_float
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating-point dtypes are allowed, got {dtype}")
    _default_float = dtype


def get_default_dtype():
    return _default_float


def is_floating(dtype):
    return dtype.kind == "f"


def check_floating(dtype, op, what, hint=""):
    """TypeError naming ``op``, ``what`` and ``dtype`` unless ``dtype`` is floating point: for ops that torch
    refuses on integer and bool tensors (softmax, the losses' logits and probabilities)."""
    if dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating-point {what}, got {dtype}{hint}")


def to_dtype(dtype):
    """Normalize anything NumPy understands (``'float32'``, ``np.float32``, a dtype) to a dtype."""
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"not a dtype: {dtype!r}") from None


def result_type(a, b):
    """PyTorch's promotion of two array dtypes: a float beats an integer whatever their widths."""
    if a is b or a == b:
        return a
    af, bf = a.kind == "f", b.kind == "f"
    if af and not bf:
        return a
    if bf and not af:
        return b
    return np.promote_types(a, b)


def scalar_result_type(dtype, scalar):
    """Dtype of ``tensor <op> python_scalar``: the tensor's, unless a float meets an integer/bool tensor."""
    if isinstance(scalar, float) and dtype.kind != "f":
        return _default_float
    if isinstance(scalar, int) and dtype.kind == "b" and not isinstance(scalar, type(True)):
        return int64
    return dtype
