"""Densely connected networks (Huang, Liu, van der Maaten & Weinberger, 2016) in torchvision's layout
[note 001, note 004: skips by concatenation — each layer of a dense block sees the concatenated
feature maps of the block's input and of every layer before it, and adds ``growth_rate`` maps].

Names follow torchvision (``features.denseblock1.denselayer1.norm1``, ``features.transition1.conv``,
``features.norm5``, ``classifier``) so its state dicts load.
"""
from collections import OrderedDict

from .. import nn
from ..nn import functional as F
from ..nn import init
from ..ops.shape import cat
from .registry import check_image_input, register_model


class _DenseLayer(nn.Module):
    """DenseNet-B bottleneck: BN → ReLU → 1×1 conv (bn_size·k) → BN → ReLU → 3×3 conv (k) [→ dropout]."""

    def __init__(self, num_input_features, growth_rate, bn_size, drop_rate):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, kernel_size=1, stride=1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, kernel_size=3, stride=1, padding=1, bias=False)
        self.drop_rate = float(drop_rate)

    def forward(self, x):
        """``x``: the concatenation of every earlier map of the block → the ``growth_rate`` new maps."""
        out = self.conv1(self.relu1(self.norm1(x)))
        out = self.conv2(self.relu2(self.norm2(out)))
        if self.drop_rate > 0:
            out = F.dropout(out, self.drop_rate, self.training)
        return out


class _DenseBlock(nn.ModuleDict):
    """``num_layers`` dense layers ``denselayer1``…; output: input and all new maps concatenated,
    num_input_features + num_layers·growth_rate channels."""

    def __init__(self, num_layers, num_input_features, bn_size, growth_rate, drop_rate):
        super().__init__()
        for i in range(num_layers):
            layer = _DenseLayer(num_input_features + i * growth_rate, growth_rate, bn_size, drop_rate)
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, x):
        for layer in self.values():
            x = cat([x, layer(x)], 1)
        return x


class _Transition(nn.Sequential):
    """Between blocks: BN → ReLU → 1×1 conv (compression) → 2×2 average pool."""

    def __init__(self, num_input_features, num_output_features):
        super().__init__(OrderedDict([
            ("norm", nn.BatchNorm2d(num_input_features)),
            ("relu", nn.ReLU()),
            ("conv", nn.Conv2d(num_input_features, num_output_features, kernel_size=1, stride=1, bias=False)),
            ("pool", nn.AvgPool2d(kernel_size=2, stride=2)),
        ]))


class DenseNet(nn.Module):
    """DenseNet-BC. ImageNet stem (``small_inputs=False``): 7×7/2 conv → BN → ReLU → 3×3/2 max pool;
    CIFAR stem (``small_inputs=True``): one 3×3 conv. Then dense blocks of ``block_config`` layers with
    transitions halving the channels, a final BN (``norm5``), ReLU, global average pooling and a Linear
    ``classifier``. Input (N, 3, H, W), H, W >= ``min_size`` (32 on ImageNet, 4 on CIFAR)."""

    def __init__(self, growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64, bn_size=4, drop_rate=0.0,
                 num_classes=1000, small_inputs=False, compression=0.5, arch="densenet"):
        super().__init__()
        self.arch = arch
        if small_inputs:
            stem = [("conv0", nn.Conv2d(3, num_init_features, kernel_size=3, padding=1, bias=False))]
        else:
            stem = [
                ("conv0", nn.Conv2d(3, num_init_features, kernel_size=7, stride=2, padding=3, bias=False)),
                ("norm0", nn.BatchNorm2d(num_init_features)),
                ("relu0", nn.ReLU()),
                ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
            ]
        self.min_size = 2 ** (len(block_config) - 1) * (1 if small_inputs else 4)
        self.features = nn.Sequential(OrderedDict(stem))
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            block = _DenseBlock(num_layers, num_features, bn_size, growth_rate, drop_rate)
            self.features.add_module(f"denseblock{i + 1}", block)
            num_features += num_layers * growth_rate
            if i != len(block_config) - 1:
                out_features = int(num_features * compression)
                self.features.add_module(f"transition{i + 1}", _Transition(num_features, out_features))
                num_features = out_features
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, num_classes)
        for m in self.modules():  # torchvision's init
            if isinstance(m, nn.Conv2d):
                init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                init.ones_(m.weight)
                init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                init.zeros_(m.bias)

    def forward(self, x):
        check_image_input(x, self.arch, 3, self.min_size)
        out = F.relu(self.features(x))
        out = F.adaptive_avg_pool2d(out, (1, 1)).flatten(1)
        return self.classifier(out)


def _densenet_builder(depth, growth_rate, block_config, num_init_features):
    """Register and return torchvision's ``densenet{depth}(num_classes=1000, drop_rate=0.0)``: growth
    rate k, ``block_config[i]`` layers in dense block i, ``num_init_features`` maps from the stem."""
    arch = f"densenet{depth}"

    def build(num_classes=1000, drop_rate=0.0):
        return DenseNet(growth_rate, block_config, num_init_features, num_classes=num_classes, drop_rate=drop_rate,
                        arch=arch)

    build.__name__ = build.__qualname__ = arch
    blocks = "-".join(map(str, block_config))
    build.__doc__ = f"DenseNet-{depth} (k = {growth_rate}, blocks {blocks}, {num_init_features} initial features)."
    return register_model(build)


# depth, growth rate k, layers per dense block, initial features   parameters
densenet121 = _densenet_builder(121, 32, (6, 12, 24, 16), 64)   # 7,978,856
densenet161 = _densenet_builder(161, 48, (6, 12, 36, 24), 96)   # 28,681,000
densenet169 = _densenet_builder(169, 32, (6, 12, 32, 32), 64)   # 14,149,480
densenet201 = _densenet_builder(201, 32, (6, 12, 48, 32), 64)   # 20,013,928


@register_model
def densenet_cifar(depth=100, growth_rate=12, num_classes=10, drop_rate=0.0):
    """DenseNet-BC for 32×32 images (the paper's CIFAR model): a 3×3 conv with 2k maps, three dense
    blocks of (depth − 4)/6 bottleneck layers, compression 0.5. depth 100, k = 12: about 0.8M parameters."""
    if (depth - 4) % 6 or depth < 10:
        raise ValueError(f"densenet_cifar: depth must be 6n + 4 with n >= 1, got {depth}")
    n = (depth - 4) // 6
    return DenseNet(growth_rate, (n, n, n), 2 * growth_rate, num_classes=num_classes, drop_rate=drop_rate,
                    small_inputs=True, arch=f"densenet_cifar({depth})")
