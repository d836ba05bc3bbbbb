"""Training on distant labels and the teacher–student refinements: BOND, SCDL and ATSEN.

Stage I (`train_distant`): cross-entropy on the distant labels with 20% of the O tokens of each batch
left out. Stage II refines the labels with teachers:
- BOND: one student; its teacher is a frozen copy refreshed every `period` steps; soft_frequency
  labels of the teacher where their max exceeds δ.
- SCDL: two students with EMA teachers; every `period` steps each student's pseudo labels become the
  *other* network's teacher predictions; a student learns only the consistent tokens (own teacher
  agrees with the pseudo label and is confident), target soft_frequency of its teacher.
- ATSEN: SCDL's loop plus adaptive teacher learning (tokens the two teachers disagree on are
  distilled from both teachers with AE-KD weights) and the fine-grained student ensemble (each
  teacher tensor follows its student at random, with a cosine momentum).
Models are chosen on dev only: every `eval_every` steps each student and teacher is scored on dev,
and the best one is `best_tagger` (`History.best` records which, when and on which split).

Example:
    >>> model = ATSEN(TaggerConfig(layers=3, frozen_layers=2), seed=0)
    >>> history = model.fit(corpus, stage1_steps=100, stage2_steps=100)   # doctest: +SKIP
    >>> evaluate(model.best_tagger, corpus.test)["f1"]                    # doctest: +SKIP
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from .corpus import NERCorpus, label_quality
from .distill import adaptive_kd_weights, distill_kl, ema_, fine_grained_ema_, soft_frequency
from .tagger import Encoded, FrozenPrefix, NERTagger, TaggerConfig


@dataclass
class History:
    """What a fit recorded: dev F1 of each model per evaluation, the training labels' quality, the
    adaptive weights, and the dev-selected best model."""

    method: str
    evals: list[dict[str, Any]] = field(default_factory=list)
    label_quality: list[dict[str, Any]] = field(default_factory=list)
    weights: list[dict[str, Any]] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    best: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "evals": self.evals, "label_quality": self.label_quality,
                "weights": self.weights, "losses": self.losses, "best": self.best}


class _Selector:
    """Keeps a copy of the model with the best dev F1 (ties: the earlier one)."""

    def __init__(self, corpus: NERCorpus, history: History) -> None:
        self.dev = corpus.dev
        self.history = history
        self.best_f1 = -1.0
        self.best: NERTagger | None = None

    def __call__(self, step: int, models: dict[str, NERTagger]) -> None:
        scores = {}
        for name, model in models.items():
            scores[name] = label_quality(model.predict_tags(self.dev.tokens), self.dev.tags)["f1"]
            if scores[name] > self.best_f1:
                self.best_f1 = scores[name]
                self.best = copy.deepcopy(model)
                self.history.best = {"step": step, "model": name, "dev_f1": scores[name], "selected_on": "dev"}
        self.history.evals.append({"step": step, "dev_f1": scores})


def _check_corpus(corpus: Any) -> NERCorpus:
    if not isinstance(corpus, NERCorpus):
        raise TypeError(f"corpus must be an NERCorpus, got {type(corpus).__name__}")
    if len(corpus.dev) == 0:
        raise ValueError("corpus: the dev split is empty (models are selected on dev)")
    return corpus


def _optimizer(tagger: NERTagger, lr: float) -> torch.optim.Optimizer:
    # AdamW with the betas and weight decay of the reference scripts (run_*.sh).
    return torch.optim.AdamW([p for p in tagger.parameters() if p.requires_grad], lr=lr, betas=(0.9, 0.98),
                             weight_decay=tagger.config.weight_decay)


class _Batches:
    """Endless seeded epochs of batch indices."""

    def __init__(self, n: int, batch_size: int, generator: torch.Generator) -> None:
        self.n, self.size, self.generator = n, batch_size, generator
        self.order: list[int] = []

    def next(self) -> list[int]:
        if len(self.order) < self.size:
            self.order += torch.randperm(self.n, generator=self.generator).tolist()
        batch, self.order = self.order[:self.size], self.order[self.size:]
        return batch


def _padded(labels: list[torch.Tensor], index: list[int], width: int) -> torch.Tensor:
    out = torch.full((len(index), width), -100, dtype=torch.long)
    for row, i in enumerate(index):
        out[row, :len(labels[i])] = labels[i]
    return out


def _step(optimizer: torch.optim.Optimizer, tagger: NERTagger, loss: torch.Tensor) -> None:
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(tagger.parameters(), 1.0)
    optimizer.step()


def train_distant(tagger: NERTagger, corpus: NERCorpus, steps: int, o_drop: float = 0.2, lr: float | None = None,
                  seed: int = 0, eval_every: int = 25, gold: bool = False, history: History | None = None
                  ) -> History:
    """Stage I: cross-entropy on the train tags (distant, or gold with `gold=True`), leaving out a
    share `o_drop` of each batch's O tokens. Every `eval_every` steps the tagger is scored on dev; it
    ends holding its best-dev weights (early stopping, as BOND's stage I).
    """
    corpus = _check_corpus(corpus)
    if not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    if not 0.0 <= o_drop < 1.0:
        raise ValueError(f"o_drop must be in [0, 1), got {o_drop!r}")
    history = history or History("gold" if gold else "distant")
    torch.manual_seed(seed)  # dropout
    split = (corpus.train_gold or corpus.train) if gold else corpus.train
    encoded = tagger.encode(split.tokens)
    labels = tagger.label_ids(split.tags, encoded)
    generator = torch.Generator().manual_seed(seed)
    batches = _Batches(len(encoded), tagger.config.batch_size, generator)
    optimizer = _optimizer(tagger, lr or tagger.config.lr)
    select = _Selector(corpus, history)
    tagger.train()
    for step in range(1, steps + 1):
        index = batches.next()
        batch = encoded.batch(index)
        target = _padded(labels, index, batch["first"].shape[1])
        drop = (target == 0) & (torch.rand(target.shape, generator=generator) < o_drop)
        target = target.masked_fill(drop, -100)
        logits = tagger(batch)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=-100)
        _step(optimizer, tagger, loss)
        history.losses.append(loss.item())
        if step % eval_every == 0 or step == steps:
            select(step, {"student": tagger})
    tagger.load_state_dict(select.best.state_dict())
    return history


@dataclass
class StageOne:
    """Stage I result shared by every method of a seed: the dev-selected tagger of each network."""

    taggers: list[NERTagger]
    histories: list[History]


def stage_one(corpus: NERCorpus, config: TaggerConfig, seed: int = 0, steps: int = 100, networks: int = 2,
              config2: TaggerConfig | None = None, lr: float | None = None, eval_every: int = 25,
              o_drop: float = 0.2, prefix: FrozenPrefix | None = None, bert_config: Any = None) -> StageOne:
    """Train `networks` taggers (network k seeded `seed * 100 + k`) on the distant labels; `bert_config`:
    a small random encoder instead of MiniLM (tests)."""
    taggers, histories = [], []
    for k in range(networks):
        cfg = config if k == 0 or config2 is None else config2
        tagger = NERTagger(corpus.labels, cfg, seed=seed * 100 + k, prefix=prefix, bert_config=bert_config)
        prefix = prefix or tagger.prefix
        histories.append(train_distant(tagger, corpus, steps, o_drop=o_drop, lr=lr, seed=seed * 100 + k,
                                       eval_every=eval_every))
        taggers.append(tagger)
    return StageOne(taggers, histories)


def _frozen(tagger: NERTagger) -> NERTagger:
    teacher = copy.deepcopy(tagger).eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


def _flat(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return logits[mask]


class _Method:
    """Shared settings and the stage I hand-over of the self-training methods."""

    name = "method"
    networks = 1

    def __init__(self, config: TaggerConfig | None = None, seed: int = 0, period: int = 50, delta: float = 0.9,
                 eval_every: int = 25, lr: float = 1e-4, stage1_lr: float | None = None,
                 config2: TaggerConfig | None = None, track_labels: bool = True) -> None:
        if period < 1 or eval_every < 1:
            raise ValueError(f"period and eval_every must be >= 1, got {period!r} and {eval_every!r}")
        if not 0.0 <= delta < 1.0:
            raise ValueError(f"delta must be in [0, 1), got {delta!r}")
        self.config = config or TaggerConfig()
        self.config2 = config2
        self.seed, self.period, self.delta, self.eval_every = seed, period, delta, eval_every
        self.lr, self.stage1_lr, self.track_labels = lr, stage1_lr, track_labels
        self.best_tagger: NERTagger | None = None
        self.history: History | None = None

    def _start(self, corpus: NERCorpus, stage1: StageOne | None, stage1_steps: int) -> list[NERTagger]:
        if stage1 is None:
            stage1 = stage_one(corpus, self.config, self.seed, stage1_steps, self.networks, self.config2,
                               lr=self.stage1_lr, eval_every=self.eval_every)
        if len(stage1.taggers) < self.networks:
            raise ValueError(f"stage1: {self.name} needs {self.networks} networks, got {len(stage1.taggers)}")
        return [copy.deepcopy(t).train() for t in stage1.taggers[:self.networks]]

    def _track(self, history: History, step: int, corpus: NERCorpus, labeller: NERTagger, encoded: Encoded,
               active: list[list[str]] | None = None) -> None:
        """Quality of the labels the next refresh would give (and of those in use) against the gold train tags."""
        if not self.track_labels or corpus.train_gold is None:
            return
        row = {"step": step, **label_quality(labeller.predict_tags(corpus.train.tokens, encoded),
                                             corpus.train_gold.tags)}
        if active is not None:
            row["active"] = label_quality(active, corpus.train_gold.tags)
        history.label_quality.append(row)

    def fit(self, corpus: NERCorpus, stage1_steps: int = 100, stage2_steps: int = 100,
            stage1: StageOne | None = None) -> History:
        corpus = _check_corpus(corpus)
        if not isinstance(stage2_steps, int) or stage2_steps < 1:
            raise ValueError(f"stage2_steps must be an int >= 1, got {stage2_steps!r}")
        students = self._start(corpus, stage1, stage1_steps)
        self._stage1_steps = len(stage1.histories[0].losses) if stage1 is not None else stage1_steps
        history = History(self.name)
        if self.track_labels and corpus.train_gold is not None:
            history.label_quality.append({"step": 0, **corpus.distant_quality(), "distant": True})
        select = _Selector(corpus, history)
        torch.manual_seed(self.seed * 100 + 31)  # dropout
        self._stage_two(corpus, students, stage2_steps, history, select)
        self.best_tagger, self.history = select.best, history
        return history

    def _stage_two(self, corpus: NERCorpus, students: list[NERTagger], steps: int, history: History,
                   select: _Selector) -> None:
        raise NotImplementedError


class BOND(_Method):
    """BOND (Liang et al., KDD 2020) stage II: a frozen teacher copy of the student, refreshed every
    `period` steps; the student fits the teacher's soft_frequency labels where their max > δ."""

    name = "BOND"

    def _stage_two(self, corpus: NERCorpus, students: list[NERTagger], steps: int, history: History,
                   select: _Selector) -> None:
        student = students[0]
        encoded = student.encode(corpus.train.tokens)
        generator = torch.Generator().manual_seed(self.seed * 100 + 11)
        batches = _Batches(len(encoded), student.config.batch_size, generator)
        optimizer = _optimizer(student, self.lr)
        teacher = _frozen(student)
        for step in range(1, steps + 1):
            if (step - 1) % self.period == 0 and step > 1:
                teacher = _frozen(student)
            batch = encoded.batch(batches.next())
            mask = batch["word_mask"]
            with torch.no_grad():
                q = soft_frequency(_flat(teacher(batch), mask))
            keep = q.max(-1).values > self.delta
            logits = _flat(student(batch), mask)[keep]
            loss = -(q[keep] * F.log_softmax(logits, -1)).sum(-1).mean() if keep.any() else logits.sum() * 0.0
            _step(optimizer, student, loss)
            history.losses.append(loss.item())
            if step % self.eval_every == 0 or step == steps:
                select(step, {"student": student})
                self._track(history, step, corpus, student, encoded)


class _TwoNetworks(_Method):
    """SCDL's loop; ATSEN adds adaptive distillation (`kd`) and the fine-grained teacher update."""

    networks = 2
    kd = False
    adaptive = False
    fine_grained = False

    def __init__(self, config: TaggerConfig | None = None, seed: int = 0, soft: bool = True, base_momentum: float = 0.8,
                 update_prob: float = 0.2, temperature: float = 2.0, beta: float = 1.0, nu: float = 0.75,
                 kd_tokens: str = "disagree", replace_ce: bool = False, **kwargs: Any) -> None:
        super().__init__(config, seed, **kwargs)
        if kd_tokens not in ("disagree", "consistent"):
            raise ValueError(f"kd_tokens must be 'disagree' or 'consistent', got {kd_tokens!r}")
        self.soft, self.base_momentum, self.update_prob = soft, base_momentum, update_prob
        self.temperature, self.beta, self.nu = temperature, beta, nu
        self.kd_tokens, self.replace_ce = kd_tokens, replace_ce

    def _stage_two(self, corpus: NERCorpus, students: list[NERTagger], steps: int, history: History,
                   select: _Selector) -> None:
        encoded = students[0].encode(corpus.train.tokens)
        teachers = [_frozen(s) for s in students]
        distant = students[0].label_ids(corpus.train.tags, encoded)
        pseudo = [distant, distant]
        active_tags: list[list[str]] = [list(t) for t in corpus.train.tags]
        generator = torch.Generator().manual_seed(self.seed * 100 + 21)
        coins = torch.Generator().manual_seed(self.seed * 100 + 22)
        # Both networks step on the same batch (one loader, as the reference), so each teacher runs once.
        batches = _Batches(len(encoded), students[0].config.batch_size, generator)
        optimizers = [_optimizer(s, self.lr) for s in students]
        stage1_steps = self._stage1_steps
        window: list[list[float]] = [[], []]
        for step in range(1, steps + 1):
            if (step - 1) % self.period == 0 and step > 1:
                # Frozen snapshots of both teachers relabel the train set; each student learns the other's.
                predicted = [[row.argmax(-1) for row in t.logits(encoded)] for t in teachers]
                pseudo = [predicted[1], predicted[0]]
                active_tags = [[teachers[1].labels[i] for i in row.tolist()] +
                               ["O"] * (n - len(row)) for row, n in zip(predicted[1], encoded.n_words, strict=True)]
            index = batches.next()
            batch = encoded.batch(index)
            mask = batch["word_mask"]
            with torch.no_grad():
                teacher_logits = [_flat(t(batch), mask) for t in teachers]
            for k in (0, 1):
                target = _padded(pseudo[k], index, mask.shape[1])[mask]
                own, other = teacher_logits[k], teacher_logits[1 - k]
                q = soft_frequency(own)
                consistent = (own.argmax(-1) == target) & (q.max(-1).values > self.delta)
                logits = _flat(students[k](batch), mask)
                goal = q if self.soft else F.one_hot(q.argmax(-1), q.shape[-1]).float()
                ce = -(goal[consistent] * F.log_softmax(logits[consistent], -1)).sum(-1).mean() \
                    if consistent.any() else logits.sum() * 0.0
                loss = ce
                if self.kd:
                    chosen = consistent if self.kd_tokens == "consistent" else own.argmax(-1) != other.argmax(-1)
                    kd, w = self._distill(logits, own, other, chosen)
                    loss = self.beta * kd if self.replace_ce else ce + self.beta * kd
                    if w is not None:
                        window[k].append(w)
                _step(optimizers[k], students[k], loss)
                history.losses.append(loss.item())
                if self.fine_grained:
                    fine_grained_ema_(teachers[k], students[k], step, steps, self.base_momentum, self.update_prob,
                                      coins)
                else:
                    global_step = stage1_steps + step  # SCDL: α = min(1 − 1/(step + 1), 0.995)
                    ema_(teachers[k], students[k], min(1.0 - 1.0 / (global_step + 1), 0.995))
            if step % self.eval_every == 0 or step == steps:
                for k in (0, 1):
                    if window[k]:
                        history.weights.append({"step": step, "network": k + 1,
                                                "w_own": sum(window[k]) / len(window[k]), "n": len(window[k])})
                    window[k] = []
                select(step, {"student1": students[0], "student2": students[1], "teacher1": teachers[0],
                              "teacher2": teachers[1]})
                # The labels student 1 would get at the next refresh: teacher 2's predictions.
                self._track(history, step, corpus, teachers[1], encoded, active_tags)

    def _distill(self, logits: torch.Tensor, own: torch.Tensor, other: torch.Tensor,
                 chosen: torch.Tensor) -> tuple[torch.Tensor, float | None]:
        """Σ_k w_k·T²·KL(teacher_k ‖ student) on the chosen tokens; w from AE-KD or ½/½. Returns (loss, w_own)."""
        if not chosen.any():
            return logits.sum() * 0.0, None
        student = logits[chosen]
        losses = [distill_kl(student, t[chosen], self.temperature) for t in (own, other)]
        if self.adaptive:
            grads = [torch.autograd.grad(loss, student, retain_graph=True)[0].mean(0) for loss in losses]
            w = adaptive_kd_weights(torch.stack(grads), self.nu)
        else:
            w = torch.tensor([0.5, 0.5])
        return w[0] * losses[0] + w[1] * losses[1], float(w[0])


class SCDL(_TwoNetworks):
    """SCDL (Zhang et al., EMNLP 2021): two teacher–student networks, consistent tokens only, EMA teachers."""

    name = "SCDL"


class ATSEN(_TwoNetworks):
    """ATSEN (Qu et al., AAAI 2023): SCDL + adaptive teacher learning + fine-grained student ensemble.

    adaptive=False: distillation weights fixed at ½/½; fine_grained=False: SCDL's plain EMA teacher.
    kd_tokens="consistent", replace_ce=True mimics the reference code (distillation alone, on the
    consistent tokens) instead of the paper (CE on consistent tokens + distillation where the
    teachers disagree).
    """

    kd = True

    def __init__(self, config: TaggerConfig | None = None, seed: int = 0, adaptive: bool = True,
                 fine_grained: bool = True, **kwargs: Any) -> None:
        super().__init__(config, seed, **kwargs)
        self.adaptive, self.fine_grained = adaptive, fine_grained
        self.name = "ATSEN" + ("" if adaptive else " w/o adaptive") + ("" if fine_grained else " plain EMA")


__all__ = ["ATSEN", "BOND", "SCDL", "History", "StageOne", "stage_one", "train_distant"]
