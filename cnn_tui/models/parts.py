"""Small shared pieces: activations by name and weight initialisation.

Initialisation (model.init):
- kaiming: He normal (fan_out) for conv weights and He uniform for linear weights, zero
  biases; right for ReLU-family nets, keeps activation variance steady with depth.
- xavier: Glorot uniform for conv and linear weights, zero biases; right for tanh/sigmoid.
- torch: PyTorch's own defaults (Kaiming uniform with a=sqrt(5)).
Batch-norm layers always start at weight 1, bias 0.
"""

from __future__ import annotations

from collections.abc import Callable

import torch.nn as nn

ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": lambda: nn.ReLU(inplace=True),
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "leaky_relu": lambda: nn.LeakyReLU(0.1, inplace=True),
    "elu": lambda: nn.ELU(inplace=True),
}


def activation(name: str) -> nn.Module:
    return ACTIVATIONS[name]()


def local_response_norm(size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0) -> nn.Module:
    """Krizhevsky et al.'s b = a / (k + alpha * sum of a^2 over `size` channels)^beta, with the
    paper's constants by default. torch's LocalResponseNorm divides alpha by size, so it gets
    alpha x size: the same formula."""
    return nn.LocalResponseNorm(size, alpha=alpha * size, beta=beta, k=k)


def initialise(model: nn.Module, scheme: str, std: float = 0.01) -> nn.Module:
    if scheme == "torch":
        return model
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            if scheme == "normal":
                nn.init.normal_(module.weight, 0.0, std)
            elif scheme == "kaiming":
                if isinstance(module, nn.Conv2d):
                    nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                else:
                    nn.init.kaiming_uniform_(module.weight, nonlinearity="relu")
            else:
                nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm1d)):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    return model
