"""chainrule.ops.index against torch: gather scatter scatter_add scatter_reduce index_select index_add
index_fill index_copy take take_along_dim masked_fill masked_scatter — forward and the gradient of every
input over drawn shapes, dims and indices (repeated indices included where the result is defined) in
float64 (float32 kept), the method forms and the errors."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
from tests.parity import assert_parity

SETTINGS = settings(max_examples=25, deadline=None)
SEEDS = st.integers(0, 2**32 - 1)
SHAPES = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def normal(shape, seed, dtype=np.float64):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


@st.composite
def gather_case(draw, unique=False):
    """An input shape, a dim, and an index no larger than the input apart from dim (entries in range);
    ``unique``: no two entries of the index name the same place (scatter's result is then defined)."""
    shape = draw(SHAPES)
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    axis = dim % len(shape)
    ishape = [draw(st.integers(1, s)) for s in shape]
    rng = np.random.default_rng(draw(SEEDS))
    if unique:
        ishape[axis] = draw(st.integers(1, shape[axis]))
        index = np.argsort(rng.random(tuple(ishape[:axis]) + (shape[axis],) + tuple(ishape[axis + 1:])), axis=axis)
        index = np.take(index, np.arange(ishape[axis]), axis=axis)
    else:
        ishape[axis] = draw(st.integers(1, 5))
        index = rng.integers(0, shape[axis], ishape)
    return shape, dim, index


def t(a):
    return cr.tensor(a)


def tt(a):
    return torch.tensor(a)


# ----- gather / scatter ----------------------------------------------------------------------------
@SETTINGS
@given(case=gather_case(), seed=SEEDS)
def test_gather_parity(case, seed):
    shape, dim, index = case
    x = normal(shape, seed)
    assert_parity(lambda a: cr.gather(a, dim, t(index)), lambda a: torch.gather(a, dim, tt(index)), x)
    assert_parity(lambda a: a.gather(dim, t(index)), lambda a: a.gather(dim, tt(index)), x)


@SETTINGS
@given(case=gather_case(unique=True), seed=SEEDS, extra=st.integers(1, 2))
def test_scatter_parity_with_a_tensor_and_a_number(case, seed, extra):
    shape, dim, index = case
    x = normal(shape, seed)
    src = normal(index.shape, seed + 1)
    assert_parity(lambda a, s: cr.scatter(a, dim, t(index), s), lambda a, s: torch.scatter(a, dim, tt(index), s), x, src)
    larger = normal(tuple(n + extra for n in index.shape), seed + 1)  # src may be larger than index (torch's
    assert_parity(lambda a, s: cr.scatter(a, dim, t(index), s),  # backward then fails: forward only)
                  lambda a, s: torch.scatter(a, dim, tt(index), s), x, larger, grad=False)
    assert_parity(lambda a, s: a.scatter(dim, t(index), s), lambda a, s: a.scatter(dim, tt(index), s), x, src)
    assert_parity(lambda a: cr.scatter(a, dim, t(index), 2.5), lambda a: torch.scatter(a, dim, tt(index), 2.5), x)
    assert_parity(lambda a: a.scatter(dim, t(index), value=-1.0), lambda a: a.scatter(dim, tt(index), value=-1.0), x)


@SETTINGS
@given(case=gather_case(), seed=SEEDS)
def test_scatter_add_parity(case, seed):
    shape, dim, index = case
    x, src = normal(shape, seed), normal(index.shape, seed + 1)
    assert_parity(lambda a, s: cr.scatter_add(a, dim, t(index), s), lambda a, s: torch.scatter_add(a, dim, tt(index), s),
                  x, src)
    assert_parity(lambda a, s: a.scatter_add(dim, t(index), s), lambda a, s: a.scatter_add(dim, tt(index), s), x, src)


def zeros_and_ties(shape, seed):
    """Values from {−1, 0, 0.5, 2}: zeros (for prod) and ties (for amax/amin) are common."""
    return np.random.default_rng(seed).choice([-1.0, 0.0, 0.5, 2.0], shape)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@SETTINGS
@given(case=gather_case(), seed=SEEDS, include_self=st.booleans(), tied=st.booleans())
def test_scatter_reduce_parity(reduce, case, seed, include_self, tied):
    shape, dim, index = case
    # amax/amin without self and self tied with src: torch still counts self among the ties (see below)
    make = zeros_and_ties if tied and (include_self or reduce not in ("amax", "amin")) else normal
    x, src = make(shape, seed), make(index.shape, seed + 1)
    assert_parity(lambda a, s: cr.scatter_reduce(a, dim, t(index), s, reduce, include_self=include_self),
                  lambda a, s: torch.scatter_reduce(a, dim, tt(index), s, reduce, include_self=include_self), x, src)
    assert_parity(lambda a, s: a.scatter_reduce(dim, t(index), s, reduce=reduce, include_self=include_self),
                  lambda a, s: a.scatter_reduce(dim, tt(index), s, reduce=reduce, include_self=include_self), x, src)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_of_integers(reduce):
    x, index, src = np.array([-1, 2, 3]), np.array([0, 0, 1, 1, 0]), np.array([-4, -5, 7, 2, 1])
    for include_self in (True, False):
        ours = cr.scatter_reduce(t(x), 0, t(index), t(src), reduce, include_self=include_self)
        theirs = torch.scatter_reduce(tt(x), 0, tt(index), tt(src), reduce, include_self=include_self)
        assert ours.dtype == np.int64
        np.testing.assert_array_equal(ours.data, theirs.numpy())  # mean rounds down, as torch


def test_scatter_reduce_amax_without_self_gives_the_whole_gradient_to_the_tied_src():
    # Deviation from torch 2.13, which shares g between src and the left-out self entry (then zeroes the
    # self part): src would get g/2 and half the gradient be lost. Here only operands share it.
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    src = cr.tensor([2.0, 0.5], requires_grad=True)
    cr.scatter_reduce(x, 0, t([1, 0]), src, "amax", include_self=False).backward(cr.tensor([1.0, 1.0]))
    np.testing.assert_array_equal(src.grad.data, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_with_reduce_add_and_multiply():
    x, index, src = normal((2, 3), 0), np.array([[0, 0, 2]]), normal((1, 3), 1)
    for reduce in ("add", "multiply"):
        ours = cr.scatter(t(x), 1, t(index), t(src), reduce=reduce)
        theirs = torch.scatter(tt(x), 1, tt(index), tt(src), reduce=reduce)
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12)
        np.testing.assert_allclose(cr.scatter(t(x), 1, t(index), 2.0, reduce=reduce).data,
                                   torch.scatter(tt(x), 1, tt(index), 2.0, reduce=reduce).numpy(), rtol=1e-12)


# ----- index_* ---------------------------------------------------------------------------------------
@st.composite
def slice_case(draw, unique=False):
    shape = draw(SHAPES)
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[dim % len(shape)]
    rng = np.random.default_rng(draw(SEEDS))
    index = rng.permutation(n)[: draw(st.integers(1, n))] if unique else rng.integers(0, n, draw(st.integers(1, 5)))
    return shape, dim, index


def with_dim(shape, dim, n):
    shape = list(shape)
    shape[dim] = n
    return tuple(shape)


@SETTINGS
@given(case=slice_case(), seed=SEEDS)
def test_index_select_parity(case, seed):
    shape, dim, index = case
    x = normal(shape, seed)
    assert_parity(lambda a: cr.index_select(a, dim, t(index)), lambda a: torch.index_select(a, dim, tt(index)), x)
    assert_parity(lambda a: a.index_select(dim, t(index)), lambda a: a.index_select(dim, tt(index)), x)


@SETTINGS
@given(case=slice_case(), seed=SEEDS, alpha=st.sampled_from([1, -0.5, 2.0]))
def test_index_add_parity(case, seed, alpha):
    shape, dim, index = case
    x, src = normal(shape, seed), normal(with_dim(shape, dim, len(index)), seed + 1)
    assert_parity(lambda a, s: cr.index_add(a, dim, t(index), s, alpha=alpha),
                  lambda a, s: torch.index_add(a, dim, tt(index), s, alpha=alpha), x, src)
    assert_parity(lambda a, s: a.index_add(dim, t(index), s), lambda a, s: a.index_add(dim, tt(index), s), x, src)


@SETTINGS
@given(case=slice_case(unique=True), seed=SEEDS)
def test_index_copy_parity(case, seed):
    shape, dim, index = case
    x, src = normal(shape, seed), normal(with_dim(shape, dim, len(index)), seed + 1)
    assert_parity(lambda a, s: cr.index_copy(a, dim, t(index), s), lambda a, s: torch.index_copy(a, dim, tt(index), s),
                  x, src)
    assert_parity(lambda a, s: a.index_copy(dim, t(index), s), lambda a, s: a.index_copy(dim, tt(index), s), x, src)


@SETTINGS
@given(case=slice_case(), seed=SEEDS)
def test_index_fill_parity_with_a_number_and_a_0d_tensor(case, seed):
    shape, dim, index = case
    x = normal(shape, seed)
    assert_parity(lambda a: cr.index_fill(a, dim, t(index), -2.0), lambda a: torch.index_fill(a, dim, tt(index), -2.0), x)
    assert_parity(lambda a, v: a.index_fill(dim, t(index), v), lambda a, v: a.index_fill(dim, tt(index), v),
                  x, np.array(1.5))


def test_index_ops_of_integers_and_0d_inputs():
    x = np.array([[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(cr.index_fill(t(x), 1, t([0, 2]), 2.7).data,
                                  torch.index_fill(tt(x), 1, tt([0, 2]), 2.7).numpy())  # truncated to int, as torch
    assert cr.index_select(t(np.array(3.0)), 0, t([0])).shape == torch.index_select(tt(np.array(3.0)), 0, tt([0])).shape
    assert_parity(lambda a: cr.index_select(a, 0, t(np.array(1))), lambda a: torch.index_select(a, 0, tt(np.array(1))),
                  normal((3, 2), 0))


# ----- take / take_along_dim -------------------------------------------------------------------------
@SETTINGS
@given(shape=SHAPES, ishape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4), seed=SEEDS)
def test_take_parity(shape, ishape, seed):
    x = normal(shape, seed)
    n = x.size
    index = np.random.default_rng(seed).integers(-n, n, ishape)  # negative indices count from the end
    assert_parity(lambda a: cr.take(a, t(index)), lambda a: torch.take(a, tt(index)), x)
    assert_parity(lambda a: a.take(t(index)), lambda a: a.take(tt(index)), x)


@SETTINGS
@given(shape=SHAPES, seed=SEEDS, data=st.data())
def test_take_along_dim_parity_with_broadcasting(shape, seed, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    axis = dim % len(shape)
    # every other dim: equal sizes, or 1 on either side (broadcast)
    sides = [data.draw(st.sampled_from(["same", "input 1", "index 1"])) for _ in shape]
    xshape = tuple(1 if side == "input 1" and d != axis else s for d, (s, side) in enumerate(zip(shape, sides)))
    ishape = tuple(data.draw(st.integers(1, 4)) if d == axis else 1 if side == "index 1" else s
                   for d, (s, side) in enumerate(zip(shape, sides)))
    rng = np.random.default_rng(seed)
    index = rng.integers(-shape[axis], shape[axis], ishape)  # negative indices count from the end
    x = normal(xshape, seed)
    assert_parity(lambda a: cr.take_along_dim(a, t(index), dim), lambda a: torch.take_along_dim(a, tt(index), dim), x)
    assert_parity(lambda a: a.take_along_dim(t(index), dim=dim), lambda a: a.take_along_dim(tt(index), dim=dim), x)
    flat = rng.integers(0, x.size, ishape)
    assert_parity(lambda a: cr.take_along_dim(a, t(flat)), lambda a: torch.take_along_dim(a, tt(flat)), x)


def test_take_along_dim_of_argsort_sorts():
    x = normal((3, 5), 2)
    assert_parity(lambda a: cr.take_along_dim(a, cr.argsort(a, 1), 1),
                  lambda a: torch.take_along_dim(a, torch.argsort(a, 1), 1), x)


# ----- masked_fill / masked_scatter -----------------------------------------------------------------
@SETTINGS
@given(shape=SHAPES, seed=SEEDS, data=st.data())
def test_masked_fill_parity_with_broadcasting(shape, seed, data):
    mask_shape = tuple(s if data.draw(st.booleans()) else 1 for s in shape)
    mask = np.random.default_rng(seed).random((2,) * data.draw(st.integers(0, 1)) + mask_shape) < 0.5
    x = normal(shape, seed)
    assert_parity(lambda a: cr.masked_fill(a, t(mask), 0.5), lambda a: torch.masked_fill(a, tt(mask), 0.5), x)
    assert_parity(lambda a, v: a.masked_fill(t(mask), v), lambda a, v: a.masked_fill(tt(mask), v), x, np.array(-3.0))


@SETTINGS
@given(shape=SHAPES, seed=SEEDS, extra=st.integers(0, 3), data=st.data())
def test_masked_scatter_parity(shape, seed, extra, data):
    mask_shape = tuple(s if data.draw(st.booleans()) else 1 for s in shape)
    mask = np.random.default_rng(seed).random(mask_shape) < 0.5
    x = normal(shape, seed)
    source = normal((int(np.broadcast_to(mask, shape).sum()) + extra,), seed + 1)
    assert_parity(lambda a, s: cr.masked_scatter(a, t(mask), s), lambda a, s: torch.masked_scatter(a, tt(mask), s),
                  x, source)
    assert_parity(lambda a, s: a.masked_scatter(t(mask), s), lambda a, s: a.masked_scatter(tt(mask), s), x, source)


def test_masked_fill_of_integers_truncates_the_value():
    np.testing.assert_array_equal(cr.masked_fill(t([1, 2, 3]), t([True, False, True]), 2.7).data, [2, 2, 2])


# ----- float32, finite differences, errors ---------------------------------------------------------------
def test_float32_keeps_its_dtype():
    x, src = normal((3, 4), 0, np.float32), normal((3, 4), 1, np.float32)
    index = np.array([[0, 1, 2, 0], [2, 2, 1, 0], [1, 0, 0, 2]])
    cases = [
        (lambda a, s: cr.gather(a, 0, t(index)) * s, lambda a, s: torch.gather(a, 0, tt(index)) * s),
        (lambda a, s: cr.scatter_reduce(a, 0, t(index), s, "amax"), lambda a, s: torch.scatter_reduce(a, 0, tt(index), s, "amax")),
        (lambda a, s: cr.index_add(a, 1, t([3, 0, 0, 1]), s), lambda a, s: torch.index_add(a, 1, tt([3, 0, 0, 1]), s)),
        (lambda a, s: cr.masked_scatter(a, t(index == 0), s), lambda a, s: torch.masked_scatter(a, tt(index == 0), s)),
    ]
    for ours, theirs in cases:
        assert assert_parity(ours, theirs, x, src).dtype == np.float32


def test_finite_differences():
    x = cr.tensor(zeros_and_ties((3, 4), 5) + normal((3, 4), 5) * 0.1, requires_grad=True)
    src = cr.tensor(normal((2, 4), 6), requires_grad=True)
    index = t(np.array([[0, 0, 2, 1], [0, 1, 2, 2]]))
    assert cr.gradcheck(lambda a, s: cr.scatter_reduce(a, 0, index, s, "prod"), (x, src))
    assert cr.gradcheck(lambda a, s: cr.scatter_reduce(a, 0, index, s, "mean", include_self=False), (x, src))
    assert cr.gradcheck(lambda a: cr.gather(a, 0, index), (x,))
    assert cr.gradcheck(lambda a, s: cr.index_add(a, 0, t([2, 2]), s, alpha=0.5), (x, src))


def test_scatter_reduce_prod_gradient_is_exact_with_zeros():
    # place 0 gets operands 2 (self), 0 and 3: d/d(the zero) = 2·3 = 6, the others 0; place 1 gets 0 (self), 0, 5
    x = cr.tensor([2.0, 0.0], requires_grad=True)
    src = cr.tensor([0.0, 3.0, 0.0, 5.0], requires_grad=True)
    cr.scatter_reduce(x, 0, t([0, 0, 1, 1]), src, "prod").sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])
    np.testing.assert_array_equal(src.grad.data, [6.0, 0.0, 0.0, 0.0])


def test_errors():
    x = cr.tensor([[0.0, 1.0], [2.0, 3.0]])
    with pytest.raises(IndexError, match=r"gather: index 2 is out of bounds for dimension 1 with size 2"):
        cr.gather(x, 1, t([[2]]))
    with pytest.raises(RuntimeError, match=r"gather: index of shape \(1,\) must have as many dimensions as the input"):
        cr.gather(x, 1, t([1]))
    with pytest.raises(RuntimeError, match=r"gather: expected an integer \(int64\) tensor for index, got dtype float"):
        cr.gather(x, 1, t([[1.0]]))
    with pytest.raises(IndexError, match=r"gather: dim 2 out of range"):
        cr.gather(x, 2, t([[0]]))
    with pytest.raises(RuntimeError, match=r"scatter: expected the input's dtype \(float32\) to be equal to src's \(int64\)"):
        cr.scatter(x, 1, t([[0]]), t([[1]]))
    with pytest.raises(RuntimeError, match=r"scatter_add: index of shape \(1, 3\) must be no larger than the input"):
        cr.scatter_add(x, 0, t([[0, 1, 0]]), t([[1.0, 1.0, 1.0]]))
    with pytest.raises(RuntimeError, match=r"scatter_reduce: index of shape \(1, 2\) must be no larger than src"):
        cr.scatter_reduce(x, 0, t([[0, 1]]), t([[1.0]]), "sum")
    with pytest.raises(RuntimeError, match=r"scatter_reduce: reduce argument must be .* got 'max'"):
        cr.scatter_reduce(x, 0, t([[0]]), t([[1.0]]), "max")
    with pytest.raises(TypeError, match=r"scatter: give exactly one of src"):
        cr.scatter(x, 0, t([[0]]))
    with pytest.raises(IndexError, match=r"index_select: index 2 is out of range for dimension 0 with size 2"):
        cr.index_select(x, 0, t([2]))
    with pytest.raises(IndexError, match=r"index_select: index is supposed to be a vector, got shape \(1, 1\)"):
        x.index_select(0, t([[0]]))
    with pytest.raises(RuntimeError, match=r"index_add: source of shape \(1, 3\) must have shape \(1, 2\)"):
        cr.index_add(x, 0, t([0]), t([[1.0, 2.0, 3.0]]))
    with pytest.raises(IndexError, match=r"index_copy: number of indices \(2\) should be equal to source.size\(dim\) \(1\)"):
        cr.index_copy(x, 0, t([0, 1]), t([[1.0, 2.0]]))
    with pytest.raises(RuntimeError, match=r"index_fill: only supports a 0-dimensional value tensor, but got a tensor"):
        cr.index_fill(x, 1, t([0]), t([1.0, 2.0]))
    with pytest.raises(IndexError, match=r"take: out of range: tried to access index 4 on a tensor of 4 elements"):
        cr.take(x, t([4]))
    with pytest.raises(RuntimeError, match=r"take_along_dim: input and indices should have the same number of dim"):
        cr.take_along_dim(x, t([0]), 1)
    with pytest.raises(RuntimeError, match=r"masked_fill: only supports boolean masks, but got mask with dtype int64"):
        cr.masked_fill(x, t([1, 0]), 0.0)
    with pytest.raises(RuntimeError, match=r"masked_fill: the input's shape \(2, 2\) and the mask's \(3,\) are not"):
        x.masked_fill(t([True, False, True]), 0.0)
    with pytest.raises(RuntimeError, match=r"masked_scatter: number of elements of source \(1\) < number of ones in"):
        cr.masked_scatter(x, t([True, True]), t([1.0]))
