"""AlexNet (Krizhevsky, Sutskever & Hinton, 2012) in torchvision's single-tower layout
[note 001: ReLU, dropout in the classifier; note 003: overlapping 3/2 max pooling]."""
from .. import nn
from .registry import check_image_input, register_model


class AlexNet(nn.Module):
    """torchvision's AlexNet (``features``, ``avgpool``, ``classifier``): 61,100,840 parameters at 1000
    classes, so torchvision's state dict loads as is. Input (N, 3, H, W), H, W >= 63 (224 as trained)."""

    min_size = 63  # the smallest input whose last 3/2 max pool still has a full 3×3 window

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.arch = "alexnet"
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        check_image_input(x, self.arch, 3, self.min_size)
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


class AlexNetCIFAR(AlexNet):
    """A small AlexNet for 32×32 images: the same five convs, ReLU, overlapping 3/2 pooling and
    dropout-regularized three-layer classifier, with 5×5 stride-1 first conv and a 1024-wide head
    (about 5.9M parameters at 10 classes). Input (N, 3, H, W), H, W >= 15."""

    min_size = 15

    def __init__(self, num_classes=10, dropout=0.5):
        nn.Module.__init__(self)
        self.arch = "alexnet_cifar"
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=5, padding=2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),  # 32 → 15
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),  # 15 → 7
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),  # 7 → 3
        )
        self.avgpool = nn.AdaptiveAvgPool2d((3, 3))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 3 * 3, 1024), nn.ReLU(),
            nn.Dropout(p=dropout), nn.Linear(1024, 1024), nn.ReLU(),
            nn.Linear(1024, num_classes),
        )


@register_model
def alexnet(num_classes=1000, dropout=0.5):
    """torchvision's AlexNet: 224×224 RGB → ``num_classes`` logits."""
    return AlexNet(num_classes, dropout)


@register_model
def alexnet_cifar(num_classes=10, dropout=0.5):
    """A small AlexNet for 32×32 RGB (CIFAR)."""
    return AlexNetCIFAR(num_classes, dropout)
