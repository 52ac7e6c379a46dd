"""Hand-written torch twins of the chainrule zoo models that ``benchmarks/models.py`` times (torchvision is
not a dependency): the same module tree and parameter names as ``chainrule.models``, so a twin's state
dict loads into the chainrule model with ``load_state_dict`` (strict). Imports torch only, so that the
chainrule memory child of models.py never carries torch's import.
"""
import itertools

import torch
import torch.nn as tnn
import torch.nn.functional as TF


def mlp(sizes=(64, 128, 64, 10)):
    """``chainrule.models.mlp(sizes)``: Flatten, then Linear-ReLU pairs, a last Linear (keys 1, 3, 5, ...)."""
    layers = [tnn.Flatten()]
    for fan_in, fan_out in itertools.pairwise(sizes[:-1]):
        layers += [tnn.Linear(fan_in, fan_out), tnn.ReLU()]
    layers.append(tnn.Linear(sizes[-2], sizes[-1]))
    return tnn.Sequential(*layers)


class LeNet5(tnn.Module):
    """``chainrule.models.lenet5(variant='modern')``: ReLU and 2×2 max pooling."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.features = tnn.Sequential(
            tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2, 2),
            tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2, 2),
        )
        self.classifier = tnn.Sequential(
            tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


class ZeroPadShortcut(tnn.Module):
    """Option A, as chainrule's ``ZeroPadShortcut``: every ``stride``-th pixel, channels zero-padded from
    ``in_planes`` to ``planes`` (half before, half after)."""

    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.in_planes, self.planes, self.stride = in_planes, planes, stride

    def forward(self, x):
        s = self.stride
        x = x[:, :, ::s, ::s] if s != 1 else x
        extra = self.planes - self.in_planes
        return TF.pad(x, (0, 0, 0, 0, extra // 2, extra - extra // 2))


class BasicBlock(tnn.Module):
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


class CifarResNet(tnn.Module):
    """``chainrule.models.resnet20(width=width)`` (depth 6n + 2, option A shortcuts, stages at width,
    2·width, 4·width channels)."""

    def __init__(self, depth=20, num_classes=10, width=16):
        super().__init__()
        n = (depth - 2) // 6
        self.inplanes = width
        self.conv1 = tnn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(width)
        self.relu = tnn.ReLU(inplace=True)
        self.layer1 = self._make_layer(width, n)
        self.layer2 = self._make_layer(2 * width, n, 2)
        self.layer3 = self._make_layer(4 * width, n, 2)
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(4 * width, num_classes)

    def _make_layer(self, planes, blocks, stride=1):
        downsample = ZeroPadShortcut(self.inplanes, planes, stride) if stride != 1 or self.inplanes != planes else None
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return tnn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class VGGCIFAR(tnn.Module):
    """``chainrule.models.vgg_cifar(11)``: configuration A with BatchNorm, a 512-wide head with dropout."""

    def __init__(self, num_classes=10, dropout=0.5):
        super().__init__()
        layers, c = [], 3
        for v in [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]:
            if v == "M":
                layers.append(tnn.MaxPool2d(2, 2))
            else:
                layers += [tnn.Conv2d(c, v, 3, padding=1), tnn.BatchNorm2d(v), tnn.ReLU(inplace=True)]
                c = v
        self.features = tnn.Sequential(*layers)
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.classifier = tnn.Sequential(
            tnn.Linear(512, 512), tnn.ReLU(True), tnn.Dropout(dropout),
            tnn.Linear(512, 512), tnn.ReLU(True), tnn.Dropout(dropout),
            tnn.Linear(512, num_classes),
        )

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class LSTMClassifier(tnn.Module):
    """``chainrule.models.lstm_classifier()``: LSTM(batch_first) and a Linear on the last layer's h_n."""

    def __init__(self, input_size=28, hidden_size=128, num_layers=2, num_classes=10):
        super().__init__()
        self.lstm = tnn.LSTM(input_size, hidden_size, num_layers, batch_first=True)
        self.fc = tnn.Linear(hidden_size, num_classes)

    def forward(self, x):
        _, (h_n, _) = self.lstm(x)
        return self.fc(h_n[-1])


TWINS = {"mlp": mlp, "lenet5": LeNet5, "resnet20": CifarResNet, "vgg11_bn": VGGCIFAR, "lstm": LSTMClassifier}
