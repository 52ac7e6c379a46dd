"""A small CNN for small images (the 8×8 digits of the default ``chainrule train`` run, or any
C×H×W input with H, W >= 4): two 3×3 conv-BN-ReLU blocks, max pooling, a third block, global
average pooling and a linear classifier — about 30K parameters."""
from .. import nn
from .registry import check_image_input, register_model


def _block(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class SmallCNN(nn.Module):
    def __init__(self, in_channels=1, num_classes=10, width=32):
        super().__init__()
        self.in_channels = in_channels
        self.features = nn.Sequential(*_block(in_channels, width), *_block(width, width), nn.MaxPool2d(2),
                                      *_block(width, 2 * width), nn.AdaptiveAvgPool2d((1, 1)))
        self.classifier = nn.Linear(2 * width, num_classes)

    def forward(self, x):
        check_image_input(x, "small_cnn", self.in_channels, min_size=4)
        return self.classifier(self.features(x).flatten(1))


@register_model
def small_cnn(in_channels=1, num_classes=10, width=32):
    """A ~30K-parameter CNN for small images (8×8 digits and up)."""
    return SmallCNN(in_channels, num_classes, width)
