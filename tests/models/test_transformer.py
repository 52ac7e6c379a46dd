"""The transformer zoo entry: transformer_classifier's shapes (sequences, and images read row by row), its
registry entry and the CLI's build for a dataset, its output equal to a torch twin holding the same weights,
input errors, and that it learns the bundled 8×8 digits (8 tokens of 8 pixels) in a few dozen steps."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import optim
from chainrule.cli import _build_model
from chainrule.data.datasets import digits
from chainrule.models import registry
from chainrule.models.transformer import TransformerClassifier, transformer_classifier
from chainrule.nn import functional as F


def test_default_shapes_row_by_row_mnist():
    m = transformer_classifier()
    assert isinstance(m, TransformerClassifier) and len(m.encoder.layers) == 2
    assert m(cr.randn(3, 28, 28)).shape == (3, 10)
    assert m(cr.randn(3, 1, 28, 28)).shape == (3, 10)


def test_images_are_read_row_by_row():
    m = transformer_classifier(input_size=4, in_channels=3, num_classes=5, d_model=8, nhead=2, num_layers=1)
    m.eval()
    images = cr.randn(2, 3, 6, 4)
    rows = cr.tensor(np.transpose(images.data, (0, 2, 1, 3)).reshape(2, 6, 12))
    np.testing.assert_allclose(m(images).data, m(rows).data)


def test_registered_and_built_by_the_cli_for_a_dataset():
    assert "transformer_classifier" in registry.list_models()
    assert isinstance(registry.get_model("transformer_classifier", d_model=16), TransformerClassifier)
    m = _build_model("transformer_classifier", (1, 8, 8), 10)  # what `chainrule train --dataset digits` builds
    assert m.embed.in_features == 8 and m(cr.randn(2, 1, 8, 8)).shape == (2, 10)
    cifar = _build_model("transformer_classifier", (3, 32, 32), 10)
    assert cifar.embed.in_features == 96 and cifar(cr.randn(2, 3, 32, 32)).shape == (2, 10)


def test_equals_torch_twin():
    torch.manual_seed(0)
    d, T = 8, 5
    embed, fc, norm = torch.nn.Linear(6, d), torch.nn.Linear(d, 3), torch.nn.LayerNorm(d)
    layer = torch.nn.TransformerEncoderLayer(d, 2, 16, 0.0, batch_first=True, norm_first=True)
    encoder = torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    pos = torch.randn(1, 10, d)
    twin = torch.nn.ModuleDict({"embed": embed, "encoder": encoder, "norm": norm, "fc": fc}).double()
    m = transformer_classifier(input_size=6, num_classes=3, d_model=d, nhead=2, num_layers=2, dim_feedforward=16,
                               dropout=0.0, max_len=10)
    m.double()
    state = {k: v for k, v in twin.state_dict().items()}
    state["pos_embedding"] = pos.double()
    m.load_state_dict(state)
    x = np.random.default_rng(0).standard_normal((3, T, 6))
    with torch.no_grad():
        h = embed(torch.tensor(x)) + pos.double()[:, :T]
        want = fc(norm(encoder(h)).mean(1)).numpy()
    np.testing.assert_allclose(m(cr.tensor(x)).data, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(2, 8, 7), (2, 1, 8, 7), (8, 8), (2, 300, 8)])
def test_wrong_input_shape(shape):
    with pytest.raises(ValueError, match=r"transformer_classifier: expected input \(N, T, 8\) with 1 <= T <= 256"):
        transformer_classifier(input_size=8)(cr.randn(*shape))


def test_learns_the_digits_as_sequences_of_rows():
    cr.manual_seed(0)
    images, labels = digits()
    x, y = cr.tensor(images[:512] / 16), cr.tensor(labels[:512])
    m = transformer_classifier(input_size=8, d_model=32, nhead=4, num_layers=1, dim_feedforward=64, dropout=0.0)
    opt = optim.Adam(m.parameters(), lr=3e-3)
    order = np.random.default_rng(0)
    losses = []
    for _ in range(40):
        i = order.choice(512, 64, replace=False)
        loss = F.cross_entropy(m(x[i]), y[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5]), losses
    with cr.no_grad():
        m.eval()
        accuracy = (m(x).argmax(1).data == y.data).mean()
    assert accuracy > 0.7, accuracy
