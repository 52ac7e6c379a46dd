"""The lab's whitening and norm-in-rnn experiments in their quick versions (seed 0), each run once into a temporary
folder. Asserted: the verdict follows the numbers measured, the figures are written, the report pages show the
numbers, and the parts that hold by construction (whitened covariance ≈ I, LayerNorm's mismatch 0) do."""
import numpy as np
import pytest

from chainrule import manual_seed, randn
from chainrule.lab import norm_in_rnn, whitening
from tests.lab import assert_well_formed, run_quick

EXPERIMENTS = (whitening, norm_in_rnn)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return run_quick(EXPERIMENTS, tmp_path_factory)


@pytest.mark.parametrize("module", EXPERIMENTS, ids=lambda m: m.NAME)
def test_shape_and_pages(results, module):
    assert_well_formed(module, *results[module.NAME])


def test_whitening(results):
    result, _ = results["whitening"]
    runs = {r["input"].split(" (")[0]: r for r in result.numbers["runs"]}
    raw, standard, pca, zca = (runs[k] for k in ("raw pixel counts", "standardized", "PCA-whitened", "ZCA-whitened"))
    # fitted on the training part, whitening gives that part a covariance ≈ I (on its 61 non-constant directions)
    for w in (pca, zca):
        assert w["condition_number"] < 1.1 and w["max_abs_correlation"] < 0.01 and w["rank"] == raw["rank"]
    assert raw["condition_number"] > standard["condition_number"] > 10 * pca["condition_number"]
    assert standard["max_abs_correlation"] > 0.5  # standardizing rescales, it does not decorrelate

    def needed(r):
        return r["steps_to_target"] if r["steps_to_target"] is not None else np.inf

    faster = all(needed(w) < min(needed(raw), needed(standard)) for w in (pca, zca))
    decorrelated = all(w["condition_number"] < 10 and w["max_abs_correlation"] < 0.05 for w in (pca, zca))
    assert result.held == (decorrelated and faster)
    assert result.in_part == (not result.held and (decorrelated or faster))
    assert all(r["test_accuracy"] > 0.9 for r in runs.values())


def test_norm_in_rnn(results):
    result, _ = results["norm-in-rnn"]
    runs = {(r["norm"], r["batch"]): r for r in result.numbers["runs"]}
    bn, ln = "BatchNorm (per step)", "LayerNorm"
    for batch in norm_in_rnn.BATCHES:  # no statistics across the batch: the same net in both modes
        assert runs[(ln, batch)]["mismatch"] == 0 and runs[("none", batch)]["mismatch"] == 0
    ln_wins_small = runs[(ln, 4)]["test_accuracy_eval_mode"] > runs[(bn, 4)]["test_accuracy_eval_mode"]
    grows = runs[(bn, 4)]["mismatch"] > runs[(bn, 64)]["mismatch"] and runs[(bn, 4)]["mismatch"] > 0
    assert result.held == (ln_wins_small and grows)
    assert result.in_part == (not result.held and (ln_wins_small or grows))
    assert all(r["test_accuracy_eval_mode"] > 0.3 for r in runs.values())  # every net learned (chance 0.1)


def test_batch_norm_keeps_statistics_per_time_step():
    manual_seed(0)
    model = norm_in_rnn.NormalizedRNN(8, 16, 8, 10, "batch")
    model(randn(5, 8, 8))
    means = np.stack([bn.running_mean.data for bn in model.norms])
    assert means.shape == (8, 16) and not np.allclose(means[0], means[-1])
    layer = norm_in_rnn.NormalizedRNN(8, 16, 8, 10, "layer").eval()
    x = randn(3, 8, 8)
    assert np.allclose(layer(x[:1]).data, layer(x).data[:1], atol=1e-6)  # per sample: the batch does not matter
