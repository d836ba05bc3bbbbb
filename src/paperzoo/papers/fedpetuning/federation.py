"""Federated PET on Flower (Message API): a ClientApp, a byte-counting FedAvg and the ServerApp.

Only the trainable tensors travel. `ByteCountingFedAvg` measures the bytes of every ArrayRecord it sends
(one message per sampled node) and receives (`ArrayRecord.count_bytes()`). One simulation runs a whole
list of configurations (method × α × seed): the server loops over them and each message's config tells
the client which model, data split and partition to use, so Ray starts once.

Example (starts a Flower simulation, ~10 s of Ray start-up)::

    res = run_federated(PETConfig(method="lora"), alpha=1.0, rounds=5, num_clients=10, seed=0, num_layers=2)
    res.best_test_accuracy, res.bytes_down[0], res.bytes_up[0]
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import torch
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MessageType, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg

from paperzoo.data.partition import fednlp_label_skew

from .pet import PETConfig, build_model, count_trainable, load_trainable_state_dict, trainable_state_dict
from .textdata import Task, load_task
from .training import evaluate, train_local

log = logging.getLogger(__name__)

DEFAULT_LR = {"full": 5e-5, "lora": 1e-3, "adapter": 1e-3, "prefix": 1e-3, "bitfit": 3e-3}


@dataclass(frozen=True)
class FedSettings:
    """Everything besides the PET method that shapes one federated run (sent to clients as config).

    n_train/n_valid/n_test: BBC split sizes (None = 60/10/30 of all 2,225 articles); max_len tokens;
    num_layers: keep the first MiniLM layers (None = all 6); tiny_hidden > 0 builds a random tiny BERT
    of that width instead of MiniLM (tests); lr None = the method's default (DEFAULT_LR);
    fail_round: the client of partition 0 raises in that round (failure-tolerance tests; 0 = never).
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
    tiny_hidden: int = 0
    min_train_replies: int = 1
    fail_round: int = 0

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
    """The run's model: MiniLM (first `num_layers`) or, if `tiny_hidden`, a random tiny BERT; seeded."""
    bert_config = None
    if s.tiny_hidden:
        from transformers import BertConfig

        bert_config = BertConfig(vocab_size=30522, hidden_size=s.tiny_hidden, num_hidden_layers=s.num_layers or 2,
                                 num_attention_heads=2, intermediate_size=2 * s.tiny_hidden,
                                 max_position_embeddings=max(64, s.max_len))
    return build_model(pet, num_labels, num_layers=s.num_layers, bert_config=bert_config, seed=s.seed)


@lru_cache(maxsize=16)
def partition(s: FedSettings, split: str, num_partitions: int) -> tuple[np.ndarray, ...]:
    """FedNLP label-skew partition of a split (train / valid / test), the same on every node."""
    labels = getattr(task_for(s), split).labels.numpy()
    return tuple(fednlp_label_skew(labels, num_partitions, s.alpha, seed=s.seed))


def _node(context: Context) -> tuple[int, int]:
    cfg = context.node_config
    return int(cfg["partition-id"]), int(cfg["num-partitions"])


def _set_threads(context: Context) -> None:
    # Ray gives each ClientApp `num_cpus`; match torch's threads to it.
    torch.set_num_threads(int(context.node_config.get("torch-threads", 1)))


# ------------------------------------------------------------------------------------ ClientApp
client_app = ClientApp()


@client_app.train()
def client_train(msg: Message, context: Context) -> Message:
    """Load the global trainable tensors, train one local round on this node's partition, send them back."""
    _set_threads(context)
    cfg = msg.content["config"]
    pet, s = from_record(cfg)
    pid, n_parts = _node(context)
    server_round = int(cfg["server-round"])
    if s.fail_round and server_round == s.fail_round and pid == 0:
        raise RuntimeError(f"injected failure of partition 0 in round {server_round}")
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


@client_app.query()
def client_partition(msg: Message, context: Context) -> Message:
    """This node's partition id, so that the server can sample partitions reproducibly."""
    pid, n_parts = _node(context)
    content = RecordDict({"metrics": MetricRecord({"partition-id": pid, "num-partitions": n_parts})})
    return Message(content=content, reply_to=msg)


@client_app.evaluate()
def client_evaluate(msg: Message, context: Context) -> Message:
    """Accuracy of the global trainable tensors on this node's partition of the test split."""
    _set_threads(context)
    pet, s = from_record(msg.content["config"])
    pid, n_parts = _node(context)
    task = task_for(s)
    data = task.test.subset(partition(s, "test", n_parts)[pid])
    model = model_for(pet, s, task.num_labels)
    load_trainable_state_dict(model, msg.content["arrays"].to_torch_state_dict())
    acc, loss = evaluate(model, data)
    content = RecordDict({"metrics": MetricRecord({"accuracy": acc, "loss": loss, "num-examples": len(data)})})
    return Message(content=content, reply_to=msg)


# ---------------------------------------------------------------------------------- strategy
def node_partitions(grid: Grid, expected: int, timeout_s: float = 300.0) -> dict[int, int]:
    """Ask every connected node for its partition id (a query message); returns {node id: partition id}.

    Node ids are random in every simulation and deployment, so reproducible sampling has to go through
    the partitions the nodes own. Waits until `expected` nodes are connected; raises if a node does not
    answer or two nodes claim the same partition, since sampling would then silently change.
    """
    deadline = time.monotonic() + timeout_s
    while len(node_ids := sorted(grid.get_node_ids())) < expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(node_ids)} of {expected} nodes connected within {timeout_s:.0f} s")
        time.sleep(0.5)
    queries = [Message(RecordDict(), dst_node_id=n, message_type=MessageType.QUERY) for n in node_ids]
    replies = list(grid.send_and_receive(queries, timeout=timeout_s))
    partitions = {r.metadata.src_node_id: int(r.content["metrics"]["partition-id"])
                  for r in replies if not r.has_error()}
    if len(partitions) < len(node_ids) or len(set(partitions.values())) < len(partitions):
        raise RuntimeError(f"partition query: {len(partitions)} of {len(node_ids)} nodes answered, "
                           f"partition ids {sorted(partitions.values())} (must be distinct)")
    return partitions


class ByteCountingFedAvg(FedAvg):
    """FedAvg (weighted by `num-examples`) that records the bytes it sends and receives each round.

    bytes_down[r]: sum over the train messages sent in round r of their ArrayRecord's `count_bytes()`;
    bytes_up[r]: the same over the replies that arrived without error. Replies with errors are dropped;
    with fewer than `min_train_replies` valid replies the global model is kept for that round.
    With `partitions` ({node id: partition id}, see `node_partitions`) the training nodes are sampled by
    partition with the strategy's own generator seeded by `seed` (FedAvg samples node ids with the global
    `random`), and replies are averaged in partition order, so the same seed gives the same run.
    """

    def __init__(self, *args: Any, min_train_replies: int = 1, partitions: Mapping[int, int] | None = None,
                 seed: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if min_train_replies < 1:
            raise ValueError(f"min_train_replies must be >= 1, got {min_train_replies}")
        self.min_train_replies = min_train_replies
        self.partitions = dict(partitions or {})
        self._node_of = {p: n for n, p in self.partitions.items()}
        if len(self._node_of) < len(self.partitions):
            raise ValueError(f"two nodes share a partition id: {self.partitions}")
        self._rng = random.Random(seed)
        self.sampled_partitions: dict[int, list[int]] = {}
        self.bytes_down: dict[int, int] = {}
        self.bytes_up: dict[int, int] = {}
        self.messages_down: dict[int, int] = {}
        self.messages_up: dict[int, int] = {}
        self.failures: dict[int, int] = {}

    def configure_train(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                        grid: Grid) -> Iterable[Message]:
        if self.partitions and self.fraction_train > 0.0:
            messages = self._sampled_train_messages(server_round, arrays, config)
        else:
            messages = list(super().configure_train(server_round, arrays, config, grid))
        self.bytes_down[server_round] = sum(m.content[self.arrayrecord_key].count_bytes() for m in messages)
        self.messages_down[server_round] = len(messages)
        return messages

    def _sampled_train_messages(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord) -> list[Message]:
        """FedAvg.configure_train with the nodes drawn by partition id from `self._rng`."""
        size = max(int(len(self._node_of) * self.fraction_train), self.min_train_nodes)
        chosen = self._rng.sample(sorted(self._node_of), size)
        self.sampled_partitions[server_round] = chosen
        config["server-round"] = server_round
        record = RecordDict({self.arrayrecord_key: arrays, self.configrecord_key: config})
        return list(self._construct_messages(record, [self._node_of[p] for p in chosen], MessageType.TRAIN))

    def aggregate_train(self, server_round: int,
                        replies: Iterable[Message]) -> tuple[ArrayRecord | None, MetricRecord | None]:
        replies = list(replies)
        # Replies arrive in completion order; a fixed order keeps the float sums of the average reproducible.
        valid = sorted((m for m in replies if not m.has_error()),
                       key=lambda m: (self.partitions.get(m.metadata.src_node_id, -1), m.metadata.src_node_id))
        self.failures[server_round] = len(replies) - len(valid)
        self.bytes_up[server_round] = sum(m.content[self.arrayrecord_key].count_bytes() for m in valid)
        self.messages_up[server_round] = len(valid)
        if len(valid) < self.min_train_replies:
            log.warning("round %d: %d valid replies < min_train_replies=%d; keeping the global model",
                        server_round, len(valid), self.min_train_replies)
            return None, None
        return super().aggregate_train(server_round, valid)


# -------------------------------------------------------------------------------------- results
@dataclass
class FedResult:
    """One federated run: validation accuracy per round (round 0 = initial model), measured bytes."""

    method: str
    pet: dict[str, Any]
    settings: dict[str, Any]
    trainable_params: int
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
    test_acc, _ = evaluate(model, task.test)
    rounds = range(1, s.rounds + 1)
    return FedResult(
        method=pet.method, pet=pet.to_dict(), settings=asdict(s), trainable_params=count_trainable(model),
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


def make_server_app(runs: Sequence[tuple[PETConfig, FedSettings]], sink: list[FedResult]) -> ServerApp:
    """A ServerApp that runs every (PETConfig, FedSettings) in `runs` in turn, appending to `sink`."""
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        torch.set_num_threads(1)
        partitions = node_partitions(grid, expected=runs[0][1].num_clients)
        for pet, s in runs:
            sink.append(_run_one(grid, pet, s, partitions))

    return app


# The ServerApp for `flwr run` (real deployment): one configuration from the run config
# (keys "pet.method", "fed.alpha", ... as in `to_record`); writes the result to "result-path" if given.
server_app = ServerApp()


@server_app.main()
def _deployed_main(grid: Grid, context: Context) -> None:
    cfg = dict(context.run_config)
    pet, s = from_record(cfg)
    res = _run_one(grid, pet, s, node_partitions(grid, expected=s.num_clients))
    if cfg.get("result-path"):
        with open(str(cfg["result-path"]), "w") as fh:
            json.dump(res.to_dict(), fh)
    log.warning("fedpetuning %s: best test accuracy %.3f, bytes per round %s", pet.method, res.best_test_accuracy,
                res.bytes_per_round)


def run_many(runs: Sequence[tuple[PETConfig, FedSettings]], num_cpus_per_client: float = 1.0,
             quiet: bool = True) -> list[FedResult]:
    """Run every configuration in ONE Flower simulation (Ray starts once). All share `num_clients`."""
    from flwr.simulation import run_simulation

    runs = list(runs)
    if not runs:
        raise ValueError("runs is empty")
    sizes = {s.num_clients for _, s in runs}
    if len(sizes) != 1:
        raise ValueError(f"all runs of one simulation must have the same num_clients, got {sorted(sizes)}")
    for key, value in (("FLWR_TELEMETRY_ENABLED", "0"), ("HF_HUB_OFFLINE", "1"), ("TOKENIZERS_PARALLELISM", "false"),
                       ("RAY_DEDUP_LOGS", "0"), ("RAY_worker_niceness", "0")):
        os.environ.setdefault(key, value)
    sink: list[FedResult] = []
    flwr_logger = logging.getLogger("flwr")
    level = flwr_logger.level
    if quiet:  # Flower's per-run deprecation and configuration notices would bury the progress output
        flwr_logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            if quiet:
                warnings.simplefilter("ignore", FutureWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
            run_simulation(server_app=make_server_app(runs, sink), client_app=client_app,
                           num_supernodes=sizes.pop(),
                           backend_config={"client_resources": {"num_cpus": num_cpus_per_client, "num_gpus": 0.0},
                                           "init_args": {"logging_level": logging.ERROR, "log_to_driver": False}})
    finally:
        flwr_logger.setLevel(level)
    if len(sink) != len(runs):
        raise RuntimeError(f"the simulation finished {len(sink)} of {len(runs)} runs (see the Flower log above)")
    return sink


def run_federated(config: PETConfig, alpha: float = 1.0, rounds: int = 5, num_clients: int = 10, seed: int = 0,
                  **settings: Any) -> FedResult:
    """One federated run in a Flower simulation; extra keyword arguments go to `FedSettings`."""
    s = FedSettings(alpha=alpha, rounds=rounds, num_clients=num_clients, seed=seed, **settings)
    return run_many([(config, s)])[0]
