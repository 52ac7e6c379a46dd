"""Network in Network (Lin, Chen & Yan, 2013) for 32×32 images [note 001: mlpconv = a conv followed by
1×1 convs, a small MLP slid over the image; global average pooling of one map per class, no FC]."""
from .. import nn
from ..nn import init
from .registry import check_image_input, register_model


def mlpconv(in_channels, channels, kernel_size, padding):
    """A k×k conv then two 1×1 convs, each followed by ReLU."""
    c1, c2, c3 = channels
    return nn.Sequential(
        nn.Conv2d(in_channels, c1, kernel_size, padding=padding), nn.ReLU(),
        nn.Conv2d(c1, c2, 1), nn.ReLU(),
        nn.Conv2d(c2, c3, 1), nn.ReLU(),
    )


class NIN(nn.Module):
    """The paper's CIFAR-10 model (its Caffe definition): three mlpconv blocks (192-160-96 on 5×5,
    192-192-192 on 5×5, 192-192-classes on 3×3), 3/2 max then average pooling and dropout 0.5
    between them, and global average pooling of the last block's class maps as the logits.
    About 0.97M parameters at 10 classes. Input (N, 3, H, W), H, W >= 4."""

    min_size = 4  # two stride-2 poolings

    def __init__(self, num_classes=10, in_channels=3, dropout=0.5):
        super().__init__()
        self.arch, self.in_channels = "nin", in_channels
        self.features = nn.Sequential(
            mlpconv(in_channels, (192, 160, 96), 5, 2),
            nn.MaxPool2d(3, stride=2, ceil_mode=True),  # Caffe's pooling rounds up: 32 → 16
            nn.Dropout(dropout),
            mlpconv(96, (192, 192, 192), 5, 2),
            nn.AvgPool2d(3, stride=2, ceil_mode=True),  # 16 → 8
            nn.Dropout(dropout),
            mlpconv(192, (192, 192, num_classes), 3, 1),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        # the Caffe model draws N(0, 0.05²) weights (0.01 for the first conv); He init trains as well
        # without its tuned learning rates
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                init.zeros_(m.bias)

    def forward(self, x):
        check_image_input(x, self.arch, self.in_channels, self.min_size)
        return self.avgpool(self.features(x)).flatten(1)


@register_model
def nin(num_classes=10, in_channels=3, dropout=0.5):
    """Network in Network for CIFAR-sized images: no fully connected layer."""
    return NIN(num_classes, in_channels, dropout)
