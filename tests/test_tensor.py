"""Tensor semantics against PyTorch: dtype rules, creation functions, seeding, attributes and conversions,
the grad flag on dtypes, and the in-place guard on leaves."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from tests.parity import assert_parity

shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


def torch_dtype(dtype):
    """The torch dtype of the same name as a chainrule (NumPy) dtype."""
    return getattr(torch, str(np.dtype(dtype)))


def same_dtype(ours, theirs):
    return np.dtype(ours.dtype) == np.dtype(str(theirs.dtype).replace("torch.", ""))


@pytest.fixture
def restore_default_dtype():
    yield
    cr.set_default_dtype(cr.float32)


# ----- dtype of data -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data",
    [1.5, 1, True, [1.0, 2.0], [1, 2], [True, False], [[1, 2], [3, 4]], [1, 2.5], [True, 2], [[True], [False]]],
    ids=repr,
)
def test_python_data_dtype_as_torch(data):
    ours, theirs = cr.tensor(data), torch.tensor(data)
    assert same_dtype(ours, theirs), f"{data!r}: {ours.dtype} vs torch {theirs.dtype}"
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
                                   np.uint8, np.bool_])
def test_numpy_array_keeps_dtype(dtype):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    for t in (cr.tensor(a), cr.from_numpy(a), cr.Tensor(a)):
        assert t.dtype == np.dtype(dtype)
        assert same_dtype(t, torch.from_numpy(a))


def test_tensor_copies_from_numpy_shares():
    a = np.zeros(3, dtype=np.float32)
    copied, shared = cr.tensor(a), cr.from_numpy(a)
    a[0] = 7.0
    assert copied.tolist() == [0.0, 0.0, 0.0]
    assert shared.tolist() == [7.0, 0.0, 0.0]


def test_set_default_dtype_float64_then_restore(restore_default_dtype):
    assert cr.get_default_dtype() == cr.float32
    cr.set_default_dtype(cr.float64)
    assert cr.get_default_dtype() == cr.float64
    assert cr.tensor(1.5).dtype == cr.float64
    assert cr.tensor([1.0, 2.0]).dtype == cr.float64
    assert cr.tensor([1, 2]).dtype == cr.int64  # ints are untouched
    assert cr.zeros(2).dtype == cr.float64
    assert cr.randn(2).dtype == cr.float64
    assert cr.arange(0.0, 1.0, 0.5).dtype == cr.float64
    assert (cr.tensor([1, 2]) * 1.5).dtype == cr.float64
    assert cr.tensor(np.float32(1.0)).dtype == cr.float32  # NumPy data keeps its dtype
    cr.set_default_dtype(cr.float32)
    assert cr.tensor(1.5).dtype == cr.float32
    assert cr.zeros(2).dtype == cr.float32


def test_set_default_dtype_rejects_integers(restore_default_dtype):
    with pytest.raises(TypeError):
        cr.set_default_dtype(cr.int64)
    assert cr.get_default_dtype() == cr.float32


# ----- dtype= on every creation function ------------------------------------------------------------
CREATORS = {
    "tensor": (lambda d: cr.tensor([1, 2, 3], dtype=d), lambda d: torch.tensor([1, 2, 3], dtype=d)),
    "zeros": (lambda d: cr.zeros(2, 3, dtype=d), lambda d: torch.zeros(2, 3, dtype=d)),
    "ones": (lambda d: cr.ones((2, 3), dtype=d), lambda d: torch.ones((2, 3), dtype=d)),
    "full": (lambda d: cr.full((2, 3), 7, dtype=d), lambda d: torch.full((2, 3), 7, dtype=d)),
    "arange": (lambda d: cr.arange(5, dtype=d), lambda d: torch.arange(5, dtype=d)),
    "linspace": (lambda d: cr.linspace(0, 4, 5, dtype=d), lambda d: torch.linspace(0, 4, 5, dtype=d)),
    "eye": (lambda d: cr.eye(3, dtype=d), lambda d: torch.eye(3, dtype=d)),
    "rand": (lambda d: cr.rand(2, 3, dtype=d), lambda d: torch.rand(2, 3, dtype=d)),
    "randn": (lambda d: cr.randn(2, 3, dtype=d), lambda d: torch.randn(2, 3, dtype=d)),
    "randint": (lambda d: cr.randint(0, 5, (2, 3), dtype=d), lambda d: torch.randint(0, 5, (2, 3), dtype=d)),
    "randperm": (lambda d: cr.randperm(5, dtype=d), lambda d: torch.randperm(5, dtype=d)),
    "zeros_like": (lambda d: cr.zeros_like(cr.ones(2), dtype=d), lambda d: torch.zeros_like(torch.ones(2), dtype=d)),
    "ones_like": (lambda d: cr.ones_like(cr.ones(2), dtype=d), lambda d: torch.ones_like(torch.ones(2), dtype=d)),
    "full_like": (lambda d: cr.full_like(cr.ones(2), 3, dtype=d), lambda d: torch.full_like(torch.ones(2), 3, dtype=d)),
    "rand_like": (lambda d: cr.rand_like(cr.ones(2), dtype=d), lambda d: torch.rand_like(torch.ones(2), dtype=d)),
    "randn_like": (lambda d: cr.randn_like(cr.ones(2), dtype=d), lambda d: torch.randn_like(torch.ones(2), dtype=d)),
    "empty": (lambda d: cr.empty(2, 3, dtype=d), lambda d: torch.empty(2, 3, dtype=d)),
}
FLOAT_ONLY = {"rand", "randn", "rand_like", "randn_like"}


@pytest.mark.parametrize(
    "name, dtype",
    [(n, d) for n in sorted(CREATORS) for d in (cr.float32, cr.float64, cr.int32, cr.int64)
     if d.kind == "f" or n not in FLOAT_ONLY],  # torch has no integer rand/randn
)
def test_creation_dtype_argument(name, dtype):
    ours_fn, torch_fn = CREATORS[name]
    out, ref = ours_fn(dtype), torch_fn(torch_dtype(dtype))
    assert out.dtype == dtype
    assert out.shape == tuple(ref.shape)
    if name not in ("rand", "randn", "rand_like", "randn_like", "randint", "randperm", "empty"):
        np.testing.assert_array_equal(out.numpy(), ref.numpy())


@pytest.mark.parametrize("name", sorted(CREATORS))
def test_creation_default_dtype_as_torch(name):
    ours_fn, torch_fn = CREATORS[name]
    out, ref = ours_fn(None), torch_fn(None)
    assert same_dtype(out, ref), f"{name}: {out.dtype} vs torch {ref.dtype}"


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda: cr.full((2,), 1.5), lambda: torch.full((2,), 1.5)),
        (lambda: cr.full((2,), 1), lambda: torch.full((2,), 1)),
        (lambda: cr.full((2,), True), lambda: torch.full((2,), True)),
        (lambda: cr.arange(0, 1, 0.25), lambda: torch.arange(0, 1, 0.25)),
        (lambda: cr.arange(2, 9, 3), lambda: torch.arange(2, 9, 3)),
        (lambda: cr.arange(5.0), lambda: torch.arange(5.0)),
        (lambda: cr.eye(2, 3), lambda: torch.eye(2, 3)),
        (lambda: cr.linspace(-1, 1, 7), lambda: torch.linspace(-1, 1, 7)),
        (lambda: cr.zeros_like(cr.tensor([1, 2])), lambda: torch.zeros_like(torch.tensor([1, 2]))),
        (lambda: cr.full_like(cr.tensor([1, 2]), 4), lambda: torch.full_like(torch.tensor([1, 2]), 4)),
    ],
)
def test_creation_values_and_inferred_dtype(ours, theirs):
    out, ref = ours(), theirs()
    assert same_dtype(out, ref), f"{out.dtype} vs torch {ref.dtype}"
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6, atol=1e-7)  # torch's float32 linspace rounds


@given(shape=shapes)
@settings(max_examples=25, deadline=None)
def test_creation_shapes(shape):
    for fn in (cr.zeros, cr.ones, cr.rand, cr.randn, cr.empty):
        assert fn(*shape).shape == shape
        assert fn(shape).shape == shape
    t = cr.randn(shape)
    for fn in (cr.zeros_like, cr.ones_like, cr.rand_like, cr.randn_like):
        assert fn(t).shape == shape and fn(t).dtype == t.dtype
    assert cr.full(shape, 2.0).shape == shape
    assert cr.randint(0, 3, shape).shape == shape


def test_random_draw_ranges():
    cr.manual_seed(0)
    u = cr.rand(10_000).numpy()
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    n = cr.randn(10_000).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    r = cr.randint(3, 7, (10_000,)).numpy()
    assert set(np.unique(r)) == {3, 4, 5, 6}
    assert cr.randint(5, (3,)).shape == (3,)  # torch's randint(high, size)
    assert set(cr.randint(5, (1000,)).tolist()) == {0, 1, 2, 3, 4}
    p = cr.randperm(50).numpy()
    assert sorted(p.tolist()) == list(range(50))


@pytest.mark.parametrize("dtype", [cr.float16, cr.float32, cr.float64])
def test_rand_stays_below_one(dtype):
    """torch.rand draws from [0, 1) in every float dtype; rounding to float16 must not reach 1.0."""
    cr.manual_seed(0)
    u = cr.rand(200_000, dtype=dtype).numpy()
    assert u.dtype == dtype and u.min() >= 0 and u.max() < 1
    assert torch.rand(200_000, dtype=torch_dtype(dtype)).max() < 1


@pytest.mark.parametrize("fn", [lambda d: cr.rand(3, dtype=d), lambda d: cr.randn(3, dtype=d),
                                lambda d: cr.rand_like(cr.zeros(2, dtype=d)),
                                lambda d: cr.randn_like(cr.zeros(2, dtype=d))])
@pytest.mark.parametrize("dtype", [cr.int64, cr.int32, cr.bool])
def test_random_floats_refuse_integer_dtypes(fn, dtype):
    """torch refuses (NotImplementedError); chainrule raises TypeError naming the dtype, rather than
    truncating every draw to 0."""
    with pytest.raises(NotImplementedError):
        torch.rand(3, dtype=torch_dtype(dtype))
    with pytest.raises(TypeError, match=str(dtype)):
        fn(dtype)


def test_creation_requires_grad():
    for t in (cr.zeros(2, requires_grad=True), cr.randn(2, requires_grad=True), cr.tensor([1.0], requires_grad=True),
              cr.full((2,), 1.0, requires_grad=True), cr.ones_like(cr.ones(2), requires_grad=True)):
        assert t.requires_grad and t.is_leaf and t.grad is None


def test_creation_errors():
    with pytest.raises(ValueError):
        cr.zeros(-1, 2)
    with pytest.raises(ValueError):
        cr.randint(5, 5, (2,))
    with pytest.raises(ValueError):
        cr.arange(0, 5, 0)
    with pytest.raises(TypeError):
        cr.from_numpy([1, 2])


@pytest.mark.parametrize("start, end, steps, dtype", [
    (start, end, steps, dtype)
    for start, end, steps in [(-5, 5, 4), (-7, 3, 7), (0, 10, 4), (10, -10, 7), (-1, 1, 6), (3, 3, 1), (3, 5, 0),
                              (0.5, 10.7, 5), (-2.7, 2.7, 5)]
    for dtype in (cr.int64, cr.int32, cr.int16)
] + [(2**40, 2**40 + 10, 5, cr.int64), (0, 255, 7, cr.uint8)])
def test_integer_linspace_truncates_toward_zero_as_torch(start, end, steps, dtype):
    """torch truncates start and end, then each value, toward zero; NumPy's integer linspace floors
    (linspace(-5, 5, 4) was [-5, -2, 1, 5] here, torch's is [-5, -1, 1, 5])."""
    out, ref = cr.linspace(start, end, steps, dtype=dtype), torch.linspace(start, end, steps, dtype=torch_dtype(dtype))
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_integer_linspace_is_exact_where_torch_rounds_below_an_integer():
    """torch computes in float64 and truncates, so a value that is exactly an integer can come out one
    less: linspace(-49, 23, 46)[35] is −49 + 35·72/45 = 7, torch gives 6 (its float value is
    6.999999999999999). Here the values are computed exactly."""
    assert torch.linspace(-49, 23, 46, dtype=torch.int64)[35] == 6
    assert cr.linspace(-49, 23, 46, dtype=cr.int64)[35].item() == 7


def test_linspace_refuses_negative_steps_as_torch():
    with pytest.raises(RuntimeError, match="number of steps must be non-negative"):
        torch.linspace(0, 1, -1)
    with pytest.raises(ValueError, match="linspace: steps must be non-negative, got -1"):
        cr.linspace(0, 1, -1)


# ----- data that is not a rectangular array of numbers --------------------------------------------------
@pytest.mark.parametrize("data, message", [
    ([[1, 2], [3]], r"expected a sequence of length 2 at dim 1, got a sequence of length 1 "
                    r"\(the first entries give shape \(2, 2\)\)"),
    ([[1, 2], 3], r"expected a sequence of length 2 at dim 1, got a number"),
    ([1, [2, 3]], r"expected a number at dim 1, got a sequence of length 2 \(the first entries give shape \(2,\)\)"),
    ([[[1], [2]], [[3], [4, 5]]], r"expected a sequence of length 1 at dim 2, got a sequence of length 2"),
    ([np.zeros((2, 3)), np.zeros((2, 4))], r"expected a sequence of length 3 at dim 2, got a sequence of length 4"),
])
@pytest.mark.filterwarnings("ignore:Creating a tensor from a list of numpy.ndarrays")
def test_ragged_data_names_where_it_is_ragged(data, message):
    with pytest.raises((ValueError, TypeError)):  # torch's type depends on the case
        torch.tensor(data)
    with pytest.raises(ValueError, match=r"tensor: ragged nested sequence: " + message):
        cr.tensor(data)


@pytest.mark.parametrize("data, dtype", [(np.array([1, "a"], dtype=object), "object"), (np.array(["x", "y"]), "<U1"),
                                         (["x", "y"], "<U1"), ([1, None], "object")])
def test_data_that_is_not_numbers_is_refused_as_torch(data, dtype):
    with pytest.raises((TypeError, ValueError, RuntimeError)):
        torch.tensor(data)
    for make in (cr.tensor, cr.Tensor):
        with pytest.raises(TypeError, match=rf"tensor: cannot make a tensor from data of type \w+ with dtype {dtype}: "
                                            "only bool, integer and floating-point numbers are supported"):
            make(data)


# ----- seeding ----------------------------------------------------------------------------------------
def test_manual_seed_reproducible():
    draws = []
    for _ in range(2):
        cr.manual_seed(1234)
        draws.append((cr.randn(5).tolist(), cr.rand(3, 2).tolist(), cr.randint(0, 100, (4,)).tolist(),
                      cr.randperm(6).tolist()))
    assert draws[0] == draws[1]
    cr.manual_seed(1235)
    assert cr.randn(5).tolist() != draws[0][0]


def test_manual_seed_returns_generator():
    assert isinstance(cr.manual_seed(3), cr.Generator)


def test_generator_same_seed_same_draws_and_independent_of_default():
    g1, g2 = cr.Generator(7), cr.Generator(7)
    a = cr.randn(4, generator=g1)
    cr.manual_seed(0)
    cr.randn(100)  # the default generator's draws must not disturb g2
    b = cr.randn(4, generator=g2)
    assert a.tolist() == b.tolist()
    assert cr.randn(4, generator=g1).tolist() != a.tolist()  # the stream moves on
    g3 = cr.Generator().manual_seed(7)
    assert cr.randn(4, generator=g3).tolist() == a.tolist()
    assert g3.initial_seed() == 7
    g4 = cr.Generator(8)
    assert g4.manual_seed(7) is g4  # torch: manual_seed returns the generator


@pytest.mark.parametrize("seed", [-1, -5, -2**63])
def test_negative_seeds_are_their_64_bit_pattern_as_torch(seed):
    """torch accepts seeds in [−2⁶³, 2⁶⁴) and seeds a negative s as s + 2⁶⁴ (initial_seed() tells)."""
    assert cr.manual_seed(seed).initial_seed() == torch.manual_seed(seed).initial_seed() == seed + 2**64
    a = cr.randn(3).tolist()
    cr.manual_seed(seed + 2**64)
    assert cr.randn(3).tolist() == a
    assert cr.Generator(seed).initial_seed() == seed + 2**64


@pytest.mark.parametrize("seed", [-2**63 - 1, 2**64])
def test_seeds_out_of_64_bits_are_refused_as_torch(seed):
    with pytest.raises(ValueError):
        torch.manual_seed(seed)
    with pytest.raises(ValueError, match=rf"manual_seed: seed must be an int in \[-2\*\*63, 2\*\*64\), got {seed}"):
        cr.manual_seed(seed)


def test_generator_does_not_advance_default():
    cr.manual_seed(42)
    expected = cr.rand(3).tolist()
    cr.manual_seed(42)
    cr.rand(5, generator=cr.Generator(1))
    cr.randint(0, 9, (5,), generator=cr.Generator(1))
    assert cr.rand(3).tolist() == expected


def test_generator_get_state_set_state():
    g = cr.Generator(99)
    cr.rand(3, generator=g)
    state = g.get_state()
    a = cr.randn(6, generator=g).tolist()
    b = cr.randn(6, generator=g).tolist()
    assert a != b
    g.set_state(state)
    assert cr.randn(6, generator=g).tolist() == a
    assert cr.randn(6, generator=g).tolist() == b
    other = cr.Generator(0).set_state(state)  # a state carries over to another generator
    assert cr.randn(6, generator=other).tolist() == a


def test_generator_state_is_a_snapshot():
    g = cr.Generator(5)
    state = g.get_state()
    first = cr.rand(4, generator=g).tolist()
    cr.rand(4, generator=g)
    g.set_state(state)
    assert cr.rand(4, generator=g).tolist() == first


# ----- attributes and conversions ---------------------------------------------------------------------
@given(shape=shapes)
@settings(max_examples=25, deadline=None)
def test_attributes_as_torch(shape):
    a = np.random.default_rng(0).standard_normal(shape)
    ours, theirs = cr.tensor(a), torch.tensor(a)
    assert ours.shape == tuple(theirs.shape)
    assert tuple(ours.size()) == tuple(theirs.size())
    for d in range(-len(shape), len(shape)):
        assert ours.size(d) == theirs.size(d)
    assert ours.ndim == theirs.ndim and ours.dim() == theirs.dim()
    assert ours.numel() == theirs.numel()
    assert ours.tolist() == theirs.tolist()
    assert ours.dtype == cr.float64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_item():
    for value, kind in ((2.5, float), (3, int), (True, bool)):
        item = cr.tensor(value).item()
        assert type(item) is kind and item == value
        assert type(torch.tensor(value).item()) is kind
    assert cr.tensor([[4.0]]).item() == 4.0
    with pytest.raises((RuntimeError, ValueError), match=r"2|one element"):
        cr.tensor([1.0, 2.0]).item()


def test_numpy_shares_memory():
    t = cr.tensor([1.0, 2.0])
    t.numpy()[0] = 9.0
    assert t.tolist() == [9.0, 2.0]


def test_numpy_on_tensor_requiring_grad_raises_like_torch():
    with pytest.raises(RuntimeError):
        torch.tensor([1.0], requires_grad=True).numpy()
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        t.numpy()
    with pytest.raises(RuntimeError):
        (t * 2).numpy()
    assert t.detach().numpy().tolist() == [1.0, 2.0]


def test_detach_shares_data_and_leaves_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert np.shares_memory(d.data, y.data)
    assert not x.detach().requires_grad


def test_clone_copies_and_keeps_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.requires_grad and c.grad_fn is not None
    assert not np.shares_memory(c.data, x.data)
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    plain = cr.tensor([1, 2])
    copy = plain.clone()
    copy.numpy()[0] = 5
    assert plain.tolist() == [1, 2] and copy.dtype == cr.int64


@pytest.mark.parametrize(
    "method, args, dtype",
    [("float", (), cr.float32), ("double", (), cr.float64), ("long", (), cr.int64), ("to", (cr.float64,), cr.float64),
     ("to", (cr.float32,), cr.float32), ("to", (cr.int32,), cr.int32)],
)
@pytest.mark.parametrize("source", [np.array([1.7, -2.2, 3.0], dtype=np.float32), np.array([1.7, -2.2, 3.0]),
                                    np.array([1, -2, 3])])
def test_conversions_as_torch(method, args, dtype, source):
    out = getattr(cr.tensor(source), method)(*args)
    ref = getattr(torch.tensor(source), method)(*[torch_dtype(a) for a in args])
    assert out.dtype == dtype and same_dtype(out, ref)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    same = cr.tensor(source.astype(dtype))
    assert getattr(same, method)(*args) is same  # torch: converting to the same dtype returns self


def test_float_conversion_is_differentiable():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.dtype == cr.float64 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == cr.float32
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_integer_conversion_leaves_the_graph():
    """torch: ``x.long()`` of a float tensor requiring grad is an int64 tensor with requires_grad False."""
    xt = torch.tensor([1.5, 2.5], requires_grad=True)
    assert not xt.long().requires_grad
    x = cr.tensor([1.5, 2.5], requires_grad=True)
    for t in (x.long(), x.to(cr.int32), x.bool()):
        assert not t.requires_grad, f"{t.dtype} tensor requires grad"
        assert t.grad_fn is None


# ----- dtype through ops ------------------------------------------------------------------------------
@given(shape=shapes)
@settings(max_examples=25, deadline=None)
def test_float32_stays_float32_through_scalar_ops(shape):
    x = cr.rand(shape) + 0.5
    for y in (x * 2.0, x + 1, x / 3, 1 - x, 2.0 / x, x**2, x**0.5, -x, x.exp(), x.sum(), x.mean(), x - 1.5):
        assert y.dtype == cr.float32, f"got {y.dtype}"


@pytest.mark.parametrize(
    "op",
    [lambda t: t * 2.0, lambda t: t + 1, lambda t: t / 3, lambda t: 2.0 - t, lambda t: t ** 2, lambda t: t.sum(),
     lambda t: t + np.float64(1.0)],
    ids=["mul_float", "add_int", "div_int", "rsub_float", "pow_int", "sum", "add_np_float64"],
)
def test_float32_scalar_ops_equal_torch(op):
    a = np.array([[0.5, 1.5, -2.0], [3.0, 0.25, 1.0]], dtype=np.float32)
    assert_parity(op, op, a)


@pytest.mark.parametrize(
    "op",
    [lambda t: t + 1.5, lambda t: t * 0.5, lambda t: 2.5 - t, lambda t: t - 1.0, lambda t: t / 2, lambda t: t / t,
     lambda t: 3 / t, lambda t: t + 1, lambda t: t * 2, lambda t: t**2, lambda t: t**0.5, lambda t: t + True,
     lambda t: t.sum()],
    ids=["add_float", "mul_float", "rsub_float", "sub_float", "truediv_int", "truediv_self", "rtruediv_int",
         "add_int", "mul_int", "pow_int", "pow_float", "add_bool", "sum"],
)
def test_int_tensor_with_scalars_dtype_as_torch(op):
    a = np.array([1, 2, 4])
    out, ref = op(cr.tensor(a)), op(torch.tensor(a))
    assert same_dtype(out, ref), f"{out.dtype} vs torch {ref.dtype}"
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    "a, b",
    [(np.float32, np.float64), (np.int64, np.float32), (np.int32, np.int64), (np.bool_, np.int64),
     (np.bool_, np.float32), (np.uint8, np.int8), (np.int64, np.float64), (np.float16, np.float32)],
)
def test_tensor_tensor_promotion_as_torch(a, b):
    x, y = np.array([1, 2, 3]).astype(a), np.array([3, 0, 1]).astype(b)
    for op in (lambda p, q: p + q, lambda p, q: p * q, lambda p, q: q * p + p):
        out, ref = op(cr.tensor(x), cr.tensor(y)), op(torch.tensor(x), torch.tensor(y))
        assert same_dtype(out, ref), f"{a.__name__} with {b.__name__}: {out.dtype} vs torch {ref.dtype}"


def test_mixed_float_widths_promote_and_gradients_keep_input_dtype():
    a = np.array([1.0, -2.0, 3.0], dtype=np.float32)
    b = np.array([0.5, 4.0, -1.0], dtype=np.float64)
    out = assert_parity(lambda p, q: p * q + p, lambda p, q: p * q + p, a, b)
    assert out.dtype == cr.float64
    x, y = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    (x * y).sum().backward()
    assert x.grad.dtype == cr.float32 and y.grad.dtype == cr.float64


# ----- requires_grad, comparisons --------------------------------------------------------------------
@pytest.mark.parametrize("data", [[1, 2], [True, False]])
def test_requires_grad_on_non_float_raises(data):
    with pytest.raises(RuntimeError):
        torch.tensor(data, requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        cr.tensor(data, requires_grad=True)
    with pytest.raises(RuntimeError):
        cr.tensor(data).requires_grad_()
    with pytest.raises(RuntimeError):
        cr.zeros(2, dtype=cr.int64, requires_grad=True)


def test_requires_grad_flag():
    t = cr.tensor([1.0])
    assert not t.requires_grad
    assert t.requires_grad_() is t and t.requires_grad
    t.requires_grad_(False)
    assert not t.requires_grad
    y = cr.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError):
        y.requires_grad_(False)  # torch: only leaves may change the flag


@pytest.mark.parametrize("op", ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"])
def test_comparisons_are_bool_without_grad(op):
    a = np.array([[1.0, 2.0, 3.0], [0.0, 2.0, -1.0]])
    x = cr.tensor(a, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    for other, other_t in ((2.0, 2.0), (cr.tensor([2.0, 2.0, 0.0]), torch.tensor([2.0, 2.0, 0.0])),
                           (x * 1.0, xt * 1.0)):
        out, ref = getattr(x, op)(other), getattr(xt, op)(other_t)
        assert out.dtype == cr.bool and ref.dtype == torch.bool
        assert not out.requires_grad and out.grad_fn is None
        np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_logical_ops_on_bool_tensors():
    a, b = np.array([True, False, True]), np.array([True, True, False])
    for op in (lambda p, q: p & q, lambda p, q: p | q, lambda p, q: p ^ q, lambda p, q: ~p):
        out, ref = op(cr.tensor(a), cr.tensor(b)), op(torch.tensor(a), torch.tensor(b))
        assert out.dtype == cr.bool
        np.testing.assert_array_equal(out.numpy(), ref.numpy())


BITWISE_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float32"]


@pytest.mark.parametrize("op", ["__and__", "__or__", "__xor__"])
@pytest.mark.parametrize("a", BITWISE_DTYPES)
@pytest.mark.parametrize("b", BITWISE_DTYPES + [True, 3, 2.0])
def test_bitwise_ops_as_torch(op, a, b):
    """Bit by bit with torch's result dtype (integers promote, bool with bool stays bool); floats refused."""
    x = np.array([5, 3, 0, 12]).astype(a)
    y = np.array([3, 6, 0, 10]).astype(b) if isinstance(b, str) else b
    ours, theirs = (cr.tensor(y), torch.tensor(y)) if isinstance(b, str) else (b, b)
    try:
        ref = getattr(torch.tensor(x), op)(theirs)
    except (RuntimeError, TypeError, NotImplementedError):
        with pytest.raises(TypeError, match=rf"bitwise_{op.strip('_')}: needs integer or bool operands, got {a} and "):
            getattr(cr.tensor(x), op)(ours)
        return
    out = getattr(cr.tensor(x), op)(ours)
    assert same_dtype(out, ref), f"{out.dtype} vs torch {ref.dtype}"
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


@pytest.mark.parametrize("op", [lambda p, q: p & q, lambda p, q: p | q, lambda p, q: p ^ q])
def test_bitwise_ops_with_the_scalar_first_as_torch(op):
    out, ref = op(6, cr.tensor([5, 3], dtype=cr.int32)), op(6, torch.tensor([5, 3], dtype=torch.int32))
    assert same_dtype(out, ref)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


def test_bitwise_not_as_torch():
    for data in ([5, -3], [True, False]):
        np.testing.assert_array_equal((~cr.tensor(data)).numpy(), (~torch.tensor(data)).numpy())
    with pytest.raises(TypeError):
        ~torch.tensor([1.0])
    with pytest.raises(TypeError, match="bitwise_not: needs an integer or bool tensor, got float32"):
        ~cr.tensor([1.0])


# ----- assigning .grad ----------------------------------------------------------------------------------
def test_assigned_grad_must_match_shape_and_dtype_as_torch():
    xt, x = torch.zeros(3, requires_grad=True), cr.zeros(3, requires_grad=True)
    for bad, bad_t in ((cr.zeros(4), torch.zeros(4)),
                       (cr.zeros(3, dtype=cr.float64), torch.zeros(3, dtype=torch.float64))):
        with pytest.raises(RuntimeError):
            xt.grad = bad_t
        with pytest.raises(RuntimeError, match=rf"grad: assigned grad has shape \({bad.shape[0]},\) and dtype "
                                               rf"{bad.dtype}, but the tensor has shape \(3,\) and dtype float32"):
            x.grad = bad
    with pytest.raises(TypeError):
        xt.grad = np.zeros(3)
    with pytest.raises(TypeError, match="grad: assigned grad must be a Tensor or None, got ndarray"):
        x.grad = np.zeros(3)
    assert x.grad is None
    x.grad = cr.ones(3)
    (x * 2).sum().backward()  # accumulates into the assigned gradient
    assert x.grad.tolist() == [3.0, 3.0, 3.0]
    x.grad = None
    assert x.grad is None


# ----- in-place ops -----------------------------------------------------------------------------------
@pytest.mark.parametrize("op", [lambda t: t.zero_(), lambda t: t.fill_(3.0), lambda t: t.copy_(cr.ones(3))],
                         ids=["zero_", "fill_", "copy_"])
def test_inplace_on_leaf_requiring_grad_raises_outside_no_grad(op):
    with pytest.raises(RuntimeError):
        torch.zeros(3, requires_grad=True).zero_()
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        op(x)
    assert x.tolist() == [1.0, 2.0, 3.0]
    with cr.no_grad():
        assert op(x) is x
    assert x.requires_grad and x.tolist() != [1.0, 2.0, 3.0]


def test_inplace_values_as_torch():
    x = cr.tensor([1.0, 2.0, 3.0])
    assert x.fill_(2.5).tolist() == [2.5] * 3
    assert x.zero_().tolist() == [0.0] * 3
    assert x.copy_(np.array([4.0, 5.0, 6.0])).tolist() == [4.0, 5.0, 6.0]
    assert x.copy_(cr.tensor(7.0)).tolist() == [7.0] * 3  # broadcast source
    assert x.dtype == cr.float32
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        x.copy_(cr.ones(2))


def test_inplace_on_a_graph_tensor_is_refused():
    """torch records in-place ops in the graph; chainrule refuses them on tensors that are part of a
    recorded graph (a silently wrong gradient is the alternative), with a message naming the op."""
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    for op in (lambda t: t.zero_(), lambda t: t.fill_(0.0), lambda t: t.copy_([1.0, 1.0])):
        with pytest.raises(RuntimeError, match=r"(zero_|fill_|copy_).*part of the graph.*\(2,\)"):
            op(y)
    with cr.no_grad():
        y.zero_()  # allowed outside grad mode, as an explicit escape hatch


def test_inplace_change_of_a_saved_input_raises_at_backward_like_torch():
    """A tensor outside the graph (no grad) that an op saved, then overwritten in place: backward must
    refuse rather than use the new values (torch's version counter; chainrule has one too)."""
    xt = torch.tensor([1.0, 2.0])
    wt = torch.tensor([3.0, 4.0], requires_grad=True)
    zt = wt * xt
    xt.fill_(0.0)
    with pytest.raises(RuntimeError, match="inplace"):
        zt.sum().backward()
    x = cr.tensor([1.0, 2.0])
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    z = w * x
    x.fill_(0.0)
    with pytest.raises(RuntimeError, match=r"in-place.*version 0 → 1"):
        z.sum().backward()


def test_inplace_change_before_use_is_fine():
    x = cr.tensor([1.0, 2.0])
    x.fill_(5.0)
    w = cr.tensor([3.0, 4.0], requires_grad=True)
    (w * x).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [5.0, 5.0])


# ----- repr -------------------------------------------------------------------------------------------
def test_repr_readable():
    assert repr(cr.tensor([1.0, 2.0])) == repr(torch.tensor([1.0, 2.0]))
    assert repr(cr.tensor([1, 2])) == repr(torch.tensor([1, 2]))
    assert repr(cr.tensor(3.0)) == repr(torch.tensor(3.0))
    assert repr(cr.tensor([1.0, 2.0], requires_grad=True)) == repr(torch.tensor([1.0, 2.0], requires_grad=True))
    r = repr(cr.tensor([1.5], dtype=cr.float64))
    assert r.startswith("tensor([1.5") and "float64" in r
    r = repr(cr.tensor([1.0], requires_grad=True) * 2)
    assert "grad_fn=<Mul" in r
    r = repr(cr.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert r.count("\n") == 1 and "[3., 4.]" in r


# ----- dtype aliases, type(), devices, layout (tensor basics) ----------------------------------------
@pytest.mark.parametrize("name", ["float", "double", "half", "long", "int", "short"])
def test_dtype_aliases_as_torch(name):
    assert getattr(cr, name) == np.dtype(str(getattr(torch, name)).replace("torch.", ""))


def test_bfloat16_is_not_provided_and_names_the_alternative():
    with pytest.raises(AttributeError, match="NumPy has no bfloat16.*float32"):
        cr.bfloat16  # noqa: B018
    with pytest.raises(TypeError, match="NumPy has no bfloat16"):
        cr.zeros(2).to("bfloat16")
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        cr.no_such_name  # noqa: B018


@pytest.mark.parametrize("method", ["float", "double", "half", "long", "int", "short", "char", "byte", "bool"])
def test_conversion_methods_and_type_names_as_torch(method):
    a = np.array([[1.5, -2.0], [0.0, 3.25]])
    ours, theirs = getattr(cr.tensor(a), method)(), getattr(torch.tensor(a), method)()
    assert same_dtype(ours, theirs)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ours.type() == theirs.type().replace("torch.", "chainrule.")


def test_type_with_a_dtype_or_a_type_name_casts():
    x = cr.tensor([1.5, 2.5])
    assert x.type(cr.float64).dtype == cr.float64
    assert x.type("chainrule.IntTensor").dtype == cr.int32
    assert x.type("torch.LongTensor").tolist() == torch.tensor([1.5, 2.5]).type("torch.LongTensor").tolist()
    with pytest.raises(ValueError, match="invalid type 'chainrule.FooTensor'"):
        x.type("chainrule.FooTensor")


def test_to_forms_as_torch():
    x, t = cr.tensor([1.5, 2.0]), torch.tensor([1.5, 2.0])
    assert x.to("cpu") is x and x.to(cr.device("cpu")) is x and x.to(cr.float32) is x
    assert x.to(cr.float32, copy=True) is not x
    assert x.to(cr.tensor([1], dtype=cr.int32)).dtype == cr.int32
    assert same_dtype(x.to("cpu", cr.float64), t.to("cpu", torch.float64))
    assert same_dtype(x.to(dtype=cr.int8, device="cpu"), t.to(dtype=torch.int8, device="cpu"))
    assert x.to("float64").dtype == cr.float64  # a dtype's name still works (NumPy's astype habit)
    assert x.cpu() is x


def test_to_is_differentiable_between_floats():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x.to("cpu", cr.float64) * 3).sum().backward()
    assert x.grad.dtype == cr.float32 and x.grad.tolist() == [3.0, 3.0]


@pytest.mark.parametrize("bad", ["cuda", "cuda:0", "mps", "foo"])
def test_any_device_but_the_cpu_is_a_clear_error(bad):
    with pytest.raises(RuntimeError, match=f"runs on the CPU only.*{bad}"):
        cr.zeros(2).to(bad)
    with pytest.raises(RuntimeError, match=f"zeros: chainrule runs on the CPU only.*{bad}"):
        cr.zeros(2, device=bad)
    with pytest.raises(RuntimeError, match="CPU only"):
        cr.device(bad)


def test_cuda_is_a_clear_error():
    with pytest.raises(RuntimeError, match="cuda: chainrule runs on the CPU only"):
        cr.zeros(2).cuda()


def test_device_object_as_torch():
    d, t = cr.device("cpu"), torch.device("cpu")
    assert (repr(d), str(d), d.type, d.index) == (repr(t), str(t), t.type, t.index)
    assert repr(cr.device("cpu:0")) == repr(torch.device("cpu:0")) and cr.device("cpu", 0) == cr.device("cpu:0")
    assert cr.zeros(2).device == d and hash(cr.zeros(2).device) == hash(d)
    assert cr.zeros(2).is_cuda is False
    with pytest.raises(TypeError, match="expected a string"):
        cr.device(3)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"])
def test_layout_attributes_as_torch(dtype):
    x, t = cr.zeros(2, 3, dtype=dtype), torch.zeros(2, 3, dtype=torch_dtype(dtype))
    assert (x.element_size(), x.itemsize, x.nbytes) == (t.element_size(), t.itemsize, t.nbytes)
    assert x.is_floating_point() == t.is_floating_point()
    assert x.is_contiguous() and x.contiguous() is x
    assert x.data_ptr() == x.numpy().ctypes.data


@pytest.mark.parametrize(("src", "dst", "shape"), [("float32", "int32", (2, 3)), ("float64", "float32", (2, 3)),
                                                    ("int16", "float16", (4,)), ("float32", "float64", (2, 4)),
                                                    ("uint8", "bool", (3,)), ("int64", "int8", ())])
def test_view_dtype_reinterprets_bits_as_torch(src, dst, shape):
    a = np.arange(1, 1 + int(np.prod(shape)), dtype=src).reshape(shape)
    if not shape:  # 0-d with a different element size: an error in both
        with pytest.raises(RuntimeError, match="0-d tensor"):
            cr.tensor(a).view(getattr(cr, dst))
        with pytest.raises(RuntimeError):
            torch.tensor(a).view(torch_dtype(dst))
        return
    ours, theirs = cr.tensor(a).view(getattr(cr, dst)), torch.tensor(a).view(torch_dtype(dst))
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_view_dtype_errors_and_same_dtype():
    x = cr.tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="multiple of 8 bytes"):
        x.view(cr.float64)
    assert x.view(cr.float32) is x and x.view(3, 1).shape == (3, 1) and x.view((1, 3)).shape == (1, 3)
    w = cr.tensor([1.0], requires_grad=True)
    assert not w.view(cr.int32).requires_grad


def test_numpy_force_copies_even_with_grad():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    a = w.numpy(force=True)
    a[0] = 9
    assert w.tolist() == [1.0, 2.0]
    x = cr.tensor([1.0])
    assert x.numpy() is x.data and x.numpy(force=True) is not x.data


# ----- in-place ops against torch ---------------------------------------------------------------------
INPLACE_BINARY = [
    ("add_", lambda x, o: x.add_(o)), ("add_alpha", lambda x, o: x.add_(o, alpha=2)),
    ("sub_", lambda x, o: x.sub_(o)), ("sub_alpha", lambda x, o: x.sub_(o, alpha=-3)),
    ("mul_", lambda x, o: x.mul_(o)), ("div_", lambda x, o: x.div_(o)),
    ("div_trunc", lambda x, o: x.div_(o, rounding_mode="trunc")),
    ("div_floor", lambda x, o: x.div_(o, rounding_mode="floor")),
    ("pow_", lambda x, o: x.abs_().pow_(o)),
]


@pytest.mark.parametrize(("name", "op"), INPLACE_BINARY, ids=[n for n, _ in INPLACE_BINARY])
@pytest.mark.parametrize("other_shape", [(), (3,), (2, 3), "scalar"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_inplace_binary_ops_as_torch(name, op, other_shape, dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3)).astype(dtype)
    other = 1.7 if other_shape == "scalar" else (rng.standard_normal(other_shape) + 3).astype(dtype)
    x, t = cr.tensor(a), torch.tensor(a)
    ours = op(x, other if other_shape == "scalar" else cr.tensor(other))
    theirs = op(t, other if other_shape == "scalar" else torch.tensor(other))
    assert ours is x and x._version == (2 if name == "pow_" else 1)
    assert x.dtype == np.dtype(dtype)
    np.testing.assert_allclose(x.numpy(), theirs.numpy(), rtol=1e-6 if dtype == "float32" else 1e-12, atol=1e-7)


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_integer_div_with_rounding_as_torch(mode):
    a, b = np.array([7, -7, 5, -5, 0, 9]), np.array([2, 2, -3, -3, 4, 3])
    x = cr.tensor(a).div_(cr.tensor(b), rounding_mode=mode)
    assert x.dtype == cr.int64
    assert x.tolist() == torch.tensor(a).div_(torch.tensor(b), rounding_mode=mode).tolist()
    with pytest.raises(ValueError, match="rounding_mode must be"):
        cr.tensor(a).div_(2, rounding_mode="round")
    with pytest.raises(ZeroDivisionError, match="div_: integer division by zero"):
        cr.tensor(a).div_(0, rounding_mode="floor")


UNARY = ["exp_", "log_", "sqrt_", "abs_", "neg_", "sigmoid_", "tanh_", "relu_"]


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_inplace_unary_ops_as_torch(name, dtype):
    a = np.random.default_rng(1).standard_normal((3, 4)).astype(dtype)
    a = np.abs(a) + 0.1 if name in ("log_", "sqrt_") else a
    x, t = cr.tensor(a), torch.tensor(a)
    assert getattr(x, name)() is x
    getattr(t, name)()
    assert x.dtype == np.dtype(dtype) and x._version == 1
    np.testing.assert_allclose(x.numpy(), t.numpy(), rtol=1e-6, atol=1e-7)


def test_inplace_clamp_and_fill_as_torch():
    a = np.linspace(-2, 2, 9)
    assert cr.tensor(a).clamp_(-1, 0.5).tolist() == torch.tensor(a).clamp_(-1, 0.5).tolist()
    assert cr.tensor(a).clip_(min=0).tolist() == torch.tensor(a).clip_(min=0).tolist()
    with pytest.raises(ValueError, match="clamp: at least one"):
        cr.tensor(a).clamp_()


@pytest.mark.parametrize(("call", "message"), [
    (lambda x: x.add_(1.5), "add_: result type float32 can't be cast to the desired output type int64"),
    (lambda x: x.exp_(), "exp_: result type float32 can't be cast"),
    (lambda x: x.add_(cr.ones(2, 3, dtype=cr.int64)), r"output with shape \(3,\) doesn't match the broadcast shape"),
    (lambda x: x.add_(1, alpha=0.5), "alpha must not be a floating point number"),
])
def test_inplace_dtype_and_shape_errors_as_torch(call, message):
    x = cr.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match=message):
        call(x)
    assert x.tolist() == [1, 2, 3] and x._version == 0  # (the messages are torch's, checked by hand)


def test_inplace_into_bool_refuses_integer_results_as_torch():
    with pytest.raises(RuntimeError, match="result type int64 can't be cast to the desired output type bool"):
        cr.zeros(3, dtype=cr.bool).add_(1)


@pytest.mark.parametrize("name", ["add_", "mul_", "exp_", "masked_fill_", "scatter_", "uniform_", "index_fill_"])
def test_new_inplace_ops_refuse_a_leaf_requiring_grad_and_work_under_no_grad(name):
    calls = {"add_": lambda w: w.add_(1), "mul_": lambda w: w.mul_(2), "exp_": lambda w: w.exp_(),
             "masked_fill_": lambda w: w.masked_fill_(cr.tensor([True, False, True]), 0.0),
             "scatter_": lambda w: w.scatter_(0, cr.tensor([1]), cr.tensor([5.0])),
             "uniform_": lambda w: w.uniform_(), "index_fill_": lambda w: w.index_fill_(0, cr.tensor([0]), -1.0)}
    w = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=f"{name}: a leaf tensor that requires grad"):
        calls[name](w)
    with cr.no_grad():
        assert calls[name](w) is w
    assert w._version == 1 and w.requires_grad


def test_inplace_with_an_operand_requiring_grad_is_refused_in_grad_mode():
    w = cr.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="add_: an operand requires grad"):
        cr.zeros(1).add_(w)
    with cr.no_grad():
        assert cr.zeros(1).add_(w).tolist() == [1.0]


def test_inplace_ops_bump_the_version_so_a_graph_that_saved_the_tensor_fails_at_backward():
    x, h = cr.tensor([1.0, 2.0], requires_grad=True), cr.tensor([3.0, 4.0])
    z = (h * x).sum()  # saves h for x's gradient
    h.add_(1)
    with pytest.raises(RuntimeError, match=r"in-place.*version 0 → 1"):
        z.backward()


def test_masked_fill_as_torch():
    a = np.arange(6.0).reshape(2, 3)
    mask = np.array([True, False, True])
    for value in (-1.5, 7, cr.tensor(2.5)):
        tv = torch.tensor(value.item()) if isinstance(value, cr.Tensor) else value
        ours = cr.tensor(a).masked_fill_(cr.tensor(mask), value)
        np.testing.assert_array_equal(ours.numpy(), torch.tensor(a).masked_fill_(torch.tensor(mask), tv).numpy())
    ints = cr.tensor([0, 0, 0]).masked_fill_(cr.tensor(mask), 1.7)
    assert ints.tolist() == torch.tensor([0, 0, 0]).masked_fill_(torch.tensor(mask), 1.7).tolist()
    with pytest.raises(RuntimeError, match="only supports boolean masks, but got mask with dtype float32"):
        cr.tensor(a).masked_fill_(cr.tensor([1.0, 0.0, 1.0]), 0)
    with pytest.raises(RuntimeError, match="only supports a 0-dimensional value tensor"):
        cr.tensor(a).masked_fill_(cr.tensor(mask), cr.tensor([1.0]))
    with pytest.raises(RuntimeError, match=r"mask of shape \(4,\) cannot be broadcast"):
        cr.tensor(a).masked_fill_(cr.tensor([True] * 4), 0)


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("reduce", [None, "add", "multiply"])
def test_scatter_as_torch(dim, reduce):
    rng = np.random.default_rng(dim + 5)
    a, src = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    index = rng.integers(0, a.shape[dim], (2, 3)) if reduce else np.stack(
        [rng.permutation(a.shape[dim])[:2] for _ in range(3)], axis=1 if dim == 0 else 0)[:2, :3]
    if reduce is None and dim != 0:  # no repeated targets along dim: scatter's result is then defined
        index = np.stack([rng.permutation(4)[:3] for _ in range(2)])
    kw = {} if reduce is None else {"reduce": reduce}
    ours = cr.tensor(a).scatter_(dim, cr.tensor(index), cr.tensor(src), **kw)
    theirs = torch.tensor(a).scatter_(dim, torch.tensor(index), torch.tensor(src), **kw)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    ours = cr.tensor(a).scatter_(dim, cr.tensor(index), 2.5, **kw)
    theirs = torch.tensor(a).scatter_(dim, torch.tensor(index), 2.5, **kw)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("dim", [0, 1])
def test_scatter_add_and_index_add_accumulate_repeats_as_torch(dim):
    rng = np.random.default_rng(3)
    a, src = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    index = rng.integers(0, a.shape[dim], (3, 4))
    ours = cr.tensor(a).scatter_add_(dim, cr.tensor(index), cr.tensor(src))
    theirs = torch.tensor(a).scatter_add_(dim, torch.tensor(index), torch.tensor(src))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    rows = np.array([2, 0, 2, 2])
    source = rng.standard_normal((4, 4) if dim == 0 else (3, 4))
    ours = cr.tensor(a).index_add_(dim, cr.tensor(rows), cr.tensor(source), alpha=-2.0)
    theirs = torch.tensor(a).index_add_(dim, torch.tensor(rows), torch.tensor(source), alpha=-2.0)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    ours = cr.tensor(a).index_fill_(dim, cr.tensor([0, 2]), -7.0)
    theirs = torch.tensor(a).index_fill_(dim, torch.tensor([0, 2]), -7.0)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_scatter_and_index_errors():
    x = cr.zeros(3, 4)
    with pytest.raises(RuntimeError, match="expected dtype int64 for index, got int32"):
        x.scatter_(0, cr.tensor([[0]], dtype=cr.int32), 1.0)
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        x.scatter_(0, cr.tensor([[3]]), 1.0)
    with pytest.raises(IndexError, match="index -1 is out of bounds"):
        x.index_fill_(1, cr.tensor([-1]), 1.0)
    with pytest.raises(RuntimeError, match="as many dimensions"):
        x.scatter_(0, cr.tensor([0]), 1.0)
    with pytest.raises(RuntimeError, match="expected self.dtype to be equal to src.dtype"):
        x.scatter_(0, cr.tensor([[0]]), cr.tensor([[1.0]], dtype=cr.float64))
    with pytest.raises(RuntimeError, match="reduce must be"):
        x.scatter_(0, cr.tensor([[0]]), 1.0, reduce="max")
    with pytest.raises(TypeError, match="exactly one of src"):
        x.scatter_(0, cr.tensor([[0]]))
    with pytest.raises(RuntimeError, match=r"source of shape \(2, 4\) must have shape \(1, 4\)"):
        x.index_add_(0, cr.tensor([1]), cr.zeros(2, 4))
    with pytest.raises(RuntimeError, match="must have the same scalar type"):
        x.index_add_(0, cr.tensor([1]), cr.zeros(1, 4, dtype=cr.float64))
    with pytest.raises(IndexError, match="dim 2 out of range"):
        x.index_fill_(2, cr.tensor([0]), 1.0)
    assert x._version == 0 and not x.numpy().any()


# ----- in-place random fills --------------------------------------------------------------------------
def test_random_fills_have_the_right_moments_and_are_seeded():
    n = 200_000
    cr.manual_seed(0)
    u = cr.empty(n, dtype=cr.float64).uniform_(-1, 3)
    assert u.numpy().min() >= -1 and u.numpy().max() < 3 and abs(u.numpy().mean() - 1) < 0.02
    g = cr.empty(n, dtype=cr.float64).normal_(2, 0.5)
    assert abs(g.numpy().mean() - 2) < 0.01 and abs(g.numpy().std() - 0.5) < 0.01
    e = cr.empty(n).exponential_(4.0)
    assert e.dtype == cr.float32 and e.numpy().min() >= 0 and abs(e.numpy().mean() - 0.25) < 0.005
    b = cr.empty(n, dtype=cr.int64).bernoulli_(0.3)
    assert set(np.unique(b.numpy())) == {0, 1} and abs(b.numpy().mean() - 0.3) < 0.01
    r = cr.empty(n, dtype=cr.int64).random_(3, 7)
    assert set(np.unique(r.numpy())) == {3, 4, 5, 6}
    assert set(np.unique(cr.empty(1000).random_(4).numpy())) == {0.0, 1.0, 2.0, 3.0}
    assert cr.empty(1000, dtype=cr.float16).random_().numpy().max() <= 2**11
    cr.manual_seed(0)
    assert cr.empty(n, dtype=cr.float64).uniform_(-1, 3).tolist() == u.tolist()
    p = cr.tensor([0.0, 1.0, 0.0, 1.0])
    assert cr.empty(4).bernoulli_(p).tolist() == [0.0, 1.0, 0.0, 1.0]


def test_random_fills_with_a_generator_leave_the_default_alone():
    cr.manual_seed(1)
    expected = cr.rand(3).tolist()
    cr.manual_seed(1)
    a = cr.empty(5).normal_(generator=cr.Generator(7))
    assert cr.rand(3).tolist() == expected
    assert a.tolist() == cr.empty(5).normal_(generator=cr.Generator(7)).tolist()


def test_random_fill_errors():
    with pytest.raises(TypeError, match="uniform_: needs a floating-point tensor, got int64"):
        cr.zeros(2, dtype=cr.int64).uniform_()
    with pytest.raises(RuntimeError, match="expects from <= to"):
        cr.zeros(2).uniform_(3, 1)
    with pytest.raises(RuntimeError, match="expects std >= 0.0"):
        cr.zeros(2).normal_(0, -1)
    with pytest.raises(RuntimeError, match="expects lambd > 0.0"):
        cr.zeros(2).exponential_(0)
    with pytest.raises(RuntimeError, match="expects 0 <= p <= 1"):
        cr.zeros(2).bernoulli_(1.5)
    with pytest.raises(RuntimeError, match="expects 'from' to be less than 'to'"):
        cr.zeros(2).random_(5, 3)
