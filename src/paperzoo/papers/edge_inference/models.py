"""The three models of the reproduction: a chain (EdgeNet), a DAG (DagNet) and an early-exit 1-D CNN."""

from __future__ import annotations

import torch
from torch import nn


class EdgeNet(nn.Sequential):
    """A 3x64x64 chain shaped so that interior splits can win: a cheap shrinking stem, then heavy blocks.

    Block 1 (conv 3->8, maxpool 4) is ~3% of the ~26 M MACs and outputs 1/6 of the input bytes.

    >>> EdgeNet()(torch.zeros(1, 3, 64, 64)).shape
    torch.Size([1, 10])
    """

    def __init__(self, n_classes: int = 10) -> None:
        super().__init__(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4),
            nn.Conv2d(8, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(), nn.Conv2d(128, 128, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2048, 256), nn.ReLU(), nn.Linear(256, n_classes))

    @property
    def features(self) -> nn.Sequential:
        """The conv/pool stack (what a device-device spatial partition splits)."""
        return nn.Sequential(*list(self)[:13])

    @property
    def head(self) -> nn.Sequential:
        """The layers after the stack (run by the gathering device)."""
        return nn.Sequential(*list(self)[13:])


class MiniAlexNet(nn.Sequential):
    """AlexNet (Neurosurgeon's vision model) at half width on a 3x112x112 input: five convs, three max-pools,
    three fully connected layers (~70 M MACs, 4.7 M weights).

    Its shape is AlexNet's: conv1 (k11, stride 4) and pool1 shrink the data 4.6x for ~20% of the compute,
    the convs carry most of the MACs, pool5 outputs 1/75 of the input bytes and the weight-heavy,
    memory-bound fully connected layers follow. At slowdown 10 the device needs tens of ms.

    >>> MiniAlexNet()(torch.zeros(1, 3, 112, 112)).shape
    torch.Size([1, 10])
    """

    def __init__(self, n_classes: int = 10) -> None:
        super().__init__(
            nn.Conv2d(3, 48, 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(48, 128, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
            nn.Conv2d(128, 192, 3, padding=1), nn.ReLU(), nn.Conv2d(192, 192, 3, padding=1), nn.ReLU(),
            nn.Conv2d(192, 128, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2), nn.Flatten(),
            nn.Linear(128 * 2 * 2, 2048), nn.ReLU(), nn.Linear(2048, 2048), nn.ReLU(), nn.Linear(2048, n_classes))

    @property
    def features(self) -> nn.Sequential:
        """conv1..conv5 with their pools (6 output rows: what a device-device row partition splits)."""
        return nn.Sequential(*list(self)[:12])

    @property
    def head(self) -> nn.Sequential:
        """pool5 and the fully connected layers (run by the gathering device)."""
        return nn.Sequential(*list(self)[12:])


class _Inception(nn.Module):
    def __init__(self, c_in: int, c_branch: int) -> None:
        super().__init__()
        self.b1 = nn.Conv2d(c_in, c_branch, 1)
        self.b3 = nn.Sequential(nn.Conv2d(c_in, c_branch, 1), nn.ReLU(), nn.Conv2d(c_branch, c_branch, 3, padding=1))
        self.b5 = nn.Sequential(nn.Conv2d(c_in, c_branch, 1), nn.ReLU(), nn.Conv2d(c_branch, c_branch, 5, padding=2))
        self.bp = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(c_in, c_branch, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], 1))


class _Residual(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(c, c, 3, padding=1), nn.Conv2d(c, c, 3, padding=1)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(x + self.conv2(self.relu(self.conv1(x))))


class DagNet(nn.Module):
    """A DAG: stem, two residual blocks and one Inception-style block (fan-out and joins), 3x64x64 input.

    >>> DagNet()(torch.zeros(1, 3, 64, 64)).shape
    torch.Size([1, 10])
    """

    def __init__(self, n_classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4))
        self.res1, self.res2 = _Residual(16), _Residual(16)
        self.inception = _Inception(16, 16)
        self.head = nn.Sequential(nn.MaxPool2d(4), nn.Flatten(), nn.Linear(64 * 16, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.inception(self.res2(self.res1(self.stem(x)))))


def exit_cnn_1d(n_classes: int = 10, length: int = 40, thresholds: list[float] | None = None,
                widths: tuple[int, int, int, int] = (32, 64, 64, 64)):
    """The MNIST-1D early-exit CNN: 4 conv blocks, side exits after blocks 1-3 (an `EarlyExitNet`).

    Each side exit is one linear layer, small next to the blocks it skips (BranchyNet's branches are
    one conv + fc next to a whole backbone).

    >>> net = exit_cnn_1d(); [t.shape for t in net(torch.zeros(2, 40))]
    [torch.Size([2, 10]), torch.Size([2, 10]), torch.Size([2, 10]), torch.Size([2, 10])]
    """
    from .early_exit import EarlyExitNet

    if len(widths) != 4 or min(widths) < 1:
        raise ValueError(f"widths must be 4 positive channel counts, got {widths!r}")
    lengths = [length // 2, length // 4, length // 8]
    blocks = [nn.Sequential(nn.Unflatten(1, (1, length)), nn.Conv1d(1, widths[0], 5, padding=2),
                            nn.ReLU(), nn.MaxPool1d(2))]
    for i in range(1, 4):
        layers = [nn.Conv1d(widths[i - 1], widths[i], 3, padding=1), nn.ReLU()]
        layers += [nn.MaxPool1d(2)] if i < 3 else [nn.Flatten(), nn.Linear(widths[i] * lengths[2], n_classes)]
        blocks.append(nn.Sequential(*layers))
    exits = [nn.Sequential(nn.Flatten(), nn.Linear(widths[i] * lengths[i], n_classes)) for i in range(3)]
    return EarlyExitNet(blocks, exits, thresholds if thresholds is not None else [0.0, 0.0, 0.0])
