"""Note 000: pre-training and fine-tuning as a remedy for vanishing gradients in a deep net.

In a deep sigmoid net the gradient reaching layer 1 is a product of one factor diag(σ'(z))·W per layer above it,
σ' ≤ 1/4, so from a small random draw it vanishes [note 000 §9]; the notes' first remedy is to start from weights
that already work and fine-tune them [note 000 §11]. The historical form of that remedy for deep nets is greedy
layer-wise pre-training (Hinton et al. 2006, Bengio et al. 2007): train layer 1 as an autoencoder of the inputs, then
layer 2 as an autoencoder of layer 1's outputs, and so on, each on the fixed outputs of the layers below; then put a
classifier on top and fine-tune the whole stack with backpropagation.

Measured on an MLP of seven sigmoid layers of 64 units and a Linear head (eight Linear layers) on the bundled 8×8
digits: at the start of fine-tuning, each Linear layer's gradient norm on the whole training set and the ratio of
the first layer's to the last's; after fine-tuning with the same SGD, the training loss, training and test accuracy.
Four starts: the notes' initialization (N(0, 0.1²) truncated at 2σ, note 003 §20), Xavier (Glorot's uniform, the
notes' formula, note 004 §15), Xavier scaled by 4 (Glorot and Bengio's scale for sigmoid, whose slope at 0 is 1/4),
and greedy autoencoder pre-training from the notes' initialization. The last start asks whether a good random
initialization makes pre-training unnecessary.
"""
import os

import numpy as np

from .. import manual_seed, nn, no_grad, tensor
from ..nn import init
from ..optim import SGD, Adam
from ..runtime import num_threads
from .base import Result
from .common import digits_split, train_curve

NAME = "layerwise-pretraining"
NOTE = "000"
CLAIM = ("pre-training and fine-tuning remedies vanishing gradients: a deep sigmoid MLP pre-trained layer by layer as "
         "autoencoders passes far more gradient to its first layer at the start of fine-tuning, and reaches a far "
         "lower training loss in the same number of steps, than the same net from a random initialization")

HIDDEN, WIDTH, STD = 7, 64, 0.1
BATCH, MOMENTUM = 32, 0.9
TARGET = 0.1  # "steps to a training loss of 0.1", a reading of the curves beside the claim
AE_LR, AE_BATCH = 1e-2, 64
STARTS = ("N(0, 0.1²)", "Xavier", "Xavier × 4", "pre-trained")
SHORT = {"N(0, 0.1²)": "N(0, 0.1²)", "Xavier": "Xavier", "Xavier × 4": "Xavier×4", "pre-trained": "pre-trained"}
FAR = 10  # "far more gradient": the first/last ratio at least FAR times larger
LOWER = 2  # "far lower loss": at most 1/LOWER of the other's


def build(start, hidden=HIDDEN, width=WIDTH):
    """``hidden`` Linear(width)–Sigmoid layers and a Linear head, biases 0, weights drawn by ``start`` ("pre-trained"
    draws the notes' initialization, which ``pretrain`` then trains)."""
    layers, fan_in = [], 64
    for _ in range(hidden):
        layers += [nn.Linear(fan_in, width), nn.Sigmoid()]
        fan_in = width
    model = nn.Sequential(*layers, nn.Linear(width, 10))
    for linear in linears(model):
        if start in ("N(0, 0.1²)", "pre-trained"):
            init.trunc_normal_(linear.weight, std=STD, a=-2 * STD, b=2 * STD)
        elif start == "Xavier":
            init.xavier_uniform_(linear.weight)
        elif start == "Xavier × 4":
            init.xavier_uniform_(linear.weight, gain=4.0)
        else:
            raise ValueError(f"layerwise-pretraining: unknown start {start!r}")
        init.zeros_(linear.bias)
    return model


def linears(model):
    return [m for m in model if isinstance(m, nn.Linear)]


def pretrain(model, x, steps, seed):
    """Greedy layer-wise pre-training: each hidden layer in turn is the encoder of an autoencoder h → σ(W'σ(Wh + b) + c)
    (decoder drawn like the notes' initialization, mean squared error, Adam, ``steps`` steps on batches of AE_BATCH) of
    h, the fixed outputs of the layers below it for the training images; the head is left as drawn. Returns each
    layer's final reconstruction error on the whole set."""
    rng = np.random.default_rng(seed)
    h, errors = x, []
    for layer in linears(model)[:-1]:
        decoder = nn.Linear(layer.out_features, layer.in_features)
        init.trunc_normal_(decoder.weight, std=STD, a=-2 * STD, b=2 * STD)
        init.zeros_(decoder.bias)
        optimizer = Adam([*layer.parameters(), *decoder.parameters()], lr=AE_LR)
        for _ in range(steps):
            batch = tensor(h[rng.integers(0, len(h), AE_BATCH)])
            loss = nn.functional.mse_loss(nn.functional.sigmoid(decoder(nn.functional.sigmoid(layer(batch)))), batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with no_grad():
            code = nn.functional.sigmoid(layer(tensor(h)))
            errors.append(float(nn.functional.mse_loss(nn.functional.sigmoid(decoder(code)), tensor(h)).data))
            h = code.data
    return errors


def gradient_norms(model, x, y):
    """Each Linear layer's gradient norm (weight and bias together) of the cross-entropy on the whole set, input
    side first; the gradients are cleared afterwards."""
    loss = nn.functional.cross_entropy(model(tensor(x)), tensor(y))
    model.zero_grad()
    loss.backward()
    norms = [float(np.sqrt(sum(np.sum(p.grad.data.astype(np.float64) ** 2) for p in m.parameters())))
             for m in linears(model)]
    model.zero_grad()
    return norms


def accuracy(model, x, y):
    with no_grad():
        return float(np.mean(np.argmax(model(tensor(x)).data, axis=1) == y))


def fine_tune(start, lr, x, y, x_test, y_test, steps, pretrain_steps, seed, every):
    """One run from ``start``: {"norms" at the start of fine-tuning, "ratio" first/last, "curve" [(step, whole-set
    training loss)] every ``every`` steps, "final_loss", "steps_to_target" (the first recorded step below TARGET, or
    None), "train_accuracy", "test_accuracy", "ae_errors" (pre-trained only)}."""
    manual_seed(seed)
    model = build(start)
    ae_errors = pretrain(model, x, pretrain_steps, seed) if start == "pre-trained" else None
    norms = gradient_norms(model, x, y)
    optimizer = SGD(model.parameters(), lr=lr, momentum=MOMENTUM)
    curve = train_curve(model, optimizer, x, y, steps, BATCH, seed, every, diverged=float("nan"))
    reached = next((k for k, v in curve if v < TARGET), None)
    return {"norms": norms, "ratio": norms[0] / norms[-1], "curve": curve, "final_loss": curve[-1][1],
            "steps_to_target": reached,
            "train_accuracy": accuracy(model, x, y), "test_accuracy": accuracy(model, x_test, y_test),
            "ae_errors": ae_errors}


def _plot(best, seeds, steps, path):
    from matplotlib.ticker import FuncFormatter, NullFormatter

    from .plotting import figure, layer_ticks, legend, save

    fig, (ax1, ax2, ax3) = figure(1, 3, figsize=(16, 4.6), gridspec_kw={"width_ratios": [2.4, 2.6, 1.6]})
    layers = np.arange(1, HIDDEN + 2)
    for i, start in enumerate(STARTS):
        norms = np.exp(np.mean([np.log(r["norms"]) for r in best[start]["runs"]], axis=0))
        ax1.plot(layers, norms, "o-", color=f"C{i}", label=SHORT[start])
        curves = np.array([[v for _, v in r["curve"]] for r in best[start]["runs"]])
        # the two stuck starts lie on one another: the first wide and pale, the second dashed on it
        style = {"lw": 3.5, "alpha": 0.5} if i == 0 else {"ls": "--"} if i == 1 else {}
        ax2.plot([k for k, _ in best[start]["runs"][0]["curve"]], np.mean(curves, axis=0), color=f"C{i}",
                 label=f"{SHORT[start]} (lr {best[start]['lr']:g})", **style)
    layer_ticks(ax1, [*map(str, layers[:-1]), "head"], rotation=0)
    ax1.set(yscale="log", xlabel="Linear layer (input side first)", ylabel="gradient norm (whole training set)",
            title="at the start of fine-tuning"
            + (f" (geometric mean of {len(seeds)} seeds)" if len(seeds) > 1 else ""))
    ax1.grid(alpha=0.3, which="both")
    legend(ax1, "lower right")
    ax2.set(yscale="log", xlabel="SGD step of fine-tuning", ylabel="training cross-entropy (whole set)",
            xlim=(0, steps),
            title="fine-tuning, best learning rate of each")
    ax2.grid(alpha=0.3, which="both")
    plain = FuncFormatter(lambda v, _: f"{v:g}")  # a loss reads as 0.01, not 10⁻²
    ax2.yaxis.set_major_formatter(plain)
    low, high = ax2.get_ylim()
    if np.log10(high / low) < 2:  # few decades: label 2 and 5 × 10ᵏ as well
        ax2.yaxis.set_minor_formatter(FuncFormatter(
            lambda v, _: f"{v:g}" if round(v / 10 ** np.floor(np.log10(v)), 6) in (2, 5) else ""))
    else:
        ax2.yaxis.set_minor_formatter(NullFormatter())
    legend(ax2, "lower left")
    accs = [best[s]["test_accuracy"] for s in STARTS]
    bars = ax3.bar(range(len(STARTS)), accs, color=[f"C{i}" for i in range(len(STARTS))])
    for bar, v in zip(bars, accs):
        ax3.text(bar.get_x() + bar.get_width() / 2, v + 0.01, f"{v:.2f}", ha="center", va="bottom", fontsize=8)
    ax3.set_xticks(range(len(STARTS)), [SHORT[s] for s in STARTS], fontsize=8, rotation=20, ha="right",
                   rotation_mode="anchor")
    ax3.set(ylim=(0, 1.1), ylabel="test accuracy", title=f"test accuracy after {steps} steps")
    save(fig, path)


def run(quick=False, seed=0, out="."):
    if quick:
        steps, pretrain_steps, lrs, seeds = 200, 100, (0.1,), (seed,)
    else:
        steps, pretrain_steps, lrs, seeds = 1000, 300, (0.1, 0.3), (seed, seed + 1, seed + 2)
    every = max(5, steps // 50)
    x, y, x_test, y_test = digits_split(seed)
    x, x_test = (x / 16).astype(np.float32), (x_test / 16).astype(np.float32)  # pixel counts 0..16 → [0, 1]
    runs = {}
    with num_threads(1), np.errstate(under="ignore"):  # small matrices: one BLAS thread is faster
        for start in STARTS:
            for lr in lrs:
                for s in seeds:
                    runs[(start, lr, s)] = fine_tune(start, lr, x, y, x_test, y_test, steps, pretrain_steps, s, every)

    def mean(start, lr, key):
        return float(np.mean([runs[(start, lr, s)][key] for s in seeds]))

    def geomean(start, lr, key):
        return float(np.exp(np.mean([np.log(runs[(start, lr, s)][key]) for s in seeds])))

    def to_target(start, lr):
        """Mean over the seeds of the steps to a training loss below TARGET; None when a seed did not get there."""
        reached = [runs[(start, lr, s)]["steps_to_target"] for s in seeds]
        return None if None in reached else float(np.mean(reached))

    best = {}
    for start in STARTS:  # the learning rate of the grid with the lowest mean final training loss (nan: diverged)
        lr = min(lrs, key=lambda v: np.nan_to_num(mean(start, v, "final_loss"), nan=np.inf))
        best[start] = {"lr": lr, "runs": [runs[(start, lr, s)] for s in seeds], "ratio": geomean(start, lr, "ratio"),
                       "final_loss": mean(start, lr, "final_loss"), "train_accuracy": mean(start, lr, "train_accuracy"),
                       "test_accuracy": mean(start, lr, "test_accuracy"), "steps_to_target": to_target(start, lr)}
    pre = best["pre-trained"]
    parts = {}
    for start in STARTS[:-1]:
        parts[f"more gradient to layer 1 than the {start} start"] = pre["ratio"] >= FAR * best[start]["ratio"]
    for start in STARTS[:-1]:
        parts[f"lower training loss than the {start} start"] = pre["final_loss"] * LOWER <= best[start]["final_loss"]
    held = all(parts.values())
    in_part = not held and any(parts.values())

    _plot(best, seeds, steps, os.path.join(out, "layerwise_pretraining.png"))
    failed = [k for k, v in parts.items() if not v]
    ae = np.mean([runs[("pre-trained", lrs[0], s)]["ae_errors"] for s in seeds], axis=0)
    over = f"seed {seeds[0]}" if len(seeds) == 1 else f"mean of {len(seeds)} seeds"

    def reached(start):
        v = best[start]["steps_to_target"]
        return f"never in {steps}" if v is None else f"{v:.0f}"

    verdict = ("first/last Linear layer's gradient norm at the start of fine-tuning: "
               + ", ".join(f"{s} {best[s]['ratio']:.2g}" for s in STARTS)
               + f"; after {steps} SGD steps (best lr of {', '.join(f'{v:g}' for v in lrs)}; {over}) training loss "
               + ", ".join(f"{s} {best[s]['final_loss']:.3g}" for s in STARTS)
               + ", test accuracy " + ", ".join(f"{s} {best[s]['test_accuracy']:.3f}" for s in STARTS)
               + f"; steps to a training loss below {TARGET:g}: " + ", ".join(f"{s} {reached(s)}" for s in STARTS)
               + f"; pre-training cost {HIDDEN} × {pretrain_steps} autoencoder steps"
               + (". Did not hold: " + "; ".join(failed) if failed else "") + ".")
    return Result(
        name=NAME, note=NOTE, claim=CLAIM,
        setup=(f"the bundled 8×8 digits (pixels /16, in [0, 1]), stratified 75/25 split (seed {seed}); MLP 64 → "
               f"{HIDDEN}×[Linear({WIDTH}) + Sigmoid] → Linear(10), biases 0; starts: weights N(0, {STD:g}²) truncated "
               "at 2σ (the notes' initialization), Xavier uniform (gain 1), Xavier uniform × 4, or the notes' "
               f"initialization then greedy layer-wise autoencoder pre-training of the {HIDDEN} hidden layers (decoder "
               f"Linear + Sigmoid, MSE, Adam lr {AE_LR:g}, {pretrain_steps} steps of batch {AE_BATCH} per layer; the "
               f"head as drawn); fine-tuning of every layer by SGD (momentum {MOMENTUM:g}, batch {BATCH}) for {steps} "
               f"steps at the best learning rate of {', '.join(f'{v:g}' for v in lrs)} for each start (lowest mean "
               f"training loss); seeds {', '.join(map(str, seeds))}; gradient norms of the cross-entropy on the whole "
               f"training set; far more gradient: ratio ≥ {FAR}×; lower loss: at most 1/{LOWER} of the other's"),
        numbers={"steps": steps, "pretrain_steps_per_layer": pretrain_steps, "seeds": list(seeds),
                 "starts": [{"start": s, "lr": best[s]["lr"], "first_over_last": best[s]["ratio"],
                             "final_loss": best[s]["final_loss"], "train_accuracy": best[s]["train_accuracy"],
                             "test_accuracy": best[s]["test_accuracy"], "steps_to_target": best[s]["steps_to_target"]}
                            for s in STARTS],
                 "grid": {f"{s}, lr {lr:g}": {"final_loss": mean(s, lr, "final_loss"),
                                              "test_accuracy": mean(s, lr, "test_accuracy")}
                          for s in STARTS for lr in lrs},
                 "gradient_norms": {s: [float(v) for v in np.exp(np.mean([np.log(r["norms"]) for r in best[s]["runs"]],
                                                                         axis=0))] for s in STARTS},
                 "autoencoder_errors": [float(v) for v in ae],
                 "parts": parts},
        held=bool(held), in_part=bool(in_part), verdict=verdict,
        figures=["layerwise_pretraining.png"],
        tables=[{"title": f"a sigmoid MLP of {HIDDEN + 1} Linear layers: start of fine-tuning and after {steps} SGD "
                          f"steps ({over})",
                 "columns": ["start", "lr", "gradient first / last layer", f"steps to loss < {TARGET:g}",
                             "training loss", "training accuracy", "test accuracy"],
                 "rows": [[s, best[s]["lr"], best[s]["ratio"], reached(s), best[s]["final_loss"],
                           best[s]["train_accuracy"], best[s]["test_accuracy"]] for s in STARTS]},
                {"title": "the claim, part by part", "columns": ["part", "held"],
                 "rows": [[k, v] for k, v in parts.items()]}],
    )
