"""chainrule.ops.shape against torch: reshape/view flatten squeeze unsqueeze transpose permute .T
expand/broadcast_to, indexing (basic, advanced, boolean, mixed), cat stack split chunk and constant pad
— forward and gradient in float64 and float32, finite differences and error messages."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import chainrule as cr
import chainrule.nn.functional as F
from tests.parity import assert_parity

SETTINGS = settings(max_examples=25, deadline=None)
SEEDS = st.integers(0, 2**32 - 1)
SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4)


def normal(shape, seed, dtype=np.float64):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


# ----- reshape / view / flatten -------------------------------------------------------------------
@st.composite
def reshape_case(draw):
    """A shape and another of the same size: its sides shuffled, some merged, a 1 maybe inserted, and
    one side maybe written as -1."""
    shape = draw(SHAPES)
    sides = draw(st.permutations(list(shape)))
    target = []
    for s in sides:
        if target and draw(st.booleans()):
            target[-1] *= s
        else:
            target.append(s)
    if draw(st.booleans()):
        target.insert(draw(st.integers(0, len(target))), 1)
    if target and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return shape, tuple(target)


@SETTINGS
@given(case=reshape_case(), seed=SEEDS)
def test_reshape_and_view_parity(case, seed):
    shape, target = case
    x = normal(shape, seed)
    assert_parity(lambda t: t.reshape(target), lambda t: t.reshape(target), x)
    if target:  # torch's x.reshape() wants at least one size
        assert_parity(lambda t: t.reshape(*target), lambda t: t.reshape(*target), x)
        assert_parity(lambda t: t.view(*target), lambda t: t.view(*target), x)
    assert_parity(lambda t: cr.reshape(t, target), lambda t: torch.reshape(t, target), x)


def test_reshape_of_a_permuted_tensor():
    x = normal((2, 3, 4), 0)
    assert_parity(lambda t: t.permute(2, 0, 1).reshape(4, -1), lambda t: t.permute(2, 0, 1).reshape(4, -1), x)


@st.composite
def flatten_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=5, max_side=3))
    nd = len(shape)
    start = draw(st.integers(0, nd - 1))
    end = draw(st.integers(start, nd - 1))
    start -= nd * draw(st.booleans())
    end -= nd * draw(st.booleans())
    return shape, start, end


@SETTINGS
@given(case=flatten_case(), seed=SEEDS)
def test_flatten_parity(case, seed):
    shape, start, end = case
    x = normal(shape, seed)
    assert_parity(lambda t: t.flatten(start, end), lambda t: t.flatten(start, end), x)
    assert_parity(lambda t: cr.flatten(t, start, end), lambda t: torch.flatten(t, start, end), x)
    assert_parity(lambda t: t.flatten(), lambda t: t.flatten(), x)


def test_flatten_of_0d_gives_1d():
    assert_parity(lambda t: t.flatten(), lambda t: t.flatten(), np.array(2.5))


# ----- squeeze / unsqueeze ------------------------------------------------------------------------
ONES_SHAPES = hnp.array_shapes(min_dims=0, max_dims=5, min_side=1, max_side=2)


@SETTINGS
@given(shape=ONES_SHAPES, data=st.data(), seed=SEEDS)
def test_squeeze_parity(shape, data, seed):
    x = normal(shape, seed)
    span = max(len(shape), 1)
    dim = data.draw(st.integers(-span, span - 1))
    dims = tuple(data.draw(st.lists(st.integers(-span, span - 1), max_size=len(shape), unique_by=lambda d: d % span)))
    assert_parity(lambda t: t.squeeze(), lambda t: t.squeeze(), x)
    assert_parity(lambda t: t.squeeze(dim), lambda t: t.squeeze(dim), x)
    assert_parity(lambda t: cr.squeeze(t, dims), lambda t: torch.squeeze(t, dims), x)


@SETTINGS
@given(shape=SHAPES, data=st.data(), seed=SEEDS)
def test_unsqueeze_parity(shape, data, seed):
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)))
    x = normal(shape, seed)
    assert_parity(lambda t: t.unsqueeze(dim), lambda t: t.unsqueeze(dim), x)
    assert_parity(lambda t: cr.unsqueeze(t, dim), lambda t: torch.unsqueeze(t, dim), x)


# ----- transpose / permute / .T -------------------------------------------------------------------
@SETTINGS
@given(shape=SHAPES, data=st.data(), seed=SEEDS)
def test_transpose_permute_T_parity(shape, data, seed):
    nd = len(shape)
    span = max(nd, 1)
    d0, d1 = data.draw(st.integers(-span, span - 1)), data.draw(st.integers(-span, span - 1))
    perm = data.draw(st.permutations(range(nd)))
    perm = [p - nd if data.draw(st.booleans()) else p for p in perm]
    x = normal(shape, seed)
    assert_parity(lambda t: t.transpose(d0, d1), lambda t: t.transpose(d0, d1), x)
    assert_parity(lambda t: cr.transpose(t, d0, d1), lambda t: torch.transpose(t, d0, d1), x)
    assert_parity(lambda t: t.permute(*perm), lambda t: t.permute(tuple(perm)), x)  # torch: permute() needs dims
    assert_parity(lambda t: cr.permute(t, perm), lambda t: torch.permute(t, perm), x)
    # torch deprecates .T outside 2-D: compare with the reversed permutation it stands for
    reverse = tuple(range(nd - 1, -1, -1))
    assert_parity(lambda t: t.T, (lambda t: t.T) if nd == 2 else (lambda t: t.permute(reverse)), x)


# ----- expand / broadcast_to ----------------------------------------------------------------------
@st.composite
def expand_case(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    lead = draw(st.lists(st.integers(1, 3), max_size=2))
    target = []
    for n in shape:
        if n == 1:
            target.append(draw(st.sampled_from([1, 2, 3, -1])))
        else:
            target.append(draw(st.sampled_from([n, -1])))
    return shape, tuple(lead) + tuple(target)


@SETTINGS
@given(case=expand_case(), seed=SEEDS)
def test_expand_and_broadcast_to_parity(case, seed):
    shape, target = case
    x = normal(shape, seed)
    concrete = tuple(torch.empty(shape).expand(target).shape)
    assert_parity(lambda t: t.expand(*target), lambda t: t.expand(target), x)  # torch: expand() needs a size
    assert_parity(lambda t: t.expand(target), lambda t: t.expand(target), x)
    assert_parity(lambda t: t.broadcast_to(concrete), lambda t: t.broadcast_to(concrete), x)
    assert_parity(lambda t: cr.broadcast_to(t, concrete), lambda t: torch.broadcast_to(t, concrete), x)
    other = np.zeros(concrete)
    assert_parity(lambda t, o: t.expand_as(o), lambda t, o: t.expand_as(o), x, other)


# ----- indexing -----------------------------------------------------------------------------------
def _positive_steps(index):
    """torch has no negative slice steps: turn them positive."""

    def fix(i):
        return slice(i.start, i.stop, -i.step) if isinstance(i, slice) and i.step is not None and i.step < 0 else i

    return tuple(fix(i) for i in index) if isinstance(index, tuple) else fix(index)


@st.composite
def basic_index_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5))
    index = draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True))
    return shape, _positive_steps(index)


@SETTINGS
@given(case=basic_index_case(), seed=SEEDS)
def test_basic_indexing_parity(case, seed):
    shape, index = case
    assert_parity(lambda t: t[index], lambda t: t[index], normal(shape, seed))


@st.composite
def integer_array_case(draw):
    """An integer index array (repeats and negative entries likely) into one dim of a shape."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    dim = draw(st.integers(0, len(shape) - 1))
    n = shape[dim]
    idx_shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=5))
    idx = draw(hnp.arrays(np.int64, idx_shape, elements=st.integers(-n, n - 1)))
    return shape, dim, idx


@SETTINGS
@given(case=integer_array_case(), seed=SEEDS)
def test_integer_array_indexing_accumulates_gradient(case, seed):
    shape, dim, idx = case
    x = normal(shape, seed)
    lead = (slice(None),) * dim
    # index given as an int64 tensor, as a NumPy array and as a list
    assert_parity(lambda t, i: t[lead + (i,)], lambda t, i: t[lead + (i,)], x, idx)
    assert_parity(lambda t: t[lead + (idx,)], lambda t: t[lead + (torch.tensor(idx),)], x)
    as_list = idx.tolist()
    assert_parity(lambda t: t[lead + (as_list,)], lambda t: t[lead + (as_list,)], x)


def test_repeated_indices_accumulate_explicitly():
    x = cr.tensor(np.arange(4.0), requires_grad=True)
    x[cr.tensor([1, 1, 3, 1, -1])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 3.0, 0.0, 2.0])


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), prefix=st.integers(1, 3), seed=SEEDS)
def test_boolean_mask_indexing_parity(shape, prefix, seed):
    prefix = min(prefix, len(shape))
    x = normal(shape, seed)
    mask = np.random.default_rng(seed + 1).random(shape[:prefix]) < 0.5
    assert_parity(lambda t, m: t[m], lambda t, m: t[m], x, mask)
    assert_parity(lambda t: t[mask], lambda t: t[torch.tensor(mask)], x)
    assert_parity(lambda t: t[t > 0], lambda t: t[t > 0], x)


def _mixed_cases():
    """(name, index builder): the builder takes the library (cr or torch) and returns the index."""
    i = [0, 2, 2, -1]
    j = [1, 1, 0, 4]
    mask = np.array([True, False, True, True])
    return {
        "slice,array": lambda L: (slice(None), L.tensor([3, 0, 3])),
        "array,slice": lambda L: (L.tensor(i), slice(1, 4)),
        "ellipsis,array": lambda L: (Ellipsis, L.tensor([5, 0, -6, 5])),
        "none,array": lambda L: (None, L.tensor(i)),
        "array,none,slice": lambda L: (L.tensor(i), None, slice(None, None, 2)),
        "array,int": lambda L: (L.tensor(i), 1),
        "int,array": lambda L: (2, L.tensor(j)),
        "int,slice,array": lambda L: (1, slice(None), L.tensor([0, 0, 5])),
        "array,slice,int": lambda L: (L.tensor(i), slice(None), -2),
        "array,slice,array": lambda L: (L.tensor(i), slice(None), L.tensor([0, 5, 5, 1])),
        "array,array": lambda L: (L.tensor(i), L.tensor(j)),
        "broadcast arrays": lambda L: (L.tensor([[0], [3]]), slice(None), L.tensor([1, 1, 2])),
        "2-d array": lambda L: L.tensor([[0, 1], [1, 1], [3, 0]]),
        "list,slice": lambda L: ([1, 1, 0], slice(1, None, 2)),
        "mask,slice": lambda L: (L.tensor(mask), slice(None, 3)),
        "slice,mask": lambda L: (slice(1, 3), L.tensor(np.array([True, False, False, True, True]))),
        "mask2d,int": lambda L: (L.tensor(np.array([[True, False, True, False, True]] * 2 + [[False] * 5] * 2)), 3),
        "step slice,array": lambda L: (slice(None, None, 3), L.tensor([2, 2])),
        "0-d int tensor": lambda L: L.tensor(2),
        "mask,array": lambda L: (L.tensor(mask), L.tensor([0, 4, 4])),
        "list of bools": lambda L: [True, False, False, True],
        # a tuple inside an index is a sequence, as a list is (advanced indexing), also next to ints
        "int,tuple,array": lambda L: (1, (0, 2), L.tensor([1, 3])),
        "tuple,int,array": lambda L: ((0, 3, 3), 2, L.tensor([1, 5, 0])),
        "int,slice,tuple": lambda L: (1, slice(None), (0, 5, 5)),
        "tuple,tuple": lambda L: ((0, 2), (1, 4)),
        "nested tuple,int": lambda L: (((0, 1), (2, 2)), 4),
        "slice,empty list": lambda L: (slice(None), []),
        "0-d tensor,slice,array": lambda L: (L.tensor(1), slice(None), L.tensor([0, 0])),
        "int,slice,mask": lambda L: (1, slice(None), L.tensor(np.array([True, False, True, True, False, True]))),
    }


MIXED = _mixed_cases()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(MIXED))
def test_mixed_basic_and_advanced_indexing(name, dtype):
    """PyTorch semantics: integers act as basic indices (a select), so ``x[1, :, [0, 0]]`` has shape
    (5, 2) where NumPy would give (2, 5)."""
    build = MIXED[name]
    x = normal((4, 5, 6), 0, dtype)
    out = assert_parity(lambda t: t[build(cr)], lambda t: t[build(torch)], x)
    assert out.dtype == dtype


def test_indexing_a_0d_tensor():
    x = np.array(1.5)
    assert_parity(lambda t: t[None], lambda t: t[None], x)
    assert_parity(lambda t: t[...], lambda t: t[...], x)


# ----- cat / stack --------------------------------------------------------------------------------
@st.composite
def cat_case(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    nd = len(shape)
    dim = draw(st.integers(-nd, nd - 1))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=4))
    shapes = [shape[: dim % nd] + (s,) + shape[dim % nd + 1 :] for s in sizes]
    return shapes, dim


@SETTINGS
@given(case=cat_case(), seed=SEEDS)
def test_cat_parity(case, seed):
    shapes, dim = case
    xs = [normal(s, seed + k) for k, s in enumerate(shapes)]
    assert_parity(lambda *ts: cr.cat(list(ts), dim), lambda *ts: torch.cat(list(ts), dim), *xs)
    assert_parity(lambda *ts: cr.concat(ts, dim=dim), lambda *ts: torch.concat(ts, dim=dim), *xs)


@SETTINGS
@given(shape=SHAPES, count=st.integers(1, 4), data=st.data(), seed=SEEDS)
def test_stack_parity(shape, count, data, seed):
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)))
    xs = [normal(shape, seed + k) for k in range(count)]
    assert_parity(lambda *ts: cr.stack(list(ts), dim), lambda *ts: torch.stack(list(ts), dim), *xs)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cat_stack_float32_and_same_tensor_twice(dtype):
    a, b = normal((2, 3), 0, dtype), normal((1, 3), 1, dtype)
    out = assert_parity(lambda x, y: cr.cat([x, y, x], 0), lambda x, y: torch.cat([x, y, x], 0), a, b)
    assert out.dtype == dtype
    out = assert_parity(lambda x: cr.stack([x, x * 2], -1), lambda x: torch.stack([x, x * 2], -1), a)
    assert out.dtype == dtype


def test_cat_promotes_dtypes_like_torch():
    out = assert_parity(
        lambda x, y: cr.cat([x, y]), lambda x, y: torch.cat([x, y]), normal((2,), 0, np.float32), normal((3,), 1)
    )
    assert out.dtype == np.float64


# ----- split / chunk ------------------------------------------------------------------------------
def _weighted(pieces, lib, dim):
    """Join the pieces back with a different weight each, so each piece's gradient is distinct."""
    return lib.cat([p * (k + 1.0) for k, p in enumerate(pieces)], dim)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6), data=st.data(), seed=SEEDS)
def test_split_and_chunk_parity(shape, data, seed):
    nd = len(shape)
    dim = data.draw(st.integers(-nd, nd - 1))
    n = shape[dim]
    size = data.draw(st.integers(1, n + 1))
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3)))  # empty sections allowed
    sections = [b - a for a, b in zip([0, *cuts], [*cuts, n])]
    chunks = data.draw(st.integers(1, n + 2))
    x = normal(shape, seed)
    assert_parity(
        lambda t: _weighted(t.split(size, dim), cr, dim), lambda t: _weighted(t.split(size, dim), torch, dim), x
    )
    assert_parity(
        lambda t: _weighted(cr.split(t, sections, dim), cr, dim),
        lambda t: _weighted(torch.split(t, sections, dim), torch, dim),
        x,
    )
    assert_parity(
        lambda t: _weighted(t.chunk(chunks, dim), cr, dim), lambda t: _weighted(t.chunk(chunks, dim), torch, dim), x
    )
    assert_parity(
        lambda t: _weighted(cr.chunk(t, chunks, dim), cr, dim),
        lambda t: _weighted(torch.chunk(t, chunks, dim), torch, dim),
        x,
    )
    assert len(cr.chunk(cr.tensor(x), chunks, dim)) == len(torch.chunk(torch.tensor(x), chunks, dim))
    assert [p.shape for p in cr.split(cr.tensor(x), size, dim)] == [
        tuple(p.shape) for p in torch.split(torch.tensor(x), size, dim)
    ]


def test_split_pieces_left_unused_get_zero_gradient():
    x = normal((7, 2), 0)
    assert_parity(
        lambda t: cr.stack([t.split(3)[0].sum(), t.split(3)[-1].sum() * 2]),
        lambda t: torch.stack([t.split(3)[0].sum(), t.split(3)[-1].sum() * 2]),
        x,
    )
    out = assert_parity(lambda t: t.chunk(3, 1)[1] * 3, lambda t: t.chunk(3, 1)[1] * 3, normal((2, 5), 0, np.float32))
    assert out.dtype == np.float32


# ----- pad ----------------------------------------------------------------------------------------
@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3), data=st.data(), seed=SEEDS)
def test_constant_pad_parity(shape, data, seed):
    k = data.draw(st.integers(1, len(shape)))
    pad = tuple(data.draw(st.lists(st.integers(0, 2), min_size=2 * k, max_size=2 * k)))
    value = data.draw(st.sampled_from([0.0, 1.5, -2.0]))
    x = normal(shape, seed)
    assert_parity(lambda t: F.pad(t, pad, value=value), lambda t: torch.nn.functional.pad(t, pad, value=value), x)
    assert_parity(lambda t: F.pad(t, pad), lambda t: torch.nn.functional.pad(t, pad, mode="constant"), x)


@pytest.mark.parametrize("pad", [(1, 1), (0, 2), (1, 0, 2, 1), (0, 0, 0, 0), (2, 1, 0, 0, 1, 1)])
def test_constant_pad_float32(pad):
    out = assert_parity(
        lambda t: F.pad(t, pad, value=0.5),
        lambda t: torch.nn.functional.pad(t, pad, value=0.5),
        normal((2, 3, 4), 0, np.float32),
    )
    assert out.dtype == np.float32


# ----- finite differences -------------------------------------------------------------------------
def _leaf(array):
    return cr.tensor(array, requires_grad=True)


def test_gradcheck_indexing_with_repeats_and_layout():
    x = _leaf(normal((3, 4, 2), 0))
    idx = cr.tensor([2, 0, 2, 2])

    def f(t):
        y = t[idx].permute(2, 0, 1).reshape(2, -1) * t[1:, ::2].flatten().sum()
        return y.T[::3] + t[None, ..., 1].squeeze(0).unsqueeze(-1).expand(3, 4, 5)[0, :1, :2]

    assert cr.gradcheck(f, (x,))


def test_gradcheck_cat_stack_split_pad():
    a, b = _leaf(normal((2, 3), 1)), _leaf(normal((2, 2), 2))

    def f(x, y):
        joined = cr.cat([x, y * y, x[:, :1]], 1)
        left, right = joined.split([2, 4], 1)
        return cr.stack([F.pad(left, (1, 2, 0, 1), value=0.5)[:2, :2], right.chunk(2, 1)[1] ** 2], 0).transpose(0, 2)

    assert cr.gradcheck(f, (a, b))


def test_gradcheck_boolean_mask_and_mixed_index():
    x = _leaf(normal((4, 5), 3))
    mask = cr.tensor(np.array([True, False, True, True]))
    assert cr.gradcheck(lambda t: t[mask, 1:4] * t[1, [0, 0, 4]] + t[[3, 3], [2, 2]].sum(), (x,))


# ----- errors -------------------------------------------------------------------------------------
def test_reshape_to_incompatible_size_names_both_shapes():
    x = cr.tensor(normal((2, 3), 0))
    with pytest.raises(ValueError, match=r"reshape: shape \(4, 2\) is invalid for input of shape \(2, 3\)"):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match=r"reshape: shape \(4, -1\) is invalid for input of shape \(2, 3\)"):
        x.view(4, -1)
    with pytest.raises(ValueError, match=r"reshape: shape \(-1, -1\) is invalid for input of shape \(2, 3\)"):
        x.reshape(-1, -1)


@pytest.mark.parametrize(
    "index, shown",
    [(5, "5"), (-3, "-3"), ((0, 3), r"\(0, 3\)"), ((slice(None), [0, 3]), r"\[0, 3\]"), ((0, 0, 0), r"\(0, 0, 0\)")],
)
def test_index_out_of_range_names_the_shape(index, shown):
    x = cr.tensor(normal((2, 3), 0), requires_grad=True)
    with pytest.raises(
        IndexError, match=rf"__getitem__: index .*{shown}.* out of range for a tensor of shape \(2, 3\)"
    ):
        x[index]


def test_index_with_wrong_mask_shape_or_float_tensor():
    x = cr.tensor(normal((2, 3), 0))
    with pytest.raises(IndexError, match=r"shape \(2, 3\)"):
        x[cr.tensor(np.array([True, False, True]))]
    with pytest.raises(IndexError, match=r"__getitem__: tensors used as indices must be integer or bool, got float"):
        x[cr.tensor([0.0, 1.0])]


def test_cat_with_mismatched_shapes_names_both():
    a, b = cr.tensor(normal((2, 3), 0)), cr.tensor(normal((2, 4), 1))
    with pytest.raises(ValueError, match=r"cat: shapes must match except in dim 0, got \(2, 3\) and \(2, 4\)"):
        cr.cat([a, b], 0)
    with pytest.raises(ValueError, match=r"cat: .*\(2, 3\) and \(3,\)"):
        cr.cat([a, cr.tensor(normal((3,), 2))], 0)
    with pytest.raises(ValueError, match="cat: expected a non-empty sequence"):
        cr.cat([])
    with pytest.raises(IndexError, match=r"cat: dim 2 out of range for a tensor with 2 dims of shape \(2, 3\)"):
        cr.cat([a, a], 2)


def test_stack_with_mismatched_shapes_names_them():
    with pytest.raises(ValueError, match=r"stack: expected tensors of equal shape, got \[\(2, 3\), \(3, 2\)\]"):
        cr.stack([cr.tensor(normal((2, 3), 0)), cr.tensor(normal((3, 2), 1))])
    with pytest.raises(IndexError, match=r"stack: dim 4 out of range for tensors with 2 dims of shape \(2, 3\)"):
        cr.stack([cr.tensor(normal((2, 3), 0))], 4)


def test_expand_permute_squeeze_errors_name_shapes():
    x = cr.tensor(normal((2, 3), 0))
    with pytest.raises(ValueError, match=r"expand: the tensor's shape \(2, 3\) cannot be expanded to \(2, 4\)"):
        x.expand(2, 4)
    with pytest.raises(
        ValueError, match=r"expand: target shape \(3,\) has fewer dims than the tensor's shape \(2, 3\)"
    ):
        x.expand(3)
    with pytest.raises(
        ValueError, match=r"permute: dims \(0, 0\) are not a permutation of the 2 dims of shape \(2, 3\)"
    ):
        x.permute(0, 0)
    with pytest.raises(IndexError, match=r"squeeze: dim 2 out of range for a tensor with 2 dims of shape \(2, 3\)"):
        x.squeeze(2)
    with pytest.raises(IndexError, match=r"unsqueeze: dim 3 out of range for a tensor with 2 dims of shape \(2, 3\)"):
        x.unsqueeze(3)
    with pytest.raises(IndexError, match=r"transpose: dim -3 out of range for a tensor with 2 dims of shape \(2, 3\)"):
        x.transpose(0, -3)
    with pytest.raises(ValueError, match="flatten: start_dim 1 comes after end_dim 0"):
        x.flatten(1, 0)


def test_split_chunk_pad_errors():
    x = cr.tensor(normal((5, 2), 0))
    with pytest.raises(ValueError, match=r"split: sizes \[2, 2\] do not add up to 5, the size of dim 0 of \(5, 2\)"):
        x.split([2, 2])
    with pytest.raises(ValueError, match="split: split_size must be positive, got 0"):
        x.split(0)
    with pytest.raises(ValueError, match="chunk: number of chunks must be positive, got 0"):
        x.chunk(0)
    for op, call in [
        ("split", lambda: x.split(2, 2)),
        ("chunk", lambda: x.chunk(2, -3)),
        ("flatten", lambda: x.flatten(0, 2)),
    ]:
        with pytest.raises(
            IndexError, match=rf"{op}: dim -?\d out of range for a tensor with 2 dims of shape \(5, 2\)"
        ):
            call()
    with pytest.raises(ValueError, match=r"pad: pad \(1, 1, 1\) must have an even length"):
        F.pad(x, (1, 1, 1))
    with pytest.raises(
        ValueError, match=r"pad: pad \(1, 1, 1, 1, 1, 1\) must have an even length of at most 2·ndim = 4"
    ):
        F.pad(x, (1, 1, 1, 1, 1, 1))
    with pytest.raises(ValueError, match="pad: only mode='constant' is supported, got 'reflect'"):
        F.pad(x, (1, 1), mode="reflect")
