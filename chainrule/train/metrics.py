"""Classification metrics on arrays or Tensors: accuracy, top-k accuracy, the confusion matrix and
per-class precision / recall / F1."""
import numpy as np

from ..tensor import Tensor


def _array(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def accuracy(logits, targets):
    """Fraction of rows whose arg-max equals the target class."""
    return top_k_accuracy(logits, targets, 1)


def top_k_accuracy(logits, targets, k=5):
    """Fraction of rows whose target is among the ``k`` largest logits."""
    z, t = _array(logits), _array(targets)
    if z.ndim != 2 or t.shape != z.shape[:1]:
        raise ValueError(f"top_k_accuracy: expected logits (N, C) and targets (N,), got {z.shape} and {t.shape}")
    if not 1 <= k <= z.shape[1]:
        raise ValueError(f"top_k_accuracy: k must be in [1, {z.shape[1]}], got {k}")
    if k == 1:
        return float(np.mean(np.argmax(z, axis=1) == t)) if len(t) else 0.0
    top = np.argpartition(-z, k - 1, axis=1)[:, :k]
    return float(np.mean(np.any(top == t[:, None], axis=1))) if len(t) else 0.0


def confusion_matrix(predictions, targets, num_classes):
    """M[i, j] = number of samples of true class i predicted as class j."""
    p, t = _array(predictions).astype(np.int64).ravel(), _array(targets).astype(np.int64).ravel()
    if p.shape != t.shape:
        raise ValueError(f"confusion_matrix: {p.shape[0]} predictions but {t.shape[0]} targets")
    outside = np.concatenate([p, t])
    outside = outside[(outside < 0) | (outside >= num_classes)]
    if outside.size:  # bincount would count it in a wrong cell, or fail to reshape
        raise ValueError(f"confusion_matrix: class {outside[0]} is outside [0, {num_classes})")
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def precision_recall_f1(matrix):
    """Per-class precision TP/(TP+FP), recall TP/(TP+FN) and F1 (their harmonic mean) from a confusion
    matrix; 0 where undefined."""
    m = np.asarray(matrix, dtype=np.float64)
    tp = np.diag(m)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(m.sum(0) > 0, tp / m.sum(0), 0.0)
        recall = np.where(m.sum(1) > 0, tp / m.sum(1), 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return precision, recall, f1
