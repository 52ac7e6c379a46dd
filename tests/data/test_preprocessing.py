"""Preprocessing against scikit-learn: scalers, scale(), whitening, channel statistics."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import ArrayDataset, Dataset, TensorDataset
from chainrule.data.preprocessing import (
    MinMaxScaler,
    NotFittedError,
    PCAWhitening,
    StandardScaler,
    ZCAWhitening,
    channel_stats,
    scale,
)

sk = pytest.importorskip("sklearn.preprocessing")
sk_decomposition = pytest.importorskip("sklearn.decomposition")


def data_with_constant_columns(n, dtype=np.float64, seed=0):
    """Random features on different scales, plus constant columns (zero, 0.1, a large offset)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 7)) * [1, 10, 0.01, 1, 1, 1, 100] + [0, 5, -3, 0, 0, 0, 1e3]
    x[:, 3], x[:, 4], x[:, 5] = 0.0, 0.1, 12345.678
    return x.astype(dtype)


def check(ours, theirs, dtype):
    assert ours.dtype == theirs.dtype == dtype
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("with_mean,with_std", [(True, True), (False, True), (True, False), (False, False)])
def test_standard_scaler_matches_sklearn(dtype, with_mean, with_std):
    train, test = data_with_constant_columns(200, dtype), data_with_constant_columns(50, dtype, seed=1)
    ours = StandardScaler(with_mean=with_mean, with_std=with_std).fit(train)
    theirs = sk.StandardScaler(with_mean=with_mean, with_std=with_std).fit(train)
    for attr in ("mean_", "var_", "scale_"):
        a, b = getattr(ours, attr), getattr(theirs, attr)
        assert (a is None) == (b is None), attr
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert ours.n_samples_seen_ == theirs.n_samples_seen_ and ours.n_features_in_ == 7
    check(ours.transform(test), theirs.transform(test), dtype)  # the training statistics, applied to test
    check(ours.fit_transform(train), theirs.fit_transform(train), dtype)
    check(ours.inverse_transform(test), theirs.inverse_transform(test), dtype)
    assert np.all(np.isfinite(ours.transform(test)))


def test_standard_scaler_constant_columns_stay_finite():
    x = data_with_constant_columns(100)
    z = StandardScaler().fit_transform(x)
    assert np.all(np.isfinite(z))
    np.testing.assert_allclose(z[:, 3:6], 0, atol=1e-9)
    np.testing.assert_allclose(z[:, [0, 1, 2, 6]].std(axis=0), 1, rtol=1e-12)


def test_standard_scaler_partial_fit_equals_fit():
    x = data_with_constant_columns(300)
    chunked = StandardScaler()
    for part in np.array_split(x, 7):
        chunked.partial_fit(part)
    full = StandardScaler().fit(x)
    np.testing.assert_allclose(chunked.mean_, full.mean_, rtol=1e-12)
    np.testing.assert_allclose(chunked.var_, full.var_, rtol=1e-10, atol=1e-20)
    np.testing.assert_allclose(chunked.scale_, full.scale_, rtol=1e-10)
    assert chunked.n_samples_seen_ == 300


def test_integer_input_becomes_float64_and_tensors_stay_tensors():
    x = np.arange(12).reshape(4, 3)
    z = StandardScaler().fit_transform(x)
    assert z.dtype == np.float64
    np.testing.assert_allclose(z, sk.StandardScaler().fit_transform(x))
    t = StandardScaler().fit_transform(cr.tensor(x, dtype=cr.float32))
    assert isinstance(t, cr.Tensor) and t.dtype == cr.float32


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("feature_range,clip", [((0, 1), False), ((-1, 1), False), ((-2, 5), True)])
def test_min_max_scaler_matches_sklearn(dtype, feature_range, clip):
    train, test = data_with_constant_columns(200, dtype), data_with_constant_columns(50, dtype, seed=1) * 1.5
    ours = MinMaxScaler(feature_range, clip=clip).fit(train)
    theirs = sk.MinMaxScaler(feature_range=feature_range, clip=clip).fit(train)
    for attr in ("data_min_", "data_max_", "data_range_", "scale_", "min_"):
        np.testing.assert_allclose(getattr(ours, attr), getattr(theirs, attr), rtol=1e-6)
        assert getattr(ours, attr).dtype == getattr(theirs, attr).dtype
    check(ours.transform(test), theirs.transform(test), dtype)
    check(ours.inverse_transform(test), theirs.inverse_transform(test), dtype)
    z = ours.transform(train)
    assert np.all(np.isfinite(z))
    np.testing.assert_allclose(z[:, 3:6], feature_range[0])  # constant features map to the low end
    np.testing.assert_allclose(z[:, [0, 1, 2, 6]].min(axis=0), feature_range[0], atol=1e-5)
    np.testing.assert_allclose(z[:, [0, 1, 2, 6]].max(axis=0), feature_range[1], rtol=1e-5)


def test_min_max_partial_fit_and_errors():
    x = data_with_constant_columns(100)
    chunked = MinMaxScaler()
    for part in np.array_split(x, 3):
        chunked.partial_fit(part)
    np.testing.assert_allclose(chunked.transform(x), MinMaxScaler().fit_transform(x))
    with pytest.raises(ValueError, match="smaller than maximum"):
        MinMaxScaler((1, 0)).fit(x)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("with_mean,with_std", [(True, True), (False, True), (True, False)])
def test_scale_matches_sklearn(dtype, axis, with_mean, with_std):
    x = data_with_constant_columns(60, dtype)
    if axis == 1:
        x = x[:, :6]  # rows of moderate values; column 6's offset would dominate each row
    ours = scale(x, axis=axis, with_mean=with_mean, with_std=with_std)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about the constant columns' rounding
        theirs = sk.scale(x, axis=axis, with_mean=with_mean, with_std=with_std)
    assert ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, rtol=1e-5 if dtype == np.float32 else 1e-10,
                               atol=1e-4 if dtype == np.float32 else 1e-10)


def test_errors_name_what_was_expected():
    with pytest.raises(ValueError, match=r"expected a 2-D array \(samples, features\), got shape \(5,\)"):
        StandardScaler().fit(np.zeros(5))
    with pytest.raises(NotFittedError, match="not fitted yet"):
        StandardScaler().transform(np.zeros((2, 2)))
    with pytest.raises(NotFittedError):
        MinMaxScaler().transform(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="X has 3 features, but StandardScaler was fitted with 2 features"):
        StandardScaler().fit(np.zeros((4, 2))).transform(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="0 samples"):
        StandardScaler().fit(np.zeros((0, 2)))


# ----- whitening ---------------------------------------------------------------------------------
def correlated(n, d=5, seed=0):
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(d, d))
    return rng.normal(size=(n, d)) @ mixing + rng.normal(size=d) * 3


@pytest.mark.parametrize("cls", [PCAWhitening, ZCAWhitening])
def test_whitening_gives_identity_covariance(cls):
    x = correlated(2000)
    w = cls(eps=0).fit(x)
    z = w.transform(x)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(np.cov(z, rowvar=False), np.eye(5), atol=1e-10)
    np.testing.assert_allclose(w.inverse_transform(z), x, rtol=1e-9, atol=1e-9)
    # fit on train, transform test: the training mean and matrix, not the test set's own
    test = correlated(300, seed=1)
    np.testing.assert_allclose(w.transform(test), (test - x.mean(axis=0)) @ w.whitening_, rtol=1e-12)


def test_whitening_eps_shrinks_the_variance():
    x = correlated(2000)
    w = ZCAWhitening(eps=0.5).fit(x)
    z = w.transform(x)
    lam = w.explained_variance_
    expected = w.components_.T @ np.diag(lam / (lam + 0.5)) @ w.components_
    np.testing.assert_allclose(np.cov(z, rowvar=False), expected, atol=1e-10)


def test_pca_whitening_matches_sklearn():
    x = correlated(500)
    ours = PCAWhitening(n_components=3, eps=0).fit(x)
    theirs = sk_decomposition.PCA(n_components=3, whiten=True, svd_solver="full").fit(x)
    np.testing.assert_allclose(ours.explained_variance_, theirs.explained_variance_, rtol=1e-9)
    np.testing.assert_allclose(ours.components_, theirs.components_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.transform(x), theirs.transform(x), rtol=1e-7, atol=1e-9)
    assert ours.transform(x).shape == (500, 3)


def test_zca_is_symmetric_and_keeps_the_axes():
    x = correlated(1000)
    w = ZCAWhitening(eps=0).fit(x)
    np.testing.assert_allclose(w.whitening_, w.whitening_.T, atol=1e-12)
    # ZCA's W = C^(-1/2): among all whitening matrices z stays closest to the centred input
    zca, pca = w.transform(x), PCAWhitening(eps=0).fit_transform(x)
    xc = x - x.mean(axis=0)
    xs = xc / np.linalg.norm(xc) * np.linalg.norm(zca)
    assert np.linalg.norm(zca - xs) < np.linalg.norm(pca - xs)


@pytest.mark.parametrize("cls", [PCAWhitening, ZCAWhitening])
def test_whitening_zero_variance_feature_stays_finite(cls):
    x = correlated(500, d=4)
    x = np.concatenate([x, np.full((500, 1), 7.0)], axis=1)
    z = cls(eps=0).fit(x).transform(x)
    assert np.all(np.isfinite(z))
    cov = np.cov(z, rowvar=False)
    eigenvalues = np.sort(np.linalg.eigvalsh(cov))
    np.testing.assert_allclose(eigenvalues, [0, 1, 1, 1, 1], atol=1e-8)  # identity on the 4 real directions


# ----- channel statistics ------------------------------------------------------------------------
class ItemImages(Dataset):
    def __init__(self, x):
        self.x = x

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], 0


def test_channel_stats_array_and_datasets():
    x = np.random.default_rng(0).random((50, 3, 4, 5)) * [[[1]], [[2]], [[3]]] + [[[0]], [[1]], [[-2]]]
    mean, std = channel_stats(x, batch_size=7)
    np.testing.assert_allclose(mean, x.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(std, x.std(axis=(0, 2, 3)), rtol=1e-12)
    for data in (TensorDataset(x.astype(np.float32)), ItemImages(x), cr.tensor(x)):
        m, s = channel_stats(data, batch_size=16)
        np.testing.assert_allclose(m, mean, rtol=1e-6)
        np.testing.assert_allclose(s, std, rtol=1e-6)
    pixels = (x[:, :1] * 255).astype(np.uint8)
    m, s = channel_stats(ArrayDataset(pixels, np.zeros(50)))  # the dataset's [0, 1] floats
    np.testing.assert_allclose(m, pixels.mean() / 255, rtol=1e-6)
    with pytest.raises(ValueError, match="empty"):
        channel_stats(np.zeros((0, 3, 2, 2)))


def test_mnist_channel_stats(mnist_train):
    mean, std = channel_stats(mnist_train)
    np.testing.assert_allclose(mean, [0.1307], atol=5e-5)
    np.testing.assert_allclose(std, [0.3081], atol=5e-5)
