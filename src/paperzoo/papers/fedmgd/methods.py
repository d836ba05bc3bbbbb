"""scikit-learn-like front ends: `FedMGD(...).fit(clients).evaluate(x, y)` and `FedAvgBaseline`, `FedProxBaseline`.

Both run the same ClientApp through a Flower Grid: an in-process Grid by default (one process, fast
round trips), or a Ray simulation (`engine="simulation"`, data given as a `DataSpec` so that every Ray
worker can rebuild its partition). Rounds x local epochs are the same for every method.

Example::

    from paperzoo.data.partition import dirichlet_label_skew
    parts = dirichlet_label_skew(y_train, n_clients=5, alpha=0.05, min_size=50, seed=0)
    clients = [(x_train[i], y_train[i]) for i in parts]
    mgd = FedMGD(gan_iters=800, rounds=30, seed=0).fit(clients)
    avg = FedAvgBaseline(rounds=30, seed=0).fit(clients)
    mgd.evaluate(x_test, y_test), avg.evaluate(x_test, y_test), mgd.bytes_
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from .data import DataSpec, federated_data, register_clients, release
from .federation import Settings, accuracy, client_app, run_on_grid, summary

ENGINES = ("inprocess", "simulation")


class _Federated:
    method = "fedavg"

    def __init__(self, rounds: int = 30, local_epochs: int = 1, seed: int = 0, engine: str = "inprocess",
                 **settings: Any) -> None:
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
        self.engine = engine
        self.settings = Settings(rounds=rounds, local_epochs=local_epochs, seed=seed, **settings)

    def fit(self, clients: Sequence[tuple[np.ndarray, np.ndarray]] | DataSpec) -> _Federated:
        """Train on [(x_k, y_k), ...] (x in [-1, 1], shape (n_k, dim); y int) or on a DataSpec."""
        if isinstance(clients, DataSpec):
            key, owned = clients.key, False
        else:
            if self.engine == "simulation":
                raise ValueError("engine='simulation' needs a DataSpec (Ray workers cannot see this process's arrays)")
            key, owned = register_clients(clients, seed=self.settings.seed), True
        s = replace(self.settings, data=key)
        n_clients = len(federated_data(key).clients)
        try:
            out = self._run(s, n_clients)
        finally:
            if owned:
                release(key)
        self.model_ = out.pop("model")
        self.generator_ = out.pop("generator", None)
        self.bytes_ = out["bytes"]
        self.history_ = out
        return self

    def _run(self, s: Settings, n_clients: int) -> dict[str, Any]:
        runs = [(self.method, s)]
        if self.engine == "simulation":
            from paperzoo.federated import simulate

            outs = simulate(lambda grid, context: [summary(o) | {"model": o["model"], "generator": o.get("generator")}
                                                   for o in run_on_grid(grid, runs, n_clients)],
                            client_app, num_supernodes=n_clients)
            return outs[0]
        from paperzoo.federated import InProcessGrid

        flwr = logging.getLogger("flwr")
        level = flwr.level
        flwr.setLevel(logging.ERROR)  # Flower logs every round at INFO
        try:
            return run_on_grid(InProcessGrid(client_app, n_clients, seed=s.seed), runs, n_clients)[0]
        finally:
            flwr.setLevel(level)

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> float:
        """Top-1 accuracy of the global model on (x, y)."""
        if not hasattr(self, "model_"):
            raise RuntimeError("call fit() first")
        return accuracy(self.model_, np.asarray(x, np.float32), np.asarray(y))


class FedMGD(_Federated):
    """GAS (global conditional G judged per sample by the most realistic-scoring client), then FedAvg
    rounds each followed by the server step on screened synthetic samples."""

    method = "fedmgd"

    def __init__(self, gan_iters: int = 800, rounds: int = 30, local_epochs: int = 1, server_steps: int = 20,
                 seed: int = 0, **settings: Any) -> None:
        super().__init__(rounds=rounds, local_epochs=local_epochs, seed=seed, gan_iters=gan_iters,
                         server_steps=server_steps, **settings)


class FedAvgBaseline(_Federated):
    """FedAvg on the same apps, schedule and initial model as FedMGD (no GAS, no server step)."""

    method = "fedavg"


class FedProxBaseline(_Federated):
    """FedProx (proximal term μ/2·‖w − w_global‖² in local training), μ = 0.01 as in the paper's code."""

    method = "fedprox"

    def __init__(self, rounds: int = 30, local_epochs: int = 1, seed: int = 0, prox_mu: float = 0.01,
                 **settings: Any) -> None:
        super().__init__(rounds=rounds, local_epochs=local_epochs, seed=seed, prox_mu=prox_mu, **settings)


__all__ = ["ENGINES", "FedAvgBaseline", "FedMGD", "FedProxBaseline"]
