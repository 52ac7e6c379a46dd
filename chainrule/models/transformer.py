"""A small Transformer classifier: a sequence of feature vectors (or the rows of an image, as
lstm_classifier reads them) becomes tokens, a Transformer encoder lets every token attend to every
other, and the mean token is classified — the attention counterpart of ``models.rnn``."""
from .. import creation, nn
from .registry import register_model


class TransformerClassifier(nn.Module):
    """(N, T, in_channels·input_size) → logits (N, num_classes); an image batch (N, C, H, W) is read as
    the sequence of its H rows, (N, H, C·W), so C·W must equal in_channels·input_size and H ≤ max_len.

        embed:         Linear(in_channels·input_size, d_model), one token per row / time step
        pos_embedding: (1, max_len, d_model), learned, added to the first T tokens (attention itself
                       is blind to order)
        encoder:       TransformerEncoder of num_layers pre-norm layers (batch_first)
        norm, fc:      LayerNorm(d_model), then Linear(d_model, num_classes) on the mean over tokens
    """

    def __init__(self, input_size=28, in_channels=1, num_classes=10, d_model=64, nhead=4, num_layers=2,
                 dim_feedforward=128, dropout=0.1, max_len=256):
        super().__init__()
        self.features, self.max_len = in_channels * input_size, max_len
        self.embed = nn.Linear(self.features, d_model)
        self.pos_embedding = nn.Parameter(creation.zeros(1, max_len, d_model))
        nn.init.normal_(self.pos_embedding, std=0.02)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers)
        self.norm = nn.LayerNorm(d_model)
        self.fc = nn.Linear(d_model, num_classes)

    def forward(self, x):
        if x.ndim == 4:  # images: one row per token
            x = x.permute(0, 2, 1, 3).reshape(x.shape[0], x.shape[2], x.shape[1] * x.shape[3])
        if x.ndim != 3 or x.shape[-1] != self.features or not 0 < x.shape[1] <= self.max_len:
            raise ValueError(f"transformer_classifier: expected input (N, T, {self.features}) with 1 <= T <= "
                             f"{self.max_len}, or images (N, C, H, W) with C·W = {self.features}, got shape "
                             f"{tuple(x.shape)}")
        h = self.embed(x) + self.pos_embedding[:, :x.shape[1]]
        h = self.norm(self.encoder(h))
        return self.fc(h.mean(1))


@register_model
def transformer_classifier(input_size=28, in_channels=1, num_classes=10, d_model=64, nhead=4, num_layers=2,
                           dim_feedforward=128, dropout=0.1, max_len=256):
    """A Transformer encoder over (N, T, in_channels·input_size) sequences or the rows of (N, C, H, W)
    images, classifying the mean token; defaults fit row-by-row MNIST (``--dataset digits`` passes
    input_size=8)."""
    return TransformerClassifier(input_size, in_channels, num_classes, d_model, nhead, num_layers, dim_feedforward,
                                 dropout, max_len)
