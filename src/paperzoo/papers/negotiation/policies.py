"""Learned policies over dialogue acts: supervised (behaviour cloning of rule-agent self-play) and
REINFORCE against a frozen partner (Lewis et al. 2017), plus act-level RL on prices with He et al.'s
utility, fairness and length rewards (`ActRL`).

Action spaces: items, 125 divisions (own share on a 5x5x5 grid, illegal ones masked) + accept + quit
over 16 features; prices, 4 priced intents x 20 price bins in the agent's own utility scale, an offer
at the partner's last price, and the 9 intents without a price.

Example:
    from paperzoo.papers.negotiation import ItemDivision, SupervisedPolicy, RLPolicy, self_play_logs
    env = ItemDivision()
    sl = SupervisedPolicy(env, seed=0).fit(self_play_logs(env, env.scenarios(2000, seed=1), seed=0))
    rl = RLPolicy(sl, seed=0).train(sl.frozen(), env.scenarios(2000, seed=1), n=4000)
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .acts import PRICE_INTENTS, PRICED_INTENTS, Act
from .agents import Agent, TimeDependent, boulware, conceder, linear
from .batched import (
    ACCEPT,
    N_DIVISIONS,
    N_ITEM_ACTIONS,
    N_ITEM_FEATURES,
    QUIT,
    ItemBatch,
    action_share,
    division_action,
    legal_divisions,
    run_batch,
)
from .environments import MAX_COUNT, TOTAL_VALUE, ItemDivision, Observation, PriceBargain

# ---------------------------------------------------------------- action spaces


class ItemActions:
    """Items: 16 features, 127 actions (125 divisions as own share, accept, quit)."""

    n_features, n_actions = N_ITEM_FEATURES, N_ITEM_ACTIONS

    def features(self, obs: Observation) -> np.ndarray:
        counts, values = obs.public, obs.private
        theirs = obs.partner_offer or (0, 0, 0)
        mine = obs.own_offer or (0, 0, 0)
        out = np.empty(N_ITEM_FEATURES, dtype=np.float32)
        out[0:3] = counts
        out[0:3] /= MAX_COUNT
        out[3:6] = values
        out[3:6] /= TOTAL_VALUE
        out[6] = obs.turn / obs.max_turns
        out[7:10] = theirs
        out[7:10] /= MAX_COUNT
        out[10] = obs.can_accept
        out[11:14] = mine
        out[11:14] /= MAX_COUNT
        out[14] = sum(t * v for t, v in zip(theirs, values, strict=True)) / TOTAL_VALUE
        out[15] = obs.own_offer is not None
        return out

    def mask(self, obs: Observation) -> np.ndarray:
        out = np.zeros(N_ITEM_ACTIONS, dtype=bool)
        out[:N_DIVISIONS] = legal_divisions(tuple(obs.public))
        out[ACCEPT] = obs.can_accept
        out[QUIT] = True
        return out

    def decode(self, action: int, obs: Observation) -> Act:
        if action == ACCEPT:
            return Act("accept")
        if action == QUIT:
            return Act("quit")
        return Act("propose", offer=action_share(action))

    def encode(self, act: Act, obs: Observation) -> int | None:
        """The action index of `act`, or None for acts outside the space (reject, inform)."""
        if act.intent == "propose":
            return division_action(act.offer)
        return {"accept": ACCEPT, "quit": QUIT}.get(act.intent)


PRICE_BINS = np.linspace(-0.4, 1.5, 20)  # price positions in own utility: 0 = bottom line, 1 = target
_UNPRICED = tuple(i for i in PRICE_INTENTS if i not in PRICED_INTENTS)
_MATCH = len(PRICED_INTENTS) * len(PRICE_BINS)  # "offer at the partner's last price"


class PriceActions:
    """Prices: 21 features, 90 actions (4 priced intents x 20 bins, offer at the partner's price, 9 others)."""

    n_features = 5 + 2 + len(PRICE_INTENTS) + 1
    n_actions = _MATCH + 1 + len(_UNPRICED)

    @staticmethod
    def _z(obs: Observation, price: float) -> float:
        target, bottom = obs.private["target"], obs.private["bottom"]
        return float(np.clip((price - bottom) / (target - bottom), -2.0, 3.0))

    @staticmethod
    def _price(obs: Observation, z: float) -> float:
        target, bottom = obs.private["target"], obs.private["bottom"]
        return float(max(1.0, round(bottom + z * (target - bottom))))

    def features(self, obs: Observation) -> np.ndarray:
        last = np.zeros(len(PRICE_INTENTS), dtype=np.float32)
        partner_turns = [t for t in obs.history if t.speaker != obs.seat]
        if partner_turns:
            last[PRICE_INTENTS.index(partner_turns[-1].act.intent)] = 1
        own = 0.0 if obs.own_offer is None else self._z(obs, obs.own_offer)
        theirs = 0.0 if obs.partner_offer is None else self._z(obs, obs.partner_offer)
        return np.concatenate([[obs.seat == 0, obs.seat == 1, obs.turn / obs.max_turns, own, obs.own_offer is not None],
                               [theirs, obs.partner_offer is not None], last, [obs.can_accept]]).astype(np.float32)

    def mask(self, obs: Observation) -> np.ndarray:
        out = np.zeros(self.n_actions, dtype=bool)
        answer = {_MATCH + 1 + _UNPRICED.index(i) for i in ("accept", "reject", "quit")}
        if obs.can_accept:
            out[list(answer)] = True
            return out
        out[:_MATCH] = True
        if obs.own_offer is None:
            insist = PRICED_INTENTS.index("insist") * len(PRICE_BINS)
            out[insist:insist + len(PRICE_BINS)] = False
        out[_MATCH] = obs.partner_offer is not None
        out[_MATCH + 1:] = True
        for i in ("accept", "reject"):
            out[_MATCH + 1 + _UNPRICED.index(i)] = False
        return out

    def decode(self, action: int, obs: Observation) -> Act:
        if action < _MATCH:
            intent, b = divmod(action, len(PRICE_BINS))
            return Act(PRICED_INTENTS[intent], price=self._price(obs, PRICE_BINS[b]))
        if action == _MATCH:
            return Act("offer", price=float(obs.partner_offer))
        return Act(_UNPRICED[action - _MATCH - 1])

    def encode(self, act: Act, obs: Observation) -> int | None:
        if act.intent == "offer" and obs.partner_offer is not None and act.price == obs.partner_offer:
            return _MATCH
        if act.price is not None:
            b = int(np.abs(PRICE_BINS - self._z(obs, act.price)).argmin())
            return PRICED_INTENTS.index(act.intent) * len(PRICE_BINS) + b
        return _MATCH + 1 + _UNPRICED.index(act.intent)


def action_space(env: Any) -> ItemActions | PriceActions:
    if isinstance(env, ItemDivision):
        return ItemActions()
    if isinstance(env, PriceBargain):
        return PriceActions()
    raise TypeError(f"env must be an ItemDivision or a PriceBargain, got {type(env).__name__}")


def make_net(n_features: int, n_actions: int, hidden: int, seed: int) -> Any:
    """The policy MLP: features -> hidden -> hidden -> one logit per action."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, n_actions))


def masked_log_probs(net: Any, features: Any, masks: Any, temperature: float = 1.0) -> Any:
    import torch

    logits = net(features).masked_fill(~masks, float("-inf"))
    return torch.log_softmax(logits / temperature, dim=1)


# ---------------------------------------------------------------- training data

def sl_pool() -> list[TimeDependent]:
    """The rule agents whose self-play the supervised policy imitates (our stand-in for human dialogues)."""
    return [boulware(), linear(), conceder(), TimeDependent(0.5, 0.3, name="td(0.5,0.3)"),
            TimeDependent(2.0, 0.2, name="td(2,0.2)")]


def self_play_logs(env: Any, scenarios: Sequence[Any], seed: int = 0, pool: Sequence[Agent] | None = None) -> list:
    """One dialogue per scenario between two agents drawn from `pool` (default `sl_pool()`)."""
    from .arena import play

    pool = list(pool) if pool is not None else sl_pool()
    rng = np.random.default_rng(seed)
    logs = []
    for k, scenario in enumerate(scenarios):
        a, b = (pool[i] for i in rng.integers(len(pool), size=2))
        logs.append(play(a, b, scenario, seed=seed * 1_000_003 + k, env=env))
    return logs


def decisions(env: Any, logs: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, masks, actions) of every act in `logs` that the action space can express."""
    space = action_space(env)
    xs, ms, ys = [], [], []
    for dialogue in logs:
        for obs, act in dialogue.observations():
            action = space.encode(act, obs)
            mask = space.mask(obs)
            if action is not None and mask[action]:
                xs.append(space.features(obs))
                ms.append(mask)
                ys.append(action)
    if not ys:
        raise ValueError("logs contain no act the policy can learn from")
    return np.stack(xs), np.stack(ms), np.asarray(ys, dtype=np.int64)


# ---------------------------------------------------------------- policies as agents


class PolicyAgent(Agent):
    """An agent that samples its acts from a policy network at `temperature` (0: most likely act)."""

    def __init__(self, env: Any, net: Any, temperature: float = 0.5, name: str = "policy") -> None:
        if not isinstance(temperature, int | float) or temperature < 0:
            raise ValueError(f"temperature must be a number >= 0, got {temperature!r}")
        self.env, self.net, self.temperature, self.name = env, net, float(temperature), name
        self.space = action_space(env)
        self.trace: list[tuple[np.ndarray, np.ndarray, int]] | None = None  # set to [] to record decisions

    def act(self, obs: Observation) -> Act:
        import torch

        features, mask = self.space.features(obs), self.space.mask(obs)
        with torch.no_grad():
            logits = self.net(torch.from_numpy(features)[None])[0].numpy().astype(float)
        logits[~mask] = -np.inf
        if self.temperature == 0:
            action = int(np.argmax(logits))
        else:
            z = logits / self.temperature
            p = np.exp(z - z.max())
            action = int(self.rng.choice(len(p), p=p / p.sum()))
        if self.trace is not None:
            self.trace.append((features, mask, action))
        return self.space.decode(action, obs)

    def frozen(self, name: str | None = None) -> PolicyAgent:
        """A copy with its own, fixed network (for a frozen partner)."""
        net = copy.deepcopy(self.net).eval()
        for p in net.parameters():
            p.requires_grad_(False)
        return PolicyAgent(self.env, net, self.temperature, name or f"{self.name}-frozen")

    def clone(self) -> PolicyAgent:
        twin = copy.copy(self)
        twin.trace = None
        return twin


class SupervisedPolicy(PolicyAgent):
    """Behaviour cloning: an MLP trained with cross-entropy on the decisions in dialogue logs
    (illegal actions masked).

    >>> env = ItemDivision()
    >>> sl = SupervisedPolicy(env, epochs=2, seed=0).fit(self_play_logs(env, env.scenarios(50, seed=1)))
    >>> sl.history[-1]["loss"] < sl.history[0]["loss"]
    True
    """

    def __init__(self, env: Any, hidden: int = 64, epochs: int = 30, lr: float = 1e-3, batch_size: int = 256,
                 temperature: float = 0.5, seed: int = 0, name: str = "supervised") -> None:
        if not isinstance(epochs, int) or epochs < 1:
            raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
        space = action_space(env)
        super().__init__(env, make_net(space.n_features, space.n_actions, hidden, seed), temperature, name)
        self.epochs, self.lr, self.batch_size, self.seed = epochs, lr, batch_size, seed
        self.history: list[dict[str, float]] = []
        self.data: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def fit(self, logs: Sequence[Any]) -> SupervisedPolicy:
        import torch

        self.data = decisions(self.env, logs)
        X, M, y = (torch.from_numpy(a) for a in self.data)
        opt = torch.optim.Adam(self.net.parameters(), lr=self.lr)
        g = torch.Generator().manual_seed(self.seed)
        self.net.train()
        for epoch in range(self.epochs):
            order = torch.randperm(len(y), generator=g)
            total = 0.0
            for start in range(0, len(y), self.batch_size):
                idx = order[start:start + self.batch_size]
                loss = supervised_loss(self.net, X[idx], M[idx], y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(idx)
            self.history.append({"epoch": epoch + 1, "loss": total / len(y)})
        with torch.no_grad():
            self.history[-1]["accuracy"] = float((self.net(X).masked_fill(~M, float("-inf")).argmax(1) == y)
                                                 .float().mean())
        self.net.eval()
        return self


def supervised_loss(net: Any, X: Any, M: Any, y: Any) -> Any:
    import torch

    return -masked_log_probs(net, X, M).gather(1, y[:, None]).mean() if len(y) else torch.zeros(())


# ---------------------------------------------------------------- reinforcement learning

_ITEM_REWARDS = ("own", "difference")
_PRICE_REWARDS = ("margin", "fair", "length")


def reward_of(reward: str, dialogue_or_scores: Any, seat: int) -> float:
    """The RL reward of `seat`: items "own" (its score) or "difference" ((own − partner)/10); prices
    (He et al.) "margin" (its margin), "fair" (2 − |m_S − m_B|) or "length" (messages/10), −0.5 on no deal."""
    d = dialogue_or_scores
    if reward == "own":
        return float(d.scores[seat])
    if reward == "difference":
        return float(d.scores[seat] - d.scores[1 - seat]) / TOTAL_VALUE
    if not d.agreed:
        return -0.5
    m = d.outcome.extra["margin"]
    if reward == "margin":
        return float(m if seat == 0 else -m)
    if reward == "fair":
        return 2.0 - abs(2 * m)
    if reward == "length":
        return len(d.turns) / 10
    raise ValueError(f"reward must be one of {_ITEM_REWARDS + _PRICE_REWARDS}, got {reward!r}")


class RLPolicy(PolicyAgent):
    """REINFORCE from a supervised policy against a partner that does not learn (Lewis et al. 2017).

    Each decision k of n in a dialogue gets the return γ^(n−1−k)·(R − b), b the mean of all rewards so
    far; gradients are clipped to norm `clip`; every `sv_every` updates one supervised batch from the
    base policy's data keeps the policy close to the imitated acts. Items games are played `batch` at a
    time (`batched=True`); prices (and items with `batched=False`) one act at a time through `play`.
    """

    def __init__(self, base: SupervisedPolicy, lr: float = 1e-3, gamma: float = 0.95, clip: float = 1.0,
                 batch: int = 32, sv_every: int = 4, sv_batch: int = 128, reward: str | None = None,
                 temperature: float = 0.5, seed: int = 0, name: str = "rl") -> None:
        reward = reward or ("own" if isinstance(base.env, ItemDivision) else "margin")
        allowed = _ITEM_REWARDS if isinstance(base.env, ItemDivision) else _PRICE_REWARDS
        if reward not in allowed:
            raise ValueError(f"reward must be one of {allowed} for {base.env.name}, got {reward!r}")
        if not isinstance(batch, int) or batch < 1:
            raise ValueError(f"batch must be an int >= 1, got {batch!r}")
        if not 0 < gamma <= 1:
            raise ValueError(f"gamma must be in (0, 1], got {gamma!r}")
        super().__init__(base.env, copy.deepcopy(base.net), temperature, name)
        self.base_data = base.data
        self.lr, self.gamma, self.clip, self.batch = lr, gamma, clip, batch
        self.sv_every, self.sv_batch = sv_every, sv_batch
        self.reward, self.seed = reward, seed
        self.rewards: list[float] = []
        self.history: list[dict[str, float]] = []

    def train(self, partner: PolicyAgent, scenarios: Sequence[Any], n: int, batched: bool | None = None,
              eval_every: int | None = None, evaluate: Callable[[RLPolicy, int], dict] | None = None,
              ctx: Any = None) -> RLPolicy:
        """`n` dialogues against `partner` on scenarios cycled from `scenarios` (random seat and first
        mover each); `evaluate(self, dialogues_so_far)` is logged every `eval_every` dialogues."""
        import torch

        if not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be an int >= 1, got {n!r}")
        batched = isinstance(self.env, ItemDivision) if batched is None else batched
        if batched and not isinstance(partner, PolicyAgent):
            raise ValueError("partner: batched games need a policy partner (PolicyAgent)")
        torch.manual_seed(self.seed)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=self.lr)
        self._generator = torch.Generator().manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(len(scenarios))
        done, updates = 0, 0
        if evaluate is not None and eval_every:
            self.history.append({"dialogues": 0, **evaluate(self, 0)})
        steps = range(0, n, self.batch)
        for start in (ctx.track(steps, description="RL updates") if ctx is not None else steps):
            size = min(self.batch, n - start)
            picked = [scenarios[order[(start + i) % len(order)]] for i in range(size)]
            seats, first = rng.integers(2, size=size), rng.integers(2, size=size)
            if batched:
                trace, rewards = self._collect_batched(partner, picked, seats, first)
            else:
                trace, rewards = self._collect_loop(partner, picked, seats, first, rng)
            self._update(trace, rewards)
            updates += 1
            if self.sv_every and updates % self.sv_every == 0 and self.base_data is not None:
                self._supervised_step(rng)
            before, done = done, done + size
            if evaluate is not None and eval_every and done // eval_every > before // eval_every:
                self.history.append({"dialogues": done, **evaluate(self, done)})
        self.net.eval()
        return self

    def _collect_batched(self, partner: PolicyAgent, scenarios: list, seats: np.ndarray, first: np.ndarray) -> tuple:
        batch = ItemBatch(scenarios, first, self.env.max_turns)
        trace = run_batch(batch, (self.net, partner.net), seats, self.temperature, self._generator)
        scores = batch.scores()
        if self.reward == "own":
            rewards = scores[np.arange(len(seats)), seats]
        else:
            rewards = (scores[np.arange(len(seats)), seats] - scores[np.arange(len(seats)), 1 - seats]) / TOTAL_VALUE
        return (trace.features, trace.masks, trace.actions, trace.games), rewards

    def _collect_loop(self, partner: Agent, scenarios: list, seats: np.ndarray, first: np.ndarray,
                      rng: np.random.Generator) -> tuple:
        from .arena import play

        feats, masks, actions, games, rewards = [], [], [], [], []
        for g, (scenario, seat, mover) in enumerate(zip(scenarios, seats, first, strict=True)):
            me = self.clone()
            me.trace = []
            pair = (me, partner) if seat == 0 else (partner, me)
            d = play(*pair, scenario, seed=int(rng.integers(2**31)), env=self.env, first=int(mover))
            for f, m, a in me.trace:
                feats.append(f)
                masks.append(m)
                actions.append(a)
                games.append(g)
            rewards.append(reward_of(self.reward, d, int(seat)))
        space = self.space
        if not actions:
            return (np.zeros((0, space.n_features), np.float32), np.zeros((0, space.n_actions), bool),
                    np.zeros(0, np.int64), np.zeros(0, np.int64)), np.asarray(rewards)
        return (np.stack(feats), np.stack(masks), np.asarray(actions), np.asarray(games)), np.asarray(rewards)

    def _update(self, trace: tuple, rewards: np.ndarray) -> None:
        import torch

        features, masks, actions, games = trace
        baselines = []
        for r in rewards:  # b: the mean of every reward before this dialogue's (the reference's running mean)
            baselines.append(np.mean(self.rewards) if self.rewards else 0.0)
            self.rewards.append(float(r))
        if not len(actions):
            return
        advantage = rewards - np.asarray(baselines)
        returns = np.empty(len(actions))
        for g in np.unique(games):
            rows = np.flatnonzero(games == g)
            n = len(rows)
            returns[rows] = self.gamma ** (n - 1 - np.arange(n)) * advantage[g]
        self.net.train()
        logp = masked_log_probs(self.net, torch.from_numpy(features), torch.from_numpy(masks), self.temperature)
        chosen = logp.gather(1, torch.from_numpy(actions)[:, None]).squeeze(1)
        loss = -(chosen * torch.from_numpy(returns).float()).sum() / len(rewards)
        self.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.clip)
        self.optimizer.step()

    def _supervised_step(self, rng: np.random.Generator) -> None:
        import torch

        X, M, y = self.base_data
        idx = rng.integers(len(y), size=min(self.sv_batch, len(y)))
        loss = supervised_loss(self.net, torch.from_numpy(X[idx]), torch.from_numpy(M[idx]), torch.from_numpy(y[idx]))
        self.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.clip)
        self.optimizer.step()


class ActRL(RLPolicy):
    """Act-level RL on prices (He et al. 2018) with reward "margin" (utility), "fair" or "length"."""

    def __init__(self, reward: str, base: SupervisedPolicy, **kwargs: Any) -> None:
        if not isinstance(base.env, PriceBargain):
            raise ValueError("base: ActRL learns price bargaining; give a SupervisedPolicy of a PriceBargain")
        super().__init__(base, reward=reward, name=kwargs.pop("name", f"act-rl-{reward}"), **kwargs)
