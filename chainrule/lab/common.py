"""Training helpers shared by the lab experiments."""
import math

import numpy as np

from .. import manual_seed, nn, no_grad, tensor
from ..data import stratified_split
from ..data.datasets.digits import digits
from ..optim import SGD


def full_loss(model, x, y, diverged=math.inf):
    """Cross-entropy over the whole set (arrays x, y) in eval mode, without a graph; ``diverged`` if not finite."""
    was_training = model.training
    model.eval()
    with no_grad(), np.errstate(all="ignore"):
        loss = float(nn.functional.cross_entropy(model(tensor(x)), tensor(y)).data)
    model.train(was_training)
    return loss if math.isfinite(loss) else diverged


def train_curve(model, optimizer, x, y, steps, batch, seed, every, diverged=math.inf):
    """Mini-batch training with cross-entropy for ``steps`` steps (full batches of ``batch``, reshuffled each
    epoch by ``seed``); returns [(step, whole-set loss)] every ``every`` steps, stopping at a divergence."""
    order = np.random.default_rng(seed)
    curve, step = [(0, full_loss(model, x, y, diverged))], 0
    with np.errstate(all="ignore"):  # a learning rate too large overflows: that is measured, not an error
        while step < steps and math.isfinite(curve[-1][1]):
            perm = order.permutation(len(x))
            for start in range(0, len(x) - batch + 1, batch):
                idx = perm[start:start + batch]
                loss = nn.functional.cross_entropy(model(tensor(x[idx])), tensor(y[idx]))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                step += 1
                if step % every == 0:
                    curve.append((step, full_loss(model, x, y, diverged)))
                    if not math.isfinite(curve[-1][1]):
                        break
                if step == steps:
                    break
    return curve


def train_steps(model, optimizer, loader, steps=None, epochs=None, after_backward=None):
    """Mini-batch training with cross-entropy over ``loader``, epoch after epoch, for ``steps`` steps or
    ``epochs`` epochs, stopping at the first mini-batch loss that is not finite (that step is not taken).
    ``after_backward()`` runs between backward and the step, to measure or clip the gradients.

    Returns (the finite per-step losses, the first non-finite loss or None): a run diverged at step
    ``len(losses)`` exactly when the second is not None."""
    losses, epoch = [], 0
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is measured, not an error
        while len(losses) != steps and epoch != epochs:
            for x, y in loader:
                loss = nn.functional.cross_entropy(model(x), y)
                value = float(loss.data)
                if not math.isfinite(value):
                    return losses, value
                losses.append(value)
                optimizer.zero_grad()
                loss.backward()
                if after_backward is not None:
                    after_backward()
                optimizer.step()
                if len(losses) == steps:
                    break
            epoch += 1
    return losses, None


def fit_softmax_regression(xt, yt, lr, steps, seed, momentum=0.0, zero_init=False):
    """Softmax regression (one ``nn.Linear``) fitted by full-batch gradient descent on tensors xt, yt (SGD with
    ``momentum``) for ``steps`` steps: (model, [training loss per step]), stopping at a non-finite loss.
    ``zero_init``: start from zero weights and biases (then ``seed`` plays no part)."""
    manual_seed(seed)
    model = nn.Linear(xt.shape[1], 10)
    if zero_init:
        nn.init.zeros_(model.weight)
        nn.init.zeros_(model.bias)
    optimizer = SGD(model.parameters(), lr=lr, momentum=momentum)
    curve = []
    with np.errstate(all="ignore"):  # a learning rate too large overflows: that is measured, not an error
        for _ in range(steps):
            loss = nn.functional.cross_entropy(model(xt), yt)
            curve.append(float(loss.data))
            if not math.isfinite(curve[-1]):
                break
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model, curve


def digits_split(seed):
    """The bundled 8×8 digits, flattened (pixel counts 0–16), split 75/25 stratified by class from ``seed``:
    x_train, y_train, x_test, y_test."""
    x, y = digits(flatten=True)
    manual_seed(seed)
    train, test = stratified_split(y, 0.25)
    return x[train], y[train], x[test], y[test]


def linear_accuracy(model, x, y):
    """The fraction of rows of ``x`` (an array) that a fitted ``nn.Linear`` classifies as ``y``."""
    w, b = model.weight.data, model.bias.data
    return float(np.mean(np.argmax(x @ w.T + b, axis=1) == y))
