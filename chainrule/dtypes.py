"""Dtypes, PyTorch's promotion rules on top of NumPy's, and the (one) device.

chainrule dtypes are NumPy dtypes: ``chainrule.float32 is numpy.dtype('float32')``, with torch's
aliases (``chainrule.float``, ``double``, ``half``, ``long``, ``int``, ``short``). NumPy has no
bfloat16: ``chainrule.bfloat16`` is not provided (reading it raises an AttributeError that names the
alternatives), and safetensors files holding bfloat16 are widened to float32 by ``load_file``.

chainrule computes on the CPU with NumPy: ``device('cpu')`` is the only device, accepted wherever
torch takes ``device=`` so that device-agnostic code runs unchanged; any other device is an error.
"""
import builtins

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

# torch's aliases (they shadow Python's builtins in this module: use builtins.float / builtins.int here)
half = float16
float = float32  # noqa: A001 - torch.float
double = float64
short = int16
int = int32  # noqa: A001 - torch.int
long = int64

BFLOAT16_MESSAGE = ("bfloat16 is not provided: NumPy has no bfloat16 dtype. Use chainrule.float32 (exact for every "
                    "bfloat16 value; load_file widens bfloat16 tensors to it) or chainrule.float16")


def __getattr__(name):
    if name == "bfloat16":
        raise AttributeError(f"chainrule.{BFLOAT16_MESSAGE}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

_default_float = float32


def set_default_dtype(dtype):
    """Set the dtype Python floats become (float32 unless changed), like ``torch.set_default_dtype``."""
    global _default_float
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating-point dtypes are allowed, got {dtype}")
    _default_float = dtype


def get_default_dtype():
    """The dtype Python floats become (float32 unless ``set_default_dtype`` changed it), like
    ``torch.get_default_dtype``."""
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
    if isinstance(dtype, str) and dtype.removeprefix("torch.").removeprefix("chainrule.") == "bfloat16":
        raise TypeError(BFLOAT16_MESSAGE)
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
    if isinstance(scalar, builtins.float) and dtype.kind != "f":
        return _default_float
    if isinstance(scalar, builtins.int) and dtype.kind == "b" and not isinstance(scalar, builtins.bool):
        return int64
    return dtype


# torch's legacy tensor-type names, as ``Tensor.type()`` returns them ('chainrule.FloatTensor')
TENSOR_TYPE_NAMES = {float32: "FloatTensor", float64: "DoubleTensor", float16: "HalfTensor", int64: "LongTensor",
                     int32: "IntTensor", int16: "ShortTensor", int8: "CharTensor", uint8: "ByteTensor",
                     bool: "BoolTensor"}


def from_type_name(name, op="type"):
    """The dtype of a tensor-type name: 'chainrule.FloatTensor' or torch's 'torch.FloatTensor' → float32."""
    short_name = name.rsplit(".", 1)[-1]
    for dtype, type_name in TENSOR_TYPE_NAMES.items():
        if type_name == short_name:
            return dtype
    raise ValueError(f"{op}: invalid type {name!r}; expected one of "
                     f"{', '.join('chainrule.' + n for n in TENSOR_TYPE_NAMES.values())}")


class device:  # noqa: N801 - torch.device
    """The device a tensor lives on: always the CPU. ``device('cpu')``, ``device('cpu:0')``,
    ``device('cpu', 0)`` or another ``device`` are accepted; anything else (CUDA, MPS, ...) is a
    RuntimeError, since chainrule computes with NumPy on the CPU."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002 - torch's argument name
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu', got {builtins.type(type).__name__}")
        kind, _, number = type.partition(":")
        if number:
            if index is not None:
                raise RuntimeError(f"device: index given twice, in {type!r} and as index={index}")
            if not number.isdigit():
                raise RuntimeError(f"device: invalid device string {type!r}")
            index = builtins.int(number)
        if kind != "cpu":
            raise RuntimeError(f"device: chainrule runs on the CPU only (NumPy), got device {type!r}; use 'cpu'")
        if index is not None and (not isinstance(index, builtins.int) or index < 0):
            raise RuntimeError(f"device: index must be a non-negative integer, got {index!r}")
        self.type, self.index = kind, index

    def __repr__(self):
        return f"device(type={self.type!r})" if self.index is None else f"device(type={self.type!r}, index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


cpu = device("cpu")


def check_device(value, op):
    """``value`` (None, 'cpu', 'cpu:0' or a ``device``) as a ``device``; any other device raises a
    RuntimeError naming ``op``. None means the CPU."""
    if value is None:
        return cpu
    try:
        return device(value)
    except (RuntimeError, TypeError) as e:
        raise builtins.type(e)(f"{op}: {str(e).removeprefix('device: ')}") from None


def is_dtype_name(name):
    """Whether the string ``name`` names a dtype ('float32', 'int64', ...) rather than a device ('cpu')."""
    if name.removeprefix("torch.").removeprefix("chainrule.") == "bfloat16":
        return True  # a dtype, if not one NumPy has: to_dtype explains
    try:
        np.dtype(name)
    except TypeError:
        return False
    return True
