"""The lab's pooling and input-scaling experiments in their quick versions (seed 0), each run once into a
temporary folder: pooling-backward, translation-invariance, overlapping-pooling and per-sample-normalization.
Asserted: the verdict follows the numbers measured (including "did not hold"), the figures are written, and the
report pages show the numbers as tables."""
import numpy as np
import pytest

from chainrule.lab import overlapping_pooling, per_sample_normalization, pooling_backward, translation_invariance
from chainrule.lab.report import numbers_tables
from tests.lab import assert_well_formed, run_quick

EXPERIMENTS = (pooling_backward, translation_invariance, overlapping_pooling, per_sample_normalization)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return run_quick(EXPERIMENTS, tmp_path_factory)


@pytest.mark.parametrize("module", EXPERIMENTS, ids=lambda m: m.NAME)
def test_shape_and_pages(results, module):
    assert_well_formed(module, *results[module.NAME])


def test_pooling_backward(results):
    result, _ = results["pooling-backward"]
    g = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert result.held is True
    assert np.allclose(result.numbers["avg_grad"], np.kron(g, np.ones((2, 2))) / 4)
    max_grad = np.array(result.numbers["max_grad"])
    assert sorted(max_grad[max_grad != 0]) == [1, 2, 3, 4] and (max_grad != 0).sum() == 4
    assert result.numbers["copy_mistake_over_true_ratio"] == 4


def test_translation_invariance(results):
    result, _ = results["translation-invariance"]
    rows = {r["shift"]: r for r in result.numbers["by_shift"]}
    assert rows[0]["feature_change_pooling"] == rows[0]["feature_change_no_pooling"] == 0
    assert rows[0]["accuracy_pooling"] > 0.9 and rows[0]["accuracy_no_pooling"] > 0.9
    steadier = all(rows[s]["feature_change_pooling"] < rows[s]["feature_change_no_pooling"] for s in (1, 2, 3))
    kept = all(rows[s]["accuracy_pooling"] > rows[s]["accuracy_no_pooling"] for s in (1, 2, 3))
    cost = result.numbers["computation"]
    pooled, unpooled = cost[translation_invariance.POOLED], cost[translation_invariance.UNPOOLED]
    # the summary's count, by hand: conv1 16·12²·9, conv2 16·6²·16·9 (pooled) or 16·12²·16·9, Linear 16·3²·10 or 16·12²·10
    assert pooled["macs"] == 20736 + 82944 + 1440 and unpooled["macs"] == 20736 + 331776 + 23040
    cheaper = result.numbers["mac_saving"] > 1
    assert result.held == (steadier and kept and cheaper)
    # measured at seed 0: pooling changes its features less and keeps more accuracy at every shift, but is far from
    # invariant — at 3 px both nets are near chance; the pooled net counts 3.6× fewer MACs and ran its forward +
    # backward about 2–3× faster than the same net without pooling (times are reported, not asserted: they move
    # with the machine's load)
    assert result.held is True
    assert rows[3]["accuracy_pooling"] < 0.5 * rows[0]["accuracy_pooling"]
    assert pooled["forward_backward_seconds"] > 0 and unpooled["forward_backward_seconds"] > 0


def test_overlapping_pooling(results):
    result, _ = results["overlapping-pooling"]
    mean, gap = result.numbers["mean"], result.numbers["train_minus_test"]
    plain, overlap = (mean[k]["test"] for k in overlapping_pooling.POOLS)
    gap_plain, gap_overlap = (gap[k] for k in overlapping_pooling.POOLS)
    lower_error, less_overfit = overlap > plain, gap_overlap < gap_plain
    assert result.held == (lower_error and less_overfit)
    assert result.in_part == (not result.held and (lower_error or less_overfit))
    # measured at seeds 0 and 1: on the 12×12 digits the overlapping 3×3 pooling tested lower, the AlexNet claim
    # did not hold here
    assert result.outcome == "did not hold" and f"{overlap:.3f}" in result.verdict


def test_per_sample_normalization(results):
    result, _ = results["per-sample-normalization"]
    runs = {r["input"].split(" (")[0]: r for r in result.numbers["runs"]}
    feature, sample = runs["per feature"], runs["per sample"]
    worse_test = sample["test_accuracy"] < feature["test_accuracy"]
    worse_loss = sample["final_training_loss"] > feature["final_training_loss"]
    assert result.held == (worse_test and worse_loss) and result.in_part == (not result.held and (worse_test or worse_loss))
    # the statistics per-sample scaling removes carry information: well above chance (0.1) alone
    assert result.numbers["removed_statistics_only"]["test_accuracy"] > 0.2


def test_numbers_tables_never_leave_a_dict():
    tables = numbers_tables({"rows": [{"p": 1, "t": 0.5, "times": {"a": [1, 2]}}, {"p": 2, "t": 0.25, "times": {}}],
                             "by": {"x": {"a": 1, "b": 2}, "y": {"a": 3, "b": 4}}, "n": 5, "deep": {"k": {"j": 1}}})
    titles = [t["title"] for t in tables]
    assert titles == ["rows", "by", "other figures"]
    assert tables[0]["columns"] == ["p", "t"] and tables[0]["rows"] == [[1, 0.5], [2, 0.25]]
    assert tables[1]["rows"] == [["x", 1, 2], ["y", 3, 4]]
    assert ["n", 5] in tables[2]["rows"] and ["deep › k › j", 1] in tables[2]["rows"]
