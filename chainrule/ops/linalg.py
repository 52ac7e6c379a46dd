"""Linear algebra: products (matmul, mm, bmm, einsum, tensordot, kron, cross, the add-products), the fused
affine map of Linear, and the decompositions of torch.linalg (solve, inv, det, Cholesky, QR, SVD, eigh, pinv,
lstsq) with their matrix-calculus gradients.

Every matrix argument may carry leading batch dims ``(*, m, n)``: NumPy's ``linalg`` routines work on stacks.
A decomposition's backward states its derivative in the docstring; the SVD and eigh gradients divide by
differences of (squared) singular values or eigenvalues, so they hold where those are distinct, as torch's.
"""
import string
from collections import namedtuple

import numpy as np

from ..autograd import Function, unbroadcast
from ..tensor import Tensor
from . import arithmetic as arith
from . import shape as shape_ops
from .arithmetic import promote


class MatMul(Function):
    """out = a @ b;  da = g @ bᵀ, db = aᵀ @ g (1-D operands are promoted to matrices and back)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.matmul(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if b.ndim == 1:  # b's axis first: for vector · vector g is 0-d and becomes (1, 1)
            g = np.expand_dims(g, -1)
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        ga = gb = None
        if self.needs[0]:
            ga = np.matmul(g, np.swapaxes(b2, -1, -2))
            ga = unbroadcast(ga, a2.shape).reshape(a.shape)
        if self.needs[1]:
            if b2.ndim == 2 and a2.ndim > 2:  # a batch against one shared matrix: one big GEMM, no batch sum
                gb = a2.reshape(-1, a2.shape[-1]).T @ g.reshape(-1, g.shape[-1])
            else:
                gb = unbroadcast(np.matmul(np.swapaxes(a2, -1, -2), g), b2.shape)
            gb = gb.reshape(b.shape)
        return ga, gb

    def backward_graph(self, g):
        a, b = self.inputs
        a2 = a.reshape(1, -1) if a.ndim == 1 else a
        b2 = b.reshape(-1, 1) if b.ndim == 1 else b
        if b.ndim == 1:
            g = g.reshape(g.shape + (1,))
        if a.ndim == 1:
            g = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:])
        ga = gb = None
        if self.needs[0]:
            ga = (g @ b2.mT).sum_to_size(a2.shape).reshape(a.shape)
        if self.needs[1]:
            if b2.ndim == 2 and a2.ndim > 2:
                gb = a2.reshape(-1, a2.shape[-1]).mT @ g.reshape(-1, g.shape[-1])
            else:
                gb = (a2.mT @ g).sum_to_size(b2.shape)
            gb = gb.reshape(b.shape)
        return ga, gb


class Linear(Function):
    """out = x @ Wᵀ + b for x (..., in), W (out, in), b (out,);
    dx = g @ W, dW = gᵀ @ x, db = Σ g (summed over all leading dims)."""

    def forward(self, x, weight, bias):
        self.x, self.weight = x, weight
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    def backward(self, g):
        x, w = self.x, self.weight
        gx = g @ w if self.needs[0] else None
        g2 = g.reshape(-1, g.shape[-1])
        gw = g2.T @ x.reshape(-1, x.shape[-1]) if self.needs[1] else None
        gb = g2.sum(axis=0) if self.needs[2] else None
        return gx, gw, gb

    def backward_graph(self, g):
        x, w, _ = self.inputs
        g2 = g.reshape(-1, g.shape[-1])
        gx = g @ w if self.needs[0] else None
        gw = g2.mT @ x.reshape(-1, x.shape[-1]) if self.needs[1] else None
        gb = g2.sum(0) if self.needs[2] else None
        return gx, gw, gb


def matmul(a, b):
    """Matrix product with NumPy/PyTorch semantics for 1-D, 2-D and batched (broadcast) operands."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"matmul: expected two Tensors, got {type(a).__name__} and {type(b).__name__}")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dim, got shapes {a.shape} and {b.shape}")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied ({k_a} != {k_b})")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ValueError(
            f"matmul: batch dims of shapes {a.shape} and {b.shape} are not broadcastable"
        ) from None
    if a.data.dtype != b.data.dtype:
        a, b = promote(a, b)
    return MatMul.apply(a, b)


def linear(x, weight, bias=None):
    """y = x Wᵀ + b, x of shape (..., in_features), W (out_features, in_features), b (out_features,)."""
    if not isinstance(x, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"linear: input and weight must be Tensors, got {type(x).__name__} and {type(weight).__name__}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"linear: input of shape {x.shape} does not match weight of shape {weight.shape} "
            f"(expected input (..., {weight.shape[-1]}))"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias of shape {bias.shape} does not match {weight.shape[0]} output features")
    if x.data.dtype != weight.data.dtype:
        raise TypeError(f"linear: input dtype {x.dtype} differs from weight dtype {weight.dtype}")
    return Linear.apply(x, weight, bias)


# ----- helpers ---------------------------------------------------------------------------------------
class LinAlgError(RuntimeError):
    """A matrix that the routine cannot factor: singular for inv/solve, not positive-definite for Cholesky
    (torch.linalg.LinAlgError, also a RuntimeError)."""


def _mT(x):
    """The transpose of every matrix in a stack (*, m, n) → (*, n, m) (a view)."""
    return np.swapaxes(x, -1, -2)


def _lapack(op, reason, fn, *args, **kwargs):
    """Run a NumPy linalg routine; its LinAlgError becomes ours, naming the op and why."""
    try:
        return fn(*args, **kwargs)
    except np.linalg.LinAlgError:
        raise LinAlgError(f"{op}: {reason}") from None


def _tensors(op, **named):
    for name, x in named.items():
        if not isinstance(x, Tensor):
            raise TypeError(f"{op}: argument '{name}' must be a Tensor, got {type(x).__name__}")


def _same_dtype(op, *tensors):
    dtypes = [t.dtype for t in tensors]
    if any(d != dtypes[0] for d in dtypes):
        raise RuntimeError(f"{op}: expected all inputs to have the same dtype, got {', '.join(map(str, dtypes))}")


def _float_matrices(op, A, square=False, name="A"):
    """Check that ``A`` is a floating-point stack of matrices (*, m, n) (square if asked)."""
    _tensors(op, **{name: A})
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions, got shape {A.shape}")
    if A.dtype.kind != "f":
        raise RuntimeError(f"{op}: Expected a floating point tensor as input, got {A.dtype}")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: {name} must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


def _is_vector_rhs(A, B):
    """torch's rule for AX = B: B is a (batch of) vector(s) if it is 1-D or has A's shape less A's last dim."""
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])


def _eye_like(A):
    return np.broadcast_to(np.eye(A.shape[-1], dtype=A.dtype), A.shape)


# ----- matrix and vector products (compositions of matmul, einsum and elementwise ops) ---------------
def _shape_str(shape):
    return "x".join(map(str, shape))


def mm(input, mat2):
    """Matrix product of two matrices (m, k) @ (k, n) → (m, n); no broadcasting (use matmul for that)."""
    _tensors("mm", input=input, mat2=mat2)
    for name, x in (("input", input), ("mat2", mat2)):
        if x.ndim != 2:
            raise RuntimeError(f"mm: {name} must be a matrix, got shape {x.shape}")
    if input.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mm: mat1 and mat2 shapes cannot be multiplied ({_shape_str(input.shape)} and "
                           f"{_shape_str(mat2.shape)})")
    _same_dtype("mm", input, mat2)
    return MatMul.apply(input, mat2)


def bmm(input, mat2):
    """Batched matrix product (b, m, k) @ (b, k, n) → (b, m, n); the batch sizes must be equal."""
    _tensors("bmm", input=input, mat2=mat2)
    for name, x in (("input", input), ("mat2", mat2)):
        if x.ndim != 3:
            raise RuntimeError(f"bmm: {name} must be a 3-D tensor, got shape {x.shape}")
    if mat2.shape[:2] != (input.shape[0], input.shape[2]):
        raise RuntimeError(f"bmm: expected mat2 of shape ({input.shape[0]}, {input.shape[2]}, n) for input of shape "
                           f"{input.shape}, got {mat2.shape}")
    _same_dtype("bmm", input, mat2)
    return MatMul.apply(input, mat2)


def mv(input, vec):
    """Matrix-vector product (m, n) @ (n,) → (m,)."""
    _tensors("mv", input=input, vec=vec)
    if input.ndim != 2 or vec.ndim != 1 or input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"mv: expected a matrix (m, n) and a vector (n,), got shapes {input.shape} and {vec.shape}")
    _same_dtype("mv", input, vec)
    return MatMul.apply(input, vec)


def dot(input, other):
    """Σᵢ aᵢbᵢ of two 1-D tensors of one size and dtype → a 0-d tensor;  da = g·b, db = g·a."""
    _tensors("dot", input=input, other=other)
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"dot: 1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.shape != other.shape:
        raise RuntimeError(f"dot: inconsistent tensor size, got {input.shape[0]} and {other.shape[0]} elements")
    _same_dtype("dot", input, other)
    return MatMul.apply(input, other)


vdot = dot  # Σ conj(aᵢ)·bᵢ: for real tensors the same as dot


def outer(input, vec2):
    """Outer product of two 1-D tensors: out[i, j] = aᵢ·bⱼ, shape (n, m) (dtypes promote)."""
    _tensors("outer", input=input, vec2=vec2)
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: expected two 1-D tensors, got shapes {input.shape} and {vec2.shape}")
    return arith.mul(shape_ops.reshape(input, (-1, 1)), shape_ops.reshape(vec2, (1, -1)))


ger = outer


def tensordot(a, b, dims=2):
    """Contract ``dims`` dims of a with dims of b: an int n pairs a's last n dims with b's first n, a pair
    of lists names them ([a dims], [b dims]). The result has a's free dims, then b's."""
    _tensors("tensordot", a=a, b=b)
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot: dims {dims} must be between 0 and {min(a.ndim, b.ndim)} for shapes "
                               f"{a.shape} and {b.shape}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        try:
            dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
        except (TypeError, ValueError):
            raise RuntimeError(f"tensordot: dims must be an int or a pair of lists of dims, got {dims!r}") from None
        if len(dims_a) != len(dims_b):
            raise RuntimeError(f"tensordot: both dim lists should have same length, got {dims_a} and {dims_b}")
    dims_a = [shape_ops._dim(d, a.shape, "tensordot") for d in dims_a]
    dims_b = [shape_ops._dim(d, b.shape, "tensordot") for d in dims_b]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise RuntimeError(f"tensordot: contracted dimensions need to match, but first has size {a.shape[da]} "
                               f"in dim {da} and second has size {b.shape[db]} in dim {db}")
    _same_dtype("tensordot", a, b)
    letters = iter(string.ascii_letters)
    sub_a = [next(letters) for _ in range(a.ndim)]
    sub_b = [next(letters) for _ in range(b.ndim)]
    for da, db in zip(dims_a, dims_b):
        sub_b[db] = sub_a[da]
    out = [c for i, c in enumerate(sub_a) if i not in dims_a] + [c for i, c in enumerate(sub_b) if i not in dims_b]
    return einsum(f"{''.join(sub_a)},{''.join(sub_b)}->{''.join(out)}", a, b)


def inner(input, other):
    """Σ over the last dims: out[i…, j…] = Σₖ a[i…, k]·b[j…, k] (a 0-d operand multiplies)."""
    _tensors("inner", input=input, other=other)
    if input.ndim == 0 or other.ndim == 0:
        return arith.mul(input, other)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner: last dims must match, got shapes {input.shape} and {other.shape}")
    return tensordot(input, other, ([-1], [-1]))


def kron(input, other):
    """Kronecker product: out[i·q + k, j·r + l] = a[i, j]·b[k, l] (any number of dims; the shorter shape is
    padded with leading 1s). Written as a broadcast product of a (…, p, 1, …) and b (…, 1, q, …), reshaped."""
    _tensors("kron", input=input, other=other)
    ndim = max(input.ndim, other.ndim)
    sa = (1,) * (ndim - input.ndim) + input.shape
    sb = (1,) * (ndim - other.ndim) + other.shape
    a = shape_ops.reshape(input, tuple(n for p in sa for n in (p, 1)))
    b = shape_ops.reshape(other, tuple(n for q in sb for n in (1, q)))
    return shape_ops.reshape(arith.mul(a, b), tuple(p * q for p, q in zip(sa, sb)))


def _add_scaled(op, input, product, beta, alpha):
    """β·input + α·product (β = 0: input is ignored, NaN included, as torch); input broadcasts to the product."""
    _tensors(op, input=input)
    _same_dtype(op, input, product)
    try:
        fits = np.broadcast_shapes(input.shape, product.shape) == product.shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"{op}: input of shape {input.shape} cannot be broadcast to the product's shape "
                           f"{product.shape}")
    for name, value in (("beta", beta), ("alpha", alpha)):
        if product.dtype.kind != "f" and isinstance(value, float):
            raise RuntimeError(f"{op}: for integral input tensors, argument {name} must not be a floating point "
                               f"number, got {value}")
    scaled = product if alpha == 1 else arith.mul(product, alpha)
    if beta == 0:
        return scaled
    return arith.add(input if beta == 1 else arith.mul(input, beta), scaled)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """β·input + α·(mat1 @ mat2), input broadcast to (m, n)."""
    return _add_scaled("addmm", input, mm(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """β·input + α·(mat @ vec), input broadcast to (m,)."""
    return _add_scaled("addmv", input, mv(mat, vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """β·input + α·outer(vec1, vec2), input broadcast to (n, m)."""
    _tensors("addr", vec1=vec1, vec2=vec2)
    _same_dtype("addr", vec1, vec2)
    return _add_scaled("addr", input, outer(vec1, vec2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """β·input + α·(batch1 @ batch2), batched (b, m, k) @ (b, k, n), input broadcast to (b, m, n)."""
    return _add_scaled("baddbmm", input, bmm(batch1, batch2), beta, alpha)


def matrix_power(A, n):
    """Aⁿ for square matrices (*, k, k) by repeated squaring; A⁰ = I (its gradient is zero), A⁻ⁿ = (A⁻¹)ⁿ."""
    _tensors("linalg.matrix_power", A=A)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, got shape {A.shape}")
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"linalg.matrix_power: n must be an int, got {type(n).__name__}")
    if n == 0:  # the identity, still a function of A (with zero gradient), as in torch
        return arith.where(np.ones(A.shape, bool), Tensor(_eye_like(A)), A)
    if n < 0:
        A, n = inv(A), -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else MatMul.apply(result, base)
        n >>= 1
        if n:
            base = MatMul.apply(base, base)
    return result


def multi_dot(tensors):
    """A₁ @ A₂ @ … @ Aₖ: the first may be 1-D (a row), the last 1-D (a column), the others 2-D.
    Multiplied left to right (torch picks the cheapest order: the results differ only by rounding)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"linalg.multi_dot: expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        _tensors("linalg.multi_dot", **{f"tensors[{i}]": t})
        edge = i in (0, len(tensors) - 1)
        if not (t.ndim == 2 or (edge and t.ndim == 1)):
            raise RuntimeError(f"linalg.multi_dot: tensor {i} must be 2-D{' or 1-D' if edge else ''}, got shape "
                               f"{t.shape}")
    _same_dtype("linalg.multi_dot", *tensors)
    out = tensors[0]
    for t in tensors[1:]:
        if out.shape[-1] != t.shape[0]:
            raise RuntimeError(f"linalg.multi_dot: shapes {out.shape} and {t.shape} cannot be multiplied")
        out = MatMul.apply(out, t)
    return out


def chain_matmul(*matrices):
    """torch.chain_matmul (deprecated there): the product of 2-D matrices, as multi_dot."""
    for i, m in enumerate(matrices):
        if not isinstance(m, Tensor) or m.ndim != 2:
            raise RuntimeError(f"chain_matmul: expected 2-D tensors, argument {i} is "
                               f"{m.shape if isinstance(m, Tensor) else type(m).__name__}")
    if len(matrices) == 1:
        return matrices[0].clone()
    return multi_dot(matrices)


# ----- einsum -----------------------------------------------------------------------------------------
def _einsum_subscripts(equation, shapes):
    """The equation with every ellipsis spelled out as spare letters (right-aligned, broadcast like NumPy):
    (one subscript string per operand, the output's). Implicit output: the ellipsis dims, then the letters
    that appear once, in ASCII order (capitals first)."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) < len(shapes):
        raise RuntimeError(f"einsum(): more operands ({len(shapes)}) were provided than specified in the equation "
                           f"{equation!r}")
    if len(terms) > len(shapes):
        raise RuntimeError(f"einsum(): fewer operands ({len(shapes)}) were provided than specified in the "
                           f"equation {equation!r}")
    for c in lhs + rhs:
        if c not in string.ascii_letters and c not in ".,":
            raise RuntimeError(f"einsum(): invalid subscript {c!r} in the equation {equation!r}; subscripts must be "
                               "in [a-zA-Z]")
    spare = [c for c in string.ascii_letters if c not in eq]
    ellipsis_ndims = []
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        named = len(term.replace("...", ""))
        if term.count("...") > 1 or "." in term.replace("...", ""):
            raise RuntimeError(f"einsum(): found '.' for operand {i} that is not part of any ellipsis")
        if "..." in term and named <= len(shape):
            ellipsis_ndims.append(len(shape) - named)
        elif "..." not in term and named == len(shape):
            ellipsis_ndims.append(0)
        else:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) does not match the "
                               f"number of dimensions ({len(shape)}) for operand {i}"
                               f"{'' if '...' in term else ' and no ellipsis was given'}")
    ellipsis = "".join(spare[: max(ellipsis_ndims, default=0)])
    inputs = [t.replace("...", ellipsis[len(ellipsis) - k :]) for t, k in zip(terms, ellipsis_ndims)]
    if arrow:
        if rhs.count("...") > 1 or "." in rhs.replace("...", ""):
            raise RuntimeError("einsum(): found '.' for output that is not part of any ellipsis")
        output = rhs.replace("...", ellipsis)
        for c in output:
            if not any(c in t for t in inputs):
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                                   "operand")
            if output.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
    else:
        named = "".join(t.replace("...", "") for t in terms)
        output = ellipsis + "".join(sorted(c for c in set(named) if named.count(c) == 1))
    sizes = {}
    for i, (term, shape) in enumerate(zip(inputs, shapes)):
        for c, n in zip(term, shape):
            seen = sizes.get(c, 1)
            if n != 1 and seen not in (1, n):
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which does not broadcast "
                                   f"with previously seen size {seen}")
            sizes[c] = seen if n == 1 else n
    return inputs, output


class Einsum(Function):
    """out = Σ over the letters missing from the output of Πᵢ operandᵢ[its letters] (Einstein summation).

    The gradient of operand i is the same kind of sum: g (with the output's letters) times every other
    operand, summed down to operand i's letters — the product rule, one term per position of the sum.
    Letters only operand i has were summed in the forward, so g is broadcast along them; a letter repeated
    in operand i (a diagonal, 'ii->i') gets the gradient on that diagonal; size-1 dims that broadcast are
    summed back."""

    def forward(self, *operands, subscripts, output):
        self.operands, self.subscripts, self.output = operands, subscripts, output
        return np.einsum(",".join(subscripts) + "->" + output, *operands, optimize=len(operands) > 1)

    def backward(self, g):
        return tuple(self._operand_grad(i, g) if self.needs[i] else None for i in range(len(self.operands)))

    def _operand_grad(self, i, g):
        x, mine = self.operands[i], self.subscripts[i]
        others = [s for j, s in enumerate(self.subscripts) if j != i]
        other_arrays = [a for j, a in enumerate(self.operands) if j != i]
        unique = "".join(dict.fromkeys(mine))  # mine without repeats, in order
        seen = set(self.output).union(*others)
        present = "".join(c for c in unique if c in seen)
        r = np.einsum(",".join([self.output] + others) + "->" + present, g, *other_arrays, optimize=len(others) > 0)
        r = r.reshape([r.shape[present.index(c)] if c in present else 1 for c in unique])
        target = [x.shape[mine.index(c)] for c in unique]
        broadcast = tuple(k for k, (n, want) in enumerate(zip(r.shape, target)) if want == 1 and n != 1)
        if broadcast:
            r = r.sum(axis=broadcast, keepdims=True)
        r = np.broadcast_to(r, target)
        if unique == mine:
            return np.ascontiguousarray(r).reshape(x.shape)  # (ascontiguousarray makes a 0-d array 1-d)
        grad = np.zeros(x.shape, dtype=g.dtype)
        np.einsum(mine + "->" + unique, grad)[...] = r  # a writeable view of the diagonal
        return grad

    def backward_graph(self, g):
        return tuple(self._operand_grad_graph(i, g) if self.needs[i] else None for i in range(len(self.inputs)))

    def _operand_grad_graph(self, i, g):
        """``_operand_grad`` as one recorded einsum of g with the other operands: a letter repeated in operand i
        gets a fresh letter tied to the first by an identity matrix δ (the diagonal); letters the einsum cannot
        produce (operand i's alone, or of size 1 there) come back as size 1, then broadcast to operand i's shape."""
        x, mine = self.inputs[i], self.subscripts[i]
        terms = [self.output] + [s for j, s in enumerate(self.subscripts) if j != i]
        operands = [g] + [t for j, t in enumerate(self.inputs) if j != i]
        used = set(self.output).union(*self.subscripts)
        fresh = (c for c in string.ascii_letters if c not in used)
        labels = []
        for c, n in zip(mine, x.shape):
            if c in labels:
                label = next(fresh)
                terms.append(c + label)
                operands.append(Tensor(np.eye(n, dtype=g.dtype)))
                c = label
            labels.append(c)
        available = set("".join(terms))
        kept = [c for c, n in zip(labels, x.shape) if c in available and n != 1]
        r = einsum(",".join(terms) + "->" + "".join(kept), *operands)
        sizes = dict(zip(kept, r.shape))
        r = r.reshape(tuple(sizes.get(c, 1) for c in labels))
        return r if r.shape == x.shape else r.expand(*x.shape)


def einsum(equation, *operands):
    """Einstein summation, torch's spelling: ``einsum('bij,bjk->bik', a, b)`` or with the operands as one list.
    Letters a-z A-Z; ``...`` stands for broadcast dims; without ``->`` the output is the ellipsis dims then the
    letters that appear once, sorted. Operands must share one dtype."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): the equation must be a str, got {type(equation).__name__}")
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for i, x in enumerate(operands):
        _tensors("einsum()", **{f"operands[{i}]": x})
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    _same_dtype("einsum()", *operands)
    inputs, output = _einsum_subscripts(equation, [x.shape for x in operands])
    return Einsum.apply(*operands, subscripts=inputs, output=output)


# ----- cross product ----------------------------------------------------------------------------------
class Cross(Function):
    """out = a × b along ``dim`` (of length 3): (a₂b₃ − a₃b₂, a₃b₁ − a₁b₃, a₁b₂ − a₂b₁);
    da = b × g, db = g × a (the scalar triple product ⟨g, a × b⟩ = ⟨b × g, a⟩ = ⟨g × a, b⟩)."""

    def forward(self, a, b, dim):
        self.a, self.b, self.dim = a, b, dim
        a2, b2 = np.broadcast_arrays(a, b)
        return np.cross(a2, b2, axis=dim)

    def backward(self, g):
        a, b, dim = self.a, self.b, self.dim
        ga = unbroadcast(np.cross(*np.broadcast_arrays(b, g), axis=dim), a.shape) if self.needs[0] else None
        gb = unbroadcast(np.cross(*np.broadcast_arrays(g, a), axis=dim), b.shape) if self.needs[1] else None
        return ga, gb

    def backward_graph(self, g):
        a, b = self.inputs
        dim = self.kwargs["dim"]
        ga = Cross.apply(b, g, dim=dim).sum_to_size(a.shape) if self.needs[0] else None
        gb = Cross.apply(g, a, dim=dim).sum_to_size(b.shape) if self.needs[1] else None
        return ga, gb


def linalg_cross(input, other, *, dim=-1):
    """torch.linalg.cross: the cross product of 3-vectors along ``dim`` (default the last), broadcast."""
    return _cross("linalg.cross", input, other, dim)


def cross(input, other, dim=None):
    """torch.cross: as linalg.cross, but ``dim=None`` takes the first dim of size 3 (torch's older default)."""
    if dim is None:
        _tensors("cross", input=input, other=other)
        shape = _broadcast("cross", input, other)
        dim = next((d for d, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise RuntimeError(f"cross: no dimension of size 3 in input of shape {shape}")
    return _cross("cross", input, other, dim)


def _broadcast(op, a, b):
    try:
        return np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(f"{op}: shapes {a.shape} and {b.shape} are not broadcastable") from None


def _cross(op, a, b, dim):
    _tensors(op, input=a, other=b)
    if a.ndim != b.ndim:
        raise RuntimeError(f"{op}: inputs must have the same number of dimensions, got shapes {a.shape} and {b.shape}")
    shape = _broadcast(op, a, b)
    d = shape_ops._dim(dim, shape, op)
    sizes = [a.shape[d], b.shape[d]]
    if sizes != [3, 3]:
        raise RuntimeError(f"{op}: inputs dimension {dim} must have length 3. Got {sizes[0]} and {sizes[1]}")
    _same_dtype(op, a, b)
    return Cross.apply(a, b, dim=d)


# ----- solving, inverse, determinant ------------------------------------------------------------------
class Inv(Function):
    """out = A⁻¹;  d(A⁻¹) = −A⁻¹ dA A⁻¹, so dA = −A⁻ᵀ g A⁻ᵀ."""

    def forward(self, A):
        self.out = _lapack("linalg.inv", "the input matrix is singular, it cannot be inverted", np.linalg.inv, A)
        return self.out

    def backward(self, g):
        inv_T = _mT(self.out)
        return (-(inv_T @ g @ inv_T),)

    def backward_graph(self, g):
        inv_T = Inv.apply(self.inputs[0]).mT
        return (-(inv_T @ g @ inv_T),)


class Solve(Function):
    """X = A⁻¹B for A (*, n, n), B (*, n, k) (batch dims broadcast);  from A dX = dB − dA X:
    dB = A⁻ᵀ g, dA = −dB Xᵀ."""

    def forward(self, A, B):
        self.A, self.B_shape = A, B.shape
        self.X = _lapack("linalg.solve", "the input matrix A is singular", np.linalg.solve, A, B)
        return self.X

    def backward(self, g):
        gB = np.linalg.solve(_mT(self.A), g)
        gA = unbroadcast(-(gB @ _mT(self.X)), self.A.shape) if self.needs[0] else None
        return gA, unbroadcast(gB, self.B_shape) if self.needs[1] else None

    def backward_graph(self, g):
        A, B = self.inputs
        gB = Solve.apply(A.mT, g)
        gA = (-(gB @ Solve.apply(A, B).mT)).sum_to_size(A.shape) if self.needs[0] else None
        return gA, gB.sum_to_size(B.shape) if self.needs[1] else None


class SolveTriangular(Function):
    """X = T⁻¹B with T the upper (or lower) triangle of A (diagonal taken as 1 if ``unitriangular``);
    as Solve: dB = T⁻ᵀ g, dA = −dB Xᵀ kept on the triangle that was read."""

    def forward(self, A, B, upper, unitriangular):
        T = np.triu(A) if upper else np.tril(A)
        if unitriangular:
            T = T - np.triu(np.tril(T)) + np.eye(T.shape[-1], dtype=T.dtype)
        self.T, self.B_shape, self.A_shape = T, B.shape, A.shape
        self.upper, self.unitriangular = upper, unitriangular
        self.X = _lapack("linalg.solve_triangular", "the triangular matrix is singular", np.linalg.solve, T, B)
        return self.X

    def backward(self, g):
        gB = np.linalg.solve(_mT(self.T), g)
        gA = None
        if self.needs[0]:
            k = int(self.unitriangular)
            gA = -(gB @ _mT(self.X))
            gA = unbroadcast(np.triu(gA, k) if self.upper else np.tril(gA, -k), self.A_shape)
        return gA, unbroadcast(gB, self.B_shape) if self.needs[1] else None

    def backward_graph(self, g):
        A, B = self.inputs
        upper, unit = self.upper, self.unitriangular
        gB = SolveTriangular.apply(A.mT, g, upper=not upper, unitriangular=unit)  # Tᵀ: the other triangle of Aᵀ
        gA = None
        if self.needs[0]:
            ones = np.ones(A.shape[-2:], A.data.dtype)
            read = np.triu(ones, int(unit)) if upper else np.tril(ones, -int(unit))
            X = SolveTriangular.apply(A, B, upper=upper, unitriangular=unit)
            gA = (-(gB @ X.mT) * Tensor(read)).sum_to_size(A.shape)
        return gA, gB.sum_to_size(B.shape) if self.needs[1] else None


def _batch_broadcast(op, A, B):
    try:
        np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    except ValueError:
        raise RuntimeError(f"{op}: the batch dims of A {A.shape} and B {B.shape} are not broadcastable") from None


def inv(A):
    """A⁻¹ of square matrices (*, n, n); a singular matrix raises LinAlgError."""
    _float_matrices("linalg.inv", A, square=True)
    return Inv.apply(A)


def solve(A, B, *, left=True):
    """X with AX = B (``left=False``: XA = B) for A (*, n, n) and B (*, n, k) or a vector (*, n); batch dims
    broadcast. Solved by LU, never by forming A⁻¹."""
    _float_matrices("linalg.solve", A, square=True)
    _tensors("linalg.solve", B=B)
    if A.dtype != B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type {A.dtype} "
                           f"and B of type {B.dtype} instead")
    vector = _is_vector_rhs(A, B)
    if vector:
        if not left:
            raise RuntimeError(f"linalg.solve: left=False needs B to be a matrix (*, k, n), got shape {B.shape}")
        B = shape_ops.unsqueeze(B, -1)
    n = A.shape[-1]
    if B.ndim < 2 or B.shape[-2 if left else -1] != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({_shape_str(A.shape[-2:])} and "
                           f"{_shape_str(B.shape[-2:]) if B.ndim >= 2 else B.shape})")
    _batch_broadcast("linalg.solve", A, B)
    if not left:  # XA = B ⇔ AᵀXᵀ = Bᵀ
        return shape_ops.transpose(Solve.apply(shape_ops.transpose(A, -1, -2), shape_ops.transpose(B, -1, -2)),
                                   -1, -2)
    X = Solve.apply(A, B)
    return shape_ops.squeeze(X, -1) if vector else X


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with TX = B (``left=False``: XT = B), T the upper or lower triangle of A (*, n, n), B (*, n, k);
    the other triangle of A is not read."""
    _float_matrices("linalg.solve_triangular", A, square=True)
    _float_matrices("linalg.solve_triangular", B, name="B")
    _same_dtype("linalg.solve_triangular", A, B)
    if B.shape[-2 if left else -1] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({_shape_str(A.shape[-2:])} and "
                           f"{_shape_str(B.shape[-2:])})")
    _batch_broadcast("linalg.solve_triangular", A, B)
    if left:
        return SolveTriangular.apply(A, B, upper=bool(upper), unitriangular=bool(unitriangular))
    At, Bt = shape_ops.transpose(A, -1, -2), shape_ops.transpose(B, -1, -2)  # XT = B ⇔ TᵀXᵀ = Bᵀ
    Xt = SolveTriangular.apply(At, Bt, upper=not upper, unitriangular=bool(unitriangular))
    return shape_ops.transpose(Xt, -1, -2)


class Det(Function):
    """out = det A;  d det = tr(adj(A) dA) (= det·tr(A⁻¹dA) where A is invertible), so dA = g·adj(A)ᵀ.
    adj(A) from the SVD A = U diag(s) Vᵀ: adj(A)ᵀ = det(U)·det(V)·U diag(∏_{j≠i} s_j) Vᵀ, which equals
    det·A⁻ᵀ and stays defined when A is singular (as torch's gradient). Recorded for higher orders as
    g·det·A⁻ᵀ, so those need an invertible A (a singular one raises LinAlgError)."""

    def forward(self, A):
        self.A = A
        return np.linalg.det(A)

    def backward(self, g):
        U, s, Vh = np.linalg.svd(self.A)
        ones = np.ones(s.shape[:-1] + (1,), s.dtype)
        before = np.cumprod(np.concatenate([ones, s[..., :-1]], -1), -1)  # s₁⋯sᵢ₋₁
        after = np.cumprod(np.concatenate([ones, s[..., :0:-1]], -1), -1)[..., ::-1]  # sᵢ₊₁⋯sₙ
        sign = np.linalg.det(U) * np.linalg.det(Vh)
        adj_T = (U * (before * after * sign[..., None])[..., None, :]) @ Vh
        return (g[..., None, None] * adj_T,)

    def backward_graph(self, g):
        (A,) = self.inputs
        scale = (g * Det.apply(A)).reshape(g.shape + (1, 1))
        return (scale * Inv.apply(A).mT,)


class SlogDet(Function):
    """(sign, log|det A|);  d log|det A| = tr(A⁻¹ dA), so dA = g·A⁻ᵀ (the sign is piecewise constant)."""

    def forward(self, A):
        self.A = A
        return tuple(np.linalg.slogdet(A))  # NumPy's namedtuple would be taken for one array

    def backward(self, g_sign, g_logabsdet):
        inv_T = _mT(_lapack("linalg.slogdet", "the gradient of log|det A| at a singular A is infinite",
                            np.linalg.inv, self.A))
        return (g_logabsdet[..., None, None] * inv_T,)

    def backward_graph(self, g_sign, g_logabsdet):
        (A,) = self.inputs
        return (g_logabsdet.reshape(g_logabsdet.shape + (1, 1)) * Inv.apply(A).mT,)


SlogdetResult = namedtuple("slogdet", ["sign", "logabsdet"])


def det(A):
    """det A of square matrices (*, n, n) → (*)."""
    _float_matrices("linalg.det", A, square=True)
    return Det.apply(A)


def slogdet(A):
    """(sign, logabsdet) with det A = sign·exp(logabsdet): the log-determinant without over- or underflow."""
    _float_matrices("linalg.slogdet", A, square=True)
    return SlogdetResult(*SlogDet.apply(A))


def logdet(A):
    """log det A: log|det A| where det A > 0, NaN where it is negative, −inf where it is 0 (torch.logdet)."""
    _float_matrices("logdet", A, square=True)
    sign, logabsdet = SlogDet.apply(A)
    return arith.where(sign.data < 0, float("nan"), logabsdet)


# ----- decompositions ---------------------------------------------------------------------------------
class Cholesky(Function):
    """A = L Lᵀ, L lower-triangular, A symmetric positive-definite (only its lower triangle is read).
    From dA = dL Lᵀ + L dLᵀ [Murray 2016, arXiv:1602.07527]: Φ = tril(Lᵀ g) with its diagonal halved,
    S = L⁻ᵀ Φ L⁻¹, dA = ½(S + Sᵀ). ``upper=True`` returns U = Lᵀ (and takes g as Uᵀ's)."""

    def forward(self, A, upper):
        self.L = _lapack("linalg.cholesky", "The factorization could not be completed because the input is not "
                         "positive-definite", np.linalg.cholesky, A)
        self.upper = upper
        return np.ascontiguousarray(_mT(self.L)) if upper else self.L

    def backward(self, g):
        L = self.L
        gL = _mT(g) if self.upper else g
        phi = np.tril(_mT(L) @ gL)
        diag = np.einsum("...ii->...i", phi)
        diag *= 0.5  # a view: halves phi's diagonal in place
        L_inv = np.linalg.inv(L)
        S = _mT(L_inv) @ phi @ L_inv
        return (0.5 * (S + _mT(S)),)

    def backward_graph(self, g):
        L = Cholesky.apply(self.inputs[0], upper=False)
        n = L.shape[-1]
        half_diagonal = np.tril(np.ones((n, n), L.data.dtype)) - 0.5 * np.eye(n, dtype=L.data.dtype)
        phi = (L.mT @ (g.mT if self.upper else g)) * Tensor(half_diagonal)
        L_inv = Inv.apply(L)
        S = L_inv.mT @ phi @ L_inv
        return (0.5 * (S + S.mT),)


def cholesky(A, *, upper=False):
    """The Cholesky factor L (A = L Lᵀ) of symmetric positive-definite matrices (*, n, n); ``upper``: U = Lᵀ."""
    _float_matrices("linalg.cholesky", A, square=True)
    return Cholesky.apply(A, upper=bool(upper))


class QR(Function):
    """A = QR, Q (*, m, k) with orthonormal columns, R (*, k, n) upper-triangular, k = min(m, n)
    (``complete``: Q (*, m, m), R (*, m, n); ``r``: R only, Q empty).

    For m ≥ n (torch's derivation): M = gR Rᵀ − Qᵀ gQ, B = triu(M) + triu(M, 1)ᵀ (M's upper triangle made
    symmetric), dA = (Q B + gQ) R⁻ᵀ. For m < n, A = [X | Y] with X = Q U square: Y = Q V gives
    dY = Q gV and adds Y gVᵀ to gQ, then X takes the square formula."""

    def forward(self, A, mode):
        self.mode = mode
        if mode == "r":
            self.A = A
            return np.empty((0,), A.dtype), np.linalg.qr(A, mode="r")
        self.Q, self.R = np.linalg.qr(A, mode=mode)
        return self.Q, self.R

    def backward(self, gQ, gR):
        if self.mode == "r":
            raise RuntimeError("linalg.qr: the derivative of linalg.qr depends on Q, which is not computed when "
                               "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to differentiate "
                               "through linalg.qr.")
        Q, R = self.Q, self.R
        m, n = Q.shape[-2], R.shape[-1]
        if self.mode == "complete" and m > n:
            raise RuntimeError("linalg.qr: the QR decomposition is not differentiable when mode='complete' and "
                               "nrows > ncols.")
        if m >= n:
            return (self._square_part(gQ, gR, Q, R),)
        U, gU, gV = R[..., :m], gR[..., :m], gR[..., m:]
        Y = self.Q @ R[..., m:]
        gX = self._square_part(gQ + Y @ _mT(gV), gU, Q, U)
        return (np.concatenate([gX, Q @ gV], -1),)

    @staticmethod
    def _square_part(gQ, gR, Q, R):
        M = gR @ _mT(R) - _mT(Q) @ gQ
        B = np.triu(M) + _mT(np.triu(M, 1))
        C = Q @ B + gQ
        return _mT(np.linalg.solve(R, _mT(C)))  # C R⁻ᵀ


QRResult = namedtuple("qr", ["Q", "R"])


def qr(A, mode="reduced"):
    """A = QR: ``mode`` 'reduced' (Q (*, m, k), R (*, k, n), k = min(m, n)), 'complete' (Q square) or 'r'
    (R only; Q is empty). Signs as LAPACK's (R's diagonal may be negative), the same as torch's."""
    _float_matrices("linalg.qr", A)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"linalg.qr: received unrecognized mode {mode!r} but expected one of 'reduced' (default), "
                           "'r', or 'complete'")
    return QRResult(*QR.apply(A, mode=mode))


class SVD(Function):
    """A = U diag(S) Vh, S descending (k = min(m, n) values), U (*, m, k), Vh (*, k, n) (``full_matrices``:
    U (*, m, m), Vh (*, n, n), the extra columns get no gradient, as torch).

    Backward (torch's): with F_ij = 1/(s_j² − s_i²) (i ≠ j) and skew(X) = X − Xᵀ,
        gA = U [F∘skew(Uᵀ gU) S + S F∘skew(Vh gVhᵀ) + diag(gS)] Vh
             + (I − UUᵀ) gU S⁻¹ Vh  (m > n)   or   + U S⁻¹ gVh (I − VhᵀVh)  (m < n),
    defined for distinct nonzero singular values; the singular vectors' signs are arbitrary, so only a
    loss that does not depend on them has a meaningful gradient. S alone (``compute_uv=False``, svdvals):
    gA = U diag(gS) Vh."""

    def forward(self, A, full_matrices, compute_uv):
        U, S, Vh = np.linalg.svd(A, full_matrices=full_matrices)
        k = S.shape[-1]
        self.U, self.S, self.Vh = U[..., :k], S, Vh[..., :k, :]
        self.full, self.compute_uv = full_matrices, compute_uv
        return (U, S, Vh) if compute_uv else S

    def backward(self, *grads):
        U, S, Vh = self.U, self.S, self.Vh
        if not self.compute_uv:
            return ((U * grads[0][..., None, :]) @ Vh,)
        k = S.shape[-1]
        gU, gS, gVh = grads[0][..., :k], grads[1], grads[2][..., :k, :]
        m, n = U.shape[-2], Vh.shape[-1]
        S2 = S * S
        E = S2[..., None, :] - S2[..., :, None]  # E_ij = s_j² − s_i²
        i = np.arange(k)
        E[..., i, i] = 1
        UtgU, VhgV = _mT(U) @ gU, Vh @ _mT(gVh)
        core = ((UtgU - _mT(UtgU)) * S[..., None, :] + S[..., :, None] * (VhgV - _mT(VhgV))) / E
        core[..., i, i] += gS
        if m > n:
            gU_Sinv = gU / S[..., None, :]
            return ((U @ core + gU_Sinv - U @ (_mT(U) @ gU_Sinv)) @ Vh,)
        if m < n:
            Sinv_gVh = gVh / S[..., :, None]
            return (U @ (core @ Vh + Sinv_gVh - (Sinv_gVh @ _mT(Vh)) @ Vh),)
        return (U @ core @ Vh,)


SVDResult = namedtuple("svd", ["U", "S", "Vh"])


def svd(A, full_matrices=True):
    """A = U diag(S) Vh: U (*, m, m), S (*, k), Vh (*, n, n) (``full_matrices=False``: U (*, m, k),
    Vh (*, k, n)), k = min(m, n), S descending. The columns' signs are LAPACK's: only products like
    U diag(S) Vh are determined."""
    _float_matrices("linalg.svd", A)
    return SVDResult(*SVD.apply(A, full_matrices=bool(full_matrices), compute_uv=True))


def svdvals(A):
    """The singular values (*, k) of A, descending;  dA = U diag(gS) Vh."""
    _float_matrices("linalg.svdvals", A)
    return SVD.apply(A, full_matrices=False, compute_uv=False)


class Eigh(Function):
    """A = V diag(L) Vᵀ for symmetric A (only the ``UPLO`` triangle is read), L ascending, V orthogonal.
    Backward (torch's): with F_ij = 1/(λ_j − λ_i) (i ≠ j),
        gA = V [diag(gL) + F∘½(Vᵀ gV − gVᵀ V)] Vᵀ,
    defined for distinct eigenvalues; the eigenvectors' signs are arbitrary. Values only (eigvalsh):
    gA = V diag(gL) Vᵀ."""

    def forward(self, A, UPLO, compute_v):
        self.L, self.V = np.linalg.eigh(A, UPLO=UPLO)
        self.compute_v = compute_v
        return (self.L, self.V) if compute_v else self.L

    def backward(self, *grads):
        L, V = self.L, self.V
        i = np.arange(L.shape[-1])
        if self.compute_v:
            VtgV = _mT(V) @ grads[1]
            E = L[..., None, :] - L[..., :, None]  # E_ij = λ_j − λ_i
            E[..., i, i] = 1
            core = 0.5 * (VtgV - _mT(VtgV)) / E
        else:
            core = np.zeros(V.shape, V.dtype)
        core[..., i, i] += grads[0]
        return (V @ core @ _mT(V),)

    def backward_graph(self, *grads):
        L, V = Eigh.apply(self.inputs[0], UPLO=self.kwargs["UPLO"], compute_v=True)
        eye = Tensor(np.eye(L.shape[-1], dtype=L.data.dtype))
        core = grads[0].unsqueeze(-1) * eye
        if self.compute_v:
            VtgV = V.mT @ grads[1]
            core = core + 0.5 * (VtgV - VtgV.mT) / (L.unsqueeze(-2) - L.unsqueeze(-1) + eye)
        return (V @ core @ V.mT,)


EighResult = namedtuple("eigh", ["eigenvalues", "eigenvectors"])


def _check_uplo(op, UPLO):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"{op}: Expected UPLO argument to be 'L' or 'U', but got {UPLO!r}")


def eigh(A, UPLO="L"):
    """Eigenvalues (ascending, (*, n)) and orthonormal eigenvectors (columns, (*, n, n)) of symmetric A,
    read from its lower (``UPLO='L'``) or upper triangle."""
    _float_matrices("linalg.eigh", A, square=True)
    _check_uplo("linalg.eigh", UPLO)
    return EighResult(*Eigh.apply(A, UPLO=UPLO, compute_v=True))


def eigvalsh(A, UPLO="L"):
    """The eigenvalues (ascending) of symmetric A;  dA = V diag(gL) Vᵀ."""
    _float_matrices("linalg.eigvalsh", A, square=True)
    _check_uplo("linalg.eigvalsh", UPLO)
    return Eigh.apply(A, UPLO=UPLO, compute_v=False)


def _tolerance(A, atol, rtol, op):
    """torch's cut-off for 'zero' singular values: σ ≤ max(atol, rtol·σ₁); rtol defaults to ε·max(m, n) when
    atol is not given (else to 0). Arrays broadcast with A's batch dims (*)."""
    for name, v in (("atol", atol), ("rtol", rtol)):
        if v is not None and not isinstance(v, (int, float, Tensor)):
            raise TypeError(f"{op}: {name} must be a float or a Tensor, got {type(v).__name__}")
    value = lambda v: v.data if isinstance(v, Tensor) else v
    if rtol is None:
        rtol = np.finfo(A.dtype).eps * max(A.shape[-2:]) if atol is None or np.all(value(atol) == 0) else 0.0
    return (0.0 if atol is None else value(atol)), value(rtol)


class Pinv(Function):
    """A⁺ (*, n, m) of A (*, m, n) from the SVD: V diag(1/σᵢ, or 0 where σᵢ ≤ cut-off) Uᵀ (``hermitian``:
    from eigh, with |λᵢ|).  The derivative (Golub & Pereyra 1973):
        dA⁺ = −A⁺ dA A⁺ + A⁺A⁺ᵀ dAᵀ (I − AA⁺) + (I − A⁺A) dAᵀ A⁺ᵀA⁺,
    so gA = −A⁺ᵀ g A⁺ᵀ + (I − AA⁺) gᵀ A⁺A⁺ᵀ + A⁺ᵀA⁺ gᵀ (I − A⁺A)  (exact where the rank is locally constant)."""

    def forward(self, A, atol, rtol, hermitian):
        if hermitian:
            w, V = np.linalg.eigh(A)
            cutoff = np.maximum(atol, rtol * np.abs(w).max(-1, initial=0))
            keep = np.abs(w) > np.asarray(cutoff)[..., None]
            w_inv = np.divide(1, w, out=np.zeros_like(w), where=keep)
            P = (V * w_inv[..., None, :]) @ _mT(V)
        else:
            U, s, Vh = np.linalg.svd(A, full_matrices=False)
            cutoff = np.maximum(atol, rtol * s[..., :1].max(-1, initial=0))
            keep = s > np.asarray(cutoff)[..., None]
            s_inv = np.divide(1, s, out=np.zeros_like(s), where=keep)
            P = (_mT(Vh) * s_inv[..., None, :]) @ _mT(U)
        self.A, self.P = A, P
        return P

    def backward(self, g):
        A, P = self.A, self.P
        Pt, gt = _mT(P), _mT(g)
        m, n = A.shape[-2:]
        I_m, I_n = np.eye(m, dtype=A.dtype), np.eye(n, dtype=A.dtype)
        return (-(Pt @ g @ Pt) + (I_m - A @ P) @ gt @ (P @ Pt) + (Pt @ P) @ gt @ (I_n - P @ A),)

    def backward_graph(self, g):
        (A,) = self.inputs
        P = Pinv.apply(A, **self.kwargs)
        Pt, gt = P.mT, g.mT
        PPt = P @ Pt
        return (-(Pt @ g @ Pt) + gt @ PPt - A @ (P @ gt @ PPt) + (Pt @ P) @ (gt - gt @ P @ A),)


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """Moore–Penrose pseudo-inverse A⁺ (*, n, m); singular values σ ≤ max(atol, rtol·σ₁) count as 0
    (rtol defaults to ε·max(m, n) when atol is not given). ``hermitian``: A is symmetric (eigh instead of SVD).
    A⁺y is the minimum-norm least-squares solution of Ax = y [note 004: the normal equation θ = (XᵀX)⁻¹Xᵀy
    for full-column-rank X]."""
    _float_matrices("linalg.pinv", A, square=hermitian)
    atol, rtol = _tolerance(A, atol, rtol, "linalg.pinv")
    return Pinv.apply(A, atol=atol, rtol=rtol, hermitian=bool(hermitian))


def pinverse(input, rcond=1e-15):
    """torch.pinverse: linalg.pinv with rtol = ``rcond``."""
    return pinv(input, rtol=rcond)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """The number of singular values σ > max(atol, rtol·σ₁) (rtol defaults to ε·max(m, n) when atol is not
    given): int64 (*), no gradient."""
    _float_matrices("linalg.matrix_rank", A, square=hermitian)
    atol, rtol = _tolerance(A, atol, rtol, "linalg.matrix_rank")
    s = np.abs(np.linalg.eigvalsh(A.data)) if hermitian else np.linalg.svd(A.data, compute_uv=False)
    cutoff = np.maximum(atol, rtol * s.max(-1, initial=0))
    return Tensor((s > np.asarray(cutoff)[..., None]).sum(-1).astype(np.int64))


LstsqResult = namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])
_LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution X = argmin ‖AX − B‖ for A (*, m, n), B (*, m, k) or (*, m), as
    ``(solution, residuals, rank, singular_values)``.

    The solution is A⁺B (pinv with rtol = ``rcond``, default ε·max(m, n)): LAPACK's gelsy returns that same
    minimum-norm solution, and torch's gradient is this composition's (its backward goes through pinv too).
    The other fields are filled as torch fills them for the ``driver`` named, and carry no gradient:
    residuals (the squared residual norms per column, (*, k), k = 1 for a vector B) only for gels/gelsd/gelss with m > n and
    every A of full rank, else empty; rank (int64 (*)) for all but gels, else empty; singular_values (*, k)
    for gelsd/gelss, else empty."""
    _float_matrices("linalg.lstsq", A)
    _tensors("linalg.lstsq", B=B)
    driver = "gelsy" if driver is None else driver
    if driver not in _LSTSQ_DRIVERS:
        raise RuntimeError(f"linalg.lstsq: parameter `driver` should be one of {_LSTSQ_DRIVERS}, got {driver!r}")
    if A.dtype != B.dtype:
        raise RuntimeError(f"linalg.lstsq: Expected A and B to have the same dtype, got {A.dtype} and {B.dtype}")
    vector = _is_vector_rhs(A, B)
    m = A.shape[-2]
    if (B.shape[-1] if vector else (B.shape[-2] if B.ndim >= 2 else None)) != m:
        raise RuntimeError(f"linalg.lstsq: A {A.shape} and B {B.shape} must have the same number of rows ({m})")
    rtol = np.finfo(A.dtype).eps * max(A.shape[-2:]) if rcond is None else rcond
    P = pinv(A, rtol=rtol)
    X = shape_ops.squeeze(matmul(P, shape_ops.unsqueeze(B, -1)), -1) if vector else matmul(P, B)
    empty = np.empty((0,), A.dtype)
    rank = matrix_rank(A, rtol=rtol) if driver != "gels" else Tensor(np.empty((0,), np.int64))
    residuals = empty
    if driver != "gelsy" and m > A.shape[-1] and (driver == "gels" or np.all(rank.data == A.shape[-1])):
        r = A.data @ (X.data[..., None] if vector else X.data) - (B.data[..., None] if vector else B.data)
        residuals = (r * r).sum(-2)
    singular_values = np.linalg.svd(A.data, compute_uv=False) if driver in ("gelsd", "gelss") else empty
    return LstsqResult(X, Tensor(residuals), rank, Tensor(singular_values))


# ----- torch.*'s older spellings ----------------------------------------------------------------------
def inverse(input):
    """torch.inverse: linalg.inv."""
    return inv(input)


def cholesky_legacy(input, upper=False):
    """torch.cholesky (deprecated there): linalg.cholesky with ``upper`` positional."""
    return cholesky(input, upper=upper)


SVDLegacyResult = namedtuple("svd", ["U", "S", "V"])


def svd_legacy(input, some=True, compute_uv=True):
    """torch.svd (deprecated there): (U, S, V) with V = Vhᵀ (not Vh); ``some=True``: the reduced SVD;
    ``compute_uv=False``: U (*, m, m) and V (*, n, n) are zero matrices."""
    if not compute_uv:
        _float_matrices("svd", input)
        m, n = input.shape[-2:]
        zeros = lambda k: Tensor(np.zeros(input.shape[:-2] + (k, k), input.dtype))
        return SVDLegacyResult(zeros(m), svdvals(input), zeros(n))
    U, S, Vh = svd(input, full_matrices=not some)
    return SVDLegacyResult(U, S, shape_ops.transpose(Vh, -1, -2))


def qr_legacy(input, some=True):
    """torch.qr (deprecated there): linalg.qr with mode 'reduced' (``some=True``) or 'complete'."""
    return qr(input, mode="reduced" if some else "complete")
