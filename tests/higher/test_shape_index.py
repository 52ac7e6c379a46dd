"""Second and third derivatives of the shape, indexing, gather/scatter and sorting ops equal torch's (float64).
These ops are linear in their input (or pick entries of it), so each is composed with a nonlinear one."""
import numpy as np
import pytest
import torch

import chainrule as cr
from tests.higher.check import assert_higher_order


def draw(shape, seed=0, low=-2.0, high=2.0):
    return np.asarray(np.random.default_rng(seed).uniform(low, high, shape))


def lib(t):
    """The library of ``t``: torch for a torch tensor, chainrule otherwise."""
    return torch if isinstance(t, torch.Tensor) else cr


def index(t, values):
    """An int64 index tensor of ``t``'s library."""
    return lib(t).tensor(np.asarray(values, dtype=np.int64))


def mask(t, values):
    return lib(t).tensor(np.asarray(values, dtype=bool))


def check(f, *arrays, order=3, **kwargs):
    assert_higher_order(f, f, *arrays, order=order, **kwargs)


# ----- indexing ---------------------------------------------------------------------------------------------
INDICES = [
    (1,), (slice(1, None),), (slice(None, None, 2), -1), (Ellipsis, 1), (None, 0, slice(1, 3)), ([0, 2, 0],),
    (slice(None), [3, 3, 1]), ([1, 0], [2, 2]), (1, slice(None), [0, 0, 2]), ([[0], [2]], slice(None), [1, 3]),
    (np.array([[True, False, True, True], [False] * 4, [True] * 4]),), (Ellipsis, np.array([True, False] * 2 + [True])),
]


@pytest.mark.parametrize("key", INDICES, ids=[str(i) for i in range(len(INDICES))])
def test_getitem(key):
    """Basic and advanced indices, repeated integer indices (their gradients add up), bool masks."""
    def f(t):
        k = tuple(lib(t).tensor(i) if isinstance(i, np.ndarray) else i for i in key)
        return (t ** 3)[k].exp()

    check(f, draw((3, 4, 5), 1))


def test_split_chunk_narrow_unbind():
    x = draw((4, 6), 2)
    check(lambda t: sum((p * p).exp().sum() * (i + 1) for i, p in enumerate(t.split([1, 2, 3], 1))) * t, x)
    check(lambda t: t.chunk(3, -1)[1].exp() * t.chunk(3, -1)[2] ** 2, x)
    check(lambda t: t.narrow(0, 1, 2).exp() * t.narrow(0, -2, 2), x)
    check(lambda t: t.unbind(1)[0].exp() * t.unbind(1)[3] ** 2, x)  # the other outputs get zeros
    check(lambda t: lib(t).stack([u ** 2 for u in t.unbind(-1)], 0).exp(), x)


# ----- joining, reversing, repeating ----------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_and_stack(dim):
    a, b = draw((2, 3), 3), draw((2, 3), 4)
    check(lambda s, t: lib(s).cat([s ** 2, t * s, t], dim).exp(), a, b)
    check(lambda s, t: lib(s).stack([s ** 2, t * s, t], dim).exp(), a, b)
    check(lambda s, t: lib(s).cat([s ** 2, t], dim).exp(), a, b, wrt=[1])  # s needs no gradient
    check(lambda s, t: lib(s).stack([s, t * s], -1).sin(), a, b, wrt=[0])


def test_flip_roll_rot90():
    x = draw((3, 4, 2), 5)
    for f in (lambda t: t.flip(0).exp() * t, lambda t: t.flip((0, -1)).exp() * t,
              lambda t: t.roll(2).exp() * t, lambda t: t.roll((1, -3), (0, 1)).exp() * t,
              lambda t: t.rot90(1, (0, 1)).sin(), lambda t: (t.rot90(3, (2, 0)) ** 3).exp()):
        check(f, x)


def test_repeat_tile_repeat_interleave():
    x = draw((2, 3), 6)
    for f in (lambda t: (t.repeat(2, 1, 3) ** 3).exp(), lambda t: (t.tile((2,)) ** 3).exp(),
              lambda t: (t.repeat(1, 2, 1) ** 3).sin(), lambda t: (t.repeat_interleave(2) ** 3).exp(),
              lambda t: (t.repeat_interleave(index(t, [2, 0, 3]), dim=1) ** 3).exp(),
              lambda t: (t.repeat_interleave(3, dim=-2) ** 3).sin()):
        check(f, x)


def test_triangles_and_diagonals():
    x = draw((2, 3, 4), 7)
    for f in (lambda t: t.tril().exp() * t, lambda t: t.triu(1).exp() * t, lambda t: t.tril(-2).exp() * t,
              lambda t: (t ** 3).diagonal().exp(), lambda t: (t ** 3).diagonal(1, -1, 0).exp(),
              lambda t: (t ** 3).diagonal(-1, 1, 2).exp(), lambda t: (t ** 3).diagonal(5, 1, 2).sum() * t,
              lambda t: (t ** 3).diag_embed().exp(), lambda t: (t ** 3).diag_embed(-1, 0, 2).exp(),
              lambda t: (t[0] ** 3).diag(1).exp(), lambda t: (t[0, 0] ** 3).diag(-1).exp(),
              lambda t: (t[1] ** 3).trace().exp() * t):
        check(f, x)


@pytest.mark.parametrize("dim,size,step", [(0, 2, 1), (1, 3, 2), (-1, 2, 3), (1, 5, 1), (0, 1, 2)])
def test_unfold(dim, size, step):
    check(lambda t: (t.unfold(dim, size, step) ** 3).exp(), draw((3, 5), 8))


def test_moves_views_and_expands():
    x = draw((2, 3, 4), 9)
    for f in (lambda t: t.movedim(0, -1).exp() * t.mT.sum(), lambda t: (t[0].t() ** 3).exp(),
              lambda t: t.flatten(1).exp().unflatten(1, (4, 3)) ** 2, lambda t: t[:, :1].expand(2, 3, 4).exp() * t,
              lambda t: t.squeeze().unsqueeze(1).exp().transpose(0, 3) ** 2):
        check(f, x)


# ----- gather and scatter -------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather_take_along_dim(dim):
    x = draw((3, 4), 10)
    idx = np.random.default_rng(dim + 3).integers(0, x.shape[dim], (5, 2) if dim == 0 else (2, 6))  # repeats
    check(lambda t: (t ** 3).gather(dim, index(t, idx)).exp(), x)
    along = idx[:, :1] if dim == 0 else idx[:1]  # broadcast against x apart from dim
    check(lambda t: lib(t).take_along_dim(t ** 3, index(t, along), dim).exp(), x)
    check(lambda t: (t ** 3).take(index(t, [[0, -1, 5], [5, 5, 11]])).exp(), x)


def leading(s, shape):
    """torch's double backward of scatter fails for a src larger than the index (it gets a gradient of the
    index's shape): give torch the part of src the index reads, the same function."""
    return s[tuple(slice(0, n) for n in shape)] if isinstance(s, torch.Tensor) else s


def test_scatter():
    x, src = draw((3, 4), 11), draw((3, 5), 12)
    idx = np.array([[2, 0, 1], [1, 3, 0]])  # no index repeats along dim 1 within a row: a definite result
    f = lambda t, s: (t ** 3).scatter(1, index(t, idx), leading(s, idx.shape) ** 2).exp()
    check(f, x, src)
    check(f, x, src[:2, :3])
    check(lambda t: (t ** 3).scatter(0, index(t, [[2, 0, 1, 0]]), 1.5).exp(), x)
    check(lambda t: (t ** 3).scatter(0, index(t, [[2, 0, 1, 0]]), value=-0.5).exp(), x)


@pytest.mark.parametrize("reduce", ["sum", "mean", "amax", "amin", "prod"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_add_and_reduce(reduce, include_self, dim):
    x, src = draw((3, 4), 13, 0.5, 1.5), draw((4, 5), 14, 0.5, 1.5)
    if reduce in ("amax", "amin"):  # ties within src, and between x and src where x takes part
        # (without include_self torch still counts an x equal to the result among those sharing g; chainrule does not)
        x, src = np.round(x * 2) / 2 + (0 if include_self else 0.25), np.round(src * 2) / 2
    idx = np.random.default_rng(15).integers(0, x.shape[dim], (3, 3))  # repeats: several operands per place
    f = lambda t, s: (t ** 3).scatter_reduce(dim, index(t, idx), leading(s, idx.shape) ** 2, reduce,
                                             include_self=include_self).exp()
    check(f, x, src)
    check(lambda t, s: (t * t).scatter_add(dim, index(t, idx), leading(s, idx.shape) ** 3).exp(), x, src)


def test_scatter_reduce_prod_with_zeros():
    """A zero in the input and one zero among src's operands of a place: as torch, to the third order; two zeros
    from src at one place: src's gradient is first-order only (torch's DelayedError), so asking for its second
    derivative raises."""
    x, src = draw((2, 4), 16), draw((2, 3), 17)
    x[0, 1] = src[1, 2] = 0.0
    idx = np.array([[1, 1, 3], [0, 2, 0]])
    for include_self in (True, False):
        f = lambda t, s, own=include_self: t.scatter_reduce(1, index(t, idx), s, "prod", include_self=own) * t.sum()
        check(f, x, src)
    src[1, 0] = 0.0  # src[1, 0] and src[1, 2] both go to place (1, 0)
    f = lambda t, s: t.scatter_reduce(1, index(t, idx), s, "prod").exp()
    check(f, x, src, order=2, wrt=[0])
    check(f, x, src, order=1)
    t, s = cr.tensor(x, requires_grad=True), cr.tensor(src, requires_grad=True)
    (gs,) = cr.autograd.grad(f(t, s).sum(), s, create_graph=True)
    with pytest.raises(RuntimeError, match="ScatterReduce: no second derivative"):
        cr.autograd.grad(gs.sum(), s)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_ops(dim):
    x = draw((3, 4), 18)
    n = x.shape[dim]
    picks = [n - 1, 0, n - 1]  # a repeat
    source = draw((3, 4)[:dim % 2] + (3,) + (3, 4)[dim % 2 + 1:], 19)
    check(lambda t: (t ** 3).index_select(dim, index(t, picks)).exp(), x)
    check(lambda t, s: (t ** 3).index_add(dim, index(t, picks), s ** 2, alpha=-1.5).exp(), x, source)
    check(lambda t, s: (t ** 3).index_copy(dim, index(t, [n - 1, 0, 1]), s ** 2).exp(), x, source)
    check(lambda t: (t ** 3).index_fill(dim, index(t, [0, n - 1]), 0.25).exp(), x)
    check(lambda t, v: (t ** 3).index_fill(dim, index(t, [0, n - 1]), v.sum() * v.sum()).exp(), x, np.array(0.7))


FULL = draw((3, 4), 21) > 0


@pytest.mark.parametrize("m", [np.array([[True], [False], [True]]), FULL, FULL[0]], ids=["rows", "full", "row"])
def test_masked_fill_scatter_select(m):
    """Masks broadcast against the input."""
    x = draw((3, 4), 20)
    check(lambda t: (t ** 3).masked_fill(mask(t, m), -0.5).exp(), x)
    check(lambda t, v: (t ** 3).masked_fill(mask(t, m), v * v).exp(), x, np.array(0.7))
    check(lambda t, s: (t ** 3).masked_scatter(mask(t, m), s ** 2).exp(), x, draw((4, 4), 22))
    check(lambda t: (t ** 3).masked_select(mask(t, m)).exp(), x)


def test_masked_select_broadcasts_the_input():
    check(lambda t: (t ** 3).masked_select(mask(t, FULL)).exp(), draw((4,), 23))


# ----- sorting and selection ---------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, -1])
def test_sort_topk_kthvalue_median_mode(dim):
    x = draw((4, 5), 23)
    tied = np.round(x)
    for f in (lambda t: (t ** 3).sort(dim).values.exp(), lambda t: (t ** 3).sort(dim, descending=True)[0].exp(),
              lambda t: (t ** 3).topk(3, dim).values.exp(), lambda t: (t ** 3).topk(2, dim, largest=False)[0].exp(),
              lambda t: (t ** 3).kthvalue(2, dim).values.exp() * t.sum(),
              lambda t: (t ** 3).kthvalue(3, dim, keepdim=True).values.exp() * t,
              lambda t: (t ** 3).median(dim).values.exp() * t.sum(),
              lambda t: (t ** 3).median(dim, keepdim=True).values.exp() * t):
        check(f, x)
    check(lambda t: (t ** 3).mode(dim).values.exp() * t.sum(), tied)
    check(lambda t: (t ** 3).max(dim).values.exp() * t.sum(), tied)
