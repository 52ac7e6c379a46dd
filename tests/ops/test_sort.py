"""chainrule.ops.sort against torch: sort argsort topk kthvalue median mode unique nonzero where(cond)
masked_select searchsorted bucketize — values, indices and gradients over drawn shapes and dims in
float64 (float32 kept), ties (stable order), NaN, 0-d and empty inputs, the method forms and the errors.

Where torch leaves the index among ties unspecified (kthvalue, median along a dim, topk), indices are
compared on tie-free data only; sort and argsort are compared with ``stable=True`` on tied data."""

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


@st.composite
def shape_and_dim(draw, min_dims=0, min_side=1):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=4, min_side=min_side, max_side=5))
    span = max(len(shape), 1)
    return shape, draw(st.integers(-span, span - 1))


def distinct(shape, seed, dtype=np.float64):
    """A random permutation of 0..n−1 (shifted): no ties anywhere."""
    n = int(np.prod(shape))
    return np.asarray(np.random.default_rng(seed).permutation(n).reshape(shape) - n / 2, dtype=dtype)


def ties(shape, seed):
    return np.asarray(np.random.default_rng(seed).integers(-2, 3, shape), dtype=np.float64)


def same(ours, theirs):
    assert ours.shape == tuple(theirs.shape) and ours.dtype == theirs.numpy().dtype
    np.testing.assert_array_equal(ours.data, theirs.numpy())


# ----- sort / argsort ------------------------------------------------------------------------------
@SETTINGS
@given(case=shape_and_dim(min_side=0), seed=SEEDS, descending=st.booleans(), tied=st.booleans())
def test_sort_parity(case, seed, descending, tied):
    shape, dim = case
    x = ties(shape, seed) if tied else distinct(shape, seed)
    ours = cr.sort(cr.tensor(x), dim, descending, stable=True)
    theirs = torch.sort(torch.tensor(x), dim=dim, descending=descending, stable=True)
    same(ours.indices, theirs.indices)
    same(cr.argsort(cr.tensor(x), dim, descending), torch.argsort(torch.tensor(x), dim=dim, descending=descending, stable=True))
    assert_parity(lambda t: cr.sort(t, dim, descending).values,
                  lambda t: torch.sort(t, dim=dim, descending=descending, stable=True).values, x)
    assert_parity(lambda t: t.sort(dim=dim, descending=descending)[0],
                  lambda t: t.sort(dim=dim, descending=descending, stable=True)[0], x)
    same(cr.tensor(x).argsort(dim, descending=descending),
         torch.tensor(x).argsort(dim=dim, descending=descending, stable=True))


def test_sort_puts_nan_last_ascending_and_first_descending():
    x = np.array([1.0, np.nan, -3.0, np.nan, 2.0])
    for descending in (False, True):
        ours = cr.sort(cr.tensor(x), descending=descending)
        theirs = torch.sort(torch.tensor(x), descending=descending, stable=True)
        np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())
        same(ours.indices, theirs.indices)


@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.bool_])
def test_sort_integer_and_bool(dtype):
    x = np.array([[3, 0, 1, 1], [0, 2, 2, 1]]).astype(dtype)
    for descending in (False, True):
        ours = cr.tensor(x).sort(1, descending)
        theirs = torch.tensor(x).sort(dim=1, descending=descending, stable=True)
        same(ours.values, theirs.values)
        same(ours.indices, theirs.indices)


# ----- topk / kthvalue / median / mode -------------------------------------------------------------
@SETTINGS
@given(case=shape_and_dim(), seed=SEEDS, largest=st.booleans(), data=st.data())
def test_topk_parity(case, seed, largest, data):
    shape, dim = case
    n = shape[dim] if shape else 1
    k = data.draw(st.integers(0, n))
    x = distinct(shape, seed)
    ours, theirs = cr.topk(cr.tensor(x), k, dim, largest), torch.topk(torch.tensor(x), k, dim, largest)
    same(ours.indices, theirs.indices)
    assert_parity(lambda t: cr.topk(t, k, dim, largest).values, lambda t: torch.topk(t, k, dim, largest).values, x)
    assert_parity(lambda t: t.topk(k, dim=dim, largest=largest, sorted=True)[0],
                  lambda t: t.topk(k, dim=dim, largest=largest, sorted=True)[0], x)


@SETTINGS
@given(case=shape_and_dim(), seed=SEEDS, keepdim=st.booleans(), data=st.data())
def test_kthvalue_parity(case, seed, keepdim, data):
    shape, dim = case
    k = data.draw(st.integers(1, shape[dim] if shape else 1))
    x = distinct(shape, seed)
    same(cr.kthvalue(cr.tensor(x), k, dim, keepdim).indices, torch.kthvalue(torch.tensor(x), k, dim, keepdim).indices)
    assert_parity(lambda t: cr.kthvalue(t, k, dim, keepdim).values,
                  lambda t: torch.kthvalue(t, k, dim, keepdim).values, x)
    assert_parity(lambda t: t.kthvalue(k, dim, keepdim=keepdim)[0], lambda t: t.kthvalue(k, dim, keepdim=keepdim)[0], x)


@SETTINGS
@given(case=shape_and_dim(), seed=SEEDS, keepdim=st.booleans())
def test_median_along_a_dim_parity(case, seed, keepdim):
    shape, dim = case
    x = distinct(shape, seed)
    same(cr.median(cr.tensor(x), dim, keepdim).indices, torch.median(torch.tensor(x), dim, keepdim).indices)
    assert_parity(lambda t: cr.median(t, dim, keepdim).values, lambda t: torch.median(t, dim, keepdim).values, x)
    assert_parity(lambda t: t.median(dim, keepdim=keepdim)[0], lambda t: t.median(dim, keepdim=keepdim)[0], x)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=5), seed=SEEDS, tied=st.booleans())
def test_median_of_all_entries_is_the_lower_median_with_gradient_shared_among_ties(shape, seed, tied):
    x = ties(shape, seed) if tied else distinct(shape, seed)
    assert_parity(lambda t: cr.median(t), lambda t: torch.median(t), x)
    assert_parity(lambda t: t.median(), lambda t: t.median(), x)


def test_median_with_nan_is_nan_at_the_first_nan():
    x = np.array([[1.0, np.nan, 3.0, np.nan], [4.0, 2.0, 1.0, 3.0]])
    ours, theirs = cr.median(cr.tensor(x), 1), torch.median(torch.tensor(x), 1)
    np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())
    same(ours.indices, theirs.indices)
    assert_parity(lambda t: cr.median(t), lambda t: torch.median(t), x)  # NaN; gradient shared among the NaNs


@SETTINGS
@given(case=shape_and_dim(), seed=SEEDS, keepdim=st.booleans())
def test_mode_parity(case, seed, keepdim):
    shape, dim = case
    x = ties(shape, seed)
    ours, theirs = cr.mode(cr.tensor(x), dim, keepdim), torch.mode(torch.tensor(x), dim, keepdim)
    same(ours.indices, theirs.indices)  # the smallest of the most frequent values, at its last position
    assert_parity(lambda t: cr.mode(t, dim, keepdim).values, lambda t: torch.mode(t, dim, keepdim).values, x)
    same(cr.tensor(x.astype(np.int64)).mode(dim, keepdim)[0], torch.tensor(x.astype(np.int64)).mode(dim, keepdim)[0])


@pytest.mark.parametrize("op", ["sort", "topk", "kthvalue", "median", "mode"])
def test_float32_keeps_its_dtype(op):
    x = distinct((3, 4), 0, np.float32)
    args = {"topk": (2,), "kthvalue": (2,)}.get(op, ())
    out = assert_parity(lambda t: getattr(cr, op)(t, *args, dim=1).values,
                        lambda t: getattr(torch, op)(t, *args, dim=1).values, x)
    assert out.dtype == np.float32


def test_zero_dim_inputs():
    x = np.array(2.5)
    for op, args in [("sort", ()), ("topk", (1,)), ("kthvalue", (1,)), ("median", (0,)), ("mode", (0,))]:
        ours, theirs = getattr(cr, op)(cr.tensor(x), *args), getattr(torch, op)(torch.tensor(x), *args)
        same(ours.values, theirs.values)
        same(ours.indices, theirs.indices)
    same(cr.argsort(cr.tensor(x)), torch.argsort(torch.tensor(x)))


def test_finite_differences():
    x = cr.tensor(distinct((3, 4), 1) / 3, requires_grad=True)
    assert cr.gradcheck(lambda t: cr.sort(t, 1, True).values, (x,))
    assert cr.gradcheck(lambda t: cr.topk(t, 2, 0).values, (x,))
    assert cr.gradcheck(lambda t: cr.median(t), (x,))
    assert cr.gradcheck(lambda t: cr.masked_select(t, cr.tensor(np.arange(4) % 2 == 0)), (x,))


# ----- unique / nonzero / where / masked_select ------------------------------------------------------
@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5), seed=SEEDS,
       inverse=st.booleans(), counts=st.booleans())
def test_unique_parity(shape, seed, inverse, counts):
    x = ties(shape, seed).astype(np.int64)
    ours = cr.unique(cr.tensor(x), return_inverse=inverse, return_counts=counts)
    theirs = torch.unique(torch.tensor(x), return_inverse=inverse, return_counts=counts)
    ours, theirs = (ours, theirs) if isinstance(ours, tuple) else ((ours,), (theirs,))
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        same(o, t)
    same(cr.tensor(x).unique(sorted=True), torch.tensor(x).unique(sorted=True))


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4), seed=SEEDS)
def test_nonzero_and_where_parity(shape, seed):
    x = ties(shape, seed)
    same(cr.nonzero(cr.tensor(x)), torch.nonzero(torch.tensor(x)))
    same(cr.tensor(x).nonzero(), torch.tensor(x).nonzero())
    ours, theirs = cr.nonzero(cr.tensor(x), as_tuple=True), torch.nonzero(torch.tensor(x), as_tuple=True)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        same(o, t)
    for o, t in zip(cr.where(cr.tensor(x > 0)), torch.where(torch.tensor(x > 0))):
        same(o, t)


def test_where_with_three_arguments_is_still_elementwise():
    cond = np.array([True, False, True])
    assert_parity(lambda a, b: cr.where(cr.tensor(cond), a, b), lambda a, b: torch.where(torch.tensor(cond), a, b),
                  np.array([1.0, 2.0, 3.0]), np.array([[4.0], [5.0]]))
    with pytest.raises(TypeError, match=r"where: give both input and other, or neither"):
        cr.where(cr.tensor(cond), cr.tensor([1.0, 2.0, 3.0]))


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4), seed=SEEDS, data=st.data())
def test_masked_select_parity_with_broadcasting(shape, seed, data):
    # the mask may have a broadcast shape of its own: drop leading dims, set some sides to 1
    mask_shape = tuple(s if data.draw(st.booleans()) else 1 for s in shape[data.draw(st.integers(0, len(shape))):])
    mask = np.random.default_rng(seed).random(mask_shape) < 0.5
    x = distinct(shape, seed)
    assert_parity(lambda t: cr.masked_select(t, cr.tensor(mask)), lambda t: torch.masked_select(t, torch.tensor(mask)), x)
    assert_parity(lambda t: t.masked_select(cr.tensor(mask)), lambda t: t.masked_select(torch.tensor(mask)), x)
    # the input broadcast up to the mask's shape
    big = np.random.default_rng(seed + 1).random((2,) + shape) < 0.5
    assert_parity(lambda t: cr.masked_select(t, cr.tensor(big)), lambda t: torch.masked_select(t, torch.tensor(big)), x)


# ----- searchsorted / bucketize --------------------------------------------------------------------
@SETTINGS
@given(n=st.integers(1, 6), values=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4), seed=SEEDS,
       right=st.booleans(), out_int32=st.booleans())
def test_searchsorted_and_bucketize_with_a_1d_sequence(n, values, seed, right, out_int32):
    rng = np.random.default_rng(seed)
    seq = np.sort(rng.integers(-3, 4, n)).astype(np.float64)  # repeats: left and right differ
    v = rng.integers(-4, 5, values).astype(np.float64)
    kw = {"right": right, "out_int32": out_int32}
    same(cr.searchsorted(cr.tensor(seq), cr.tensor(v), **kw), torch.searchsorted(torch.tensor(seq), torch.tensor(v), **kw))
    side = "right" if right else "left"
    same(cr.searchsorted(cr.tensor(seq), cr.tensor(v), side=side),
         torch.searchsorted(torch.tensor(seq), torch.tensor(v), side=side))
    same(cr.bucketize(cr.tensor(v), cr.tensor(seq), **kw), torch.bucketize(torch.tensor(v), torch.tensor(seq), **kw))


def test_searchsorted_with_rows_a_sorter_and_a_number():
    seq = np.array([[1.0, 3.0, 5.0, 7.0], [0.0, 0.0, 2.0, 9.0]])
    v = np.array([[3.0, 6.0, 8.0], [0.0, 1.0, 10.0]])
    for right in (False, True):
        same(cr.searchsorted(cr.tensor(seq), cr.tensor(v), right=right),
             torch.searchsorted(torch.tensor(seq), torch.tensor(v), right=right))
    unsorted, sorter = np.array([5.0, 1.0, 3.0]), np.array([1, 2, 0])
    same(cr.searchsorted(cr.tensor(unsorted), cr.tensor([3.0, 4.0]), sorter=cr.tensor(sorter)),
         torch.searchsorted(torch.tensor(unsorted), torch.tensor([3.0, 4.0]), sorter=torch.tensor(sorter)))
    same(cr.searchsorted(cr.tensor([1.0, 3.0, 5.0]), 3.5), torch.searchsorted(torch.tensor([1.0, 3.0, 5.0]), 3.5))
    same(cr.bucketize(3.0, cr.tensor([1.0, 3.0, 5.0]), right=True), torch.bucketize(3.0, torch.tensor([1.0, 3.0, 5.0]),
                                                                                       right=True))


def test_searchsorted_is_outside_the_graph():
    seq = cr.tensor([1.0, 2.0], requires_grad=True)
    out = cr.searchsorted(seq, cr.tensor([1.5], requires_grad=True))
    assert out.dtype == np.int64 and not out.requires_grad


# ----- errors ------------------------------------------------------------------------------------------
def test_errors():
    x = cr.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(IndexError, match=r"sort: dim 2 out of range for a tensor with 2 dims"):
        cr.sort(x, 2)
    with pytest.raises(RuntimeError, match=r"topk: selected index k out of range: k = 4 for dim -1 of size 3"):
        cr.topk(x, 4)
    with pytest.raises(RuntimeError, match=r"kthvalue: selected number k out of range: k = 0 .* expected 1 ≤ k ≤ 3"):
        x.kthvalue(0)
    with pytest.raises(IndexError, match=r"median: expected reduction dim 1 of the input of shape \(2, 0\) to have"):
        cr.median(cr.zeros(2, 0), 1)
    with pytest.raises(IndexError, match=r"mode: expected reduction dim -1 of the input of shape \(0,\) to have non-zero size"):
        cr.mode(cr.zeros(0))
    with pytest.raises(NotImplementedError, match=r"unique: dim=0 .* is not supported"):
        cr.unique(x, dim=0)
    with pytest.raises(RuntimeError, match=r"masked_select: expected a bool mask, got dtype int64"):
        cr.masked_select(x, cr.tensor([1, 0, 1]))
    with pytest.raises(RuntimeError, match=r"masked_select: the input's shape \(2, 3\) and the mask's \(2,\) are not"):
        cr.masked_select(x, cr.tensor([True, False]))
    with pytest.raises(RuntimeError, match=r"searchsorted: side and right can't be set to opposites"):
        cr.searchsorted(cr.tensor([1.0]), cr.tensor([1.0]), side="left", right=True)
    with pytest.raises(RuntimeError, match=r"searchsorted: side can only be 'left' or 'right', got 'middle'"):
        cr.searchsorted(cr.tensor([1.0]), cr.tensor([1.0]), side="middle")
    with pytest.raises(RuntimeError, match=r"searchsorted: sorted_sequence should be 1-D or have the leading dims"):
        cr.searchsorted(cr.tensor([[1.0, 2.0]]), cr.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match=r"bucketize: boundaries must be 1-D, got shape \(1, 2\)"):
        cr.bucketize(cr.tensor([1.0]), cr.tensor([[1.0, 2.0]]))
    with pytest.raises(TypeError, match=r"sort: expected a Tensor as input, got list"):
        cr.sort([1.0, 2.0])
