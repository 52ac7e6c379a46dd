"""kernels/winograd.py: Winograd F(2×2, 3×3) and F(4×4, 3×3) against torch and the reference im2col op.

float64, tight (1e-10 relative): forward, input gradient and weight gradient over drawn shapes — channels 1–64,
sizes 1–33 odd and even, padding 0–2 per side (also unequal), batch 1–9 — the batch split into blocks and the
blocks over 1–2 threads. float32 within the stated tolerance (Winograd's transforms round more than a direct
sum: F(2×2) ≤ 1e-5, F(4×4) ≤ 1e-4 of the output's largest entry). ``algorithm=`` and the global setting are
honoured (the path that ran is read off the node), the explicit request that cannot apply is refused by name,
and ``choose`` is held to the rule its docstring states."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.kernels import winograd

F64 = {"rtol": 1e-10, "atol": 1e-10}
F32_TOLERANCE = {2: 1e-5, 4: 1e-4}  # of the largest |entry|; measured: F(2×2) ~1e-6, F(4×4) ~1e-5


def draw_cases(count, seed):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(count):
        pads = tuple(int(p) for p in rng.integers(0, 3, 4))  # top, bottom, left, right
        h, w = (int(max(1, s)) for s in rng.integers(1, 34, 2))
        h, w = max(h, 3 - pads[0] - pads[1]), max(w, 3 - pads[2] - pads[3])  # the kernel fits the padded input
        c, o = (int(v) for v in rng.choice([1, 2, 3, 5, 8, 16, 33, 64], 2))
        cases.append({"n": int(rng.integers(1, 10)), "c": c, "o": o, "h": h, "w": w, "pads": pads,
                      "bias": bool(rng.integers(2)), "seed": int(rng.integers(2**16))})
    return cases


CASES = draw_cases(24, 0)


def torch_conv(x, w, b, pads):
    top, bottom, left, right = pads
    return TF.conv2d(TF.pad(x, (left, right, top, bottom)), w, b)


def arrays(case, dtype=np.float64):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"])).astype(dtype)
    w = (rng.standard_normal((case["o"], case["c"], 3, 3)) / np.sqrt(9 * case["c"])).astype(dtype)
    b = rng.standard_normal(case["o"]).astype(dtype) if case["bias"] else None
    return x, w, b


def run_ours(x, w, b, pads, algorithm, g):
    """Output, dx, dW, db of F.conv2d by ``algorithm``; asymmetric ``pads`` through F.pad first."""
    tx, tw = cr.tensor(x, requires_grad=True), cr.tensor(w, requires_grad=True)
    tb = cr.tensor(b, requires_grad=True) if b is not None else None
    top, bottom, left, right = pads
    xp = F.pad(tx, (left, right, top, bottom)) if (top, left) != (bottom, right) else tx
    out = F.conv2d(xp, tw, tb, padding=0 if xp is not tx else (top, left), algorithm=algorithm)
    out.backward(cr.tensor(g))
    return out.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), None if tb is None else tb.grad.numpy()


def run_torch(x, w, b, pads, g):
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True) if b is not None else None
    out = torch_conv(tx, tw, tb, pads)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), None if tb is None else tb.grad.numpy()


def output_shape(case):
    top, bottom, left, right = case["pads"]
    return case["n"], case["o"], case["h"] + top + bottom - 2, case["w"] + left + right - 2


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['n']}x{c['c']}->{c['o']}@{c['h']}x{c['w']}p{c['pads']}")
def test_forward_and_gradients_equal_torch_float64(case, m):
    x, w, b = arrays(case)
    g = np.random.default_rng(case["seed"] + 1).standard_normal(output_shape(case))
    ours, theirs = run_ours(x, w, b, case["pads"], f"winograd{m}", g), run_torch(x, w, b, case["pads"], g)
    for name, a, t in zip(("out", "dx", "dW", "db"), ours, theirs):
        if t is not None:
            np.testing.assert_allclose(a, t, err_msg=name, **F64)


@pytest.mark.parametrize("m", [2, 4])
def test_kernel_functions_with_unequal_padding_equal_torch(m):
    """The kernel's own (top, bottom, left, right) padding, blocks of 2 samples over 2 threads."""
    rng = np.random.default_rng(m)
    x, w, b = rng.standard_normal((5, 4, 9, 7)), rng.standard_normal((6, 4, 3, 3)), rng.standard_normal(6)
    pads = (0, 2, 1, 0)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ref = torch_conv(tx, tw, torch.tensor(b), pads)
    g = rng.standard_normal(ref.shape)
    ref.backward(torch.tensor(g))
    old = winograd.BLOCK, winograd.MIN_TILES
    plan = winograd.Winograd(x.shape, pads, m, x.dtype)
    winograd.BLOCK, winograd.MIN_TILES = 2 * (m + 2) ** 2 * 4 * plan.th * plan.tw, 1  # two samples' tiles
    try:
        with cr.num_threads(2):
            out = winograd.conv2d(x, w, b, pads, m)
            dx = winograd.conv2d_input_grad(g, w, pads, m)
            dw = winograd.conv2d_weight_grad(x, g, pads, m)
            assert winograd.Winograd(x.shape, pads, m, x.dtype).block == 2
    finally:
        winograd.BLOCK, winograd.MIN_TILES = old
    np.testing.assert_allclose(out, ref.detach().numpy(), **F64)
    np.testing.assert_allclose(dx, tx.grad.numpy(), **F64)
    np.testing.assert_allclose(dw, tw.grad.numpy(), **F64)


@pytest.mark.parametrize("m", [2, 4])
def test_one_dimensional_identity(m):
    """Aᵀ [(G g) ⊙ (Bᵀ d)] is the correlation of d (α,) with g (3,): the minimal filtering algorithm in 1-D."""
    bt, gm, at = (np.array(a, dtype=np.float64) for a in winograd.MATRICES[m])
    rng = np.random.default_rng(0)
    d, g = rng.standard_normal(m + 2), rng.standard_normal(3)
    np.testing.assert_allclose(at @ ((gm @ g) * (bt @ d)), np.correlate(d, g, mode="valid"), rtol=1e-13, atol=1e-13)
    assert at.shape[1] == m + 2  # α multiplications for m outputs, against 3·m directly


@pytest.mark.parametrize("m", [2, 4])
@pytest.mark.parametrize("case", CASES[:8], ids=lambda c: f"{c['n']}x{c['c']}->{c['o']}@{c['h']}x{c['w']}")
def test_float32_within_stated_tolerance(case, m):
    x, w, b = arrays(case, np.float32)
    g = np.random.default_rng(case["seed"] + 1).standard_normal(output_shape(case)).astype(np.float32)
    ours = run_ours(x, w, b, case["pads"], f"winograd{m}", g)
    theirs = run_torch(*(a.astype(np.float64) if a is not None else None for a in (x, w, b)), case["pads"],
                       g.astype(np.float64))
    for name, a, t in zip(("out", "dx", "dW"), ours, theirs):
        assert a.dtype == np.float32
        assert np.abs(a - t).max() <= F32_TOLERANCE[m] * max(np.abs(t).max(), 1), name


@pytest.mark.parametrize("algorithm,m", [("im2col", 0), ("winograd2", 2), ("winograd4", 4)])
def test_algorithm_argument_is_honoured(algorithm, m):
    x, w = cr.randn(2, 3, 8, 8, requires_grad=True), cr.randn(4, 3, 3, 3, requires_grad=True)
    assert F.conv2d(x, w, padding=1, algorithm=algorithm).grad_fn.winograd == m
    with cr.conv_algorithm(algorithm):
        assert cr.get_conv_algorithm() == algorithm
        assert F.conv2d(x, w, padding=1).grad_fn.winograd == m
        # the global setting applies where it can: a stride-2 conv falls back to im2col
        assert F.conv2d(x, w, padding=1, stride=2).grad_fn.winograd == 0
    assert cr.get_conv_algorithm() == "auto"


def test_reference_and_every_algorithm_agree():
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((3, 5, 11, 10)), rng.standard_normal((7, 5, 3, 3)), rng.standard_normal(7)
    g = rng.standard_normal((3, 7, 11, 10))
    with cr.use_reference():
        want = run_ours(x, w, b, (1, 1, 1, 1), None, g)
    for algorithm in ("im2col", "winograd2", "winograd4", "auto"):
        for a, t in zip(run_ours(x, w, b, (1, 1, 1, 1), algorithm, g), want):
            np.testing.assert_allclose(a, t, **F64)


def test_padding_beyond_two_takes_col2im_for_dx():
    """dx by Winograd needs g padded by 2 − pad ≥ 0; at pad 3 it falls back to col2im, still equal to torch."""
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 3, 5, 6)), rng.standard_normal((4, 3, 3, 3))
    g = rng.standard_normal((2, 4, 9, 10))
    for a, t in zip(run_ours(x, w, None, (3, 3, 3, 3), "winograd4", g), run_torch(x, w, None, (3, 3, 3, 3), g)):
        if t is not None:
            np.testing.assert_allclose(a, t, **F64)


def test_explicit_winograd_that_cannot_apply_is_refused():
    x, w = cr.randn(1, 2, 8, 8), cr.randn(2, 2, 3, 3)
    for kwargs, what in [({"stride": 2}, "stride (2, 2)"), ({"dilation": 2}, "dilation (2, 2)")]:
        with pytest.raises(ValueError, match=r"conv2d: algorithm='winograd4'.*" + what.replace("(", r"\(").replace(")", r"\)")):
            F.conv2d(x, w, algorithm="winograd4", **kwargs)
    with pytest.raises(ValueError, match=r"kernel \(5, 5\)"):
        F.conv2d(x, cr.randn(2, 2, 5, 5), algorithm="winograd2")
    with pytest.raises(ValueError, match="groups=2"):
        F.conv2d(x, cr.randn(2, 1, 3, 3), groups=2, algorithm="winograd2")
    with pytest.raises(ValueError, match=r"conv2d: algorithm must be one of 'auto', 'im2col', 'winograd2', 'winograd4', "
                                         r"got 'fft'"):
        F.conv2d(x, w, algorithm="fft")
    with pytest.raises(ValueError, match="set_conv_algorithm: algorithm must be one of"):
        cr.set_conv_algorithm("winograd")
    assert cr.get_conv_algorithm() == "auto"


def test_conv_algorithm_context_restores_on_error():
    with pytest.raises(RuntimeError), cr.conv_algorithm("winograd2"):
        assert cr.get_conv_algorithm() == "winograd2"
        raise RuntimeError
    assert cr.get_conv_algorithm() == "auto"
    cr.set_conv_algorithm("im2col")
    try:
        assert F.conv2d(cr.randn(1, 2, 6, 6, requires_grad=True), cr.randn(2, 2, 3, 3), padding=1).grad_fn.winograd == 0
    finally:
        cr.set_conv_algorithm("auto")


def test_choose_follows_its_rule():
    """im2col for narrow layers (below MIN_CHANNELS input channels or channels × output size below
    MIN_CHANNELS_BY_SIZE); else the tile with fewer multiplications per kept output, F(2×2) on ties, im2col when
    neither saves a third of its 9."""
    pads, f32 = (1, 1, 1, 1), np.float32
    assert winograd.choose((128, 16, 32, 32), pads, np.float64) == 0  # float64: the exact sums
    assert winograd.choose((128, 3, 32, 32), pads, f32) == 0  # an RGB input layer
    assert winograd.choose((128, winograd.MIN_CHANNELS, 32, 32), pads, f32) == 4
    assert winograd.choose((128, winograd.MIN_CHANNELS - 1, 32, 32), pads, f32) == 0
    assert winograd.choose((32, 16, 8, 8), pads, f32) == 0  # 16 channels × 8 < 256: measured slower than im2col
    assert winograd.choose((32, 32, 4, 4), pads, f32) == 0
    assert winograd.choose((32, 64, 4, 4), pads, f32) == 4  # 64 × 4 = 256
    assert winograd.choose((128, 16, 32, 32), pads, f32) == 4  # 36/16 = 2.25 per output against F(2×2)'s 4
    assert winograd.choose((64, 512, 4, 4), pads, f32) == 4
    assert winograd.choose((64, 512, 2, 2), pads, f32) == 2  # a 4×4 tile for 2×2 outputs: 9 per output, F(2×2): 4
    assert winograd.choose((8, 64, 6, 6), pads, f32) == 2  # tie at 4 per output: the one that rounds less
    assert winograd.choose((8, 64, 1, 1), pads, f32) == 0  # 1×1 outputs: F(2×2) 16, F(4×4) 36 per output
    assert winograd.multiplications_per_output(4, (8, 8)) == 36 / 16
    assert winograd.multiplications_per_output(2, (3, 3)) == 16 * 4 / 9


def test_inference_caches_the_filter_transform_until_the_weight_changes():
    """Under no_grad the transformed filters U = G g Gᵀ are kept per weight array and version; every way the
    library writes a weight in place bumps the version, so the next call transforms again — never a stale U."""
    from chainrule import nn, optim

    cr.manual_seed(0)
    conv = nn.Conv2d(16, 16, 3, padding=1)
    x = cr.randn(2, 16, 16, 16)
    opt = optim.SGD(conv.parameters(), lr=0.1)

    def check():
        with cr.no_grad():
            out = conv(x).numpy()
            assert id(conv.weight.data) in winograd._filters  # 'auto' picked Winograd and cached its filters
            want = torch_conv(torch.tensor(x.numpy()), torch.tensor(conv.weight.numpy(force=True)),
                              torch.tensor(conv.bias.numpy(force=True)), (1, 1, 1, 1)).numpy()
        np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-4)

    check()
    cached = winograd._filters[id(conv.weight.data)][1]
    check()
    assert winograd._filters[id(conv.weight.data)][1] is cached  # the same weights: the same U
    conv(x).sum().backward()  # training: nothing cached or read from the cache
    opt.step()
    check()
    assert winograd._filters[id(conv.weight.data)][1] is not cached
    conv.load_state_dict({"weight": np.ones((16, 16, 3, 3), np.float32), "bias": np.zeros(16, np.float32)})
    check()
    nn.init.kaiming_uniform_(conv.weight)
    check()
    with cr.no_grad():
        conv.weight.mul_(2.0)
    check()
    key = id(conv.weight.data)
    conv.weight = nn.Parameter(cr.randn(16, 16, 3, 3))  # the old array is freed: its entry goes with it
    import gc
    gc.collect()
    assert key not in winograd._filters or winograd._filters[key][1] is not cached
    check()
