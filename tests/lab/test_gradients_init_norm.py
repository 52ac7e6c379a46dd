"""The lab's gradient, initialization and normalization experiments, each run once in its quick version
through ``chainrule.lab.run``: the verdict and the measured relations that decide it, the pictures, the
report pages and result.json. The verdicts asserted are what the quick runs measure (seed 0), not the
notes' wishes: vanishing gradients held only in part (tanh with Xavier init does not vanish) and BatchNorm's
small-batch sensitivity is checked as measured."""
import json
import math

import pytest
from threadpoolctl import threadpool_limits

from chainrule import lab
from chainrule.lab import base


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Many small GEMMs: one BLAS thread is several times faster than two on a shared, loaded machine."""
    with threadpool_limits(1):
        yield


def _run(name, tmp_path_factory):
    out = tmp_path_factory.mktemp("lab")
    result = lab.run(name, quick=True, out=str(out))
    return result, out / name


def _check_files(result, folder):
    saved = json.loads((folder / "result.json").read_text())
    assert saved["name"] == result.name and saved["held"] == result.held and saved["quick"] is True
    assert saved["verdict"] == result.verdict and saved["seconds"] > 0
    assert result.figures and all((folder / f).stat().st_size > 10_000 for f in result.figures)
    assert all(f.endswith(".png") for f in result.figures)
    assert (folder / f"{result.name}.md").exists() and (folder / f"{result.name}.html").exists()


@pytest.fixture(scope="module")
def vanishing(tmp_path_factory):
    return _run("vanishing-gradients", tmp_path_factory)


@pytest.fixture(scope="module")
def exploding(tmp_path_factory):
    return _run("exploding-gradients", tmp_path_factory)


@pytest.fixture(scope="module")
def initialization(tmp_path_factory):
    return _run("initialization", tmp_path_factory)


@pytest.fixture(scope="module")
def normalization(tmp_path_factory):
    return _run("normalization", tmp_path_factory)


def test_get_imports_only_the_experiment_asked_for():
    assert lab.get("vanishing-gradients").NAME == "vanishing-gradients"
    assert set(lab.experiments()) >= {"vanishing-gradients", "exploding-gradients", "initialization", "normalization"}
    with pytest.raises(KeyError, match="Did you mean 'initialization'"):
        base.get("initialisation")


def test_vanishing_gradients(vanishing):
    result, folder = vanishing
    _check_files(result, folder)
    n = result.numbers
    at_init, in_training, loss = n["first_to_last_ratio_at_init"], n["first_to_last_ratio_in_training"], n["final_loss"]
    # sigmoid: the first layer's gradient is ~1e-12 of the last's, and the net does not learn
    assert at_init["sigmoid"] < 1e-3 and in_training["sigmoid"] < 1e-3
    assert loss["sigmoid"] > 2.2 and n["gradient_flow_says_vanishing"]["sigmoid"]
    # the cures keep every layer's gradient within 100× and train below half the chance-level loss
    for cure in ("ReLU + He", "sigmoid + BatchNorm", "ReLU + residual"):
        assert at_init[cure] > 1e-2 and in_training[cure] > 1e-2, cure
        assert loss[cure] < 0.5 * math.log(10), cure
    assert at_init["ReLU + residual"] > 1e-2
    # measured, against the claim: tanh with Xavier init does not vanish and trains
    assert at_init["tanh"] > 1e-1 and in_training["tanh"] > 1e-1 and loss["tanh"] < 0.5 * math.log(10)
    # ReLU with the default U(±1/√fan_in) init vanishes too: the init, not ReLU alone, is the cure
    assert at_init["ReLU, default init"] < 1e-3
    assert result.held is False and result.outcome == "held in part" and "tanh" in result.verdict
    assert len(n["grad_norms_at_init"]["sigmoid"]) == 20


def test_exploding_gradients(exploding):
    result, folder = exploding
    _check_files(result, folder)
    n = result.numbers
    diverged, final = n["diverged_at_step"], n["final_loss"]
    baseline = "too-large init (1.5× He)"
    assert diverged[baseline] is not None and diverged[baseline] < 50 and final[baseline] is None
    assert n["max_grad_norm"][baseline] > 1e6
    works = {remedy: diverged[remedy] is None and final[remedy] < math.log(10)
             for remedy in diverged if remedy != baseline}
    assert works == n["remedy_works"]
    assert result.held == all(works.values()) and result.in_part == (not result.held)
    # clipping, a smaller learning rate and He's init each train; clipping holds the weights at their initial norm
    for remedy in ("+ clipping (‖g‖ ≤ 1)", "+ smaller lr (0.001)", "+ proper init (He)"):
        assert works[remedy], remedy
    assert n["max_weight_norm"]["+ clipping (‖g‖ ≤ 1)"] < 60  # 56.6 at the start
    # measured at seed 0, against the notes: L2 weight decay does not save the run — at λ = 5e-4 and 0.1 the loss
    # still overflows (the step, not the weights' size, blows up first), and no λ of the sweep both stays finite and
    # trains below chance
    for remedy in ("+ weight decay (λ = 0.0005)", "+ weight decay (λ = 0.1)"):
        assert diverged[remedy] is not None and n["max_weight_norm"][remedy] > 1e6, remedy
    assert not any(r["diverged_at_step"] is None and r["final_loss"] < math.log(10) for r in n["weight_decay_sweep"])
    assert result.outcome == "held in part" and "not enough: + weight decay" in result.verdict
    assert f"non-finite at step {diverged[baseline]}" in result.verdict


def test_initialization(initialization):
    result, folder = initialization
    _check_files(result, folder)
    n = result.numbers
    acc, spread, ratio = n["test_accuracy"], n["hidden_unit_spread_after_training"], n["activation_std_last_over_first"]
    for act in ("tanh", "ReLU"):
        # symmetry: zero and constant weights leave the hidden units identical; the net stays near chance
        for init in ("zeros", "constant 1/fan_in"):
            assert spread[act][init] < 1e-6 and acc[act][init] < 0.5, (act, init)
        assert spread[act]["He"] > 0.1
        assert ratio[act]["N(0, 0.1²)"] < 0.2  # too small: the activations fade layer by layer
    assert n["tanh_saturated_fraction_last_layer"]["N(0, 1)"] > 0.5
    assert n["diverged_at_step"]["ReLU"]["N(0, 1)"] is not None and acc["ReLU"]["N(0, 1)"] is None
    assert 0.2 < ratio["tanh"]["Xavier"] < 5 and 0.2 < ratio["ReLU"]["He"] < 5
    best = {act: max(a for a in acc[act].values() if a is not None) for act in acc}
    assert acc["tanh"]["Xavier"] >= best["tanh"] - 0.02 and acc["ReLU"]["He"] >= best["ReLU"] - 0.02
    assert acc["ReLU"]["He"] > 0.85
    assert result.held is True and all(n["parts"].values())


def test_normalization(normalization):
    result, folder = normalization
    _check_files(result, folder)
    n = result.numbers
    acc, lr, batch = n["test_accuracy"], n["learning_rate"], n["batch_size"]
    assert acc["BatchNorm"] >= acc["none"] + 0.2 and acc["BatchNorm"] == max(acc.values())
    assert n["parts"]["BN trains fastest"]
    # at lr 1 the plain net fails while BatchNorm still trains. Two epochs at lr 1 are chaotic: over seeds 0–11 BN
    # reached 0.70–0.96 with im2col convolutions and 0.69–0.92 with Winograd (means 0.81 and 0.80), so the quick run
    # asserts that BN trains; the 5-point criterion of the part is the full run's verdict
    assert lr["BatchNorm"][1.0] > 0.6 and (lr["none"][1.0] is None or lr["none"][1.0] < 0.5)
    # a test batch of 2 normalized by its own statistics loses accuracy: two samples do not represent the data
    own = batch["BatchNorm_test_accuracy_batch_statistics"]
    assert own[2] < own[64] - 0.1
    assert result.held is all(n["parts"].values())
