"""Note 004: the LSTM, a recurrent unit whose gated cell state carries information — and gradient — across time.

Backpropagation through time multiplies one factor per step [note 004 §5]: through a plain tanh RNN the factor is
W_hhᵀ·diag(tanh′), which shrinks the gradient geometrically when its norm is below 1 — the vanishing gradient of
note 004 §14, along time instead of depth. The LSTM's cell state is updated additively, c_t = f_t ⊙ c_{t−1} + i_t ⊙
g_t, so the gradient from c_T back to c_t is the product of the forget gates alone: near 1 when the gates are open.
Whether that buys memory is measured on a long-range task: a sequence of T random tokens (8 kinds, one-hot) and
the label is the first token — to answer, the net has to carry it across T − 1 distractors. A tanh RNN and an LSTM
with the same number of parameters (the LSTM has fewer, wider units: four gates per unit) are trained with Adam on
fresh sequences; test accuracy for T = 5 … 40 (chance 1/8), and ‖∂L/∂x_t‖ — how much gradient reaches each step's
input — at initialization and after training. The LSTM's forget-gate bias starts at 3 (so f ≈ 0.95, the positive
forget bias of Gers et al. 2000), its other weights as torch's; with torch's default (f ≈ 0.5) the cell halves at
every step, and the gradient measurement shows that LSTM too.
"""
import math
import os

import numpy as np

from .. import manual_seed, nn, no_grad, tensor
from ..optim import Adam
from ..runtime import num_threads
from .base import Result

NAME = "lstm-vs-rnn"
NOTE = "004"
CLAIM = ("an LSTM carries information and gradient across many more time steps than a plain (tanh) RNN with the same "
         "number of parameters: it still solves a task that needs the first of T inputs at lengths where the RNN "
         "fails, and more of the gradient reaches the early steps")

TOKENS, LSTM_HIDDEN, BATCH, LR, FORGET_BIAS = 8, 16, 32, 1e-2, 3.0
SOLVED = 0.9  # test accuracy that counts as solving a length


def sequences(rng, n, steps):
    """(x (n, steps, TOKENS) one-hot random tokens, y (n,) the first token of each)."""
    tokens = rng.integers(0, TOKENS, (n, steps))
    return np.eye(TOKENS, dtype=np.float32)[tokens], tokens[:, 0]


class Recurrent(nn.Module):
    """``kind`` ("RNN" or "LSTM") over (N, T, TOKENS), a Linear head on the last step's hidden state."""

    def __init__(self, kind, hidden, forget_bias=None):
        super().__init__()
        self.rnn = getattr(nn, kind)(TOKENS, hidden, batch_first=True)
        self.head = nn.Linear(hidden, TOKENS)
        if forget_bias is not None:  # gate order (i, f, g, o), as torch: rows hidden..2·hidden are the forget gate's
            with no_grad():
                self.rnn.bias_ih_l0.data[hidden:2 * hidden] = forget_bias
                self.rnn.bias_hh_l0.data[hidden:2 * hidden] = 0.0

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def parameter_count(model):
    return int(sum(p.data.size for p in model.parameters()))


def matched_rnn_hidden(budget):
    """The tanh RNN hidden size whose parameters (RNN + head) come closest to ``budget``:
    H² + H·(TOKENS + 2) for the RNN, (H + 1)·TOKENS for the head."""
    return min(range(1, 4 * budget), key=lambda h: abs(h * h + h * (TOKENS + 2) + (h + 1) * TOKENS - budget))


def build(name, seed):
    manual_seed(seed)
    if name == "RNN":
        budget = parameter_count(Recurrent("LSTM", LSTM_HIDDEN))
        manual_seed(seed)
        return Recurrent("RNN", matched_rnn_hidden(budget))
    return Recurrent("LSTM", LSTM_HIDDEN, FORGET_BIAS if name == "LSTM" else None)


def accuracy(model, x, y):
    with no_grad():
        return float(np.mean(np.argmax(model(tensor(x)).data, axis=1) == y))


def input_gradients(model, x, y):
    """‖∂L/∂x_t‖ over the batch for every step t (L the mean cross-entropy), shape (T,)."""
    xt = tensor(x, requires_grad=True)
    loss = nn.functional.cross_entropy(model(xt), tensor(y))
    loss.backward()
    model.zero_grad()
    return np.sqrt(np.sum(xt.grad.data.astype(np.float64) ** 2, axis=(0, 2)))


def train(model, steps, length, seed):
    """Adam on fresh batches of sequences of ``length``; the mini-batch losses."""
    rng = np.random.default_rng(seed)
    optimizer = Adam(model.parameters(), lr=LR)
    losses = []
    for _ in range(steps):
        x, y = sequences(rng, BATCH, length)
        loss = nn.functional.cross_entropy(model(tensor(x)), tensor(y))
        losses.append(float(loss.data))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses


def _first_over_last(g):
    return float(g[0] / g[-1]) if g[-1] > 0 else math.nan


def _plot(results, gradients, lengths, steps, path):
    from .plotting import figure, legend, save

    fig, (ax1, ax2, ax3) = figure(1, 3, figsize=(16, 4.4))
    for i, name in enumerate(("RNN", "LSTM")):
        ax1.plot(lengths, [results[(name, t)]["accuracy"] for t in lengths], "o-", color=f"C{i}", label=name)
    ax1.axhline(1 / TOKENS, color="gray", ls=":", lw=1, label="chance (1/8)")
    ax1.set_xticks(lengths)
    ax1.set(xlabel="sequence length T", ylabel="test accuracy (the first token)", ylim=(0, 1.05),
            title=f"remember the first of T tokens, {steps} Adam steps")
    legend(ax1, "best")
    for i, name in enumerate(("RNN", "LSTM")):
        losses = np.asarray(results[(name, lengths[-1])]["losses"])
        window = max(1, len(losses) // 25)
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        ax2.plot(np.arange(window, len(losses) + 1), smooth, color=f"C{i}", label=name)
    ax2.axhline(math.log(TOKENS), color="gray", ls=":", lw=1, label="chance (ln 8)")
    ax2.set(xlabel="Adam step", ylabel="training loss (moving mean)", ylim=(0, None),
            title=f"training at T = {lengths[-1]}")
    legend(ax2, "best")
    styles = {"RNN": ("C0", "-"), "LSTM": ("C1", "-"), "LSTM, default forget bias": ("C2", "-")}
    for (name, when), g in gradients.items():
        color, _ = styles[name]
        t = np.arange(1, len(g) + 1)
        ax3.semilogy(t, np.maximum(g / g[-1], 1e-30), color=color, ls="--" if when == "init" else "-",
                     label=f"{name}, {when}")
    ax3.set(xlabel="time step t (the label is the token at t = 1)", ylabel="‖∂L/∂x_t‖ / ‖∂L/∂x_T‖",
            title=f"gradient reaching each step's input, T = {lengths[-1]}")
    ax3.xaxis.get_major_locator().set_params(integer=True)
    ax3.grid(alpha=0.3, which="major")
    legend(ax3, "right")
    save(fig, path)


def run(quick=False, seed=0, out="."):
    lengths, steps = ((5, 20), 150) if quick else ((5, 10, 20, 40), 800)
    results, gradients = {}, {}
    test_rng = np.random.default_rng(seed + 1000)
    with num_threads(1):  # small matrices: one BLAS thread is faster
        tests = {t: sequences(test_rng, 500, t) for t in lengths}
        probe = sequences(np.random.default_rng(seed + 2000), 256, lengths[-1])
        gradients[("LSTM, default forget bias", "init")] = input_gradients(build("LSTM, default forget bias", seed),
                                                                           *probe)
        for name in ("RNN", "LSTM"):
            for t in lengths:
                model = build(name, seed)
                if t == lengths[-1]:
                    gradients[(name, "init")] = input_gradients(model, *probe)
                losses = train(model, steps, t, seed)
                results[(name, t)] = {"accuracy": accuracy(model, *tests[t]), "losses": losses,
                                      "parameters": parameter_count(model), "hidden": model.rnn.hidden_size}
                if t == lengths[-1]:
                    gradients[(name, "trained")] = input_gradients(model, *probe)

    def longest(name):
        solved = [t for t in lengths if results[(name, t)]["accuracy"] >= SOLVED]
        return max(solved) if solved else 0

    reach = {f"{name}, {when}": _first_over_last(g) for (name, when), g in gradients.items()}
    rnn_acc = [results[("RNN", t)]["accuracy"] for t in lengths]
    lstm_acc = [results[("LSTM", t)]["accuracy"] for t in lengths]
    parts = {
        "the LSTM solves longer sequences": longest("LSTM") > longest("RNN"),
        "the LSTM is as accurate at every length": all(a >= b - 0.02 for a, b in zip(lstm_acc, rnn_acc)),
        "more gradient reaches step 1, at init": reach["LSTM, init"] > reach["RNN, init"],
        "more gradient reaches step 1, trained": reach["LSTM, trained"] > reach["RNN, trained"],
    }
    held = all(parts.values())
    in_part = not held and any(parts.values())
    _plot(results, gradients, lengths, steps, os.path.join(out, "lstm_vs_rnn.png"))

    failed = [k for k, v in parts.items() if not v]
    rnn_p, lstm_p = results[("RNN", lengths[0])]["parameters"], results[("LSTM", lengths[0])]["parameters"]
    verdict = (f"test accuracy (chance {1 / TOKENS:.3f}) for T = {', '.join(map(str, lengths))}: RNN "
               + ", ".join(f"{a:.2f}" for a in rnn_acc) + "; LSTM " + ", ".join(f"{a:.2f}" for a in lstm_acc)
               + f" (longest T solved, accuracy ≥ {SOLVED}: RNN {longest('RNN') or 'none'}, LSTM "
               f"{longest('LSTM') or 'none'}). ‖∂L/∂x_1‖ / ‖∂L/∂x_T‖ at T = {lengths[-1]}: "
               + ", ".join(f"{k} {v:.1e}" for k, v in reach.items())
               + f". Parameters: RNN {rnn_p:,}, LSTM {lstm_p:,}"
               + (". Did not hold: " + "; ".join(failed) if failed else "") + ".")
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"sequences of T random tokens of {TOKENS} kinds (one-hot), label = the first token; a one-layer "
               f"nn.RNN (tanh, hidden {results[('RNN', lengths[0])]['hidden']}, {rnn_p:,} parameters with the head) vs "
               f"nn.LSTM (hidden {LSTM_HIDDEN}, {lstm_p:,} parameters, forget-gate bias {FORGET_BIAS:g}), a Linear head "
               f"on the last hidden state; Adam lr {LR:g}, {steps} steps of {BATCH} fresh sequences per length, seed "
               f"{seed}; test accuracy on 500 other sequences; gradients ‖∂L/∂x_t‖ over 256 sequences of length "
               f"{lengths[-1]}, for the nets of that length at initialization and after training (and, at "
               "initialization, for an LSTM with torch's default init, forget bias ≈ 0)"),
        numbers={"steps": steps, "lengths": list(lengths), "parameters": {"RNN": rnn_p, "LSTM": lstm_p},
                 "accuracy": [{"T": t, "RNN": results[("RNN", t)]["accuracy"], "LSTM": results[("LSTM", t)]["accuracy"],
                               "RNN_final_loss": float(np.mean(results[("RNN", t)]["losses"][-20:])),
                               "LSTM_final_loss": float(np.mean(results[("LSTM", t)]["losses"][-20:]))}
                              for t in lengths],
                 "gradient_first_over_last": reach, "longest_solved": {"RNN": longest("RNN"), "LSTM": longest("LSTM")},
                 "parts": parts},
        held=bool(held), in_part=bool(in_part), verdict=verdict,
        figures=["lstm_vs_rnn.png"],
        tables=[{"title": "test accuracy on the first token (chance 0.125)",
                 "columns": ["T", "RNN", "LSTM"],
                 "rows": [[t, results[("RNN", t)]["accuracy"], results[("LSTM", t)]["accuracy"]] for t in lengths]},
                {"title": f"gradient reaching step 1 at T = {lengths[-1]}", "columns": ["net", "‖∂L/∂x_1‖ / ‖∂L/∂x_T‖"],
                 "rows": [[k, v] for k, v in reach.items()]},
                {"title": "the claim, part by part", "columns": ["part", "held"],
                 "rows": [[k, v] for k, v in parts.items()]}],
    )
