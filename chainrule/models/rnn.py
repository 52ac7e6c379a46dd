"""Recurrent classifiers: an LSTM reads a sequence and a Linear layer classifies its last hidden state
(e.g. row-by-row MNIST: each 28×28 image is a sequence of 28 rows of 28 pixels)."""
from .. import nn
from ..ops.shape import cat
from .registry import register_model


class LSTMClassifier(nn.Module):
    """(N, T, input_size) → logits (N, num_classes); an image batch (N, C, H, W) is read as the
    sequence of its rows, (N, H, C·W), so C·W must equal ``input_size``.

        lstm: LSTM(input_size, hidden_size, num_layers, batch_first=True, dropout, bidirectional)
        fc:   Linear(D·hidden_size, num_classes) on the last layer's final hidden state
              (both directions' when bidirectional: the backward direction's final state is the one
              that has read the whole sequence, which its output at the last step has not)
    """

    def __init__(self, input_size=28, hidden_size=128, num_layers=2, num_classes=10, dropout=0.0,
                 bidirectional=False):
        super().__init__()
        self.input_size, self.bidirectional = input_size, bidirectional
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True, dropout=dropout,
                            bidirectional=bidirectional)
        self.fc = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, x):
        if x.ndim == 4:  # images: one row per time step
            x = x.permute(0, 2, 1, 3).reshape(x.shape[0], x.shape[2], x.shape[1] * x.shape[3])
        if x.ndim != 3 or x.shape[-1] != self.input_size:
            raise ValueError(f"lstm_classifier: expected input (N, T, {self.input_size}) or images (N, C, H, W) "
                             f"with C·W = {self.input_size}, got shape {tuple(x.shape)}")
        _, (h_n, _) = self.lstm(x)
        last = cat([h_n[-2], h_n[-1]], 1) if self.bidirectional else h_n[-1]
        return self.fc(last)


@register_model
def lstm_classifier(input_size=28, hidden_size=128, num_layers=2, num_classes=10, dropout=0.0, bidirectional=False):
    """An LSTM over (N, T, input_size) sequences (or the rows of (N, C, H, W) images, C·W = input_size)
    that classifies the last hidden state with a Linear layer; defaults fit row-by-row MNIST."""
    return LSTMClassifier(input_size, hidden_size, num_layers, num_classes, dropout, bidirectional)
