"""Creation and random functions beyond tests/test_tensor.py: torch's ``device=`` keyword, the ``*_like``
family, randint's forms, and the random draws (normal, bernoulli, multinomial): shapes, dtypes and
gradients as torch, distributions by their moments, reproducibility by seed — not bit-equality with
torch's generator."""
import numpy as np
import pytest
import torch

import chainrule as cr

CREATORS = {
    "tensor": lambda **kw: cr.tensor([1.0, 2.0], **kw),
    "zeros": lambda **kw: cr.zeros(2, 3, **kw),
    "ones": lambda **kw: cr.ones(2, **kw),
    "empty": lambda **kw: cr.empty(2, **kw),
    "full": lambda **kw: cr.full((2,), 3.0, **kw),
    "arange": lambda **kw: cr.arange(4, **kw),
    "linspace": lambda **kw: cr.linspace(0, 1, 5, **kw),
    "eye": lambda **kw: cr.eye(3, **kw),
    "rand": lambda **kw: cr.rand(2, **kw),
    "randn": lambda **kw: cr.randn(2, **kw),
    "randint": lambda **kw: cr.randint(5, (2,), **kw),
    "randperm": lambda **kw: cr.randperm(4, **kw),
    "zeros_like": lambda **kw: cr.zeros_like(cr.ones(2), **kw),
    "ones_like": lambda **kw: cr.ones_like(cr.ones(2), **kw),
    "empty_like": lambda **kw: cr.empty_like(cr.ones(2), **kw),
    "full_like": lambda **kw: cr.full_like(cr.ones(2), 7, **kw),
    "rand_like": lambda **kw: cr.rand_like(cr.ones(2), **kw),
    "randn_like": lambda **kw: cr.randn_like(cr.ones(2), **kw),
    "randint_like": lambda **kw: cr.randint_like(cr.ones(2), 5, **kw),
    "normal": lambda **kw: cr.normal(0.0, 1.0, (2,), **kw),
}


@pytest.mark.parametrize("name", list(CREATORS))
def test_device_keyword_accepts_the_cpu_and_refuses_others(name):
    for device in ("cpu", "cpu:0", cr.device("cpu"), None):
        assert CREATORS[name](device=device).device == cr.device("cpu")
    with pytest.raises(RuntimeError, match=f"{name}: chainrule runs on the CPU only.*'cuda'"):
        CREATORS[name](device="cuda")


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "full_like", "rand_like", "randn_like",
                                  "randint_like"])
@pytest.mark.parametrize("dtype", [None, "float64", "float32"])
def test_like_functions_keep_shape_and_dtype_as_torch(name, dtype):
    args = {"full_like": (7,), "randint_like": (5,)}.get(name, ())
    x, t = cr.ones(2, 3, dtype=cr.float16), torch.ones(2, 3, dtype=torch.float16)
    kw = {} if dtype is None else {"dtype": getattr(cr, dtype)}
    tkw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    ours, theirs = getattr(cr, name)(x, *args, **kw), getattr(torch, name)(t, *args, **tkw)
    assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    if name in ("zeros_like", "ones_like", "full_like"):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert getattr(cr, name)(x, *args, requires_grad=True).requires_grad if name != "randint_like" else True


@pytest.mark.parametrize(("ours", "theirs"), [
    (lambda: cr.randint(5, (3,)), lambda: torch.randint(5, (3,))),
    (lambda: cr.randint(2, 5, (3, 2)), lambda: torch.randint(2, 5, (3, 2))),
    (lambda: cr.randint(5, size=(4,)), lambda: torch.randint(5, size=(4,))),
    (lambda: cr.randint(2, 5, size=(4,)), lambda: torch.randint(2, 5, size=(4,))),
    (lambda: cr.randint(low=2, high=5, size=(4,)), lambda: torch.randint(low=2, high=5, size=(4,))),
    (lambda: cr.randint(high=5, size=(4,)), lambda: torch.randint(high=5, size=(4,))),
    (lambda: cr.randint(3, (2,), dtype=cr.float32), lambda: torch.randint(3, (2,), dtype=torch.float32)),
    (lambda: cr.randint(3, ()), lambda: torch.randint(3, ())),
])
def test_randint_forms_as_torch(ours, theirs):
    a, t = ours(), theirs()
    assert a.shape == tuple(t.shape) and str(a.dtype) == str(t.dtype).replace("torch.", "")


def test_randint_and_randint_like_ranges():
    cr.manual_seed(0)
    assert set(cr.randint(2, 5, (1000,)).tolist()) == {2, 3, 4}
    assert set(cr.randint_like(cr.zeros(1000, dtype=cr.int32), 3, 5).tolist()) == {3, 4}
    with pytest.raises(ValueError, match="randint: expected low < high, got low=5, high=3"):
        cr.randint(5, 3, (2,))
    with pytest.raises(TypeError, match="randint: missing the size"):
        cr.randint()
    with pytest.raises(TypeError, match="randint_like: low and high must be integers"):
        cr.randint_like(cr.zeros(2), 2.5)


def test_randperm_is_a_permutation_and_seeded():
    p = cr.randperm(50, generator=cr.Generator(3))
    assert p.dtype == cr.int64 and sorted(p.tolist()) == list(range(50))
    assert p.tolist() == cr.randperm(50, generator=cr.Generator(3)).tolist()


# ----- normal ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("ours", "theirs"), [
    (lambda m: cr.normal(m, cr.ones(1, 4, dtype=m.dtype)), lambda m: torch.normal(m, torch.ones(1, 4, dtype=m.dtype))),
    (lambda m: cr.normal(m, 2.0), lambda m: torch.normal(m, 2.0)),
    (lambda m: cr.normal(0.5, m.abs()), lambda m: torch.normal(0.5, m.abs())),
])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_normal_tensor_forms_shape_dtype_and_zero_gradient_as_torch(ours, theirs, dtype):
    a = np.random.default_rng(0).standard_normal((3, 4)).astype(dtype)
    m, t = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = ours(m), theirs(t)
    assert out.shape == tuple(ref.shape) and str(out.dtype) == str(ref.dtype).replace("torch.", "")
    assert out.requires_grad == ref.requires_grad
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_array_equal(m.grad.numpy(), t.grad.numpy())  # zero: sampling is not differentiated
    assert m.grad.dtype == np.dtype(dtype)


def test_normal_moments_and_seeds():
    cr.manual_seed(0)
    x = cr.normal(cr.full((200_000,), 3.0, dtype=cr.float64), 0.5)
    assert abs(x.numpy().mean() - 3) < 0.01 and abs(x.numpy().std() - 0.5) < 0.01
    y = cr.normal(-1.0, 2.0, size=(200_000,))
    assert y.dtype == cr.float32 and abs(y.numpy().mean() + 1) < 0.02 and abs(y.numpy().std() - 2) < 0.02
    cr.manual_seed(0)
    assert cr.normal(cr.full((200_000,), 3.0, dtype=cr.float64), 0.5).tolist() == x.tolist()
    g = cr.normal(0.0, 1.0, (5,), generator=cr.Generator(1))
    assert g.tolist() == cr.normal(0.0, 1.0, (5,), generator=cr.Generator(1)).tolist()


def test_normal_errors():
    with pytest.raises(TypeError, match="normal: with a float mean and std, give size="):
        cr.normal(0.0, 1.0)
    with pytest.raises(TypeError, match="size= is only for a float mean and std"):
        cr.normal(cr.zeros(2), 1.0, size=(2,))
    with pytest.raises(RuntimeError, match="expects all elements of std >= 0.0"):
        cr.normal(cr.zeros(2), cr.tensor([1.0, -1.0]))
    with pytest.raises(TypeError, match="normal: needs a floating-point mean and std, got int64"):
        cr.normal(cr.zeros(2, dtype=cr.int64), 1.0)


# ----- bernoulli --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bernoulli_as_torch(dtype):
    p = np.array([[0.0, 1.0, 0.3], [1.0, 0.0, 0.7]], dtype=dtype)
    x, t = cr.tensor(p, requires_grad=True), torch.tensor(p, requires_grad=True)
    out, ref = cr.bernoulli(x), torch.bernoulli(t)
    assert out.dtype == np.dtype(dtype) and out.requires_grad == ref.requires_grad
    certain = (p == 0) | (p == 1)
    np.testing.assert_array_equal(out.detach().numpy()[certain], p[certain])
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    scalar = cr.bernoulli(cr.zeros(3, dtype=dtype), p=1.0)
    assert scalar.tolist() == torch.bernoulli(torch.zeros(3, dtype=getattr(torch, dtype)), p=1.0).tolist()


def test_bernoulli_mean_seed_and_errors():
    cr.manual_seed(5)
    draws = cr.bernoulli(cr.full((100_000,), 0.25, dtype=cr.float64))
    assert set(np.unique(draws.numpy())) == {0.0, 1.0} and abs(draws.numpy().mean() - 0.25) < 0.01
    cr.manual_seed(5)
    assert cr.bernoulli(cr.full((100_000,), 0.25, dtype=cr.float64)).tolist() == draws.tolist()
    with pytest.raises(RuntimeError, match="bernoulli: expects 0 <= p <= 1"):
        cr.bernoulli(cr.tensor([1.5]))
    with pytest.raises(TypeError, match="bernoulli: needs a floating-point probability tensor, got int64"):
        cr.bernoulli(cr.tensor([1]))


# ----- multinomial -------------------------------------------------------------------------------------
@pytest.mark.parametrize("replacement", [False, True])
@pytest.mark.parametrize("shape", [(5,), (3, 5)])
def test_multinomial_shape_dtype_and_support_as_torch(replacement, shape):
    w = np.random.default_rng(0).random(shape)
    w[..., 1] = 0  # a zero-weight category is never drawn while others remain
    ours = cr.multinomial(cr.tensor(w), 3, replacement=replacement)
    theirs = torch.multinomial(torch.tensor(w), 3, replacement=replacement)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == cr.int64
    assert not (ours.numpy() == 1).any()
    if not replacement:
        assert all(len(set(row)) == 3 for row in ours.numpy().reshape(-1, 3))


@pytest.mark.parametrize("replacement", [False, True])
def test_multinomial_frequencies_follow_the_weights(replacement):
    cr.manual_seed(0)
    w = cr.tensor([1.0, 2.0, 7.0], dtype=cr.float64).expand(20_000, 3)
    first = cr.multinomial(w, 1, replacement=replacement).numpy().ravel()
    np.testing.assert_allclose(np.bincount(first, minlength=3) / first.size, [0.1, 0.2, 0.7], atol=0.015)
    cr.manual_seed(0)
    assert cr.multinomial(w, 1, replacement=replacement).numpy().ravel().tolist() == first.tolist()


def test_multinomial_without_replacement_second_draw_is_conditional():
    cr.manual_seed(1)
    draws = cr.multinomial(cr.tensor([1.0, 1.0, 2.0], dtype=cr.float64).expand(30_000, 3), 2).numpy()
    # P(first = 2) = 1/2; P(second = 2 | first = 0) = 2/3
    assert abs((draws[:, 0] == 2).mean() - 0.5) < 0.015
    assert abs((draws[draws[:, 0] == 0, 1] == 2).mean() - 2 / 3) < 0.03


@pytest.mark.parametrize(("call", "message"), [
    (lambda: cr.multinomial(cr.zeros(2, 2, 2), 1), "prob_dist must be 1 or 2 dim"),
    (lambda: cr.multinomial(cr.tensor([0.0, 1.0]), 3), r"cannot sample n_sample \(3\) > prob_dist.size\(-1\) \(2\)"),
    (lambda: cr.multinomial(cr.tensor([0.0, -1.0]), 1), "contains either `inf`, `nan` or element < 0"),
    (lambda: cr.multinomial(cr.tensor([0.0, float("nan")]), 1), "contains either `inf`, `nan` or element < 0"),
    (lambda: cr.multinomial(cr.tensor([0.0, 0.0]), 1), r"sum of probabilities <= 0"),
    (lambda: cr.multinomial(cr.tensor([1.0]), 0), "cannot sample n_sample <= 0"),
    (lambda: cr.multinomial(cr.tensor([1, 2]), 1), "only supports floating-point dtypes"),
])
def test_multinomial_errors_as_torch(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()
