"""Residual networks (He, Zhang, Ren & Sun, 2015) [note 001, note 004: y = F(x) + shortcut(x), the
shortcut the identity, or a projection (1×1 conv + BN) where the shape changes].

``resnet18 … resnet152``: torchvision's ImageNet models (ResNet v1.5: the stride of a Bottleneck sits
on its 3×3 conv), with its names (conv1/bn1/layer1..4/fc, ``downsample`` for projections) so its
state dicts load. ``resnet20 … resnet110``: the CIFAR-10 networks of the paper's section 4.2 —
3×3 conv 16 → three stages of n BasicBlocks at 16/32/64 channels (depth 6n + 2) → global average
pooling → FC — with option A (zero-padding identity shortcuts, parameter-free, the paper's choice)
or option B (projections where the shape changes); ``width`` scales the channels (16 in the paper; the
Wide ResNets of Zagoruyko & Komodakis, 2016, multiply it by k).
"""
from .. import nn
from ..nn import functional as F
from ..nn import init
from .registry import check_image_input, register_model


def conv3x3(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3×3 conv-BN layers, ReLU between and after the sum with the shortcut."""

    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1×1 reduce → 3×3 (strided) → 1×1 expand ×4, each with BN; ReLU after the sum with the shortcut."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


def _init_resnet(model, zero_init_residual):
    """torchvision's init: He normal (fan_out) convs, BN γ = 1, β = 0; with ``zero_init_residual`` the
    last BN of each block starts at γ = 0, so every block starts as the identity (Goyal et al., 2017)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            init.ones_(m.weight)
            init.zeros_(m.bias)
    if zero_init_residual:
        for m in model.modules():
            if isinstance(m, Bottleneck):
                init.zeros_(m.bn3.weight)
            elif isinstance(m, BasicBlock):
                init.zeros_(m.bn2.weight)


def projection(inplanes, outplanes, stride):
    """The projection shortcut (option B): a strided 1×1 conv + BN from ``inplanes`` to ``outplanes`` channels."""
    return nn.Sequential(conv1x1(inplanes, outplanes, stride), nn.BatchNorm2d(outplanes))


def make_stage(block, inplanes, planes, blocks, stride, shortcut):
    """One stage: ``blocks`` residual blocks of ``planes`` (``planes · block.expansion`` channels out),
    the first strided by ``stride`` and, where the shape changes, given ``shortcut(inplanes, outplanes,
    stride)`` (``projection`` or ``ZeroPadShortcut``); the identity everywhere else."""
    outplanes = planes * block.expansion
    downsample = shortcut(inplanes, outplanes, stride) if stride != 1 or inplanes != outplanes else None
    layers = [block(inplanes, planes, stride, downsample)]
    layers += [block(outplanes, planes) for _ in range(1, blocks)]
    return nn.Sequential(*layers)


class ResNet(nn.Module):
    """torchvision's ResNet: 7×7/2 conv → BN → ReLU → 3×3/2 max pool → layer1..layer4 (64, 128, 256,
    512 planes; stride 2 from layer2 on) → global average pool → fc. Input (N, 3, H, W), H, W >= 32
    (the network downsamples by 32; 224 as trained)."""

    min_size = 32

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, arch="resnet"):
        super().__init__()
        self.arch = arch
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        e = block.expansion
        self.layer1 = make_stage(block, 64, 64, layers[0], 1, projection)
        self.layer2 = make_stage(block, 64 * e, 128, layers[1], 2, projection)
        self.layer3 = make_stage(block, 128 * e, 256, layers[2], 2, projection)
        self.layer4 = make_stage(block, 256 * e, 512, layers[3], 2, projection)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * e, num_classes)
        _init_resnet(self, zero_init_residual)

    def forward(self, x):
        check_image_input(x, self.arch, 3, self.min_size)
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))


def _imagenet_builder(depth, block, layers):
    """Register and return torchvision's ``resnet{depth}(num_classes=1000, zero_init_residual=False)``:
    ``layers[i]`` ``block``s in stage i."""
    arch = f"resnet{depth}"

    def build(num_classes=1000, zero_init_residual=False):
        return ResNet(block, layers, num_classes, zero_init_residual, arch)

    build.__name__ = build.__qualname__ = arch
    build.__doc__ = f"ResNet-{depth}: {block.__name__}s {layers}."
    return register_model(build)


# depth, block, blocks per stage                               parameters (1000 classes)
resnet18 = _imagenet_builder(18, BasicBlock, [2, 2, 2, 2])      # 11,689,512
resnet34 = _imagenet_builder(34, BasicBlock, [3, 4, 6, 3])      # 21,797,672
resnet50 = _imagenet_builder(50, Bottleneck, [3, 4, 6, 3])      # 25,557,032
resnet101 = _imagenet_builder(101, Bottleneck, [3, 4, 23, 3])   # 44,549,160
resnet152 = _imagenet_builder(152, Bottleneck, [3, 8, 36, 3])   # 60,192,808


# ----- CIFAR ResNets (paper section 4.2) ---------------------------------------------------------------
class ZeroPadShortcut(nn.Module):
    """Option A shortcut: take every ``stride``-th pixel and zero-pad the channels from ``in_planes`` to
    ``planes`` (half the new channels before, half after) — an identity on the old channels, no parameters."""

    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.in_planes, self.planes, self.stride = in_planes, planes, stride

    def forward(self, x):
        s = self.stride
        x = x[:, :, ::s, ::s] if s != 1 else x
        extra = self.planes - self.in_planes
        return F.pad(x, (0, 0, 0, 0, extra // 2, extra - extra // 2))

    def extra_repr(self):
        return f"{self.in_planes} → {self.planes}, stride={self.stride}"


class CifarResNet(nn.Module):
    """ResNet-(6n+2) for 32×32 images: 3×3 conv w → BN → ReLU → layer1..layer3 (n BasicBlocks each at
    w, 2w, 4w channels, w = ``width``, 16 in the paper; stride 2 at the start of layer2 and layer3) →
    global average pool → fc. ``shortcut`` 'A' (zero padding) or 'B' (1×1 conv + BN projections where
    the shape changes). Input (N, 3, H, W), H, W >= 4."""

    min_size = 4

    def __init__(self, depth, num_classes=10, shortcut="A", width=16, arch=None):
        super().__init__()
        if (depth - 2) % 6 or depth < 8:
            raise ValueError(f"cifar resnet: depth must be 6n + 2 with n >= 1, got {depth}")
        if shortcut not in ("A", "B"):
            raise ValueError(
                f"resnet{depth}: shortcut must be 'A' (zero padding) or 'B' (projection), got {shortcut!r}")
        if width < 1:
            raise ValueError(f"resnet{depth}: width must be a positive number of channels, got {width}")
        n, w = (depth - 2) // 6, width
        self.arch = arch or f"resnet{depth}"
        self.shortcut = shortcut
        self.conv1 = conv3x3(3, w)
        self.bn1 = nn.BatchNorm2d(w)
        self.relu = nn.ReLU()
        make_shortcut = ZeroPadShortcut if shortcut == "A" else projection
        self.layer1 = make_stage(BasicBlock, w, w, n, 1, make_shortcut)
        self.layer2 = make_stage(BasicBlock, w, 2 * w, n, 2, make_shortcut)
        self.layer3 = make_stage(BasicBlock, 2 * w, 4 * w, n, 2, make_shortcut)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(4 * w, num_classes)
        _init_resnet(self, False)

    def forward(self, x):
        check_image_input(x, self.arch, 3, self.min_size)
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.avgpool(x).flatten(1))


def _cifar_builder(depth):
    """Register and return ``resnet{depth}(num_classes=10, shortcut="A", width=16)``, the paper's CIFAR
    network of depth 6n + 2 (``width``: the first stage's channels)."""

    def build(num_classes=10, shortcut="A", width=16):
        return CifarResNet(depth, num_classes, shortcut, width)

    build.__name__ = build.__qualname__ = f"resnet{depth}"
    build.__doc__ = f"CIFAR ResNet-{depth} (n = {(depth - 2) // 6})."
    return register_model(build)


# depth 6n + 2                    parameters with option A shortcuts (10 classes)
resnet20 = _cifar_builder(20)     # 269,722 (272,474 with option B)
resnet32 = _cifar_builder(32)     # 464,154
resnet44 = _cifar_builder(44)     # 658,586
resnet56 = _cifar_builder(56)     # 853,018
resnet110 = _cifar_builder(110)   # 1,727,962
