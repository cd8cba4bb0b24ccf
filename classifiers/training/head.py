"""The trainable top of a BERT-style sequence classifier, saved under the names its weights have there."""
from __future__ import annotations

import copy

import torch


class Head(torch.nn.Module):
    """The trainable top: optionally the encoder's last layers, then BERT's pooler (dense + tanh on
    [CLS]) and the classifier, saved under the names BertForSequenceClassification uses."""

    def __init__(self, encoder, num_labels: int, train_layers: int, dropout: float = 0.1):
        super().__init__()
        hidden = encoder.config.hidden_size
        total = encoder.config.num_hidden_layers
        self.layer_names = [f"bert.encoder.layer.{i}" for i in range(total - train_layers, total)]
        self.layers = torch.nn.ModuleList(copy.deepcopy(encoder.encoder.layer[i])
                                          for i in range(total - train_layers, total))
        self.pooler_dense = torch.nn.Linear(hidden, hidden)
        if getattr(encoder, "pooler", None) is not None:  # start from the encoder's own pooler
            self.pooler_dense.load_state_dict(encoder.pooler.dense.state_dict())
        self.dropout = torch.nn.Dropout(dropout)
        self.classifier = torch.nn.Linear(hidden, num_labels)

    def forward(self, hidden: torch.Tensor, mask) -> torch.Tensor:
        for layer in self.layers:
            out = layer(hidden, mask)
            hidden = out[0] if isinstance(out, tuple) else out
        cls = hidden[:, 0] if hidden.dim() == 3 else hidden
        return self.classifier(self.dropout(torch.tanh(self.pooler_dense(cls))))

    def state_for_bert(self) -> dict[str, torch.Tensor]:
        state = {"bert.pooler.dense.weight": self.pooler_dense.weight, "bert.pooler.dense.bias": self.pooler_dense.bias,
                 "classifier.weight": self.classifier.weight, "classifier.bias": self.classifier.bias}
        for name, layer in zip(self.layer_names, self.layers):
            state.update({f"{name}.{key}": value for key, value in layer.state_dict().items()})
        return {key: value.detach().clone().contiguous() for key, value in state.items()}
