"""Feature preprocessing with scikit-learn's API and semantics.

Every transformer works per feature = per column of a 2-D array X (samples, features):
``fit(X_train)`` learns the statistics from the training set only, ``transform(X)`` applies those same
statistics unchanged to any set (train, validation, test), ``inverse_transform`` undoes it. Never
normalize each sample with its own statistics, and never fit on the test set [note 003].
Inputs: arrays, array-likes or chainrule Tensors (a Tensor in gives a Tensor out). Float32/float64
inputs keep their dtype; integers become float64. Statistics are accumulated in float64.
"""
import numpy as np

from ..tensor import Tensor

_EPS64 = np.finfo(np.float64).eps


class NotFittedError(ValueError, AttributeError):
    """A transformer was used before ``fit`` (as ``sklearn.exceptions.NotFittedError``)."""


def _float_array(X, name, copy=True):
    """X → (2-D float ndarray, whether X was a Tensor)."""
    as_tensor = isinstance(X, Tensor)
    a = X.data if as_tensor else np.asarray(X)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected numeric data, got dtype {a.dtype}")
    if a.ndim != 2:
        raise ValueError(
            f"{name}: expected a 2-D array (samples, features), got shape {a.shape}; "
            "reshape a single feature with x.reshape(-1, 1) and images with x.reshape(len(x), -1)"
        )
    if a.shape[0] == 0:
        raise ValueError(f"{name}: X has 0 samples (shape {a.shape}); at least 1 is required")
    dtype = a.dtype if a.dtype.kind == "f" else np.float64
    return a.astype(dtype, copy=copy), as_tensor


def _out(a, as_tensor):
    return Tensor(a) if as_tensor else a


def _is_constant_feature(var, mean, n_samples):
    """Var within the rounding error of the two-pass algorithm (Chan, Golub & LeVeque) counts as 0."""
    return var <= n_samples * _EPS64 * var + (n_samples * mean * _EPS64) ** 2


class _Transformer:
    _fitted_attr = None

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)

    def _check_fitted(self, method):
        if not hasattr(self, self._fitted_attr):
            raise NotFittedError(
                f"{type(self).__name__}.{method}: this instance is not fitted yet; call fit(X_train) first"
            )

    def _check_features(self, X, method):
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"{type(self).__name__}.{method}: X has {X.shape[1]} features, but {type(self).__name__} "
                f"was fitted with {self.n_features_in_} features"
            )

    def _reset(self):
        for attr in list(vars(self)):
            if attr.endswith("_") and not attr.startswith("_"):
                delattr(self, attr)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class StandardScaler(_Transformer):
    """z = (x − μ) / σ per feature, μ and σ (population std, ddof=0) from the training set [note 003].

    Attributes after fit: ``mean_`` (d,), ``var_`` (d,), ``scale_`` (d,) = σ with zero-variance
    features given σ = 1 (so they stay finite: x − μ = 0), ``n_samples_seen_``, ``n_features_in_``.
    ``with_mean=False`` skips centring, ``with_std=False`` skips scaling (then ``scale_`` is None),
    exactly as ``sklearn.preprocessing.StandardScaler``. ``partial_fit`` accumulates batches
    (Chan et al.'s parallel update) for data that does not fit in memory.
    """

    _fitted_attr = "n_samples_seen_"

    def __init__(self, *, copy=True, with_mean=True, with_std=True):
        self.copy, self.with_mean, self.with_std = copy, with_mean, with_std

    def fit(self, X, y=None):
        self._reset()
        return self.partial_fit(X)

    def partial_fit(self, X, y=None):
        X, _ = _float_array(X, "StandardScaler.partial_fit", copy=False)
        if hasattr(self, "n_samples_seen_"):
            self._check_features(X, "partial_fit")
        m = X.shape[0]
        x64 = X.astype(np.float64, copy=False)
        batch_mean = x64.mean(axis=0)
        batch_m2 = ((x64 - batch_mean) ** 2).sum(axis=0)
        if not hasattr(self, "n_samples_seen_"):
            n, mean, m2 = 0, batch_mean, batch_m2
        else:
            n = self.n_samples_seen_
            delta = batch_mean - self._mean
            mean = self._mean + delta * (m / (n + m))
            m2 = self._m2 + batch_m2 + delta**2 * (n * m / (n + m))
        self._mean, self._m2, self.n_samples_seen_, self.n_features_in_ = mean, m2, n + m, X.shape[1]
        var = m2 / (n + m)
        self.mean_ = mean if (self.with_mean or self.with_std) else None
        self.var_ = var if self.with_std else None
        if self.with_std:
            scale = np.sqrt(var)
            scale[_is_constant_feature(var, mean, n + m) | (scale == 0)] = 1.0
            self.scale_ = scale
        else:
            self.scale_ = None
        return self

    def transform(self, X, copy=None):
        self._check_fitted("transform")
        X, as_tensor = _float_array(X, "StandardScaler.transform", copy=self.copy if copy is None else copy)
        self._check_features(X, "transform")
        if self.with_mean:
            X -= self.mean_
        if self.with_std:
            X /= self.scale_
        return _out(X, as_tensor)

    def inverse_transform(self, X, copy=None):
        self._check_fitted("inverse_transform")
        X, as_tensor = _float_array(X, "StandardScaler.inverse_transform", copy=self.copy if copy is None else copy)
        self._check_features(X, "inverse_transform")
        if self.with_std:
            X *= self.scale_
        if self.with_mean:
            X += self.mean_
        return _out(X, as_tensor)


class MinMaxScaler(_Transformer):
    """x ↦ a + (x − min) · (b − a) / (max − min) per feature, min/max from the training set [note 003].

    ``feature_range=(a, b)``. Computed as X·scale_ + min_ with scale_ = (b − a)/(max − min) and
    min_ = a − min·scale_; a constant feature (max − min ≈ 0) gets range 1, so it maps to a.
    Test data outside the training range lands outside [a, b] unless ``clip=True``.
    """

    _fitted_attr = "scale_"

    def __init__(self, feature_range=(0, 1), *, copy=True, clip=False):
        self.feature_range, self.copy, self.clip = feature_range, copy, clip

    def fit(self, X, y=None):
        self._reset()
        return self.partial_fit(X)

    def partial_fit(self, X, y=None):
        lo, hi = self.feature_range
        if lo >= hi:
            raise ValueError(
                f"MinMaxScaler: minimum of the desired feature range must be smaller than maximum, "
                f"got {self.feature_range}"
            )
        X, _ = _float_array(X, "MinMaxScaler.partial_fit", copy=False)
        data_min, data_max = X.min(axis=0), X.max(axis=0)
        if hasattr(self, "scale_"):
            self._check_features(X, "partial_fit")
            data_min, data_max = np.minimum(self.data_min_, data_min), np.maximum(self.data_max_, data_max)
            self.n_samples_seen_ += X.shape[0]
        else:
            self.n_samples_seen_ = X.shape[0]
        data_range = data_max - data_min
        denominator = np.where(data_range < 10 * np.finfo(data_range.dtype).eps, 1, data_range).astype(data_range.dtype)
        self.scale_ = (hi - lo) / denominator
        self.min_ = lo - data_min * self.scale_
        self.data_min_, self.data_max_, self.data_range_ = data_min, data_max, data_range
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X, copy=None):
        self._check_fitted("transform")
        X, as_tensor = _float_array(X, "MinMaxScaler.transform", copy=self.copy if copy is None else copy)
        self._check_features(X, "transform")
        X *= self.scale_
        X += self.min_
        if self.clip:
            np.clip(X, self.feature_range[0], self.feature_range[1], out=X)
        return _out(X, as_tensor)

    def inverse_transform(self, X, copy=None):
        self._check_fitted("inverse_transform")
        X, as_tensor = _float_array(X, "MinMaxScaler.inverse_transform", copy=self.copy if copy is None else copy)
        self._check_features(X, "inverse_transform")
        X -= self.min_
        X /= self.scale_
        return _out(X, as_tensor)


def scale(X, *, axis=0, with_mean=True, with_std=True, copy=True):
    """Standardize X along ``axis`` (0: each column, 1: each row) in one call, as
    ``sklearn.preprocessing.scale``: (x − mean) / std with a zero std replaced by 1.

    Only for one array at hand; to treat train and test alike use ``StandardScaler`` [note 003].
    """
    if axis not in (0, 1):
        raise ValueError(f"scale: axis must be 0 or 1, got {axis}")
    X, as_tensor = _float_array(X, "scale", copy=copy)
    Xr = X if axis == 0 else X.T  # a view: the statistics run down Xr's columns
    mean, std = Xr.mean(axis=0), Xr.std(axis=0)
    if with_mean:
        Xr -= mean
        # a second centring pass repairs the mean's rounding error on large values, as sklearn does
        residual = Xr.mean(axis=0)
        if not np.allclose(residual, 0):
            Xr -= residual
    if with_std:
        std[std < 10 * np.finfo(std.dtype).eps] = 1.0
        Xr /= std
        if with_mean:
            residual = Xr.mean(axis=0)
            if not np.allclose(residual, 0):
                Xr -= residual
    return _out(X, as_tensor)


class _Whitening(_Transformer):
    """Shared fit: centre, eigendecompose the covariance C = XcᵀXc / (n − 1) = V diag(λ) Vᵀ."""

    _fitted_attr = "mean_"

    def __init__(self, eps=1e-5, *, copy=True):
        if eps < 0:
            raise ValueError(f"{type(self).__name__}: eps must be non-negative, got {eps}")
        self.eps, self.copy = eps, copy

    def _eigen(self, X):
        n, d = X.shape
        if n < 2:
            raise ValueError(f"{type(self).__name__}.fit: need at least 2 samples to estimate a covariance, got {n}")
        x64 = X.astype(np.float64)
        self.mean_ = x64.mean(axis=0)
        xc = x64 - self.mean_
        eigenvalues, eigenvectors = np.linalg.eigh(xc.T @ xc / (n - 1))
        eigenvalues, eigenvectors = eigenvalues[::-1].clip(min=0), eigenvectors[:, ::-1]
        # sklearn's svd_flip: the largest-magnitude entry of each component is positive
        signs = np.sign(eigenvectors[np.abs(eigenvectors).argmax(axis=0), np.arange(d)])
        eigenvectors *= np.where(signs == 0, 1, signs)
        # directions whose variance is rounding noise are zero-variance: they map to 0, not to ±inf
        null = eigenvalues <= max(eigenvalues[0], 0) * d * _EPS64 * 10
        inv_sqrt = np.where(null, 0.0, 1 / np.sqrt(eigenvalues + self.eps + null))
        sqrt = np.where(null, 0.0, np.sqrt(eigenvalues + self.eps))
        self.n_features_in_ = d
        return eigenvalues, eigenvectors, inv_sqrt, sqrt

    def transform(self, X, copy=None):
        self._check_fitted("transform")
        X, as_tensor = _float_array(X, f"{type(self).__name__}.transform", copy=False)
        self._check_features(X, "transform")
        z = (X.astype(np.float64) - self.mean_) @ self.whitening_
        return _out(z.astype(X.dtype, copy=False), as_tensor)

    def inverse_transform(self, Z, copy=None):
        self._check_fitted("inverse_transform")
        Z, as_tensor = _float_array(Z, f"{type(self).__name__}.inverse_transform", copy=False)
        if Z.shape[1] != self.whitening_.shape[1]:
            raise ValueError(
                f"{type(self).__name__}.inverse_transform: Z has {Z.shape[1]} columns, "
                f"expected {self.whitening_.shape[1]}"
            )
        x = Z.astype(np.float64) @ self.dewhitening_ + self.mean_
        return _out(x.astype(Z.dtype, copy=False), as_tensor)


class PCAWhitening(_Whitening):
    """z = (x − μ) V diag(1/√(λ + eps)): rotate onto the principal axes, then give each unit variance.

    C = V diag(λ) Vᵀ is the training covariance (1/(n−1), as ``sklearn.decomposition.PCA(whiten=True)``,
    which this equals for eps=0 — same component signs), so cov(z) = diag(λ/(λ+eps)) ≈ I [note 003].
    ``n_components`` keeps the k largest directions. Zero-variance directions give z = 0.
    Attributes: ``mean_`` (d,), ``components_`` (k, d) rows = principal axes, ``explained_variance_``
    (k,) = λ, ``whitening_`` (d, k), ``dewhitening_`` (k, d).
    """

    def __init__(self, n_components=None, eps=1e-5, *, copy=True):
        super().__init__(eps, copy=copy)
        self.n_components = n_components

    def fit(self, X, y=None):
        X, _ = _float_array(X, "PCAWhitening.fit", copy=False)
        k = X.shape[1] if self.n_components is None else self.n_components
        if not 1 <= k <= X.shape[1]:
            raise ValueError(f"PCAWhitening: n_components must be in [1, {X.shape[1]}] (the features), got {k}")
        eigenvalues, vectors, inv_sqrt, sqrt = self._eigen(X)
        self.components_ = vectors[:, :k].T
        self.explained_variance_ = eigenvalues[:k]
        self.whitening_ = vectors[:, :k] * inv_sqrt[:k]
        self.dewhitening_ = sqrt[:k, None] * self.components_
        return self


class ZCAWhitening(_Whitening):
    """z = (x − μ) V diag(1/√(λ + eps)) Vᵀ: PCA whitening rotated back to the input axes.

    Of all whitening matrices W (cov(zW) = I) ZCA's keeps z closest to x, so whitened images still
    look like images, with edges enhanced [note 003]. ``eps`` regularizes the small eigenvalues
    (cov(z) = V diag(λ/(λ+eps)) Vᵀ ≈ I). Attributes: ``mean_``, ``components_`` (d, d),
    ``explained_variance_``, ``whitening_`` (d, d) symmetric, ``dewhitening_`` (d, d).
    """

    def fit(self, X, y=None):
        X, _ = _float_array(X, "ZCAWhitening.fit", copy=False)
        eigenvalues, vectors, inv_sqrt, sqrt = self._eigen(X)
        self.components_, self.explained_variance_ = vectors.T, eigenvalues
        self.whitening_ = (vectors * inv_sqrt) @ vectors.T
        self.dewhitening_ = (vectors * sqrt) @ vectors.T
        return self


def channel_stats(data, batch_size=1024):
    """Per-channel mean and std (population, ddof=0) over all samples and positions: (C,), (C,) float64.

    ``data``: an array or Tensor (N, C, ...) — in its own units — or a dataset whose samples are
    (x, y) or x with x (C, ...) (a chainrule dataset yields floats in [0, 1]: MNIST gives
    mean 0.1307, std 0.3081). Compute it on the training set and pass it to ``transforms.Normalize``
    for every split [note 003]. Batches are merged with Chan et al.'s update, in float64.
    """
    if isinstance(data, (np.ndarray, Tensor)):
        array = data.data if isinstance(data, Tensor) else data
        if array.ndim < 2:
            raise ValueError(f"channel_stats: expected data (N, C, ...), got shape {array.shape}")
        n = len(array)
        chunks = (array[i : i + batch_size] for i in range(0, n, batch_size))
    else:
        n = len(data)
        batched = getattr(data, "batched", False)

        def fetch(i):
            if batched:
                x = data[np.arange(i, min(i + batch_size, n))]
                return x[0] if isinstance(x, (tuple, list)) else x
            items = [data[j] for j in range(i, min(i + batch_size, n))]
            return np.stack([it[0] if isinstance(it, (tuple, list)) else it for it in items])

        chunks = (fetch(i) for i in range(0, n, batch_size))
    if n == 0:
        raise ValueError("channel_stats: the data is empty")
    count, mean, m2 = 0, None, None
    for chunk in chunks:
        chunk = np.asarray(chunk.data if isinstance(chunk, Tensor) else chunk, dtype=np.float64)
        if chunk.ndim < 2:
            raise ValueError(f"channel_stats: expected samples (C, ...), got a batch of shape {chunk.shape}")
        values = np.moveaxis(chunk, 1, 0).reshape(chunk.shape[1], -1)  # (C, samples·positions)
        m = values.shape[1]
        batch_mean = values.mean(axis=1)
        batch_m2 = ((values - batch_mean[:, None]) ** 2).sum(axis=1)
        if mean is None:
            count, mean, m2 = m, batch_mean, batch_m2
        else:
            delta = batch_mean - mean
            mean = mean + delta * (m / (count + m))
            m2 = m2 + batch_m2 + delta**2 * (count * m / (count + m))
            count += m
    return mean, np.sqrt(m2 / count)
