"""LeNet-5 (LeCun, Bottou, Bengio & Haffner, 1998) [note 001: conv → nonlinearity → pooling → FC]."""
from .. import nn
from .registry import check_image_input, register_model


class LeNet5(nn.Module):
    """LeNet-5 on 1×28×28 digits (conv1 pads by 2, which is the paper's 32×32 input).

    ``variant='classic'``: tanh and average pooling, as in the paper, with three simplifications
    that keep the parameter count and names of the modern one: C3 sees all of S2's maps (the paper
    wires each to a subset), S2/S4 are plain average pooling (the paper's have a trainable
    coefficient and bias), and the output is a Linear layer, not the paper's RBF units.
    ``variant='modern'``: ReLU and 2×2 max pooling. Both have 61,706 parameters:

        features:   conv1 6@5×5 (pad 2) → act → pool 2 → conv2 16@5×5 → act → pool 2   (16×5×5)
        classifier: 400 → 120 (C5: a 5×5 conv on a 5×5 map is this Linear) → act → 84 (F6) → act → 10
    """

    def __init__(self, variant="classic", num_classes=10, in_channels=1):
        super().__init__()
        if variant not in ("classic", "modern"):
            raise ValueError(f"lenet5: variant must be 'classic' or 'modern', got {variant!r}")
        act = nn.Tanh if variant == "classic" else nn.ReLU
        pool = nn.AvgPool2d if variant == "classic" else nn.MaxPool2d
        self.variant, self.in_channels = variant, in_channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2), act(), pool(2, 2),
            nn.Conv2d(6, 16, 5), act(), pool(2, 2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120), act(),
            nn.Linear(120, 84), act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        check_image_input(x, f"lenet5 ({self.variant})", self.in_channels, size=(28, 28))
        return self.classifier(self.features(x).flatten(1))


@register_model
def lenet5(variant="classic", num_classes=10, in_channels=1):
    """LeNet-5, ``variant`` 'classic' (tanh, average pooling) or 'modern' (ReLU, max pooling)."""
    return LeNet5(variant, num_classes, in_channels)
