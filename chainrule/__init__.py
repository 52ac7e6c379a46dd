"""chainrule: a deep-learning framework on NumPy — reverse-mode autograd with a PyTorch-shaped API."""
from . import runtime  # first: sets OpenBLAS's spin time before NumPy is imported (chainrule.runtime.show())
from .tensor import Tensor  # then: tensor.py imports autograd and the ops once Tensor exists
from . import dtypes  # noqa: I001
from .runtime import MALLOC_TUNED, get_num_threads, num_threads, set_num_threads, use_reference
from .autograd import detect_anomaly, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (
    arange,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .dtypes import (
    bool,  # noqa: A004 - torch.bool
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from .ops.activation import log_softmax, relu, sigmoid, softmax, tanh
from .ops.arithmetic import (
    abs,  # noqa: A004 - torch.abs
    add,
    clamp,
    cos,
    div,
    exp,
    log,
    maximum,
    minimum,
    mul,
    neg,
    pow,  # noqa: A004 - torch.pow
    sin,
    sqrt,
    sub,
    where,
)
from .ops.linalg import matmul
from .ops.reduce import (
    amax,
    amin,
    argmax,
    argmin,
    logsumexp,
    max,  # noqa: A004 - torch.max
    mean,
    min,  # noqa: A004 - torch.min
    prod,
    std,
    sum,  # noqa: A004 - torch.sum
    var,
)
from .ops.shape import (
    cat,
    chunk,
    expand as broadcast_to,
    flatten,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)
from .random import Generator, manual_seed
from .diagnostics.gradcheck import GradcheckError, gradcheck  # noqa: E402 - needs the package above
from .io import load_file, save_file  # noqa: E402 - safetensors files, PyTorch weights

from . import linear_model, nn, optim, profiler  # noqa: E402 - as torch.nn / torch.optim / torch.profiler

clip = clamp
concat = cat

__version__ = "0.1.0"
