# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 6. Normalization and preprocessing
#
# Two kinds of normalization appear in the notes. **Preprocessing** rescales the *input features* once,
# before training: standardization, min-max scaling, whitening [note 003 §1–4]. **Normalization layers**
# rescale the *activations* inside the network at every step: BatchNorm, LayerNorm, InstanceNorm and
# GroupNorm [note 001 §7, note 003 §5–10]. Both compute a mean and a variance and divide; what differs is
# *which numbers* the statistics are taken over, and *which data* they are fitted on.
#
# This tutorial uses the bundled 8×8 digits (1,797 images, no download) and runs in well under two
# minutes on a laptop CPU. Change the numbers in the code cells and run again.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.data import DataLoader, TensorDataset, datasets, stratified_split
from chainrule.data import preprocessing as P
from chainrule.optim import SGD

cr.manual_seed(0)
np.set_printoptions(precision=3, suppress=True)

# %% [markdown]
# ## 1. The data, split first
#
# The digits are raw pixel counts 0…16. The very first step is to split off a test set, *before* any
# statistic is computed: everything fitted below is fitted on `X_train` only. `stratified_split` keeps
# the ten classes in the same proportions in both parts.

# %%
images, labels = datasets.digits()                        # (1797, 8, 8) float32, (1797,) int64
X = images.reshape(len(images), -1).astype(np.float64)    # one row per image, one column per pixel
train_idx, test_idx = stratified_split(labels, test_size=0.25, generator=cr.Generator().manual_seed(0))
X_train, X_test = X[train_idx], X[test_idx]
y_train, y_test = labels[train_idx], labels[test_idx]
print("train:", X_train.shape, " test:", X_test.shape, " pixel range:", X.min(), "…", X.max())

# %% [markdown]
# ## 2. Standardization: per feature, fitted on the training set
#
# Each feature $j$ (here: each pixel position) gets mean 0 and standard deviation 1 [note 003 §1]:
#
# $$x'_{ij} = \frac{x_{ij} - \mu_j}{\sigma_j}, \qquad \mu_j, \sigma_j \text{ computed over the training rows } i .$$
#
# `StandardScaler` has scikit-learn's API: `fit(X_train)` stores `mean_` and `scale_`, `transform(X)`
# applies *those same numbers* to any set [note 003 §3]. The training set comes out at exactly 0 / 1;
# the test set close to it but not exactly, and that is how it should be: the test set is data the
# model has not seen, and its own statistics are not used. (A test std of 0: a rare pixel that happens to be
# blank in every test image.)

# %%
scaler = P.StandardScaler().fit(X_train)
Z_train, Z_test = scaler.transform(X_train), scaler.transform(X_test)


def describe(name, Z):
    varying = scaler.var_ > 0      # some border pixels are 0 in every training image
    print(f"{name:<6} per-feature mean in [{Z[:, varying].mean(0).min():+.3f}, {Z[:, varying].mean(0).max():+.3f}]"
          f"   std in [{Z[:, varying].std(0).min():.3f}, {Z[:, varying].std(0).max():.3f}]")


describe("train", Z_train)
describe("test", Z_test)
constant = np.flatnonzero(scaler.var_ == 0)
print(f"{len(constant)} pixel(s) constant on the training set: {constant}; their scale_ is set to "
      f"{scaler.scale_[constant]} so they map to 0 instead of 0/0")

fig, axes = plt.subplots(1, 3, figsize=(8, 2.8))
for ax, (title, img) in zip(axes, [("μ_j (training mean)", scaler.mean_), ("σ_j (training std)", scaler.scale_),
                                   ("one digit, standardized", Z_train[0])]):
    im = ax.imshow(img.reshape(8, 8), cmap="viridis")
    ax.set_title(title, fontsize=9); ax.axis("off")
    fig.colorbar(im, ax=ax, fraction=0.046)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 3. Min-max scaling
#
# Min-max scaling maps each feature into $[0, 1]$ using the training minimum and maximum [note 003 §2]:
# $x' = (x - \min_j)/(\max_j - \min_j)$. The training set fills $[0, 1]$ exactly; a test value beyond the
# training range lands outside it (pass `clip=True` to cut it back).

# %%
minmax = P.MinMaxScaler().fit(X_train)
M_train, M_test = minmax.transform(X_train), minmax.transform(X_test)
print("train range:", M_train.min(), "…", M_train.max())
print("test range: ", M_test.min(), "…", M_test.max(),
      f"({int((M_test > 1).sum())} test values above 1: pixels brighter than any training image there)")

# %% [markdown]
# ## 4. Whitening: decorrelate, then unit variance
#
# Standardization treats pixels one by one, but neighbouring pixels are strongly correlated. Whitening
# removes the correlations too, so the covariance of the result is the identity [note 003 §4]. With the
# training covariance $C = V \operatorname{diag}(\lambda) V^\top$:
#
# $$\text{PCA: } z = (x - \mu) V \operatorname{diag}(1/\sqrt{\lambda + \epsilon}), \qquad
# \text{ZCA: } z = (x - \mu) V \operatorname{diag}(1/\sqrt{\lambda + \epsilon}) V^\top .$$
#
# PCA whitening rotates onto the principal axes; ZCA rotates back, so each output value still belongs
# to one pixel and can be drawn as an image. $\epsilon$ keeps the near-zero eigenvalues (nearly constant
# border pixels) from blowing up; the larger it is, the closer ZCA comes to plain centring.

# %%
keep = scaler.var_ > 0                 # drop the pixels that never vary in training: nothing to whiten there


def covariance_report(Z):
    c = np.cov(Z, rowvar=False)
    off_diagonal = np.abs(c - np.diag(c.diagonal())).max()
    return f"max |off-diagonal| {off_diagonal:.3f}, diagonal {c.diagonal().min():.3f}…{c.diagonal().max():.3f}"


print("standardized pixels, train:   ", covariance_report(Z_train[:, keep]))
for eps in (1e-5, 1e-1):
    for name, whitener in [("PCA", P.PCAWhitening(eps=eps)), ("ZCA", P.ZCAWhitening(eps=eps))]:
        whitener.fit(X_train[:, keep])
        print(f"{name} eps={eps:g}, train:", covariance_report(whitener.transform(X_train[:, keep])))
        print(f"{name} eps={eps:g}, test: ", covariance_report(whitener.transform(X_test[:, keep])))

# %% [markdown]
# On the training set, with a tiny $\epsilon$, the covariance is the identity to within rounding; a larger
# $\epsilon$ deliberately leaves the low-variance directions (noise, mostly) below 1 instead of inflating
# them. On the test set the covariance is *not* the identity: the transform was fitted on the training
# rows and is applied unchanged, as it must be. The rare directions, estimated from few examples, are
# the ones that transfer worst. In the pictures below, whitening with a small $\epsilon$ has turned the
# digits into mostly fine detail: every direction now has the same variance, the faint ones included.
# Try `eps=10` to see more of the strokes survive.

# %%
zca = P.ZCAWhitening(eps=1e-1).fit(X_train)           # all 64 pixels, so the result is still an 8×8 image
fig, axes = plt.subplots(2, 6, figsize=(9, 3.4))
for k in range(6):
    axes[0, k].imshow(X_test[k].reshape(8, 8), cmap="gray_r")
    axes[1, k].imshow(zca.transform(X_test[k:k + 1]).reshape(8, 8), cmap="gray_r")
    axes[0, k].axis("off"); axes[1, k].axis("off")
axes[0, 0].set_title("test digits", fontsize=9, loc="left")
axes[1, 0].set_title("ZCA-whitened (fitted on train)", fontsize=9, loc="left")
fig.tight_layout()
plt.show()

fig, axes = plt.subplots(1, 2, figsize=(7, 3.2))
zca_small_eps = P.ZCAWhitening(eps=1e-5).fit(X_train[:, keep])
for ax, (title, Z) in zip(axes, [("covariance of the standardized pixels", Z_train[:, keep]),
                                 ("covariance after ZCA (eps=1e-5)", zca_small_eps.transform(X_train[:, keep]))]):
    ax.imshow(np.cov(Z, rowvar=False), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_title(title, fontsize=9); ax.axis("off")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 5. Why fitting on all the data leaks
#
# It is tempting to fit the scaler on train and test together ("more data, better statistics"). Then the
# transformed *training* inputs depend on the test set: the model is trained on features that already
# contain information from the data it will be graded on. The test score no longer measures what
# happens on genuinely new data, where nothing can be fitted in advance [note 003 §3].
#
# First the dependence itself. Fit once on train only and once on train + test, then swap the test set
# for a different one (here: the same test images shifted 2 pixel counts brighter) and look at how much
# the *training* features move:

# %%
def train_features(fit_on):
    return P.StandardScaler().fit(fit_on).transform(X_train)


X_test_other = X_test + 2.0
train_only = np.abs(train_features(X_train) - train_features(X_train)).max()
leaky = np.abs(train_features(np.vstack([X_train, X_test])) -
               train_features(np.vstack([X_train, X_test_other]))).max()
print(f"fit on train only:   training features change by {train_only:.4f} when the test set changes")
print(f"fit on train + test: training features change by {leaky:.4f} when the test set changes")

# %% [markdown]
# Does that change the *score*? It depends on how much is being fitted. Whitening estimates a 64×64
# covariance (2,080 numbers); from a small training set that estimate is noisy, and adding the test rows
# improves it — with the test set's help. Below: a 1-nearest-neighbour classifier (no training, so the
# preprocessing is the only thing that differs) after PCA whitening, fitted either on the training rows
# or on training + test rows, for two training-set sizes and five random splits.

# %%
def nearest_neighbour_accuracy(A_train, a_labels, A_test, b_labels):
    d = (A_test ** 2).sum(1)[:, None] - 2 * A_test @ A_train.T + (A_train ** 2).sum(1)[None, :]
    return float((a_labels[d.argmin(1)] == b_labels).mean())


print(f"{'train size':>10} {'split':>5}   {'fit on train':>12} {'fit on train+test':>17}")
leak_gain = {}
for n_train in (100, 1347):
    gains = []
    for seed in range(5):
        tr, te = stratified_split(labels, test_size=0.25, generator=cr.Generator().manual_seed(seed))
        tr = tr[:n_train]
        scores = []
        for fit_rows in (X[tr], np.vstack([X[tr], X[te]])):
            w = P.PCAWhitening(eps=1e-1).fit(fit_rows)
            scores.append(nearest_neighbour_accuracy(w.transform(X[tr]), labels[tr], w.transform(X[te]), labels[te]))
        gains.append(scores[1] - scores[0])
        print(f"{n_train:>10} {seed:>5}   {scores[0]:>12.3f} {scores[1]:>17.3f}")
    leak_gain[n_train] = np.mean(gains)
for n_train, gain in leak_gain.items():
    print(f"training size {n_train}: mean change in test accuracy from leaking = {gain:+.3f}")

# %% [markdown]
# Look at the rows. With 100 training images the leaky fit scored higher on every split here: it reports
# a test accuracy that a deployed model, which never gets to see the test images first, would not reach.
# With the full training set the two fits agree to within a point, and the sign of the difference
# changes from split to split — which is the point: a test score is only an estimate of performance on new data if
# the test data took no part in *any* fitting, preprocessing included.
#
# ## 6. BatchNorm, LayerNorm, InstanceNorm, GroupNorm: which axes
#
# Inside a CNN the activations have shape $(N, C, H, W)$. All four layers compute
# $\hat x = (x - \mu)/\sqrt{\sigma^2 + \epsilon}$ followed by a learned scale and shift; they differ only
# in the axes $\mu$ and $\sigma^2$ average over [note 003 §10]:
#
# | layer | averages over | one statistic per | shape of $\mu$ |
# |-------|---------------|-------------------|----------------|
# | BatchNorm2d    | $(N, H, W)$ | channel | $(C,)$ |
# | LayerNorm      | $(C, H, W)$ | sample | $(N,)$ |
# | InstanceNorm2d | $(H, W)$    | sample and channel | $(N, C)$ |
# | GroupNorm($G$) | $(C/G \text{ channels}, H, W)$ | sample and group | $(N, G)$ |
#
# One batch, built so that each sample and each channel has its own offset and scale, shows it: the
# statistics each layer *should* use are computed by hand with NumPy, and the layer's output is compared
# with normalizing by them.

# %%
N, C, H, W = 4, 6, 5, 5
G = 3                                                    # GroupNorm: 3 groups of 2 channels
rng = np.random.default_rng(0)
offset = 10 * np.arange(N)[:, None, None, None] + np.arange(C)[None, :, None, None]
spread = (1 + np.arange(N))[:, None, None, None] * (1 + 0.5 * np.arange(C))[None, :, None, None]
x_np = offset + spread * rng.standard_normal((N, C, H, W))
x = cr.tensor(x_np)

layers = {
    "BatchNorm2d": (nn.BatchNorm2d(C, affine=False), (0, 2, 3)),
    "LayerNorm": (nn.LayerNorm([C, H, W], elementwise_affine=False), (1, 2, 3)),
    "InstanceNorm2d": (nn.InstanceNorm2d(C), (2, 3)),
}
eps = 1e-5
for name, (layer, axes) in layers.items():
    mu = x_np.mean(axis=axes, keepdims=True)
    var = x_np.var(axis=axes, keepdims=True)
    by_hand = (x_np - mu) / np.sqrt(var + eps)
    diff = np.abs(layer(x).data - by_hand).max()
    print(f"{name:<15} mean over axes {axes}: μ has {mu.size:>2} values, shape {mu.squeeze().shape}; "
          f"max |layer − by hand| = {diff:.1e}")

group_norm = nn.GroupNorm(G, C, affine=False)
xg = x_np.reshape(N, G, C // G, H, W)                    # split the channels into groups
mu_g, var_g = xg.mean(axis=(2, 3, 4), keepdims=True), xg.var(axis=(2, 3, 4), keepdims=True)
by_hand = ((xg - mu_g) / np.sqrt(var_g + eps)).reshape(N, C, H, W)
print(f"{'GroupNorm(3)':<15} mean over (channels in group, H, W): μ shape {mu_g.squeeze().shape}; "
      f"max |layer − by hand| = {np.abs(group_norm(x).data - by_hand).max():.1e}")

print("\nBatchNorm's μ (one per channel):       ", x_np.mean(axis=(0, 2, 3)))
print("LayerNorm's μ (one per sample):         ", x_np.mean(axis=(1, 2, 3)))
print("InstanceNorm's μ (per sample, channel):\n", x_np.mean(axis=(2, 3)))

# %% [markdown]
# The same fact read off the outputs: after each layer, over which groups of numbers is the mean 0 and
# the variance 1? `✓` where every such group is standardized, `·` where not.

# %%
groupings = {"per channel (N,H,W)": (0, 2, 3), "per sample (C,H,W)": (1, 2, 3),
             "per sample & channel (H,W)": (2, 3)}
outputs = {name: layer(x).data for name, (layer, _) in layers.items()}
outputs["GroupNorm(3)"] = group_norm(x).data
print(f"{'':<15}" + "".join(f"{g:>29}" for g in groupings))
for name, y in outputs.items():
    marks = []
    for axes in groupings.values():
        ok = np.allclose(y.mean(axis=axes), 0, atol=1e-6) and np.allclose(y.var(axis=axes), 1, atol=1e-3)
        marks.append("✓" if ok else "·")
    print(f"{name:<15}" + "".join(f"{m:>29}" for m in marks))
print("\nafter BatchNorm2d, the mean of each sample:", outputs["BatchNorm2d"].mean(axis=(1, 2, 3)))

# %% [markdown]
# InstanceNorm gets a ✓ in every column because its groups are the smallest: when every $(n, c)$ slice has
# mean 0 and variance 1, so does every union of slices — each channel across the batch, each sample
# across its channels. The converse fails: BatchNorm standardizes each channel over the whole batch, and
# a single sample's slice of it can still sit far from 0 (here sample 0 ends up well below, sample 3 well
# above).
#
# GroupNorm sits between the two per-sample layers: with $G = 1$ it is LayerNorm (without LayerNorm's
# per-element affine), with $G = C$ it is InstanceNorm. The picture draws each layer's statistics on the
# $N \times C$ grid ($H, W$ folded into each cell): cells of one colour share one $\mu$ and $\sigma^2$.

# %%
grid_ids = {
    "BatchNorm": np.tile(np.arange(C), (N, 1)),
    "LayerNorm": np.repeat(np.arange(N)[:, None], C, axis=1),
    "InstanceNorm": np.arange(N * C).reshape(N, C),
    f"GroupNorm (G={G})": np.arange(N)[:, None] * G + np.arange(C)[None, :] // (C // G),
}
distinct = ListedColormap(plt.cm.tab20.colors + plt.cm.tab20b.colors)   # 40 colours: N·C = 24 groups at most
fig, axes = plt.subplots(1, 4, figsize=(11, 2.8))
for ax, (title, ids) in zip(axes, grid_ids.items()):
    ax.imshow(ids, cmap=distinct, vmin=0, vmax=distinct.N - 1, interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("channel C"); ax.set_ylabel("sample N")
    ax.set_xticks(range(C)); ax.set_yticks(range(N))
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 7. Where each fits
#
# From [note 003 §7–10] (GroupNorm is the later answer to BatchNorm's small-batch problem):
#
# - **BatchNorm** — discriminative CNNs with reasonable batches. Its statistics depend on the batch, so
#   it keeps running averages for inference and behaves differently in `train()` and `eval()`; with tiny
#   batches the batch statistics are noisy, and in RNNs the varying length makes per-step statistics awkward.
# - **LayerNorm** — RNNs, Transformers, small batches: per sample, so the same computation in training
#   and inference.
# - **InstanceNorm** — style transfer and GANs: each image, each channel on its own, so one image's
#   style does not leak into another's.
# - **GroupNorm** — CNNs with small batches (detection, segmentation, big images): per sample like LN, but
#   channels grouped so unrelated channels are not forced into one range.
#
# The train/eval difference, measured: the same input through each layer in the two modes.

# %%
for name, layer in [("BatchNorm2d", nn.BatchNorm2d(C)), ("LayerNorm", nn.LayerNorm([C, H, W])),
                    ("InstanceNorm2d", nn.InstanceNorm2d(C)), ("GroupNorm", nn.GroupNorm(G, C))]:
    y_train_mode = layer.train()(x).data
    y_eval_mode = layer.eval()(x).data
    print(f"{name:<15} max |train-mode output − eval-mode output| = {np.abs(y_train_mode - y_eval_mode).max():.3g}")

# %% [markdown]
# (BatchNorm's running statistics after one batch are still mostly their initial 0 and 1 — momentum 0.1 —
# hence the large gap here; after training they track the data.)
#
# ### BatchNorm vs GroupNorm at batch size 2
#
# A small CNN on the digits, trained with **two images per batch**, once with BatchNorm and once with
# GroupNorm, everything else equal (same initial seed, same data order, SGD with momentum 0.9, learning
# rate $0.05 \cdot b/64$ for batch size $b$). For BatchNorm two test accuracies are reported: `eval()`
# (running statistics, the normal way to test) and "batch stats" — each test batch of two normalized by
# its own statistics, as the network saw during training.

# %%
shift, overall_std = X_train.mean(), X_train.std()           # two numbers, fitted on the training set
x_tr = ((X_train - shift) / overall_std).reshape(-1, 1, 8, 8).astype(np.float32)
x_te = ((X_test - shift) / overall_std).reshape(-1, 1, 8, 8).astype(np.float32)


def small_cnn(norm, width=16):
    """conv3×3 → norm → ReLU → 2×2 max pool → conv3×3 → norm → ReLU → linear. The convs have no bias:
    the norm's β plays that part."""
    return nn.Sequential(
        nn.Conv2d(1, width, 3, padding=1, bias=False), norm(width), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1, bias=False), norm(2 * width), nn.ReLU(),
        nn.Flatten(), nn.Linear(2 * width * 4 * 4, 10))


def accuracy(model, inputs, batch_size=None):
    """Test accuracy; with batch_size, in train mode on test batches of that size (BatchNorm then uses each
    batch's own statistics; momentum 0 leaves its running statistics untouched)."""
    if batch_size is None:
        model.eval()
        with cr.no_grad():
            return float((model(cr.tensor(inputs)).data.argmax(1) == y_test).mean())
    norms = [m for m in model.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.momentum = 0.0
    model.train()
    correct, counted = 0, 0
    with cr.no_grad():
        for start in range(0, len(inputs) - batch_size + 1, batch_size):
            out = model(cr.tensor(inputs[start:start + batch_size])).data
            correct += int((out.argmax(1) == y_test[start:start + batch_size]).sum())
            counted += batch_size
    for m, momentum in zip(norms, saved):
        m.momentum = momentum
    return correct / counted


def train(build, norm, inputs, batch_size, epochs):
    """Train build(norm) on (inputs, y_train); return the model and its timing."""
    cr.manual_seed(0)
    model = build(norm)
    optimizer = SGD(model.parameters(), lr=0.05 * batch_size / 64, momentum=0.9)
    loader = DataLoader(TensorDataset(cr.tensor(inputs), cr.tensor(y_train)), batch_size=batch_size,
                        shuffle=True, drop_last=True, seed=0)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model, time.perf_counter() - start


def report(rows):
    print(f"{'model':<5} {'norm':<12} {'batch':>5} {'epochs':>6}  {'test acc (eval)':>15}  {'BN, batch stats':>15}"
          f"  {'seconds':>7}")
    for model_name, norm_name, batch_size, epochs, model, seconds, inputs in rows:
        batch_stats = f"{accuracy(model, inputs, batch_size):.3f}" if norm_name.startswith("BatchNorm") else "—"
        print(f"{model_name:<5} {norm_name:<12} {batch_size:>5} {epochs:>6}  {accuracy(model, inputs):>15.3f}"
              f"  {batch_stats:>15}  {seconds:>7.1f}")


cnn_rows = []
for norm_name, norm in [("BatchNorm2d", nn.BatchNorm2d), ("GroupNorm(4)", lambda c: nn.GroupNorm(4, c))]:
    model, seconds = train(small_cnn, norm, x_tr, batch_size=2, epochs=2)
    cnn_rows.append(("CNN", norm_name, 2, 2, model, seconds, x_te))
report(cnn_rows)

# %% [markdown]
# Compare the two rows: on this CNN, two images per batch did not break BatchNorm. The reason is in §6:
# BatchNorm2d averages over $(N, H, W)$, so even at $N = 2$ each channel's statistics come from
# $2 \cdot 8 \cdot 8 = 128$ numbers in the first layer and $2 \cdot 4 \cdot 4 = 32$ in the second.
# "Small batch" really means *few numbers per statistic*.
#
# Take that away and the weakness of [note 003 §7] appears. After a fully connected layer the
# activations are $(N, \text{features})$ and `BatchNorm1d` averages over $N$ only — at batch 2, over
# **two** numbers. Two numbers standardized by their own mean and variance are always $-1$ and $+1$
# (up to $\epsilon$): in training, every feature tells the next layer only which of the two samples had
# the larger value.

# %%
bn1d = nn.BatchNorm1d(5, affine=False)
print("BatchNorm1d in training mode on a random batch of 2:\n", bn1d(cr.randn(2, 5, dtype=cr.float64)).data)

# %% [markdown]
# The same comparison on a small MLP over the 64 standardized pixels of §2 (fitted on the training set),
# at batch 2 and at batch 64, now with LayerNorm too:

# %%
z_tr, z_te = Z_train.astype(np.float32), Z_test.astype(np.float32)


def small_mlp(norm, width=64):
    """linear → norm → ReLU, twice, then a linear classifier."""
    return nn.Sequential(nn.Linear(64, width, bias=False), norm(width), nn.ReLU(),
                         nn.Linear(width, width, bias=False), norm(width), nn.ReLU(), nn.Linear(width, 10))


mlp_norms = [("BatchNorm1d", nn.BatchNorm1d), ("GroupNorm(4)", lambda c: nn.GroupNorm(4, c)),
             ("LayerNorm", nn.LayerNorm)]
mlp_rows = []
for batch_size, epochs in [(2, 3), (64, 12)]:
    for norm_name, norm in mlp_norms:
        model, seconds = train(small_mlp, norm, z_tr, batch_size, epochs)
        mlp_rows.append(("MLP", norm_name, batch_size, epochs, model, seconds, z_te))
report(mlp_rows)

fig, ax = plt.subplots(figsize=(6.5, 3.2))
labels_bar = [f"{r[1]}\nbatch {r[2]}" for r in mlp_rows]
ax.bar(range(len(mlp_rows)), [accuracy(r[4], z_te) for r in mlp_rows],
       color=[f"C{i % len(mlp_norms)}" for i in range(len(mlp_rows))])
ax.set_xticks(range(len(mlp_rows)), labels_bar, fontsize=7)
ax.set(ylabel="test accuracy (eval mode)", ylim=(0, 1), title="MLP on the digits: normalization vs batch size")
fig.tight_layout()
plt.show()

# %% [markdown]
# Read the table: at batch 64 the three normalizations end close together; at batch 2, GroupNorm and
# LayerNorm — per sample, blind to the batch — train as before, while BatchNorm1d falls far behind. Its
# running averages of those two-number statistics describe the data poorly, and the "batch stats" column
# shows that testing the way it trained (pairs, ±1 features) is worse still. This is the case GroupNorm and
# LayerNorm were made for: small batches, and layers with few numbers per statistic.

# %% [markdown]
# ## What to try
#
# - Fit the `StandardScaler` of §2 on `np.vstack([X_train, X_test])` and compare `mean_` with the
#   train-only fit; change `n_train` in §5.
# - Set `G = 1` and `G = C` in §6 and check that GroupNorm becomes LayerNorm / InstanceNorm.
# - In §7 try batch sizes 4 and 8 for the MLP (at 4, each statistic has four numbers), put
#   `nn.InstanceNorm2d(c, affine=True)` into the CNN, or use `nn.BatchNorm1d(c, decay=0.99)` — the note's
#   TensorFlow-style moving average.
# - `chainrule lab run normalization` runs the longer experiment behind this section, with all four layers.
