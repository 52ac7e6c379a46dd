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
