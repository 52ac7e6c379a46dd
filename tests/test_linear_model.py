"""Linear regression by the normal equation and by gradient descent [note 004], against scikit-learn."""
import math
import warnings

import numpy as np
import pytest
from sklearn import linear_model as sk
from sklearn.base import clone
from sklearn.datasets import load_diabetes
from sklearn.metrics import r2_score

import chainrule as cr
from chainrule.data.datasets import linear_regression
from chainrule.data.preprocessing import NotFittedError
from chainrule.linear_model import (
    ConvergenceWarning,
    DivergenceError,
    LinAlgWarning,
    LinearRegression,
    cost,
)


@pytest.fixture(scope="module")
def diabetes():
    return load_diabetes(return_X_y=True)  # shipped with scikit-learn: (442, 10), offline


def scaled_random(n, p, seed, collinear=0.3, noise=0.5):
    """Random regression data with features on very different scales and offsets."""
    x, y = linear_regression(n=n, features=p, noise=noise, collinear=collinear, bias=3.0, seed=seed, dtype=np.float64)
    g = np.random.default_rng(seed)
    return x * 10.0 ** g.uniform(-2, 3, p) + g.uniform(-50, 50, p), y


def assert_coefs(model, reference, atol):
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=0, atol=atol)
    assert model.intercept_ == pytest.approx(float(reference.intercept_), rel=0, abs=atol)


# --- the normal equation ---------------------------------------------------------------------------------------

def test_normal_equals_sklearn_on_diabetes(diabetes):
    X, y = diabetes
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # well-conditioned: no pseudo-inverse fallback
        model = LinearRegression(solver="normal").fit(X, y)
    reference = sk.LinearRegression().fit(X, y)
    assert_coefs(model, reference, 1e-8)
    np.testing.assert_allclose(model.predict(X), reference.predict(X), rtol=0, atol=1e-8)
    assert model.score(X, y) == pytest.approx(reference.score(X, y), abs=1e-12)
    assert model.rank_ == 10 and model.n_iter_ == 1 and model.converged_ and model.solver_ == "normal"


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n, p, seed, collinear", [(50, 1, 0, 0.0), (200, 2, 1, 0.5), (300, 17, 2, 0.3),
                                                   (1000, 60, 3, 0.9), (80, 40, 4, 0.0)])
def test_normal_equals_sklearn_on_random_data(n, p, seed, collinear, fit_intercept):
    X, y = linear_regression(n=n, features=p, noise=0.5, collinear=collinear, bias=3.0, seed=seed, dtype=np.float64)
    X = X * 10.0 ** np.random.default_rng(seed).uniform(-2, 3, p)  # features on scales 0.01 … 1000
    reference = sk.LinearRegression(fit_intercept=fit_intercept).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no pseudo-inverse fallback here
        model = LinearRegression(solver="normal", fit_intercept=fit_intercept).fit(X, y)
    # coefficients in the units of their features: compare what each contributes to ŷ over the data's spread
    np.testing.assert_allclose(model.coef_ * X.std(axis=0), reference.coef_ * X.std(axis=0), rtol=0, atol=1e-8)
    assert model.intercept_ == pytest.approx(reference.intercept_, abs=1e-8)
    np.testing.assert_allclose(model.predict(X), reference.predict(X), rtol=0, atol=1e-8)


def test_offset_features_without_intercept_are_ill_conditioned_and_still_exact():
    """Large offsets and no intercept make the columns nearly parallel (κ(XᵀX) ≈ 3e8 after equilibration):
    the normal equation would keep only ~8 digits, so the pseudo-inverse takes over."""
    X, y = scaled_random(1000, 60, 3)
    with pytest.warns(LinAlgWarning, match="ill-conditioned"):
        model = LinearRegression(solver="normal", fit_intercept=False).fit(X, y)
    exact = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose(model.predict(X), X @ exact, rtol=0, atol=1e-10)
    assert_coefs(model, sk.LinearRegression(fit_intercept=False).fit(X, y), 1e-8)


@pytest.mark.parametrize("alpha", [1e-3, 0.1, 1.0, 10.0, 1e3])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_equals_sklearn_ridge(diabetes, alpha, fit_intercept):
    X, y = diabetes
    reference = sk.Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(X, y)
    assert_coefs(LinearRegression(solver="normal", l2=alpha, fit_intercept=fit_intercept).fit(X, y), reference, 1e-8)


def test_ridge_equals_sklearn_ridge_on_random_data_and_wide_data():
    for n, p, seed in [(300, 12, 5), (20, 50, 6)]:  # the second: ridge makes n < p solvable in closed form
        X, y = scaled_random(n, p, seed)
        reference = sk.Ridge(alpha=2.5).fit(X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            model = LinearRegression(solver="normal", l2=2.5).fit(X, y)
        np.testing.assert_allclose(model.predict(X), reference.predict(X), rtol=0, atol=1e-8)
        np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-7, atol=1e-10)


# --- singular and ill-conditioned designs: the pseudo-inverse ---------------------------------------------------

def test_duplicated_column_gives_minimum_norm_solution_and_warns():
    X, y = linear_regression(n=60, features=3, noise=0.2, seed=7, dtype=np.float64)
    X = np.column_stack([X, X[:, 1]])  # collinear: XᵀX singular
    with pytest.warns(LinAlgWarning, match=r"singular.*collinear.*pseudo-inverse.*rank 3 of 4.*minimum-norm"):
        model = LinearRegression(solver="normal").fit(X, y)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    minimum_norm = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    np.testing.assert_allclose(model.coef_, minimum_norm, rtol=0, atol=1e-10)
    assert model.coef_[1] == pytest.approx(model.coef_[3], abs=1e-10)  # the weight is split evenly
    assert model.rank_ == 3
    reference = sk.LinearRegression().fit(X, y)  # sklearn also returns the minimum-norm solution
    assert_coefs(model, reference, 1e-10)
    # any other least-squares solution (moving weight between the twins) fits as well but has a larger norm
    other = model.coef_ + np.array([0, 0.5, 0, -0.5])
    np.testing.assert_allclose(X @ other, X @ model.coef_, atol=1e-12)
    assert np.linalg.norm(other) > np.linalg.norm(model.coef_)

    with pytest.warns(LinAlgWarning, match="collinear"):
        through_origin = LinearRegression(solver="normal", fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(through_origin.coef_, np.linalg.lstsq(X, y, rcond=None)[0], rtol=0, atol=1e-10)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_more_features_than_samples_gives_minimum_norm_solution_and_warns(fit_intercept):
    X, y = linear_regression(n=10, features=30, noise=0.1, seed=8, dtype=np.float64)
    with pytest.warns(LinAlgWarning, match=r"more features than samples \(n_features=30 > n_samples=10\)"):
        model = LinearRegression(solver="normal", fit_intercept=fit_intercept).fit(X, y)
    if fit_intercept:
        A, b = X - X.mean(axis=0), y - y.mean()
    else:
        A, b = X, y
    np.testing.assert_allclose(model.coef_, np.linalg.lstsq(A, b, rcond=None)[0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(model.predict(X), y, atol=1e-9)  # interpolates: p > n
    assert model.rank_ == (9 if fit_intercept else 10)


def test_n_equal_p_with_intercept_is_singular_after_centring():
    X, y = linear_regression(n=5, features=5, noise=0.1, seed=9, dtype=np.float64)
    with pytest.warns(LinAlgWarning, match="more features than samples"):
        model = LinearRegression(solver="normal").fit(X, y)
    np.testing.assert_allclose(model.coef_, np.linalg.lstsq(X - X.mean(0), y - y.mean(), rcond=None)[0], atol=1e-10)


def test_ill_conditioned_design_falls_back_and_warns():
    X, y = linear_regression(n=200, features=4, noise=0.1, collinear=1 - 1e-12, seed=10, dtype=np.float64)
    with pytest.warns(LinAlgWarning, match=r"ill-conditioned: estimated condition number .*e\+1\d"):
        model = LinearRegression(solver="normal").fit(X, y)
    lstsq = np.linalg.lstsq(X - X.mean(0), y - y.mean(), rcond=None)[0]
    np.testing.assert_allclose(model.coef_, lstsq, rtol=0, atol=1e-10)


def test_mildly_correlated_design_uses_the_normal_equation_silently():
    X, y = linear_regression(n=200, features=4, noise=0.1, collinear=0.999, seed=10, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LinearRegression(solver="normal").fit(X, y)
    assert_coefs(model, sk.LinearRegression().fit(X, y), 1e-8)


def test_constant_feature_warns_and_gets_zero_weight():
    X, y = linear_regression(n=50, features=3, noise=0.1, seed=11, dtype=np.float64)
    X[:, 1] = 4.0
    with pytest.warns(LinAlgWarning, match=r"feature\(s\) \[1\] are constant"):
        model = LinearRegression(solver="normal").fit(X, y)
    assert model.coef_[1] == pytest.approx(0.0, abs=1e-12)
    assert_coefs(model, sk.LinearRegression().fit(X, y), 1e-10)


def test_ridge_makes_the_singular_design_solvable_without_warning():
    X, y = linear_regression(n=60, features=3, noise=0.2, seed=7, dtype=np.float64)
    X = np.column_stack([X, X[:, 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LinearRegression(solver="normal", l2=0.5).fit(X, y)
    assert_coefs(model, sk.Ridge(alpha=0.5).fit(X, y), 1e-10)


# --- gradient descent -----------------------------------------------------------------------------------------

def test_gd_on_standardized_features_reaches_sklearn_on_diabetes(diabetes):
    X, y = diabetes
    model = LinearRegression(solver="gd", lr="auto", standardize=True, tol=1e-12, max_iter=50_000).fit(X, y)
    assert model.converged_ and model.n_iter_ < 50_000
    assert_coefs(model, sk.LinearRegression().fit(X, y), 1e-4)  # in the original units
    assert isinstance(model.scaler_, cr.data.preprocessing.StandardScaler)


def test_gd_with_a_fixed_lr_on_standardized_features_reaches_sklearn_on_random_data():
    X, y = scaled_random(400, 6, 12)
    reference = sk.LinearRegression().fit(X, y)
    model = LinearRegression(solver="gd", lr=0.1, standardize=True, tol=1e-11, max_iter=20_000).fit(X, y)
    assert model.converged_
    np.testing.assert_allclose(model.coef_ * X.std(0), reference.coef_ * X.std(0), rtol=0, atol=1e-4)
    assert model.intercept_ == pytest.approx(reference.intercept_, abs=1e-4)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gd_ridge_equals_sklearn_ridge(diabetes, fit_intercept):
    X, y = diabetes
    reference = sk.Ridge(alpha=0.3, fit_intercept=fit_intercept).fit(X, y)
    model = LinearRegression(solver="gd", l2=0.3, lr="auto", standardize=True, fit_intercept=fit_intercept,
                             tol=1e-12, max_iter=50_000).fit(X, y)
    assert_coefs(model, reference, 1e-4)


def test_gd_cost_is_the_1_over_n_mse_and_falls_monotonically(diabetes):
    X, y = diabetes
    model = LinearRegression(solver="gd", lr="auto", standardize=True, max_iter=300, tol=0)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    costs = model.history_["cost"]
    assert costs.shape == (301,) and costs[0] == pytest.approx(np.mean(y**2))
    assert np.all(np.diff(costs) <= 1e-12 * costs[0])  # a stable step never raises a quadratic's cost
    assert costs[-1] == pytest.approx(np.mean((model.predict(X) - y) ** 2), rel=1e-12)
    assert model.history_["theta"] is None  # 10 features: no path


def test_gd_update_is_simultaneous_and_lr_multiplies_the_gradient_of_the_1_over_n_cost():
    X = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
    y = np.array([1.0, 2.0, 3.0])
    model = LinearRegression(solver="gd", lr=0.05, max_iter=1, tol=0)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    # θ₁ = θ₀ − lr·(2/n)·Ãᵀ(Ãθ₀ − y) with θ₀ = 0, every component from the same residual
    A = np.column_stack([np.ones(3), X])
    expected = -0.05 * (2 / 3) * A.T @ (-y)
    np.testing.assert_allclose(np.r_[model.intercept_, model.coef_], expected, rtol=1e-14)
    np.testing.assert_allclose(model.history_["theta"], [[0, 0, 0], expected], rtol=1e-14)


def test_feature_scaling_makes_gradient_descent_many_times_faster():
    """[note 004 §1.6] features in [0, 1000] and [0, 5]: narrow contours, slow zig-zag; standardized: fast."""
    g = np.random.default_rng(0)
    X = np.column_stack([g.uniform(0, 1000, 200), g.uniform(0, 5, 200)])
    y = 0.01 * X[:, 0] + 3 * X[:, 1] + 5 + 0.5 * g.standard_normal(200)
    best = LinearRegression(solver="normal").fit(X, y).history_["cost"][-1]
    target = best + 1e-3 * (np.mean(y**2) - best)  # 99.9 % of the way from J(0) down to the optimum

    def iterations_to_target(standardize, max_iter):
        # each run with its own best step (lr='auto' = 1/λ_max), so only the shape of the contours differs
        model = LinearRegression(solver="gd", lr="auto", standardize=standardize, max_iter=max_iter, tol=1e-9)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        reached = np.flatnonzero(model.history_["cost"] <= target)
        return (int(reached[0]) if len(reached) else None), model

    scaled, scaled_model = iterations_to_target(True, 1000)
    unscaled_budget = 20_000
    unscaled, unscaled_model = iterations_to_target(False, unscaled_budget)
    assert scaled is not None and scaled <= 10
    assert unscaled is None  # not even after 20,000 iterations: the ratio is > 2000
    assert unscaled_budget / scaled >= 1000
    assert unscaled_model.history_["cost"][-1] > 10 * best
    # the paths (1–2 features) are recorded for the contour plot, in each optimizer's coordinates
    assert scaled_model.history_["theta"].shape == (scaled_model.n_iter_ + 1, 3)
    assert unscaled_model.history_["theta"].shape == (unscaled_budget + 1, 3)


def test_path_and_cost_surface_helper_agree():
    X, y = linear_regression(n=80, features=1, noise=0.3, bias=1.0, seed=13, dtype=np.float64)
    X = X * 30 + 100
    model = LinearRegression(solver="gd", lr="auto", standardize=True, tol=1e-8, max_iter=2000).fit(X, y)
    path, costs = model.history_["theta"], model.history_["cost"]
    Z = model.scaler_.transform(X)  # the path lives in standardized coordinates
    np.testing.assert_allclose(cost(Z, y, path[:, 1:], path[:, 0]), costs, rtol=1e-12)
    # a whole grid at once: (20, 30) surface around the optimum
    b, w = np.meshgrid(np.linspace(-3, 3, 30), np.linspace(-3, 3, 20))
    surface = cost(Z, y, w[..., None], b)
    assert surface.shape == (20, 30)
    assert surface[7, 11] == pytest.approx(np.mean((Z[:, 0] * w[7, 11] + b[7, 11] - y) ** 2))
    # the end of the path, mapped back to original units, is the fitted model
    w_end = path[-1, 1] / model.scaler_.scale_[0]
    assert model.coef_[0] == pytest.approx(w_end) and model.intercept_ == pytest.approx(
        path[-1, 0] - model.scaler_.mean_[0] * w_end
    )


def test_normal_history_is_one_step():
    X, y = linear_regression(n=40, features=2, noise=0.1, seed=14, dtype=np.float64)
    model = LinearRegression(solver="normal").fit(X, y)
    np.testing.assert_allclose(model.history_["theta"], [[0, 0, 0], np.r_[model.intercept_, model.coef_]])
    assert model.history_["cost"][0] == pytest.approx(np.mean(y**2))
    assert model.history_["cost"][1] == pytest.approx(np.mean((model.predict(X) - y) ** 2))


# --- learning rate: too large, too small, good [note 004 §1.3] ------------------------------------------------

def test_too_large_learning_rate_diverges_with_a_clear_report(diabetes):
    X, y = diabetes
    model = LinearRegression(solver="gd", lr=2.0, standardize=True)  # 2/λ_max ≈ 0.25 for diabetes
    with pytest.raises(DivergenceError) as info:
        model.fit(X, y)
    err = info.value
    assert isinstance(err, ArithmeticError)
    assert err.solver == "gd" and err.lr == 2.0 and err.iteration >= 1
    assert math.isfinite(err.cost) and err.cost > err.initial_cost
    assert err.history.shape == (err.iteration + 1,) and err.history[-1] == err.cost
    assert err.max_stable_lr == pytest.approx(0.2485, rel=0.02)
    message = str(err)
    assert f"diverged at iteration {err.iteration}" in message and f"J = {err.cost:.4g}" in message
    assert "lower lr" in message and "standardize=True" in message and "LinearRegression.fit" in message
    assert not hasattr(model, "coef_")  # no NaN coefficients left behind


def test_divergence_clears_a_previous_fit(diabetes):
    X, y = diabetes
    model = LinearRegression(solver="normal").fit(X, y)
    with pytest.raises(DivergenceError):
        model.set_params(solver="gd", lr=5.0).fit(X, y)  # 2/λ_max ≈ 1 on the raw features (the intercept's)
    assert not hasattr(model, "coef_")


def test_unscaled_features_diverge_at_a_learning_rate_that_is_fine_after_standardizing():
    g = np.random.default_rng(1)
    X = np.column_stack([g.uniform(0, 1000, 100), g.uniform(0, 5, 100)])
    y = 0.01 * X[:, 0] + 3 * X[:, 1] + g.standard_normal(100)
    with pytest.raises(DivergenceError, match=r"diverged at iteration \d+: the cost rose to J = "):
        LinearRegression(solver="gd", lr=0.01).fit(X, y)
    LinearRegression(solver="gd", lr=0.01, standardize=True, max_iter=10_000).fit(X, y)


@pytest.mark.parametrize("solver", ["sgd", "minibatch"])
def test_stochastic_solvers_report_divergence_too(solver):
    X, y = scaled_random(200, 3, 15)
    model = LinearRegression(solver=solver, lr=0.5, batch_size=8, random_state=0)
    with pytest.raises(DivergenceError, match=r"diverged at epoch 1") as info:
        model.fit(X, y)
    assert info.value.iteration == 1 and info.value.solver == solver
    assert not hasattr(model, "coef_")


def test_too_small_learning_rate_has_not_converged_after_max_iter(diabetes):
    X, y = diabetes
    model = LinearRegression(solver="gd", lr=1e-4, standardize=True, max_iter=200)
    with pytest.warns(ConvergenceWarning, match=r"did not converge in max_iter=200 iterations \(lr=0.0001\)"):
        model.fit(X, y)
    assert not model.converged_ and model.n_iter_ == 200
    assert model.score(X, y) < 0  # still far from the fit: worse than predicting the mean


def test_good_learning_rate_converges(diabetes):
    X, y = diabetes
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = LinearRegression(solver="gd", lr=0.1, standardize=True, max_iter=20_000, tol=1e-8).fit(X, y)
    assert model.converged_ and model.n_iter_ < 20_000
    reference = sk.LinearRegression().fit(X, y)
    assert model.score(X, y) == pytest.approx(reference.score(X, y), abs=1e-9)


def test_lr_auto_is_half_the_largest_stable_step(diabetes):
    X, y = diabetes
    model = LinearRegression(solver="gd", lr="auto", standardize=True, tol=1e-3).fit(X, y)
    Z = (X - X.mean(0)) / X.std(0)
    hessian = 2 / len(X) * np.column_stack([np.ones(len(X)), Z]).T @ np.column_stack([np.ones(len(X)), Z])
    assert model.lr_ == pytest.approx(1 / np.linalg.eigvalsh(hessian)[-1], rel=2e-2)
    # lr=None (the default): 'auto' for gd, sklearn SGDRegressor's 0.01 for the stochastic solvers
    assert LinearRegression(solver="gd", standardize=True, tol=1e-3).fit(X, y).lr_ == model.lr_
    with pytest.warns(ConvergenceWarning):
        assert LinearRegression(solver="minibatch", standardize=True, max_iter=2).fit(X, y).lr_ == 0.01


# --- stochastic and mini-batch gradient descent ----------------------------------------------------------------

@pytest.mark.parametrize("solver, batch_size", [("sgd", 1), ("minibatch", 16)])
def test_stochastic_solvers_find_the_exact_solution_of_noiseless_data(solver, batch_size):
    X, y, w, b = linear_regression(n=300, features=5, noise=0.0, bias=2.0, coef=True, seed=3, dtype=np.float64)
    model = LinearRegression(solver=solver, lr=0.05, batch_size=batch_size, max_iter=500, tol=1e-9,
                             random_state=0).fit(X, y)
    assert model.converged_
    np.testing.assert_allclose(model.coef_, w, atol=1e-8)
    assert model.intercept_ == pytest.approx(b, abs=1e-8)


def test_minibatch_of_one_is_sgd_and_minibatch_of_all_is_gd():
    X, y = linear_regression(n=120, features=4, noise=0.3, bias=1.0, seed=16, dtype=np.float64)
    kw = {"lr": 0.02, "max_iter": 4, "tol": 0, "l2": 0.7}
    with pytest.warns(ConvergenceWarning):
        sgd = LinearRegression(solver="sgd", random_state=5, **kw).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        one = LinearRegression(solver="minibatch", batch_size=1, random_state=5, **kw).fit(X, y)
    np.testing.assert_allclose(one.coef_, sgd.coef_, rtol=1e-12)
    np.testing.assert_allclose(one.history_["cost"], sgd.history_["cost"], rtol=1e-12)
    with pytest.warns(ConvergenceWarning):
        gd = LinearRegression(solver="gd", **kw).fit(X, y)
    with pytest.warns(ConvergenceWarning):
        everything = LinearRegression(solver="minibatch", batch_size=10_000, random_state=5, **kw).fit(X, y)
    np.testing.assert_allclose(everything.coef_, gd.coef_, rtol=1e-12)


@pytest.mark.parametrize("solver, lr", [("sgd", 0.001), ("minibatch", 0.01)])
@pytest.mark.parametrize("l2", [0.0, 5.0])
def test_stochastic_solvers_get_close_to_the_normal_equation(solver, lr, l2):
    # a constant step leaves a noise floor ∝ lr above the optimum; one-sample steps are the noisiest
    X, y = scaled_random(300, 5, 17, noise=0.3)
    best = LinearRegression(solver="normal", l2=l2).fit(X, y)
    model = LinearRegression(solver=solver, lr=lr, l2=l2, standardize=True, max_iter=300, random_state=0).fit(X, y)
    assert model.converged_ and model.n_iter_ < 300
    assert model.history_["cost"][-1] <= 1.01 * best.history_["cost"][-1]
    assert model.score(X, y) == pytest.approx(best.score(X, y), abs=5e-3)


def test_random_state_makes_stochastic_fits_reproducible():
    X, y = scaled_random(100, 3, 18)

    def fit(**kw):
        return LinearRegression(solver="sgd", lr=0.01, standardize=True, max_iter=20, **kw).fit(X, y).coef_

    np.testing.assert_array_equal(fit(random_state=3), fit(random_state=3))
    assert not np.array_equal(fit(random_state=3), fit(random_state=4))
    cr.manual_seed(0)
    first = fit()
    cr.manual_seed(0)
    np.testing.assert_array_equal(first, fit())


# --- the rule of thumb ------------------------------------------------------------------------------------------

def test_auto_uses_the_normal_equation_up_to_the_threshold_and_gradient_descent_beyond():
    X, y = linear_regression(n=100, features=5, noise=0.1, seed=19, dtype=np.float64)
    assert LinearRegression().auto_threshold == 10_000
    assert LinearRegression().fit(X, y).solver_ == "normal"
    assert LinearRegression(auto_threshold=5).fit(X, y).solver_ == "normal"  # "up to": p = threshold
    beyond = LinearRegression(auto_threshold=4, lr="auto", standardize=True, tol=1e-10, max_iter=10_000).fit(X, y)
    assert beyond.solver_ == "gd" and beyond.converged_
    np.testing.assert_allclose(beyond.coef_, LinearRegression().fit(X, y).coef_, atol=1e-6)


# --- API and bad input ----------------------------------------------------------------------------------------

def test_standardize_changes_the_path_not_the_model():
    for fit_intercept in (True, False):
        # without an intercept the features cannot be centred, so give them no offsets (only scales)
        X, y = scaled_random(150, 3, 20) if fit_intercept else linear_regression(n=150, features=3, seed=20)
        X = X * [0.05, 1.0, 300.0]
        exact = LinearRegression(solver="normal", l2=1.5, fit_intercept=fit_intercept).fit(X, y)
        model = LinearRegression(solver="gd", lr="auto", l2=1.5, standardize=True, fit_intercept=fit_intercept,
                                 tol=1e-12, max_iter=100_000).fit(X, y)
        np.testing.assert_allclose(model.predict(X), exact.predict(X), atol=1e-6)
        assert model.history_["cost"][-1] == pytest.approx(exact.history_["cost"][-1], rel=1e-10)
    # the normal equation needs no scaling and ignores it
    a = LinearRegression(solver="normal", standardize=True).fit(X, y)
    np.testing.assert_array_equal(a.coef_, LinearRegression(solver="normal").fit(X, y).coef_)


def test_score_is_r2_and_inputs_may_be_tensors_or_lists(diabetes):
    X, y = diabetes
    model = LinearRegression().fit(cr.tensor(X), cr.tensor(y))
    prediction = model.predict(cr.tensor(X[:5]))
    assert isinstance(prediction, cr.Tensor)
    assert model.score(X, y) == pytest.approx(r2_score(y, model.predict(X)), abs=1e-14)
    small = LinearRegression().fit([[0.0], [1.0], [2.0]], [1, 3, 5])
    assert small.coef_ == pytest.approx([2.0]) and small.intercept_ == pytest.approx(1.0)
    assert small.score([[0.0], [1.0]], [1.0, 1.0]) == 0.0  # constant y, imperfect: as sklearn
    assert small.score([[1.0], [1.0]], [3.0, 3.0]) == 1.0


def test_sklearn_estimator_protocol():
    model = LinearRegression(solver="gd", lr=0.05, l2=1.0)
    twin = clone(model)
    assert twin.get_params() == model.get_params() and twin is not model
    assert repr(model) == "LinearRegression(solver='gd', l2=1.0, lr=0.05)"
    with pytest.raises(ValueError, match="unknown parameter 'alpha'"):
        model.set_params(alpha=1.0)


def test_epochs_is_an_alias_of_max_iter():
    X, y = scaled_random(50, 2, 21)
    with pytest.warns(ConvergenceWarning, match="max_iter=3 epochs"):
        model = LinearRegression(solver="minibatch", lr=1e-3, epochs=3, standardize=True, tol=0).fit(X, y)
    assert model.n_iter_ == 3 and len(model.history_["cost"]) == 4


@pytest.mark.parametrize("solver", ["normal", "gd"])
def test_bad_input_gives_clear_errors(solver):
    fit = LinearRegression(solver=solver).fit
    X, y = np.ones((5, 2)), np.ones(5)
    with pytest.raises(ValueError, match=r"LinearRegression.fit: X and y have different numbers of samples: "
                                         r"X has 5 \(shape \(5, 2\)\), y has 4 \(shape \(4,\)\)"):
        fit(X, np.ones(4))
    with pytest.raises(ValueError, match=r"LinearRegression.fit: X must be 2-D \(n_samples, n_features\), "
                                         r"got shape \(5,\) \(one feature: X.reshape\(-1, 1\)"):
        fit(np.ones(5), y)
    with pytest.raises(ValueError, match=r"X must be 2-D .*got shape \(5, 2, 1\)"):
        fit(np.ones((5, 2, 1)), y)
    with pytest.raises(ValueError, match=r"y must be 1-D \(n_samples,\), got shape \(5, 1\); use y.ravel\(\)"):
        fit(X, np.ones((5, 1)))
    with pytest.raises(ValueError, match=r"at least 1 sample and 1 feature, got shape \(0, 2\)"):
        fit(np.ones((0, 2)), np.ones(0))
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"LinearRegression.fit: X \(shape \(5, 2\)\) contains NaN: 1 entries, "
                                         r"the first nan at index \(3, 1\)"):
        fit(bad, y)
    bad[3, 1] = -np.inf
    with pytest.raises(ValueError, match=r"X \(shape \(5, 2\)\) contains Inf"):
        fit(bad, y)
    with pytest.raises(ValueError, match=r"y \(shape \(5,\)\) contains NaN and Inf: 2 entries"):
        fit(X, np.array([1, np.inf, 2, np.nan, 3]))
    with pytest.raises(TypeError, match=r"LinearRegression.fit: X must be numeric, got dtype <U1 \(shape \(2, 1\)\)"):
        fit(np.array([["a"], ["b"]]), [1, 2])


def test_predict_errors():
    model = LinearRegression()
    with pytest.raises(NotFittedError, match=r"LinearRegression.predict: this instance is not fitted yet"):
        model.predict(np.ones((2, 3)))
    model.fit(np.random.default_rng(0).standard_normal((20, 3)), np.arange(20.0))
    with pytest.raises(ValueError, match=r"X has 2 features \(shape \(4, 2\)\), but the model was fitted with 3"):
        model.predict(np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"LinearRegression.predict: X must be 2-D .*got shape \(3,\)"):
        model.predict(np.ones(3))
    with pytest.raises(ValueError, match=r"LinearRegression.score: X and y have different numbers of samples"):
        model.score(np.ones((4, 3)), np.ones(3))


@pytest.mark.parametrize("params, match", [
    ({"solver": "lbfgs"}, r"solver must be one of \('auto', 'normal', 'gd', 'sgd', 'minibatch'\), got 'lbfgs'"),
    ({"solver": "gd", "lr": 0}, r"lr must be a positive finite float, 'auto' or None, got 0"),
    ({"solver": "gd", "lr": -0.1}, r"lr must be a positive"),
    ({"solver": "gd", "lr": "fast"}, r"lr must be a positive float, 'auto' or None, got 'fast'"),
    ({"solver": "sgd", "lr": "auto"}, r"lr='auto' .* is only for solver='gd'"),
    ({"solver": "gd", "max_iter": 0}, r"max_iter must be an integer ≥ 1, got 0"),
    ({"solver": "gd", "epochs": 2.5}, r"epochs must be an integer ≥ 1, got 2.5"),
    ({"solver": "gd", "tol": -1}, r"tol must be a float ≥ 0"),
    ({"l2": -1.0}, r"l2 must be a finite float ≥ 0, got -1.0"),
    ({"solver": "minibatch", "batch_size": 0}, r"batch_size must be an integer ≥ 1, got 0"),
    ({"auto_threshold": 0}, r"auto_threshold must be an integer ≥ 1"),
])
def test_bad_parameters_are_named(params, match):
    with pytest.raises(ValueError, match="LinearRegression.fit: " + match):
        LinearRegression(**params).fit(np.ones((3, 1)), np.ones(3))
