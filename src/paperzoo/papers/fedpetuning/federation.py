"""Federated PET on Flower (Message API): the ClientApp, the server loop and the ServerApp.

Only the trainable tensors travel. The Flower glue is `paperzoo.federated`: `ByteCountingFedAvg` runs
on a `MeteredGrid`, which measures `ArrayRecord.count_bytes()` of every message sent and every reply
delivered; nodes are sampled by partition id with a generator seeded by the run's seed. One simulation
runs a whole list of configurations (method × α × seed): the server loops over them and each message's
config tells the client which model, data split and partition to use, so Ray starts once.

Example (starts a Flower simulation, ~10 s of Ray start-up)::

    res = run_federated(PETConfig(method="lora"), alpha=1.0, rounds=5, num_clients=10, seed=0, num_layers=2)
    res.best_test_accuracy, res.bytes_down[0], res.bytes_up[0]
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp

from paperzoo.data.partition import fednlp_label_skew
from paperzoo.federated import (
    ByteCountingFedAvg,
    add_partition_query,
    arrayrecord_bytes,
    available_cores,
    client_threads,
    node_partition,
    node_partitions,
    simulate,
    torch_threads,
)

from .pet import PETConfig, build_model, count_trainable, load_trainable_state_dict, trainable_state_dict
from .reference import REFERENCE_LR
from .textdata import Task, load_task
from .training import evaluate, train_local

log = logging.getLogger(__name__)

DEFAULT_LR = REFERENCE_LR  # the reference's most frequent federated choice per method


@dataclass(frozen=True)
class FedSettings:
    """Everything besides the PET method that shapes one federated run (sent to clients as config).

    n_train/n_valid/n_test: BBC split sizes (None = 60/10/30 of all 2,225 articles); max_len tokens;
    num_layers: keep the first MiniLM layers (None = all 6); lr None = the method's default (DEFAULT_LR);
    min_train_replies: fewer valid replies in a round keep the global model.
    """

    alpha: float = 1.0
    seed: int = 0
    rounds: int = 5
    num_clients: int = 10
    clients_per_round: int = 5
    local_epochs: int = 1
    batch_size: int = 16
    lr: float | None = None
    n_train: int | None = 600
    n_valid: int | None = 100
    n_test: int | None = 400
    max_len: int = 64
    num_layers: int | None = None
    min_train_replies: int = 1

    def __post_init__(self) -> None:
        if not np.isfinite(self.alpha) or self.alpha <= 0:
            raise ValueError(f"alpha must be > 0, got {self.alpha!r}")
        for name in ("rounds", "num_clients", "clients_per_round", "local_epochs", "batch_size", "min_train_replies"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be an int >= 1, got {getattr(self, name)!r}")
        if self.clients_per_round > self.num_clients:
            raise ValueError(f"clients_per_round ({self.clients_per_round}) exceeds num_clients ({self.num_clients})")
        if self.n_train is not None and self.num_clients > self.n_train:
            raise ValueError(f"num_clients ({self.num_clients}) exceeds the training examples ({self.n_train})")
        if self.lr is not None and self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")


# ---------------------------------------------------------------- config <-> ConfigRecord (flat)
def to_record(pet: PETConfig, settings: FedSettings) -> ConfigRecord:
    """Flatten a run's PET config and settings into a ConfigRecord (None -> 0, which means 'default')."""
    flat: dict[str, Any] = {f"pet.{k}": v for k, v in pet.to_dict().items()}
    for k, v in asdict(settings).items():
        flat[f"fed.{k}"] = 0 if v is None else v
    return ConfigRecord(flat)


def from_record(config: Mapping[str, Any]) -> tuple[PETConfig, FedSettings]:
    pet = PETConfig(**{k[4:]: config[k] for k in config if k.startswith("pet.")})
    fed = {k[4:]: config[k] for k in config if k.startswith("fed.")}
    for k in ("lr", "n_train", "n_valid", "n_test", "num_layers"):
        fed[k] = fed.get(k) or None
    return pet, FedSettings(**fed)


# ------------------------------------------------------------------------------- shared pieces
def task_for(s: FedSettings) -> Task:
    return load_task(s.n_train, s.n_valid, s.n_test, s.max_len, s.seed)


def model_for(pet: PETConfig, s: FedSettings, num_labels: int) -> torch.nn.Module:
    """The run's model: MiniLM (its first `num_layers`) with the PET method applied, new parts seeded by s.seed."""
    return build_model(pet, num_labels, num_layers=s.num_layers, seed=s.seed)


@lru_cache(maxsize=16)
def partition(s: FedSettings, split: str, num_partitions: int) -> tuple[np.ndarray, ...]:
    """FedNLP label-skew partition of a split (train / valid / test), the same on every node."""
    labels = getattr(task_for(s), split).labels.numpy()
    return tuple(fednlp_label_skew(labels, num_partitions, s.alpha, seed=s.seed))


# ------------------------------------------------------------------------------------ ClientApp
client_app = add_partition_query(ClientApp())  # the server asks each node for its partition id first


@client_app.train()
def client_train(msg: Message, context: Context) -> Message:
    """Load the global trainable tensors, train one local round on this node's partition, send them back."""
    client_threads(context)
    cfg = msg.content["config"]
    pet, s = from_record(cfg)
    pid, n_parts = node_partition(context)
    server_round = int(cfg["server-round"])
    task = task_for(s)
    data = task.train.subset(partition(s, "train", n_parts)[pid])
    model = model_for(pet, s, task.num_labels)
    load_trainable_state_dict(model, msg.content["arrays"].to_torch_state_dict())
    lr = s.lr or DEFAULT_LR[pet.method]
    loss, n = train_local(model, data, lr=lr, epochs=s.local_epochs, batch_size=s.batch_size,
                          seed=s.seed * 100_003 + server_round * 1_009 + pid)
    content = RecordDict({"arrays": ArrayRecord(trainable_state_dict(model)),
                          "metrics": MetricRecord({"train_loss": loss, "num-examples": n})})
    return Message(content=content, reply_to=msg)


@client_app.evaluate()
def client_evaluate(msg: Message, context: Context) -> Message:
    """Accuracy of the global trainable tensors on this node's partition of the test split."""
    client_threads(context)
    pet, s = from_record(msg.content["config"])
    pid, n_parts = node_partition(context)
    task = task_for(s)
    data = task.test.subset(partition(s, "test", n_parts)[pid])
    model = model_for(pet, s, task.num_labels)
    load_trainable_state_dict(model, msg.content["arrays"].to_torch_state_dict())
    acc, loss = evaluate(model, data)
    content = RecordDict({"metrics": MetricRecord({"accuracy": acc, "loss": loss, "num-examples": len(data)})})
    return Message(content=content, reply_to=msg)


# -------------------------------------------------------------------------------------- results
@dataclass
class FedResult:
    """One federated run: validation accuracy per round (round 0 = initial model), measured bytes.

    bytes_down/bytes_up: `count_bytes()` of the train messages sent / replies delivered per round;
    message_bytes: Flower's framing of one message's tensors predicted from their shapes
    (`arrayrecord_bytes`: 4·n + .npy header + key length per tensor), the analytic count to compare with.
    """

    method: str
    pet: dict[str, Any]
    settings: dict[str, Any]
    trainable_params: int
    message_bytes: int
    valid_accuracy: list[float]
    bytes_down: list[int]
    bytes_up: list[int]
    messages_down: list[int]
    messages_up: list[int]
    failures: list[int]
    best_round: int
    best_valid_accuracy: float
    best_test_accuracy: float
    seconds: float
    train_loss: list[float] = field(default_factory=list)
    sampled_partitions: list[list[int]] = field(default_factory=list)

    @property
    def alpha(self) -> float:
        return float(self.settings["alpha"])

    @property
    def seed(self) -> int:
        return int(self.settings["seed"])

    @property
    def bytes_per_round(self) -> list[int]:
        """Down + up bytes of each round."""
        return [d + u for d, u in zip(self.bytes_down, self.bytes_up, strict=True)]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _run_one(grid: Grid, pet: PETConfig, s: FedSettings, partitions: Mapping[int, int]) -> FedResult:
    """Run one configuration on `grid`: FedAvg for s.rounds, central validation each round, best round kept."""
    start = time.perf_counter()
    task = task_for(s)
    model = model_for(pet, s, task.num_labels)
    best: dict[str, Any] = {"acc": -1.0, "round": 0, "state": None}
    valid_acc: list[float] = []

    def evaluate_fn(server_round: int, arrays: ArrayRecord) -> MetricRecord:
        load_trainable_state_dict(model, arrays.to_torch_state_dict())
        with torch_threads(available_cores()):  # synchronous FedAvg: every client waits while the server evaluates
            acc, loss = evaluate(model, task.valid)
        valid_acc.append(acc)
        if acc > best["acc"]:
            state = {k: v.clone() for k, v in trainable_state_dict(model).items()}
            best.update(acc=acc, round=server_round, state=state)
        return MetricRecord({"accuracy": acc, "loss": loss})

    strategy = ByteCountingFedAvg(fraction_train=s.clients_per_round / s.num_clients, fraction_evaluate=0.0,
                                  min_train_nodes=s.clients_per_round, min_available_nodes=s.clients_per_round,
                                  min_train_replies=s.min_train_replies, partitions=partitions, seed=s.seed)
    result = strategy.start(grid=grid, initial_arrays=ArrayRecord(trainable_state_dict(model)), num_rounds=s.rounds,
                            train_config=to_record(pet, s), evaluate_fn=evaluate_fn)
    load_trainable_state_dict(model, best["state"])
    with torch_threads(available_cores()):
        test_acc, _ = evaluate(model, task.test)
    rounds = range(1, s.rounds + 1)
    return FedResult(
        method=pet.method, pet=pet.to_dict(), settings=asdict(s), trainable_params=count_trainable(model),
        message_bytes=arrayrecord_bytes(trainable_state_dict(model)),
        valid_accuracy=valid_acc, bytes_down=[strategy.bytes_down.get(r, 0) for r in rounds],
        bytes_up=[strategy.bytes_up.get(r, 0) for r in rounds],
        messages_down=[strategy.messages_down.get(r, 0) for r in rounds],
        messages_up=[strategy.messages_up.get(r, 0) for r in rounds],
        failures=[strategy.failures.get(r, 0) for r in rounds], best_round=int(best["round"]),
        sampled_partitions=[strategy.sampled_partitions.get(r, []) for r in rounds],
        best_valid_accuracy=float(best["acc"]), best_test_accuracy=float(test_acc),
        seconds=time.perf_counter() - start,
        train_loss=[float(result.train_metrics_clientapp[r]["train_loss"]) if r in result.train_metrics_clientapp
                    else float("nan") for r in rounds])


def run_on_grid(grid: Grid, runs: Sequence[tuple[PETConfig, FedSettings]]) -> list[FedResult]:
    """Run every (PETConfig, FedSettings) in turn on `grid` (a simulation's, a deployment's, an in-process one)."""
    partitions = node_partitions(grid, expected=runs[0][1].num_clients)
    return [_run_one(grid, pet, s, partitions) for pet, s in runs]


# The ServerApp for `flwr run` (real deployment): one configuration from the run config
# (keys "pet.method", "fed.alpha", ... as in `to_record`); writes the result to "result-path" if given.
server_app = ServerApp()


@server_app.main()
def _deployed_main(grid: Grid, context: Context) -> None:
    cfg = dict(context.run_config)
    res = run_on_grid(grid, [from_record(cfg)])[0]
    if cfg.get("result-path"):
        with open(str(cfg["result-path"]), "w") as fh:
            json.dump(res.to_dict(), fh)
    log.warning("fedpetuning %s: best test accuracy %.3f, bytes per round %s", res.method, res.best_test_accuracy,
                res.bytes_per_round)


def run_many(runs: Sequence[tuple[PETConfig, FedSettings]], num_cpus_per_client: float = 1.0,
             quiet: bool = True) -> list[FedResult]:
    """Run every configuration in ONE Flower simulation (Ray starts once). All share `num_clients`."""
    runs = list(runs)
    if not runs:
        raise ValueError("runs is empty")
    sizes = {s.num_clients for _, s in runs}
    if len(sizes) != 1:
        raise ValueError(f"all runs of one simulation must have the same num_clients, got {sorted(sizes)}")
    return simulate(lambda grid, context: run_on_grid(grid, runs), client_app, num_supernodes=sizes.pop(),
                    num_cpus_per_client=num_cpus_per_client, quiet=quiet)


def run_federated(config: PETConfig, alpha: float = 1.0, rounds: int = 5, num_clients: int = 10, seed: int = 0,
                  **settings: Any) -> FedResult:
    """One federated run in a Flower simulation; extra keyword arguments go to `FedSettings`."""
    s = FedSettings(alpha=alpha, rounds=rounds, num_clients=num_clients, seed=seed, **settings)
    return run_many([(config, s)])[0]
