"""Playing dialogues and tournaments: every ordered pair, both first movers, the same scenarios.

Example:
    >>> from paperzoo.papers.negotiation import ItemDivision, boulware, conceder, play, Tournament
    >>> env = ItemDivision()
    >>> d = play(boulware(), conceder(), env.sample(seed=0), seed=0)
    >>> d.agreed, len(d.turns) <= env.max_turns
    (True, True)
    >>> res = Tournament([boulware(), conceder()], env, n_scenarios=5, seeds=[0]).run()
    >>> sorted(res.pairwise())
    ['boulware', 'conceder']
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .agents import Agent
from .environments import ItemDivision, ItemScenario, Observation, Outcome, PriceBargain, PriceScenario, Turn
from .evaluation import METRIC_NAMES, metrics


def default_env(scenario: Any) -> ItemDivision | PriceBargain:
    if isinstance(scenario, ItemScenario):
        return ItemDivision()
    if isinstance(scenario, PriceScenario):
        return PriceBargain()
    raise TypeError(f"scenario must be an ItemScenario or a PriceScenario, got {type(scenario).__name__}")


@dataclass(frozen=True)
class Dialogue:
    """A finished dialogue: its scenario, who moved first, the turns and the outcome."""

    env: Any
    scenario: Any
    first: int
    turns: tuple[Turn, ...]
    outcome: Outcome
    names: tuple[str, str] = ("a", "b")

    @property
    def agreed(self) -> bool:
        return self.outcome.agreed

    @property
    def scores(self) -> tuple[float, float]:
        return self.outcome.scores

    @property
    def deal(self) -> Any:
        return self.outcome.deal

    @property
    def pareto_optimal(self) -> bool:
        """A deal on the Pareto frontier (every price deal is: the surplus is split, never lost)."""
        return bool(self.outcome.extra.get("pareto", 0.0))

    def observations(self) -> Iterator[tuple[Observation, Any]]:
        """(what the speaker saw, what it did) for every turn, replayed through the environment."""
        state = self.env.start(self.scenario, self.first)
        for turn in self.turns:
            yield self.env.observe(state, turn.speaker), turn.act
            state = self.env.step(state, turn.act)

    def row(self) -> dict[str, Any]:
        """The dialogue as one JSON-able record (the unit of `metrics` and of tournament logs)."""
        out: dict[str, Any] = {"agreed": self.agreed, "scores": [round(s, 6) for s in self.scores],
                               "length": len(self.turns), "first": self.first}
        if isinstance(self.env, ItemDivision):
            nash = self.env.nash_product(self.scenario)
            out.update(deal=list(self.deal) if self.agreed else None,
                       pareto=self.pareto_optimal if self.agreed else None,
                       pareto_base=round(self.env.pareto_base_rate(self.scenario), 6),
                       nash_ratio=round(self.scores[0] * self.scores[1] / nash, 6) if nash else 0.0)
        else:
            out.update(deal=self.deal, margin=round(self.outcome.extra["margin"], 6),
                       fairness=round(self.outcome.extra["fairness"], 6))
        return out


def play(a: Agent, b: Agent, scenario: Any, seed: int = 0, *, env: Any = None, first: int | None = None) -> Dialogue:
    """One dialogue: `a` in seat 0 (A / seller), `b` in seat 1; the first mover is drawn from `seed`
    unless given. An illegal act from an agent raises ValueError (a bug in that agent)."""
    env = env if env is not None else default_env(scenario)
    rng = np.random.default_rng(seed)
    first = int(rng.integers(2)) if first is None else first
    seeds = rng.integers(2**31, size=2)
    players = (a, a.clone() if b is a else b)
    for seat, player in enumerate(players):
        player.reset(seat, scenario.private(seat), int(seeds[seat]))
    state = env.start(scenario, first)
    while not state.done:
        seat = state.speaker
        state = env.step(state, players[seat].act(env.observe(state, seat)))
    if getattr(env, "end_rule", "accept") == "selection" and state.agreed:
        state = env.settle(state, tuple(p.select(env.observe(state, seat)) for seat, p in enumerate(players)))
    return Dialogue(env, scenario, first, state.turns, env.outcome(state), (a.name, b.name))


def _game_seed(seed: int, scenario: int, first: int) -> int:
    return (seed * 1_000_003 + scenario) * 2 + first


def _play_pair(a: Agent, b: Agent, env: Any, scenarios: Sequence[Any], seeds: Sequence[int],
               offset: int = 0) -> list[dict[str, Any]]:
    """Every game of one ordered pair: each scenario, both first movers, each seed (a worker task)."""
    rows = []
    for k, scenario in enumerate(scenarios, start=offset):
        for seed in seeds:
            for first in (0, 1):
                d = play(a, b, scenario, _game_seed(seed, k, first), env=env, first=first)
                rows.append({"a": a.name, "b": b.name, "scenario": k, "seed": seed, **d.row()})
    return rows


class Tournament:
    """Every ordered pair of `agents` (self-play included) on the same scenarios, both first movers,
    each seed. Scenarios are `scenarios` or `n_scenarios` drawn from `scenario_seed`.

    `run(workers=1, ctx=None, log=None)` plays them (in worker processes when workers > 1; the result
    does not depend on it) and writes one JSON line per game to `log` when given.
    """

    def __init__(self, agents: Sequence[Agent], env: Any, scenarios: Sequence[Any] | None = None,
                 n_scenarios: int = 100, seeds: Sequence[int] = (0,), scenario_seed: int = 0) -> None:
        if not agents:
            raise ValueError("agents must not be empty")
        names = [agent.name for agent in agents]
        if len(set(names)) != len(names):
            raise ValueError(f"agents need distinct names, got {names}")
        if scenarios is None:
            if not isinstance(n_scenarios, int) or n_scenarios < 1:
                raise ValueError(f"n_scenarios must be an int >= 1, got {n_scenarios!r}")
            scenarios = env.scenarios(n_scenarios, scenario_seed)
        if not seeds:
            raise ValueError("seeds must not be empty")
        self.agents, self.env, self.scenarios, self.seeds = list(agents), env, list(scenarios), list(seeds)

    def run(self, workers: int = 1, ctx: Any = None, log: str | Path | None = None) -> Results:
        import tempfile

        from paperzoo.core.context import RunContext
        from paperzoo.core.parallel import parallel_map

        tasks = [(a, b, self.env, self.scenarios, self.seeds) for a in self.agents for b in self.agents]
        ctx = ctx if ctx is not None else RunContext(tempfile.gettempdir())  # progress only; writes nothing
        chunks = parallel_map(_play_pair, tasks, workers, ctx, description=f"{self.env.name} tournament")
        results = Results([row for chunk in chunks for row in chunk], [a.name for a in self.agents], self.env.name)
        if log is not None:
            results.to_jsonl(log)
        return results


class Results:
    """Tournament games (one dict per game) with per-agent tables and the pairwise score matrix."""

    def __init__(self, rows: list[dict[str, Any]], names: Sequence[str], env_name: str) -> None:
        self.rows, self.names, self.env_name = rows, list(names), env_name
        self._by_agent: dict[str, list[tuple[dict, int, str]]] = {}
        for row in rows:
            for seat, me, other in ((0, row["a"], row["b"]), (1, row["b"], row["a"])):
                self._by_agent.setdefault(me, []).append((row, seat, other))

    def games_of(self, name: str, partners: Sequence[str] | None = None) -> tuple[list[dict], list[int]]:
        """The games `name` played (against `partners` when given) and its seat in each; a self-play
        game counts once from each seat."""
        picked = [(row, seat) for row, seat, other in self._by_agent.get(name, ())
                  if partners is None or other in partners]
        return [row for row, _ in picked], [seat for _, seat in picked]

    def summary(self, name: str, partners: Sequence[str] | None = None) -> dict[str, float]:
        """`metrics` of agent `name` over its games (from its own seat)."""
        games, seats = self.games_of(name, partners)
        return metrics(games, seat=seats)

    def table(self) -> str:
        """Agreement, score(all), score(agreed), Pareto rate of deals and length per agent, as text."""
        columns = [c for c in METRIC_NAMES if c in self.summary(self.names[0])]
        width = max(len(n) for n in self.names)
        lines = [f"{'agent':<{width}}  " + "  ".join(f"{c:>12}" for c in columns)]
        for name in self.names:
            row = self.summary(name)
            lines.append(f"{name:<{width}}  " + "  ".join(f"{row[c]:>12.3f}" for c in columns))
        return "\n".join(lines)

    def pairwise(self, metric: str = "score_all") -> dict[str, dict[str, float]]:
        """matrix[row][col]: `metric` of the row agent in its games against the column agent."""
        return {a: {b: self.summary(a, [b])[metric] for b in self.names} for a in self.names}

    def to_jsonl(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(row, sort_keys=True) + "\n" for row in self.rows))
        return path
