"""``detect_anomaly``: inside it, the first op whose forward output or backward gradient holds a NaN or
an infinity raises FloatingPointError naming that op (and whether its inputs were already bad);
outside it nothing is checked, and the mode is restored however the block is left."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import autograd, nn

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's own overflow / invalid warnings


def test_forward_names_the_first_op_that_overflows():
    with cr.detect_anomaly():
        x = cr.tensor([1e30, 1.0], dtype=cr.float32, requires_grad=True)
        with pytest.raises(FloatingPointError, match=r"detect_anomaly: Mul forward produced a non-finite value "
                                                     r"from finite inputs; input shapes \(2,\), \(2,\)"):
            y = x * x  # 1e60 overflows float32: Mul is the culprit
            y - y  # the NaN it would lead to is never reached


def test_forward_names_log_of_a_negative_number():
    with cr.detect_anomaly(), pytest.raises(FloatingPointError, match="Log forward .* from finite inputs"):
        cr.tensor([-1.0, 2.0], requires_grad=True).log()


def test_forward_check_does_not_need_a_graph():
    with cr.detect_anomaly(), cr.no_grad(), pytest.raises(FloatingPointError, match="Div forward"):
        cr.tensor([0.0, 1.0]) / cr.tensor([0.0, 1.0])


def test_forward_says_when_the_inputs_were_already_bad():
    with cr.detect_anomaly():
        layer = nn.Linear(2, 2)
        with pytest.raises(FloatingPointError, match=r"Linear forward .* \(its inputs already held non-finite"):
            layer(cr.tensor([[float("nan"), 1.0]]))


def test_backward_names_the_op_whose_gradient_is_not_finite():
    x = cr.tensor([0.0, 4.0], requires_grad=True)
    with cr.detect_anomaly():
        y = (x.sqrt() * 3).sum()  # forward is finite: sqrt(0) = 0, but d sqrt/dx = 1/(2·sqrt(0)) = inf
        with pytest.raises(FloatingPointError, match=r"Sqrt backward produced a non-finite value from finite inputs"):
            y.backward()


def test_the_mode_applies_when_backward_runs():
    x = cr.tensor([0.0], requires_grad=True)
    y = x.sqrt().sum()  # recorded outside the mode
    with cr.detect_anomaly(), pytest.raises(FloatingPointError, match="Sqrt backward"):
        y.backward()


def test_outside_the_mode_nothing_is_checked():
    x = cr.tensor([0.0, -1.0], requires_grad=True)
    y = x.log().sum()
    y.backward()
    assert np.isnan(y.item()) and np.isinf(x.grad.data[0])


def test_the_mode_is_restored_after_an_error_and_when_nested():
    assert not autograd._detect_anomaly
    with pytest.raises(FloatingPointError), cr.detect_anomaly():
        assert autograd._detect_anomaly
        cr.tensor([-1.0]).log()
    assert not autograd._detect_anomaly
    with cr.detect_anomaly():
        with cr.detect_anomaly():
            pass
        assert autograd._detect_anomaly  # the inner block restores the outer one's mode
    assert not autograd._detect_anomaly
    cr.tensor([-1.0]).log()  # no error any more


def test_finite_training_step_is_unaffected():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x, y = cr.randn(5, 3), cr.tensor([0, 1, 0, 1, 1])
    with cr.detect_anomaly():
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
    grads = [p.grad.data.copy() for p in model.parameters()]
    model.zero_grad()
    nn.functional.cross_entropy(model(x), y).backward()
    for g, p in zip(grads, model.parameters()):
        np.testing.assert_array_equal(g, p.grad.data)


def test_backward_of_a_0d_tensor_is_checked_too():
    # 0-d array arithmetic gives NumPy scalars (np.float64), not arrays: they must be checked as well
    x = cr.tensor(0.0, dtype=cr.float64, requires_grad=True)
    y = x.sqrt()
    with cr.detect_anomaly(), pytest.raises(FloatingPointError, match="Sqrt backward"):
        y.backward()
