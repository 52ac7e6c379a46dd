"""``summary`` against hand computation [note 003]: parameters and MACs of LeNet-5 and a 3-layer CNN,
receptive fields and jumps of the VGG-16 conv stack, ResNet-18's published totals at 224×224
(11,689,512 parameters, 1.82 GMACs), the JSON form, and every zoo model's parameter count."""
import inspect
import json

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from chainrule import models, nn
from chainrule.diagnostics import summary
from chainrule.models.registry import model_builder
from chainrule.models.vgg import CFGS, make_layers


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    with threadpool_limits(1):
        yield


def _rows(s, *types):
    return [r for r in s.rows if r["type"] in types]


def conv_macs(c_out, h_out, w_out, c_in, k_h, k_w, groups=1):
    """MACs of a convolution [note 003]: every output value is a (C_in/groups)·k_h·k_w dot product."""
    return c_out * h_out * w_out * (c_in // groups) * k_h * k_w


@pytest.mark.parametrize("variant", ["modern", "classic"])
def test_lenet5_by_hand(variant):
    s = summary(models.lenet5(variant), (1, 28, 28))
    convs, linears = _rows(s, "Conv2d"), _rows(s, "Linear")
    # conv1: 6 maps 28×28 (pad 2) of 1·5·5 weights; conv2: 16 maps 10×10 of 6·5·5
    assert [r["macs"] for r in convs] == [conv_macs(6, 28, 28, 1, 5, 5), conv_macs(16, 10, 10, 6, 5, 5)]
    assert [r["macs"] for r in convs] == [117_600, 240_000]
    assert [r["params"] for r in convs] == [6 * 25 + 6, 16 * 6 * 25 + 16]
    assert [r["output_shape"] for r in convs] == [[6, 28, 28], [16, 10, 10]]
    assert [r["macs"] for r in linears] == [400 * 120, 120 * 84, 84 * 10]
    assert [r["params"] for r in linears] == [400 * 120 + 120, 120 * 84 + 84, 84 * 10 + 10]
    pools = _rows(s, "MaxPool2d" if variant == "modern" else "AvgPool2d")
    assert [r["output_shape"] for r in pools] == [[6, 14, 14], [16, 5, 5]]
    assert all(r["macs"] == 0 for r in s.rows if r["type"] not in ("Conv2d", "Linear"))
    assert s.totals["params"] == s.totals["trainable_params"] == 61_706
    assert s.totals["macs"] == 117_600 + 240_000 + 48_000 + 10_080 + 840 == 416_520
    assert s.totals["flops"] == 2 * 416_520
    assert s.totals["param_bytes"] == 4 * 61_706  # float32
    # receptive fields: conv 5, pool 6 (jump 2), conv 6 + 4·2 = 14, pool 16 (jump 4); the classifier sees it all
    fields = [(r["receptive_field"], r["jump"]) for r in s.rows[:6]]
    assert fields == [(5, 1), (5, 1), (6, 2), (14, 2), (14, 2), (16, 4)]
    assert all(r["receptive_field"] == 28 for r in linears)
    assert s.totals["activation_bytes"] == sum(4 * int(np.prod(r["output_shape"])) for r in s.rows)


class ThreeLayerCNN(nn.Module):
    """conv 3→8 3×3 pad 1 · ReLU · maxpool 2 · conv 8→16 3×3 stride 2 pad 1 (no bias) · ReLU ·
    conv 16→32 3×3 dilation 2 pad 2 groups 2 · ReLU · global average pool · linear 32→10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.conv3 = nn.Conv2d(16, 32, 3, padding=2, dilation=2, groups=2)
        self.relu = nn.ReLU()
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(self.relu(self.conv1(x)))
        x = self.relu(self.conv3(self.relu(self.conv2(x))))
        return self.fc(self.gap(x).flatten(1))


def test_three_layer_cnn_by_hand():
    s = summary(ThreeLayerCNN(), (3, 32, 32))
    by_name = {}
    for r in s.rows:
        by_name.setdefault(r["name"], []).append(r)
    assert [r["name"] for r in s.rows] == ["conv1", "relu", "pool", "conv2", "relu", "conv3", "relu", "gap", "fc"]
    conv1, conv2, conv3, fc = (by_name[n][0] for n in ("conv1", "conv2", "conv3", "fc"))
    assert conv1["output_shape"] == [8, 32, 32] and conv1["macs"] == 8 * 32 * 32 * 3 * 9 == 221_184
    assert conv2["output_shape"] == [16, 8, 8] and conv2["macs"] == 16 * 8 * 8 * 8 * 9 == 73_728
    assert conv3["output_shape"] == [32, 8, 8] and conv3["macs"] == conv_macs(32, 8, 8, 16, 3, 3, groups=2) == 147_456
    assert fc["macs"] == 320
    assert [conv1["params"], conv2["params"], conv3["params"], fc["params"]] == [3 * 8 * 9 + 8, 8 * 16 * 9,
                                                                               32 * 8 * 9 + 32, 32 * 10 + 10]
    assert s.totals["params"] == 224 + 1152 + 2336 + 330 == 4_042
    assert s.totals["macs"] == 221_184 + 73_728 + 147_456 + 320
    # r: 3 → pool 4 (j 2) → conv2 4 + 2·2 = 8 (j 4) → conv3 (dilation 2) 8 + 2·2·4 = 24 → gap 8×8: 24 + 7·4
    fields = [(r["name"], r["receptive_field"], r["jump"]) for r in s.rows]
    assert fields == [("conv1", 3, 1), ("relu", 3, 1), ("pool", 4, 2), ("conv2", 8, 4), ("relu", 8, 4),
                      ("conv3", 24, 4), ("relu", 24, 4), ("gap", 52, 32), ("fc", 52, 32)]


def test_vgg16_conv_stack_receptive_fields_by_hand():
    # each 3×3 conv adds 2·jump, each 2×2/2 pool adds 1·jump and doubles it
    expected, r, j = [], 1, 1
    for v in CFGS[16]:
        if v == "M":
            r, j = r + j, 2 * j
        else:
            r += 2 * j
        expected.append((r, j))
    assert [e[0] for e in expected] == [3, 5, 6, 10, 14, 16, 24, 32, 40, 44, 60, 76, 92, 100, 132, 164, 196, 212]
    s = summary(make_layers(CFGS[16]), (3, 32, 32))
    layers = [r for r in s.rows if r["type"] in ("Conv2d", "MaxPool2d")]
    assert [r["type"] for r in layers] == ["MaxPool2d" if v == "M" else "Conv2d" for v in CFGS[16]]
    assert [(r["receptive_field"], r["jump"]) for r in layers] == expected
    for prev, row in zip(s.rows, s.rows[1:]):
        if row["type"] == "ReLU":  # elementwise: the field of what it reads
            assert (row["receptive_field"], row["jump"]) == (prev["receptive_field"], prev["jump"])
    convs = _rows(s, "Conv2d")
    assert [r["params"] for r in convs][:3] == [3 * 64 * 9 + 64, 64 * 64 * 9 + 64, 64 * 128 * 9 + 128]
    assert convs[0]["macs"] == conv_macs(64, 32, 32, 3, 3, 3)
    assert s.totals["params"] == 14_714_688  # VGG-16's conv stack, as in torchvision


def test_resnet18_published_totals_at_224():
    s = summary(models.resnet18(), (3, 224, 224))
    assert s.totals["params"] == 11_689_512
    assert s.totals["macs"] == pytest.approx(1.82e9, rel=0.02)
    assert s.totals["flops"] == 2 * s.totals["macs"]
    convs = _rows(s, "Conv2d")
    assert convs[0]["output_shape"] == [64, 112, 112] and convs[0]["macs"] == conv_macs(64, 112, 112, 3, 7, 7)
    assert s.rows[-1]["type"] == "Linear" and s.rows[-1]["macs"] == 512 * 1000
    # receptive fields by hand: conv1 7×7/2 → 7 (jump 2), maxpool 3×3/2 → 11 (jump 4), then each 3×3 conv
    # adds 2·jump, the first of layers 2–4 (stride 2) before doubling the jump; a block's 1×1 downsample
    # conv (run first) sees what the block's input saw; the sum takes the larger field of the two branches
    expected, r, j = [7], 11, 4
    for stage in range(4):
        for block in range(2):
            if stage and not block:
                expected.append(r)  # downsample.0: 1×1, stride 2
                expected.append(r + 2 * j)
                j *= 2
            else:
                expected.append(r + 2 * j)
            r = expected[-1]
            expected.append(r + 2 * j)
            r = expected[-1]
    assert [c["receptive_field"] for c in convs] == expected
    assert expected[-1] == 435 and convs[-1]["jump"] == 32  # the published ResNet-18 receptive field
    block_outputs = [row for row in s.rows if row["name"] == "layer1.0.relu"]
    assert [row["receptive_field"] for row in block_outputs] == [19, 27]  # relu(bn1), relu(residual sum)


def test_json_and_text_forms():
    s = summary(models.lenet5("modern"), (1, 28, 28))
    data = json.loads(s.to_json())
    assert data == {"model": "LeNet5", "rows": s.rows, "totals": s.totals}
    assert data["totals"]["params"] == 61_706 and data["totals"]["input_size"] == [1, 28, 28]
    assert set(data["rows"][0]) == {"name", "type", "output_shape", "params", "frozen_params", "macs", "flops",
                                    "receptive_field", "jump", "activation_bytes"}
    text = str(s)
    assert "params: 61,706 (trainable 61,706, frozen 0" in text
    assert "117.60K" in text and "240.00K" in text and "MACs: 416.52K" in text
    assert len(text.splitlines()) == 2 + len(s.rows) + 1 + 4 and repr(s) == text  # header, rows, footer


def test_frozen_parameters_are_counted_apart():
    model = models.lenet5("modern")
    model.features.requires_grad_(False)
    s = summary(model, (1, 28, 28))
    assert s.totals["params"] == 61_706
    assert s.totals["frozen_params"] == 156 + 2_416
    assert s.totals["trainable_params"] == 61_706 - 2_572
    assert [r["frozen_params"] for r in _rows(s, "Conv2d")] == [156, 2_416]
    assert [r["params"] for r in _rows(s, "Conv2d")] == [0, 0]


def test_summary_leaves_the_model_as_it_found_it():
    model = models.small_cnn()
    model.train()
    before = {k: v.data.copy() for k, v in model.state_dict().items()}
    summary(model, (1, 8, 8))
    assert model.training and all(m.training for m in model.modules())
    assert all(not m._forward_hooks for m in model.modules())
    for k, v in model.state_dict().items():  # eval mode: BatchNorm's running statistics untouched
        np.testing.assert_array_equal(v.data, before[k])


class _PairOutput(nn.Module):
    """A leaf layer that returns a tuple, as recurrent layers do: (output, state)."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(np.ones((5, 4), np.float32))

    def forward(self, x):
        y = x @ self.weight.T
        return y, (y.sum(1), x)


class _UsesPair(nn.Module):
    def __init__(self):
        super().__init__()
        self.pair = _PairOutput()
        self.fc = nn.Linear(5, 2)

    def forward(self, x):
        y, _ = self.pair(x)
        return self.fc(y)


def test_a_layer_with_a_tuple_output_has_its_row():
    s = summary(_UsesPair(), (4,))
    assert [(r["name"], r["output_shape"], r["params"]) for r in s.rows] == [("pair", [5], 20), ("fc", [2], 12)]
    assert s.totals["params"] == sum(r["params"] for r in s.rows) == 32


def test_an_input_the_model_cannot_take():
    with pytest.raises(ValueError, match=r"resnet18: expected input .* got shape \(1, 3, 8, 8\)"):
        summary(models.resnet18(num_classes=10), (3, 8, 8))


# every zoo model, on its smallest convenient input; the ones with 40M–140M parameters are in the slow set
# (drawing their random weights takes 3–20 s each here, 2 minutes together)
INPUTS = {"lenet5": (1, 28, 28), "small_cnn": (1, 8, 8), "mlp": (1, 8, 8), "alexnet": (3, 64, 64),
          "alexnet_cifar": (3, 16, 16), "nin": (3, 8, 8), "densenet_cifar": (3, 8, 8), "lstm_classifier": (1, 28, 28),
          "transformer_classifier": (1, 28, 28)}
INPUTS.update({f"resnet{d}": (3, 8, 8) for d in (20, 32, 44, 56, 110)})
BIG = {"vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "resnet101", "resnet152"}


def _zoo_model(name):
    if name == "mlp":
        return models.mlp([64, 32, 10])
    params = inspect.signature(model_builder(name)).parameters
    kwargs = {"num_classes": 10} if "num_classes" in params else {}
    if "aux_logits" in params:
        kwargs["aux_logits"] = False
    return model_builder(name)(**kwargs)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in BIG else n
                                  for n in models.list_models()])
def test_every_zoo_model_summary_counts_every_parameter(name):
    model = _zoo_model(name)
    s = summary(model, INPUTS.get(name, (3, 32, 32)))
    total = sum(p.numel() for p in model.parameters())
    assert s.totals["params"] == s.totals["trainable_params"] == total
    assert s.totals["param_bytes"] == sum(p.data.nbytes for p in model.parameters())
    # each parameter shows in exactly one row: the rows of the layers that own them add up to the total
    owners = {}
    for row in s.rows:
        owners.setdefault(row["name"], row["params"] + row["frozen_params"])
    assert sum(owners.values()) == total
    assert s.totals["macs"] == sum(r["macs"] for r in s.rows) > 0
