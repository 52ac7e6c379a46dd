"""chainrule: a deep-learning framework on NumPy — reverse-mode autograd with a PyTorch-shaped API."""
from . import runtime  # first: sets OpenBLAS's spin time before NumPy is imported (chainrule.runtime.show())
from .tensor import Tensor  # then: tensor.py imports autograd and the ops once Tensor exists
from . import dtypes  # noqa: I001
from .runtime import (MALLOC_TUNED, conv_algorithm, get_conv_algorithm, get_num_threads, num_threads, set_conv_algorithm,
                      set_num_threads, use_reference)
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
)
from .ops.linalg import matmul
# ----- linear algebra (ops/linalg.py; chainrule.linalg as torch.linalg) -----
from .ops.linalg import (
    addmm,
    addmv,
    addr,
    baddbmm,
    bmm,
    chain_matmul,
    cholesky_legacy as cholesky,
    cross,
    det,
    dot,
    einsum,
    ger,
    inner,
    inverse,
    kron,
    logdet,
    matrix_power,
    mm,
    mv,
    outer,
    pinverse,
    qr_legacy as qr,
    slogdet,
    svd_legacy as svd,
    tensordot,
    vdot,
)
from . import func, linalg  # noqa: E402
# ----- reductions, norms and closeness (ops/reduce.py) -----
from .ops.reduce import (
    all,  # noqa: A004 - torch.all
    allclose,
    amax,
    amin,
    aminmax,
    any,  # noqa: A004 - torch.any
    argmax,
    argmin,
    count_nonzero,
    equal,
    isclose,
    logsumexp,
    max,  # noqa: A004 - torch.max
    mean,
    min,  # noqa: A004 - torch.min
    nanmean,
    nansum,
    norm,
    prod,
    std,
    std_mean,
    sum,  # noqa: A004 - torch.sum
    var,
    var_mean,
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
# ----- shape: flips, repeats, diagonals, splits and stacks (ops/shape.py) -----
from .ops.shape import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    column_stack,
    diag,
    diag_embed,
    diagonal,
    dsplit,
    dstack,
    flip,
    fliplr,
    flipud,
    hsplit,
    hstack,
    meshgrid,
    moveaxis,
    movedim,
    narrow,
    narrow_copy,
    repeat_interleave,
    roll,
    rot90,
    row_stack,
    swapaxes,
    swapdims,
    t,
    tensor_split,
    tile,
    trace,
    tril,
    triu,
    unbind,
    unflatten,
    vsplit,
    vstack,
)
from .random import Generator, manual_seed
from .diagnostics.gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: E402 - needs the package above
from .io import load_file, save_file  # noqa: E402 - safetensors files, PyTorch weights
# ----- tensor basics, data and save/load (dtypes.py, creation.py, io.py) -----
from .creation import bernoulli, empty_like, multinomial, normal, randint_like  # noqa: E402
from .dtypes import device, double, half, long, short  # noqa: E402
from .dtypes import float, int  # noqa: E402, A004 - torch.float (float32), torch.int (int32)
from .io import load, save  # noqa: E402 - chainrule.save(obj, path) / chainrule.load(path), as torch's
# ----- cumulative, sorting and selection, gather/scatter (ops/cumulative.py, ops/sort.py, ops/index.py) -----
from .ops.cumulative import cummax, cummin, cumprod, cumsum, logcumsumexp  # noqa: E402
from .ops.index import (  # noqa: E402
    gather,
    index_add,
    index_copy,
    index_fill,
    index_select,
    masked_fill,
    masked_scatter,
    scatter,
    scatter_add,
    scatter_reduce,
    take,
    take_along_dim,
)
from .ops.sort import (  # noqa: E402
    argsort,
    bucketize,
    kthvalue,
    masked_select,
    median,
    mode,
    nonzero,
    searchsorted,
    sort,
    topk,
    unique,
    where,  # where(condition) (one argument: nonzero as_tuple) beside ops.arithmetic's three-argument where
)

# ----- pointwise: arithmetic and elementwise math (ops/arithmetic.py, ops/pointwise.py) -----
from .ops.arithmetic import (  # noqa: E402
    addcdiv,
    addcmul,
    arctan2,
    atan2,
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    clamp_max,
    clamp_min,
    copysign,
    float_power,
    floor_divide,
    fmod,
    hypot,
    lerp,
    logaddexp,
    logaddexp2,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    remainder,
    true_divide,
)
from .ops.arithmetic import div as divide, mul as multiply, sub as subtract  # noqa: E402 - torch's aliases
from .ops.pointwise import (  # noqa: E402
    acos,
    acosh,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctanh,
    asin,
    asinh,
    atan,
    atanh,
    ceil,
    cosh,
    deg2rad,
    erf,
    erfc,
    erfinv,
    exp2,
    expm1,
    fix,
    floor,
    frac,
    heaviside,
    isfinite,
    isinf,
    isnan,
    isneginf,
    isposinf,
    isreal,
    log1p,
    log2,
    log10,
    logit,
    nan_to_num,
    negative,
    positive,
    rad2deg,
    reciprocal,
    round,  # noqa: A004 - torch.round
    rsqrt,
    sgn,
    sign,
    sinc,
    sinh,
    square,
    tan,
    trunc,
    xlogy,
)


# ----- nn functional and modules: the activations and distances torch also has at top level -----
from .ops.activation import celu, hardshrink, selu, threshold  # noqa: E402
from .ops.distance import cosine_similarity, pairwise_distance  # noqa: E402
from .ops.misc import bilinear, channel_shuffle  # noqa: E402

# ----- spatial ops: those torch also has at top level (ops/spatial.py, ops/conv.py, ops/pool.py) -----
from .ops.conv import conv3d  # noqa: E402
from .ops.pool import max_pool3d  # noqa: E402
from .ops.spatial import pixel_shuffle, pixel_unshuffle  # noqa: E402


def __getattr__(name):  # chainrule.bfloat16: an error naming the alternatives (NumPy has no bfloat16)
    if name == "bfloat16":
        raise AttributeError(f"chainrule.{dtypes.BFLOAT16_MESSAGE}")
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")

from . import linear_model, nn, optim, profiler  # noqa: E402 - as torch.nn / torch.optim / torch.profiler

clip = clamp
concat = cat

__version__ = "0.1.0"
