"""Classification metrics against sklearn: accuracy, top-k accuracy, the confusion matrix and per-class
precision / recall / F1 (0 where undefined, sklearn's zero_division=0), on arrays and Tensors."""
import numpy as np
import pytest
from sklearn import metrics as skm

import chainrule as cr
from chainrule.train import accuracy, confusion_matrix, precision_recall_f1, top_k_accuracy


def _cases(count=60, seed=0):
    rng = np.random.default_rng(seed)
    for i in range(count):
        n, c = int(rng.integers(1, 50)), int(rng.integers(3, 8))
        logits = rng.standard_normal((n, c))
        targets = rng.integers(0, c, n)
        if i % 3 == 0:
            targets[targets == 1] = 0  # a class that never occurs
        if i % 4 == 0:
            logits[:, 2] -= 10  # a class that is never predicted
        yield logits, targets, c


def test_accuracy_matches_sklearn():
    for logits, targets, _ in _cases():
        expected = skm.accuracy_score(targets, logits.argmax(1))
        assert accuracy(logits, targets) == pytest.approx(expected, abs=1e-12)
        assert accuracy(cr.tensor(logits), cr.tensor(targets)) == pytest.approx(expected, abs=1e-12)


def test_top_k_accuracy_matches_sklearn():
    for logits, targets, c in _cases():
        for k in range(1, c):  # k = c: sklearn warns the score is meaningless; it is 1, checked below
            expected = skm.top_k_accuracy_score(targets, logits, k=k, labels=np.arange(c))
            assert top_k_accuracy(logits, targets, k) == pytest.approx(expected, abs=1e-12), (k, c)
        assert top_k_accuracy(logits, targets, c) == 1.0
        assert top_k_accuracy(logits, targets, 1) == accuracy(logits, targets)


def test_top_k_accuracy_by_hand():
    logits = np.array([[0.1, 0.5, 0.4], [0.9, 0.05, 0.05], [0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    targets = np.array([2, 0, 0, 2])
    assert top_k_accuracy(logits, targets, 1) == 0.25
    assert top_k_accuracy(logits, targets, 2) == 0.5
    assert top_k_accuracy(logits, targets, 3) == 1.0
    assert top_k_accuracy(np.zeros((0, 3)), np.zeros(0, np.int64), 2) == 0.0


def test_top_k_accuracy_errors():
    with pytest.raises(ValueError, match=r"k must be in \[1, 3\], got 4"):
        top_k_accuracy(np.zeros((2, 3)), np.zeros(2, np.int64), 4)
    with pytest.raises(ValueError, match=r"k must be in \[1, 3\], got 0"):
        top_k_accuracy(np.zeros((2, 3)), np.zeros(2, np.int64), 0)
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(3,\)"):
        top_k_accuracy(np.zeros((2, 3)), np.zeros(3, np.int64), 1)
    with pytest.raises(ValueError, match=r"\(6,\) and \(6,\)"):
        top_k_accuracy(np.zeros(6), np.zeros(6, np.int64), 1)


def test_confusion_matrix_matches_sklearn():
    for logits, targets, c in _cases():
        predictions = logits.argmax(1)
        expected = skm.confusion_matrix(targets, predictions, labels=np.arange(c))
        np.testing.assert_array_equal(confusion_matrix(predictions, targets, c), expected)
        got = confusion_matrix(cr.tensor(predictions), cr.tensor(targets), c)
        np.testing.assert_array_equal(got, expected)
        assert got.sum() == len(targets)


def test_confusion_matrix_rows_are_true_classes():
    m = confusion_matrix([1, 1, 2, 0], [0, 1, 2, 2], 4)
    expected = np.zeros((4, 4), np.int64)
    expected[0, 1] = expected[1, 1] = expected[2, 2] = expected[2, 0] = 1
    np.testing.assert_array_equal(m, expected)


@pytest.mark.parametrize("predictions, targets", [([3], [0]), ([0], [3]), ([-1], [2]), ([5], [2]), ([0, 1], [1, 7])])
def test_confusion_matrix_refuses_classes_out_of_range(predictions, targets):
    # without the check, bincount files (pred 3, true 0) under (true 1, pred 0), or fails to reshape
    with pytest.raises(ValueError, match=r"outside \[0, 3\)"):
        confusion_matrix(predictions, targets, 3)


def test_confusion_matrix_length_mismatch():
    with pytest.raises(ValueError, match="3 predictions but 2 targets"):
        confusion_matrix([0, 1, 2], [0, 1], 3)


def test_precision_recall_f1_match_sklearn():
    for logits, targets, c in _cases():
        predictions = logits.argmax(1)
        precision, recall, f1 = precision_recall_f1(confusion_matrix(predictions, targets, c))
        p, r, f, _ = skm.precision_recall_fscore_support(targets, predictions, labels=np.arange(c), zero_division=0)
        np.testing.assert_allclose(precision, p, rtol=1e-12, atol=0)
        np.testing.assert_allclose(recall, r, rtol=1e-12, atol=0)
        np.testing.assert_allclose(f1, f, rtol=1e-12, atol=0)


def test_precision_recall_f1_by_hand():
    m = np.array([[5, 1, 0], [2, 3, 0], [0, 0, 0]])
    precision, recall, f1 = precision_recall_f1(m)
    np.testing.assert_allclose(precision, [5 / 7, 3 / 4, 0])
    np.testing.assert_allclose(recall, [5 / 6, 3 / 5, 0])
    np.testing.assert_allclose(f1, [2 * (5 / 7) * (5 / 6) / (5 / 7 + 5 / 6), 2 * 0.75 * 0.6 / 1.35, 0])
