"""Second (and third) derivatives of the losses equal torch's (float64): cross-entropy (class indices and
probabilities, weights, ignore_index, label smoothing; on its fast kernel and on the reference op), NLL, the
pointwise losses (at points off their kinks) and the Gaussian NLL, with respect to the input and, where torch
allows it, the target and the variance."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from tests.higher.check import assert_higher_order

both_paths = pytest.mark.usefixtures("both_paths")  # cross-entropy has a fast kernel
REDUCTIONS = ["mean", "sum", "none"]


def draw(shape, seed, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape)


def classes(shape, c, seed, ignore=0):
    """Class indices; the first ``ignore`` of them set to -100 (ignored)."""
    t = np.random.default_rng(seed).integers(0, c, shape)
    t.reshape(-1)[:ignore] = -100
    return t


def weights(c, seed):
    return draw(c, seed, 0.5, 2.0)


@both_paths
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape, weighted, ignore, smoothing", [
    ((4, 3), False, 0, 0.0), ((5, 4), True, 1, 0.0), ((5, 4), True, 2, 0.2), ((2, 3, 2), False, 1, 0.1),
    ((3,), True, 0, 0.3), ((2, 4, 2, 2), True, 3, 0.05),
])
def test_cross_entropy_indices(shape, weighted, ignore, smoothing, reduction):
    c = shape[0] if len(shape) == 1 else shape[1]
    z = draw(shape, 1)
    t = classes(() if len(shape) == 1 else (shape[0],) + shape[2:], c, 2, ignore)
    w = weights(c, 3) if weighted else None
    tw = None if w is None else torch.tensor(w)
    assert_higher_order(
        lambda z: F.cross_entropy(z, t, None if w is None else cr.tensor(w), reduction=reduction,
                                  label_smoothing=smoothing),
        lambda z: TF.cross_entropy(z, torch.tensor(t), tw, reduction=reduction, label_smoothing=smoothing),
        z, order=3 if len(shape) == 2 else 2)


@both_paths
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape, weighted, smoothing", [((4, 3), False, 0.0), ((3, 5), True, 0.2), ((2, 3, 2), True, 0.1)])
def test_cross_entropy_probabilities(shape, weighted, smoothing, reduction):
    """Both the logits and the target distribution get derivatives (mixed ones too)."""
    z, q = draw(shape, 4), draw(shape, 5, 0.1, 1.0)
    q = q / q.sum(1, keepdims=True)
    w = weights(shape[1], 6) if weighted else None
    tw = None if w is None else torch.tensor(w)
    assert_higher_order(
        lambda z, q: F.cross_entropy(z, q, None if w is None else cr.tensor(w), reduction=reduction,
                                     label_smoothing=smoothing),
        lambda z, q: TF.cross_entropy(z, q, tw, reduction=reduction, label_smoothing=smoothing), z, q)


@both_paths
def test_cross_entropy_every_target_ignored():
    """'mean' over no targets: the loss is NaN (as torch) and every derivative 0, as the first-order gradient."""
    z = cr.tensor(draw((3, 4), 7), requires_grad=True)
    loss = F.cross_entropy(z, np.full(3, -100), reduction="mean")
    assert np.isnan(loss.item())
    (g,) = cr.autograd.grad(loss, z, create_graph=True)
    np.testing.assert_array_equal(g.data, 0.0)
    (gg,) = cr.autograd.grad((g * cr.tensor(draw((3, 4), 8))).sum(), z, allow_unused=True, materialize_grads=True)
    np.testing.assert_array_equal(gg.data, 0.0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape, weighted, ignore", [((4, 3), False, 0), ((5, 4), True, 2), ((2, 3, 3), True, 1)])
def test_nll(shape, weighted, ignore, reduction):
    """NLL is linear in its input, so it is applied to log_softmax(x)·x, whose second derivatives are not 0."""
    x = draw(shape, 9)
    t = classes((shape[0],) + shape[2:], shape[1], 10, ignore)
    w = weights(shape[1], 11) if weighted else None
    tw = None if w is None else torch.tensor(w)
    assert_higher_order(
        lambda x: F.nll_loss(x.log_softmax(1) * x, t, None if w is None else cr.tensor(w), reduction=reduction),
        lambda x: TF.nll_loss(x.log_softmax(1) * x, torch.tensor(t), tw, reduction=reduction), x)


def _pointwise_cases():
    x, y = draw((3, 4), 12), draw((3, 4), 13)
    p, q = draw((3, 4), 14, 0.05, 0.95), draw((3, 4), 15, 0.0, 1.0)
    pw, w = weights(4, 16), draw((3, 4), 17, 0.5, 1.5)
    log_p, log_q = np.log(p), np.log(draw((4,), 18, 0.05, 0.95))
    sign = np.where(draw((3, 4), 19) > 0, 1.0, -1.0)
    return {  # name: (chainrule's, torch's, arrays, wrt); wrt None: every float array
        "mse": (F.mse_loss, TF.mse_loss, (x, y), None, {}),
        "l1": (F.l1_loss, TF.l1_loss, (x, y), None, {}),
        "smooth_l1": (F.smooth_l1_loss, TF.smooth_l1_loss, (x, y), None, {"beta": 0.7}),
        "smooth_l1_beta0": (F.smooth_l1_loss, TF.smooth_l1_loss, (x, y), None, {"beta": 0.0}),
        "huber": (F.huber_loss, TF.huber_loss, (x, y), None, {"delta": 0.6}),
        "bce": (F.binary_cross_entropy, TF.binary_cross_entropy, (p, q), None, {}),
        "bce_weight": (lambda a, b, **k: F.binary_cross_entropy(a, b, cr.tensor(w), **k),
                       lambda a, b, **k: TF.binary_cross_entropy(a, b, torch.tensor(w), **k), (p, q), None, {}),
        "bce_logits": (lambda a, b, **k: F.binary_cross_entropy_with_logits(a, b, cr.tensor(w),
                                                                             pos_weight=cr.tensor(pw), **k),
                       lambda a, b, **k: TF.binary_cross_entropy_with_logits(a, b, torch.tensor(w),
                                                                              pos_weight=torch.tensor(pw), **k),
                       (3 * x, q), None, {}),
        "bce_logits_plain": (F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, (3 * x, q),
                             None, {}),
        "kl_div": (F.kl_div, TF.kl_div, (log_p, q), None, {}),
        "kl_div_broadcast": (F.kl_div, TF.kl_div, (log_p, np.exp(log_q)), None, {}),
        "kl_div_log_target": (F.kl_div, TF.kl_div, (log_p, log_q), None, {"log_target": True}),
        "poisson_nll": (F.poisson_nll_loss, TF.poisson_nll_loss, (x, 3 * q), None, {}),
        "poisson_nll_rate_full": (F.poisson_nll_loss, TF.poisson_nll_loss, (p, 3 * q), None,
                                  {"log_input": False, "full": True}),
        "soft_margin": (F.soft_margin_loss, TF.soft_margin_loss, (x, sign), [0], {}),
    }


POINTWISE = _pointwise_cases()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", POINTWISE)
def test_pointwise(name, reduction):
    ours, theirs, arrays, wrt, kwargs = POINTWISE[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's notes on kl_div's 'mean' and on broadcast targets
        assert_higher_order(lambda a, b: ours(a, b, reduction=reduction, **kwargs),
                            lambda a, b: theirs(a, b, reduction=reduction, **kwargs), *arrays,
                            order=3, wrt=wrt, rtol=1e-8)


def test_kl_div_batchmean():
    a, b = np.log(draw((3, 4), 20, 0.1, 0.9)), draw((3, 4), 21, 0.1, 0.9)
    assert_higher_order(lambda a, b: F.kl_div(a, b, reduction="batchmean"),
                        lambda a, b: TF.kl_div(a, b, reduction="batchmean"), a, b, order=3)


def test_first_order_broadcast_target():
    """A term without the input's broadcast dim (kl_div's −y) gives each input a gradient of its own shape."""
    a = cr.tensor(np.log(draw((3, 4), 22, 0.1, 0.9)), requires_grad=True)
    b = cr.tensor(draw((4,), 23, 0.1, 0.9), requires_grad=True)
    ta, tb = (torch.tensor(t.data, requires_grad=True) for t in (a, b))
    F.kl_div(a, b, reduction="sum").backward()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        TF.kl_div(ta, tb, reduction="sum").backward()
    np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.data, tb.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("var_shape, full", [((3, 4), False), ((3,), True), ((3, 1), False), ((1, 4), True)])
def test_gaussian_nll(var_shape, full, reduction):
    x, y, v = draw((3, 4), 24), draw((3, 4), 25), draw(var_shape, 26, 0.3, 2.0)
    assert_higher_order(lambda x, y, v: F.gaussian_nll_loss(x, y, v, full=full, reduction=reduction),
                        lambda x, y, v: TF.gaussian_nll_loss(x, y, v, full=full, reduction=reduction), x, y, v,
                        order=3)


def test_gaussian_nll_clamped_variance():
    """A variance below eps is clamped, and its derivatives pass through the clamp unchanged (as torch)."""
    x, y, v = draw((2, 3), 27), draw((2, 3), 28), np.array([[1e-8, 0.5, 1.0], [2.0, 1e-9, 0.3]])
    assert_higher_order(lambda x, y, v: F.gaussian_nll_loss(x, y, v, eps=1e-3),
                        lambda x, y, v: TF.gaussian_nll_loss(x, y, v, eps=1e-3), x, y, v, order=3, rtol=1e-8)



def _composed_cases():
    a, b, c = draw((4, 5), 29), draw((4, 5), 30), draw((4, 5), 31)
    y = np.where(draw(4, 32) > 0, 1.0, -1.0)
    labels, hinge = (b > 0) * 1.0, np.tile(y[:, None], 5)
    return {  # name: (f(*tensors, library), arrays)
        "margin_ranking": (lambda a, b, lib: lib.nn.functional.margin_ranking_loss(a[:, 0] ** 3, b[:, 0],
                                                                                   lib.tensor(y), margin=0.1), (a, b)),
        "hinge_embedding": (lambda a, lib: lib.nn.functional.hinge_embedding_loss(a ** 2, lib.tensor(hinge),
                                                                                  margin=2.0), (a,)),
        "cosine_embedding": (lambda a, b, lib: lib.nn.functional.cosine_embedding_loss(a, b, lib.tensor(y),
                                                                                       margin=-0.5), (a, b)),
        "triplet_margin": (lambda a, b, c, lib: lib.nn.functional.triplet_margin_loss(a, b, c, margin=3.0), (a, b, c)),
        "multilabel_soft_margin": (lambda a, lib: lib.nn.functional.multilabel_soft_margin_loss(a, lib.tensor(labels)),
                                   (a,)),
    }


COMPOSED = _composed_cases()


@pytest.mark.parametrize("name", COMPOSED)
def test_composed(name):
    """The margin losses are composed of recorded ops, so they are twice differentiable through those."""
    f, arrays = COMPOSED[name]
    assert_higher_order(lambda *t: f(*t, cr), lambda *t: f(*t, torch), *arrays)
