"""The recurrent model zoo: lstm_classifier's shapes (sequences and images read row by row), its
registry entry, its output equal to a torch twin holding the same weights, input errors, and a few
SGD/Adam steps on tiny random data that reduce the loss."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import optim
from chainrule.models import registry
from chainrule.models.rnn import LSTMClassifier, lstm_classifier
from chainrule.nn import functional as F


def test_default_shapes_row_by_row_mnist():
    m = lstm_classifier()
    assert isinstance(m, LSTMClassifier)
    assert m.lstm.hidden_size == 128 and m.lstm.num_layers == 2 and m.lstm.batch_first
    assert m(cr.randn(3, 28, 28)).shape == (3, 10)
    assert m(cr.randn(3, 1, 28, 28)).shape == (3, 10)


def test_images_are_read_row_by_row():
    m = lstm_classifier(input_size=12, hidden_size=8, num_layers=1, num_classes=5)
    images = cr.randn(2, 3, 6, 4)  # C·W = 12 features per row, 6 rows
    rows = cr.tensor(np.transpose(images.data, (0, 2, 1, 3)).reshape(2, 6, 12))
    np.testing.assert_allclose(m(images).data, m(rows).data)


def test_bidirectional_shape():
    m = lstm_classifier(input_size=4, hidden_size=6, num_layers=2, num_classes=3, bidirectional=True)
    assert m.fc.in_features == 12
    assert m(cr.randn(5, 7, 4)).shape == (5, 3)


def test_registered():
    assert "lstm_classifier" in registry.list_models()
    assert isinstance(registry.get_model("lstm_classifier", hidden_size=16), LSTMClassifier)


def test_equals_torch_twin():
    torch.manual_seed(0)
    lstm, fc = torch.nn.LSTM(5, 8, 2, batch_first=True).double(), torch.nn.Linear(8, 4).double()
    m = lstm_classifier(5, 8, 2, 4)
    m.double()
    m.load_state_dict({**{f"lstm.{k}": v for k, v in lstm.state_dict().items()},
                       **{f"fc.{k}": v for k, v in fc.state_dict().items()}})
    x = np.random.default_rng(0).standard_normal((3, 6, 5))
    _, (h, _) = lstm(torch.tensor(x))
    np.testing.assert_allclose(m(cr.tensor(x)).data, fc(h[-1]).detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(2, 28, 27), (2, 1, 28, 27), (28, 28)])
def test_wrong_input_shape(shape):
    with pytest.raises(ValueError, match=r"lstm_classifier: expected input \(N, T, 28\)"):
        lstm_classifier()(cr.randn(*shape))


@pytest.mark.parametrize("make_opt", [lambda p: optim.SGD(p, lr=0.5, momentum=0.9), lambda p: optim.Adam(p, lr=0.02)],
                         ids=["sgd", "adam"])
def test_training_steps_reduce_the_loss(make_opt):
    cr.manual_seed(0)
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((16, 6, 4)).astype(np.float32))
    y = cr.tensor(rng.integers(0, 3, 16))
    m = lstm_classifier(input_size=4, hidden_size=16, num_layers=2, num_classes=3, dropout=0.1)
    opt = make_opt(m.parameters())
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = F.cross_entropy(m(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(np.isfinite(losses))
    assert losses[-1] < 0.7 * losses[0], losses
