"""Second (and third) derivatives of the convolutions equal torch's (float64), on the fast kernels and the reference
ops: conv1d / conv2d over drawn shapes and arguments (channels, odd and even sizes, stride, padding with 'same',
dilation, groups, bias), conv_transpose1d / conv_transpose2d (output_padding), conv3d, and unfold / fold."""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from tests.higher.check import assert_higher_order

TOL = {"rtol": 1e-7, "atol": 1e-9}
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")  # torch's note


def draw(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def lib(t):
    return TF if isinstance(t, torch.Tensor) else F


def conv_cases(count, seed, dims):
    """``count`` drawn (x shape, w shape, bias, stride, padding, dilation, groups) of valid convolutions."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        groups = int(rng.choice([1, 2]))
        c, o = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
        if groups == 1 and rng.random() < 0.3:
            c = 3
        kernel = tuple(int(k) for k in rng.integers(1, 4, dims))
        size = tuple(int(n) for n in rng.integers(3, 9, dims))
        stride, dilation = int(rng.integers(1, 4)), int(rng.integers(1, 3))
        padding = rng.choice([0, 1, 2, "same"]).item()
        if padding == "same":
            stride = 1
        else:
            padding = int(padding)
        if any(n + 2 * (0 if padding == "same" else padding) < dilation * (k - 1) + 1 for n, k in zip(size, kernel)):
            continue
        cases.append(((int(rng.integers(1, 3)), c) + size, (o, c // groups) + kernel, bool(rng.random() < 0.6),
                      stride, padding, dilation, groups))
    return cases


def conv_fn(name, stride, padding, dilation, groups, nonlinear):
    """x, w (, b) ↦ the convolution through a nonlinearity (its square or its sine)."""
    def f(x, w, b=None):
        y = getattr(lib(x), name)(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
        return y ** 2 if nonlinear == "square" else y.sin()
    return f


def _run(name, case, nonlinear, seed, order=2):
    x_shape, w_shape, bias, stride, padding, dilation, groups = case
    arrays = [draw(x_shape, seed), draw(w_shape, seed + 1)] + ([draw(w_shape[:1], seed + 2)] if bias else [])
    f = conv_fn(name, stride, padding, dilation, groups, nonlinear)
    assert_higher_order(f, f, *arrays, order=order, **TOL)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("case", conv_cases(24, 0, 2), ids=str)
def test_conv2d(case):
    _run("conv2d", case, "square", 3)
    _run("conv2d", case, "sin", 4)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("case", conv_cases(12, 1, 1), ids=str)
def test_conv1d(case):
    _run("conv1d", case, "square", 5)
    _run("conv1d", case, "sin", 6)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("case", conv_cases(6, 2, 2), ids=str)
def test_conv2d_third_order(case):
    _run("conv2d", case, "square", 7, order=3)


@pytest.mark.usefixtures("both_paths")
def test_conv_sin_conv():
    """conv → sin → conv, w.r.t. the input and both weights."""
    def f(x, w1, w2):
        h = lib(x).conv2d(x, w1, stride=2, padding=1).sin()
        return lib(x).conv2d(h, w2, padding="same", dilation=2, groups=2)
    assert_higher_order(f, f, draw((2, 2, 7, 6), 8), draw((4, 2, 3, 3), 9), draw((4, 2, 2, 3), 10), order=3, **TOL)


@pytest.mark.usefixtures("both_paths")
def test_mixed_input_weight():
    """d²/dx dW and d²/dW dx: the weight's gradient differentiated with respect to the input and back."""
    x, w, u = draw((2, 4, 6, 5), 11), draw((2, 2, 3, 2), 12), draw((2, 2, 3, 2), 13)
    results = []
    for mod, tensor in ((cr, cr.tensor), (torch, torch.tensor)):
        xt, wt = tensor(x, requires_grad=True), tensor(w, requires_grad=True)
        loss = (lib(xt).conv2d(xt, wt, stride=2, padding=1, groups=2) ** 2).sum()
        (gw,) = mod.autograd.grad(loss, wt, create_graph=True)
        (gx,) = mod.autograd.grad((gw * tensor(u)).sum(), xt, create_graph=True)
        (gww,) = mod.autograd.grad((gx * tensor(x)).sum(), wt)
        results.append([np.asarray(t.detach().numpy() if isinstance(t, torch.Tensor) else t.data) for t in (gx, gww)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, **TOL)


@pytest.mark.usefixtures("both_paths")
def test_gradient_penalty():
    """A gradient penalty, ‖∂D/∂x‖², minimized over the parameters of a small conv net D (WGAN-GP's term)."""
    x, w1, b1, w2 = draw((3, 2, 6, 6), 14), draw((4, 2, 3, 3), 15), draw((4,), 16), draw((1, 4, 2, 2), 17)
    results = []
    for mod, tensor in ((cr, cr.tensor), (torch, torch.tensor)):
        xt = tensor(x, requires_grad=True)
        params = [tensor(a, requires_grad=True) for a in (w1, b1, w2)]
        d = lib(xt).conv2d(lib(xt).conv2d(xt, params[0], params[1], stride=2).tanh(), params[2]).sum()
        (gx,) = mod.autograd.grad(d, xt, create_graph=True)
        grads = mod.autograd.grad((gx ** 2).sum(), params)
        results.append([g.detach().numpy() if isinstance(g, torch.Tensor) else g.data for g in grads])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, **TOL)


TRANSPOSED = [((2, 2, 3, 4), (2, 3, 2, 3), True, 2, 1, 1, 1, 1), ((1, 4, 4, 3), (4, 1, 3, 2), False, 3, 2, 2, 2, 2),
              ((2, 2, 2, 3), (2, 2, 1, 3), True, 1, 0, 1, 2, 1), ((1, 2, 3, 3), (2, 2, 3, 3), True, 2, 2, 0, 1, 2),
              ((2, 3, 4, 2), (3, 1, 2, 2), False, 1, 1, 0, 2, 1), ((1, 2, 5, 4), (2, 2, 2, 2), True, 3, 0, 2, 1, 1)]


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("case", TRANSPOSED, ids=str)
def test_conv_transpose2d(case):
    """x, w (C_in, C_out/G, k…), bias, stride, padding, output_padding, dilation, groups."""
    x_shape, w_shape, bias, stride, padding, output_padding, dilation, groups = case
    arrays = [draw(x_shape, 18), draw(w_shape, 19)] + ([draw((w_shape[1] * groups,), 20)] if bias else [])

    def f(x, w, b=None):
        y = lib(x).conv_transpose2d(x, w, b, stride=stride, padding=padding, output_padding=output_padding,
                                    dilation=dilation, groups=groups)
        return y.sin() * y
    assert_higher_order(f, f, *arrays, order=2, **TOL)
    if output_padding == 0:  # torch's own third derivative rejects output_padding
        assert_higher_order(f, f, *arrays, order=3, **TOL)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("stride,padding,output_padding,dilation", [(1, 0, 0, 1), (2, 1, 1, 1), (3, 2, 1, 2)])
def test_conv_transpose1d(stride, padding, output_padding, dilation):
    def f(x, w, b):
        return lib(x).conv_transpose1d(x, w, b, stride=stride, padding=padding, output_padding=output_padding,
                                       dilation=dilation) ** 2
    assert_higher_order(f, f, draw((2, 3, 5), 21), draw((3, 2, 3), 22), draw((2,), 23), order=2, **TOL)


@pytest.mark.parametrize("groups,kernel,stride,padding,dilation",
                         [(1, (2, 1, 2), 1, 0, 1), (2, (1, 2, 2), 2, 1, 1), (1, (2, 2, 1), 1, "same", 2),
                          (2, (3, 1, 2), (2, 1, 2), (1, 0, 1), (1, 2, 1))])
def test_conv3d(groups, kernel, stride, padding, dilation):
    def f(x, w, b):
        return lib(x).conv3d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups) ** 2
    arrays = draw((2, 2, 4, 5, 3), 24), draw((2, 2 // groups) + kernel, 25), draw((2,), 26)
    assert_higher_order(f, f, *arrays, order=3, **TOL)


@pytest.mark.parametrize("kernel,dilation,padding,stride", [(2, 1, 0, 1), (3, 1, 1, 2), ((2, 3), 2, (1, 0), (2, 1))])
def test_unfold_fold(kernel, dilation, padding, stride):
    """unfold and fold, each the other's adjoint, through squares."""
    def f(x):
        cols = lib(x).unfold(x, kernel, dilation, padding, stride)
        out = lib(x).fold(cols * cols, (6, 5), kernel, dilation, padding, stride)
        return out * out
    assert_higher_order(f, f, draw((2, 2, 6, 5), 27), order=3, **TOL)


def test_unbatched():
    """(C, H, W) and (C, L) inputs."""
    for f in (lambda x, w: lib(x).conv2d(x, w, padding=1) ** 2,
              lambda x, w: lib(x).conv1d(x[:, 0], w[:, :, 0], stride=2) ** 2,
              lambda x, w: lib(x).conv_transpose2d(x, w, stride=2) ** 2):
        assert_higher_order(f, f, draw((3, 5, 4), 28), draw((3, 3, 2, 2), 29), order=2, **TOL)


def test_cases_cover_the_arguments():
    """The drawn conv2d cases include every value the task names."""
    cases = conv_cases(24, 0, 2)
    seen = {name: {case[i] for case in cases} for i, name in [(2, "bias"), (3, "stride"), (4, "padding"),
                                                              (5, "dilation"), (6, "groups")]}
    assert seen["bias"] == {True, False} and seen["stride"] == {1, 2, 3} and seen["dilation"] == {1, 2}
    assert seen["padding"] == {0, 1, 2, "same"} and seen["groups"] == {1, 2}
    assert {c[0][1] for c in cases} >= {1, 2, 3, 4}
    assert {n % 2 for c in cases for n in c[0][2:]} == {0, 1}
    assert any(k % 2 == 0 for c in cases for k in c[1][2:])  # even kernels: 'same' pads one more at the end
    assert len(set(itertools.chain.from_iterable(c[1][2:] for c in cases))) == 3
