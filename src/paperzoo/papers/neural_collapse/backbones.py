"""Small classifiers used as "pre-trained" models: an MLP for digits and a 1-D CNN for MNIST-1D.

Both end in a linear layer called `head`; everything before it is the feature extractor whose output
(the head's input) is the penultimate feature that neural-collapse metrics look at.

Example:
    >>> import torch
    >>> net = CNN1D(num_classes=5)
    >>> net(torch.zeros(2, 40)).shape
    torch.Size([2, 5])
"""

from __future__ import annotations

import torch
from torch import nn


class MLP(nn.Module):
    """in_features -> width -> width -> num_classes with ReLU (the pilot's two-hidden-layer MLP)."""

    def __init__(self, in_features: int = 64, width: int = 32, num_classes: int = 5) -> None:
        super().__init__()
        self.hidden1 = nn.Sequential(nn.Linear(in_features, width), nn.ReLU())
        self.hidden2 = nn.Sequential(nn.Linear(width, width), nn.ReLU())
        self.head = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.hidden2(self.hidden1(x)))


def conv_block(c_in: int, c_out: int, kernel_size: int, stride: int) -> nn.Sequential:
    """Conv1d -> BatchNorm1d -> ReLU with 'same'-style padding."""
    return nn.Sequential(nn.Conv1d(c_in, c_out, kernel_size, stride=stride, padding=kernel_size // 2),
                         nn.BatchNorm1d(c_out), nn.ReLU())


class CNN1D(nn.Module):
    """Four conv blocks (1->32->64->128->128, kernel 5, BN + ReLU), global average pool, linear head.

    Blocks 2-4 use stride 2 (length 40 -> 40, 20, 10, 5) to keep CPU training fast; the parameter
    count (about 135k with a 5-way head) does not depend on the stride. `width` scales the channels.
    Inputs of shape (N, L) are treated as one channel.
    """

    def __init__(self, num_classes: int = 5, width: float = 1.0, kernel_size: int = 5) -> None:
        super().__init__()
        c1, c2, c3 = (max(1, round(c * width)) for c in (32, 64, 128))
        self.block1 = conv_block(1, c1, kernel_size, 1)
        self.block2 = conv_block(c1, c2, kernel_size, 2)
        self.block3 = conv_block(c2, c3, kernel_size, 2)
        self.block4 = conv_block(c3, c3, kernel_size, 2)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.flatten = nn.Flatten()
        self.head = nn.Linear(c3, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim == 2:
            x = x.unsqueeze(1)
        x = self.block4(self.block3(self.block2(self.block1(x))))
        return self.head(self.flatten(self.pool(x)))
