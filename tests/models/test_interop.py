"""PyTorch interop: weights trained in torch load into chainrule's models through a safetensors file.

torchvision is not a dependency, so each torch twin below is written by hand after torchvision's
source (same module tree, same names). For each model: the twin's state dict goes through
``safetensors.torch.save_file`` → ``chainrule.load_file`` → ``load_state_dict`` (strict); then eval
outputs must agree, and in train mode (dropout off) so must every parameter's gradient, the input's
gradient and the updated BatchNorm running statistics.
"""
from collections import OrderedDict

import numpy as np
import pytest
import safetensors.torch
import torch
import torch.nn as tnn
import torch.nn.functional as TF
from threadpoolctl import threadpool_limits

import chainrule as cr
from chainrule import models

torch.set_num_threads(1)


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """One BLAS thread, as torch's one thread: on a busy 2-core machine OpenBLAS's thread hand-off makes
    the many small matrix products of a conv net several times slower."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


# ----- torch twins, after torchvision ------------------------------------------------------------------
class TBasicBlock(tnn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class TResNet18(tnn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU(inplace=True)
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(64, 2)
        self.layer2 = self._make_layer(128, 2, 2)
        self.layer3 = self._make_layer(256, 2, 2)
        self.layer4 = self._make_layer(512, 2, 2)
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(512, num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = tnn.Sequential(tnn.Conv2d(self.inplanes, planes, 1, stride, bias=False), tnn.BatchNorm2d(planes))
        layers = [TBasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [TBasicBlock(planes, planes) for _ in range(1, blocks)]
        return tnn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class TVGG11BN(tnn.Module):
    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        layers, c = [], 3
        for v in [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]:
            if v == "M":
                layers.append(tnn.MaxPool2d(2, 2))
            else:
                layers += [tnn.Conv2d(c, v, 3, padding=1), tnn.BatchNorm2d(v), tnn.ReLU(inplace=True)]
                c = v
        self.features = tnn.Sequential(*layers)
        self.avgpool = tnn.AdaptiveAvgPool2d((7, 7))
        self.classifier = tnn.Sequential(
            tnn.Linear(512 * 7 * 7, 4096), tnn.ReLU(True), tnn.Dropout(dropout),
            tnn.Linear(4096, 4096), tnn.ReLU(True), tnn.Dropout(dropout),
            tnn.Linear(4096, num_classes),
        )

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class TBasicConv2d(tnn.Module):
    def __init__(self, cin, cout, **kwargs):
        super().__init__()
        self.conv = tnn.Conv2d(cin, cout, bias=False, **kwargs)
        self.bn = tnn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x):
        return TF.relu(self.bn(self.conv(x)), inplace=True)


class TInception(tnn.Module):
    def __init__(self, cin, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = TBasicConv2d(cin, ch1x1, kernel_size=1)
        self.branch2 = tnn.Sequential(TBasicConv2d(cin, ch3x3red, kernel_size=1),
                                      TBasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = tnn.Sequential(TBasicConv2d(cin, ch5x5red, kernel_size=1),
                                      TBasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1))
        self.branch4 = tnn.Sequential(tnn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                                      TBasicConv2d(cin, pool_proj, kernel_size=1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class TGoogLeNet(tnn.Module):
    """torchvision's GoogLeNet with aux_logits=False, transform_input=False."""

    def __init__(self, num_classes=1000, dropout=0.2):
        super().__init__()
        self.conv1 = TBasicConv2d(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = tnn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = TBasicConv2d(64, 64, kernel_size=1)
        self.conv3 = TBasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = tnn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = TInception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = TInception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = tnn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = TInception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = TInception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = TInception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = TInception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = TInception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = tnn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = TInception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = TInception(832, 384, 192, 384, 48, 128, 128)
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.dropout = tnn.Dropout(dropout)
        self.fc = tnn.Linear(1024, num_classes)

    def forward(self, x):
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4d(self.inception4c(self.inception4b(self.inception4a(x))))
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))


class TDenseLayer(tnn.Module):
    def __init__(self, cin, growth_rate, bn_size):
        super().__init__()
        self.norm1 = tnn.BatchNorm2d(cin)
        self.relu1 = tnn.ReLU(inplace=True)
        self.conv1 = tnn.Conv2d(cin, bn_size * growth_rate, 1, 1, bias=False)
        self.norm2 = tnn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(bn_size * growth_rate, growth_rate, 3, 1, 1, bias=False)

    def forward(self, inputs):
        out = self.conv1(self.relu1(self.norm1(torch.cat(inputs, 1))))
        return self.conv2(self.relu2(self.norm2(out)))


class TDenseBlock(tnn.ModuleDict):
    def __init__(self, num_layers, cin, bn_size, growth_rate):
        super().__init__()
        for i in range(num_layers):
            self.add_module(f"denselayer{i + 1}", TDenseLayer(cin + i * growth_rate, growth_rate, bn_size))

    def forward(self, x):
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class TTransition(tnn.Sequential):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm = tnn.BatchNorm2d(cin)
        self.relu = tnn.ReLU(inplace=True)
        self.conv = tnn.Conv2d(cin, cout, 1, 1, bias=False)
        self.pool = tnn.AvgPool2d(2, 2)


class TDenseNet121(tnn.Module):
    def __init__(self, num_classes=1000, growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64, bn_size=4):
        super().__init__()
        self.features = tnn.Sequential(OrderedDict([
            ("conv0", tnn.Conv2d(3, num_init_features, 7, 2, 3, bias=False)),
            ("norm0", tnn.BatchNorm2d(num_init_features)),
            ("relu0", tnn.ReLU(inplace=True)),
            ("pool0", tnn.MaxPool2d(3, 2, 1)),
        ]))
        c = num_init_features
        for i, n in enumerate(block_config):
            self.features.add_module(f"denseblock{i + 1}", TDenseBlock(n, c, bn_size, growth_rate))
            c += n * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module(f"transition{i + 1}", TTransition(c, c // 2))
                c //= 2
        self.features.add_module("norm5", tnn.BatchNorm2d(c))
        self.classifier = tnn.Linear(c, num_classes)

    def forward(self, x):
        out = TF.relu(self.features(x))
        return self.classifier(torch.flatten(TF.adaptive_avg_pool2d(out, (1, 1)), 1))


# (name, chainrule builder, torch twin builder, eval input size, gradient dtype)
# vgg11_bn's gradients are compared in float32: in float64 the two copies of its 133M parameters and
# their gradients would take over 4 GB.
CASES = {
    "resnet18": (lambda: models.resnet18(), lambda: TResNet18(), 64, np.float64),
    "vgg11_bn": (lambda: models.vgg11_bn(init_weights=False, dropout=0.0), lambda: TVGG11BN(dropout=0.0), 64,
                 np.float32),
    "googlenet": (lambda: models.googlenet(aux_logits=False, init_weights=False, dropout=0.0),
                  lambda: TGoogLeNet(dropout=0.0), 64, np.float64),
    "densenet121": (lambda: models.densenet121(), lambda: TDenseNet121(), 64, np.float64),
}


@pytest.fixture
def no_init(monkeypatch):
    """Skip random initialization while building: every weight is about to be overwritten by the file
    (strict loading checks that each one is), as torchvision skips its init for pretrained weights."""
    from chainrule.nn import init

    for name in ("uniform_", "normal_", "trunc_normal_"):
        monkeypatch.setattr(init, name, lambda t, *a, **k: t)


def _randomize_bn(model, gen):
    """Non-trivial BatchNorm statistics and affine parameters, so eval mode tests the running stats."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, tnn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1, generator=gen)
                m.running_var.uniform_(0.5, 1.5, generator=gen)
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.normal_(0, 0.1, generator=gen)
                m.num_batches_tracked.fill_(7)


def _close(ours, theirs, rtol, what, scale=None):
    """Equal within ``rtol`` relative to each element and to ``scale`` (default: the largest |theirs|)."""
    theirs = np.asarray(theirs)
    scale = scale or float(np.abs(theirs).max()) or 1.0
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * scale, err_msg=what)


@pytest.mark.parametrize("name", list(CASES))
def test_torch_weights_load_and_agree(name, tmp_path, no_init):
    build, build_twin, size, grad_dtype = CASES[name]
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    twin = build_twin()
    _randomize_bn(twin, gen)
    path = tmp_path / f"{name}.safetensors"
    safetensors.torch.save_file(twin.state_dict(), str(path))  # what a PyTorch user would write

    model = build()
    state = cr.load_file(path)
    assert set(state) == set(model.state_dict()), "state dict keys differ from torchvision's"
    missing, unexpected = model.load_state_dict(state)  # strict
    assert not missing and not unexpected

    # eval mode, float32, one image
    x = np.random.default_rng(0).standard_normal((1, 3, size, size)).astype(np.float32)
    twin.eval()
    model.eval()
    with torch.no_grad():
        ref = twin(torch.from_numpy(x)).numpy()
    with cr.no_grad():
        out = model(cr.tensor(x)).numpy()
    assert out.shape == ref.shape == (1, 1000)
    _close(out, ref, 1e-4, f"{name}: eval outputs differ from torch")
    assert (out.argmax(1) == ref.argmax(1)).all()

    # train mode: gradients of every parameter and of the input, and the running statistics
    twin.train()
    model.train()
    if grad_dtype == np.float64:
        twin.double()
        model.double()
    rng = np.random.default_rng(1)
    xg = rng.standard_normal((2, 3, 32, 32)).astype(grad_dtype)
    v = rng.standard_normal((2, 1000)).astype(grad_dtype)
    xt = torch.from_numpy(xg).requires_grad_()
    (twin(xt) * torch.from_numpy(v)).sum().backward()
    xc = cr.tensor(xg, requires_grad=True)
    (model(xc) * cr.tensor(v)).sum().backward()
    rtol = 1e-6 if grad_dtype == np.float64 else 2e-3
    _close(xc.grad.numpy(), xt.grad.numpy(), rtol, f"{name}: input gradient differs from torch")
    theirs = dict(twin.named_parameters())
    ours = dict(model.named_parameters())
    assert set(ours) == set(theirs)
    for k, p in ours.items():
        assert p.grad is not None, f"{name}: no gradient for {k}"
        # a bias feeding BatchNorm has a true gradient of 0 (BN removes the mean), so what both compute is
        # rounding noise: measure it on the scale of the layer's weight gradient
        scale = np.abs(theirs[k[: -len("bias")] + "weight"].grad.numpy()).max() if k.endswith("bias") else None
        _close(p.grad.numpy(), theirs[k].grad.numpy(), rtol, f"{name}: gradient of {k} differs from torch", scale)
    their_buffers = dict(twin.named_buffers())
    for k, b in model.named_buffers():
        _close(b.numpy(), their_buffers[k].numpy(), rtol, f"{name}: buffer {k} differs after a training step")


def test_chainrule_weights_load_into_torch(tmp_path):
    """The other way: chainrule.save_file writes a file torch reads into the twin, same outputs."""
    cr.manual_seed(0)
    model = models.resnet18(num_classes=10)
    path = tmp_path / "resnet18.safetensors"
    cr.save_file(model.state_dict(), path, metadata={"arch": "resnet18"})
    assert [p.name for p in tmp_path.iterdir()] == ["resnet18.safetensors"]  # no temp file left behind
    twin = TResNet18(num_classes=10)
    twin.load_state_dict(safetensors.torch.load_file(str(path)))
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
    model.eval()
    twin.eval()
    with torch.no_grad():
        ref = twin(torch.from_numpy(x)).numpy()
    with cr.no_grad():
        out = model(cr.tensor(x)).numpy()
    _close(out, ref, 1e-4, "resnet18 saved by chainrule: outputs differ in torch")


def test_load_state_dict_names_the_mismatch(tmp_path):
    """A file for another architecture fails loudly, naming the keys and shapes."""
    torch.manual_seed(0)
    path = tmp_path / "r18.safetensors"
    safetensors.torch.save_file(TResNet18(num_classes=10).state_dict(), str(path))
    model = models.resnet34(num_classes=10)
    with pytest.raises(RuntimeError, match="missing keys: .*layer1.2.conv1.weight"):
        model.load_state_dict(cr.load_file(path))
    with pytest.raises(RuntimeError, match=r"size mismatch for fc.weight: expected shape \(1000, 512\)"):
        models.resnet18().load_state_dict(cr.load_file(path))


def test_save_load_round_trip(tmp_path):
    state = {"w": cr.randn(3, 4), "b": np.arange(5, dtype=np.int64), "h": np.float64(2.5) * np.ones((2, 2))}
    path = tmp_path / "t.safetensors"
    cr.save_file(state, path)
    back = cr.load_file(path)
    assert set(back) == set(state)
    np.testing.assert_array_equal(back["w"], state["w"].numpy())
    assert back["w"].dtype == np.float32 and back["b"].dtype == np.int64 and back["h"].dtype == np.float64
    np.testing.assert_array_equal(back["b"], state["b"])
    cr.save_file({"w": np.zeros(2)}, path)  # overwrite in place, atomically
    assert set(cr.load_file(path)) == {"w"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.safetensors"]


def test_load_bfloat16_file(tmp_path):
    """bfloat16 (common for shared weights; NumPy lacks it) is widened to float32 exactly."""
    t = torch.randn(4, 3).to(torch.bfloat16)
    path = tmp_path / "bf16.safetensors"
    safetensors.torch.save_file({"w": t, "n": torch.tensor(3)}, str(path))
    back = cr.load_file(path)
    assert back["w"].dtype == np.float32
    np.testing.assert_array_equal(back["w"], t.float().numpy())
    assert int(back["n"]) == 3


def test_load_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        cr.load_file(tmp_path / "missing.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\xff" * 16)
    with pytest.raises(ValueError, match="not a safetensors file"):
        cr.load_file(bad)
    with pytest.raises(TypeError, match="dict"):
        cr.save_file([np.zeros(2)], tmp_path / "x.safetensors")


class TLSTMClassifier(tnn.Module):
    """The torch twin of ``lstm_classifier``: an LSTM over rows, a Linear on the last layer's final states."""

    def __init__(self, input_size, hidden_size, num_layers, num_classes, bidirectional):
        super().__init__()
        self.bidirectional = bidirectional
        self.lstm = tnn.LSTM(input_size, hidden_size, num_layers, batch_first=True, bidirectional=bidirectional)
        self.fc = tnn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.fc(torch.cat([h[-2], h[-1]], 1) if self.bidirectional else h[-1])


@pytest.mark.parametrize("bidirectional", [False, True], ids=["unidirectional", "bidirectional"])
def test_torch_lstm_weights_load_and_agree(bidirectional, tmp_path):
    """A 2-layer LSTM classifier over the 28 rows of MNIST-sized images, weights from torch."""
    torch.manual_seed(0)
    twin = TLSTMClassifier(28, 32, 2, 10, bidirectional)
    path = tmp_path / "lstm.safetensors"
    safetensors.torch.save_file(twin.state_dict(), str(path))
    model = models.lstm_classifier(28, 32, 2, 10, bidirectional=bidirectional)
    model.load_state_dict(cr.load_file(path))

    x = np.random.default_rng(0).standard_normal((3, 28, 28)).astype(np.float32)
    with torch.no_grad():
        ref = twin.eval()(torch.from_numpy(x)).numpy()
    with cr.no_grad():
        out = model.eval()(cr.tensor(x[:, None])).numpy()  # as images (N, 1, 28, 28), read row by row
    _close(out, ref, 1e-5, "lstm_classifier: outputs differ from torch")

    twin.double().train()
    model.double().train()
    rng = np.random.default_rng(1)
    xg, v = rng.standard_normal((2, 28, 28)), rng.standard_normal((2, 10))
    xt = torch.from_numpy(xg).requires_grad_()
    (twin(xt) * torch.from_numpy(v)).sum().backward()
    xc = cr.tensor(xg, requires_grad=True)
    (model(xc) * cr.tensor(v)).sum().backward()
    _close(xc.grad.numpy(), xt.grad.numpy(), 1e-7, "lstm_classifier: input gradient differs from torch")
    theirs = dict(twin.named_parameters())
    for k, p in model.named_parameters():
        _close(p.grad.numpy(), theirs[k].grad.numpy(), 1e-7, f"lstm_classifier: gradient of {k} differs from torch")
