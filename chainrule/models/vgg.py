"""VGG (Simonyan & Zisserman, 2014) in torchvision's layout [note 001: 3×3 convs and 2×2 max pooling
only; two stacked 3×3 convs see a 5×5 field with 2·9C² weights instead of 25C²].

``features`` numbers its layers flat (conv, [bn,] relu, ..., pool) exactly as torchvision does, so
``features.0.weight`` is the first conv in both and torchvision's state dicts load as is.
"""
from .. import nn
from ..nn import init
from .registry import check_image_input, register_model

# configurations A, B, D, E of the paper: output channels of each 3×3 conv, "M" a 2×2 max pool
CFGS = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}
CFG_NAMES = {11: "A", 13: "B", 16: "D", 19: "E"}


def make_layers(cfg, batch_norm=False, in_channels=3):
    """The conv stack of one configuration: each number a 3×3 conv (pad 1) → [BatchNorm] → ReLU."""
    layers = []
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU())
            in_channels = v
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """torchvision's VGG: ``features`` → ``avgpool`` (adaptive, 7×7) → ``classifier`` (4096, 4096, classes,
    ReLU and dropout between). Input (N, 3, H, W), H, W >= 32 (five 2×2 pools; 224 as trained)."""

    min_size = 32

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5, arch="vgg"):
        super().__init__()
        self.arch = arch
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )
        if init_weights:
            _init_weights(self)

    def forward(self, x):
        check_image_input(x, self.arch, 3, self.min_size)
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def _init_weights(model):
    """torchvision's VGG init: He normal (fan_out) convs, N(0, 0.01²) linears, zero biases."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            init.ones_(m.weight)
            init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            init.normal_(m.weight, 0, 0.01)
            init.zeros_(m.bias)


class VGGCIFAR(nn.Module):
    """VGG for 32×32 images: the same ``features``, then a 512-wide three-layer classifier on the 1×1
    map the five pools leave (adaptive pooling lets larger inputs through). Input H, W >= 32."""

    min_size = 32

    def __init__(self, depth=16, num_classes=10, batch_norm=True, dropout=0.5):
        super().__init__()
        if depth not in CFGS:
            raise ValueError(f"vgg_cifar: depth must be one of {sorted(CFGS)}, got {depth!r}")
        self.arch = f"vgg_cifar({depth})"
        self.features = make_layers(CFGS[depth], batch_norm)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Sequential(
            nn.Linear(512, 512), nn.ReLU(), nn.Dropout(p=dropout),
            nn.Linear(512, 512), nn.ReLU(), nn.Dropout(p=dropout),
            nn.Linear(512, num_classes),
        )
        _init_weights(self)
        for m in self.classifier.modules():  # N(0, 0.01²) would start a 512-wide head near zero output
            if isinstance(m, nn.Linear):
                m.reset_parameters()

    def forward(self, x):
        check_image_input(x, self.arch, 3, self.min_size)
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def _vgg_builder(depth, batch_norm):
    """Register and return the builder of VGG-``depth`` (a row of ``CFGS``), with BatchNorm after each
    conv if ``batch_norm``: torchvision's name (``vgg16``, ``vgg16_bn``) and signature."""
    arch = f"vgg{depth}" + ("_bn" if batch_norm else "")

    def build(num_classes=1000, init_weights=True, dropout=0.5):
        return VGG(make_layers(CFGS[depth], batch_norm), num_classes, init_weights, dropout, arch)

    build.__name__ = build.__qualname__ = arch
    norm = " with BatchNorm after each conv" if batch_norm else ""
    build.__doc__ = f"VGG-{depth} (configuration {CFG_NAMES[depth]}){norm}."
    return register_model(build)


# 132,863,336 / 133,047,848 / 138,357,544 / 143,667,240 parameters without BatchNorm
vgg11, vgg11_bn = _vgg_builder(11, False), _vgg_builder(11, True)
vgg13, vgg13_bn = _vgg_builder(13, False), _vgg_builder(13, True)
vgg16, vgg16_bn = _vgg_builder(16, False), _vgg_builder(16, True)
vgg19, vgg19_bn = _vgg_builder(19, False), _vgg_builder(19, True)


@register_model
def vgg_cifar(depth=16, num_classes=10, batch_norm=True, dropout=0.5):
    """VGG-``depth`` (11, 13, 16, 19) for 32×32 images, BatchNorm by default."""
    return VGGCIFAR(depth, num_classes, batch_norm, dropout)
