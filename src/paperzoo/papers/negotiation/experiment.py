"""Reproduction of the surveyed findings (Lewis et al. 2017; He et al. 2018; Faratin et al. 1998) in a
seeded self-play world: no human dialogue corpus is available offline, so every effect size here comes
from agents trained on and tested against agents.

Per seed (in parallel): supervised policy on rule-agent self-play, REINFORCE against its frozen copy,
paired evaluation against the same partner, held-out reservation partners; full preset adds rollouts,
act-level RL on prices with three rewards and an end-to-end word-level agent before and after RL. Then
rule-agent tournaments on items and prices and the act-layer parse checks.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from paperzoo.core import Claim, Command, Evidence, Paper, RunContext, numeric_metrics, register

_COMMON: dict[str, Any] = {
    "data_seed": 20221218, "train_scenarios": 2000, "test_scenarios": 400, "max_turns": 10, "price_max_turns": 20,
    "temperature": 0.5,  # sampling temperature of every learned policy, in training and evaluation (Lewis)
    "sl": {"hidden": 64, "epochs": 30, "lr": 1e-3, "batch_size": 256},
    "rl": {"dialogues": 4000, "batch": 32, "lr": 1e-3, "gamma": 0.95, "clip": 1.0, "sv_every": 4, "reward": "own"},
    "curve_every": 500, "curve_scenarios": 100,
    "heldout_partners": [[0.5, 0.4], [1.0, 0.5], [0.3, 0.3]],  # TimeDependent(e, u_min), never trained against
    "tournament_u_min": [0.0, 0.3], "tournament_scenarios": 200, "random_p_accept": 0.5,
    "price_listings": 300, "parse_acts": 1000, "paraphrase_draws": 5, "bootstrap": 2000,
    "concession_scenarios": 100, "workers": 0,
}
PRESETS: dict[str, dict[str, Any]] = {
    "quick": {**_COMMON, "seeds": 2, "full_studies": False},
    "full": {**_COMMON, "seeds": 5, "rl": {**_COMMON["rl"], "dialogues": 20_000}, "tournament_scenarios": 400,
             "full_studies": True, "rollouts": {"candidates": 10, "rollouts": 5},
             "act_rl": {"dialogues": 10_000, "rewards": ["margin", "fair", "length"], "price_train": 2000},
             "e2e": {"epochs": 3, "rl_dialogues": 2000, "lr": 1e-3, "eval_games": 200}},
}

# Pass rules of the spec, fixed before any run.
RL_MIN_GAIN = 0.3          # rl-beats-supervised: mean paired score(all) gain, and bootstrap CI above 0
AGREE_DROP = -0.01         # rl-agrees-less: agreement change at most −1 point ...
PARETO_RATIO = 2.0         # pareto-above-chance: every trained and rule agent at least 2x the base rate
RANDOM_RATIO = 1.5         # ... and the random agent below 1.5x
DRIFT_MIN = 0.05           # end-to-end-drifts: legal-act parse rate falls by at least 5 points
PARAPHRASE_MIN = 0.9       # acts-parse: held-out paraphrase accuracy


# ---------------------------------------------------------------- per seed


def _batched_games(env: Any, learner: Any, partner: Any, scenarios: list, temperature: float, seed: int) -> dict:
    """The learner in each seat of every scenario against `partner`, the learner moving first in half
    of the games; same assignment for every learner, so games pair up by (scenario, seat)."""
    import numpy as np
    import torch

    from .batched import ItemBatch, run_batch

    out: dict[str, list] = {k: [] for k in ("own", "other", "agreed", "pareto", "length", "scenario", "seat")}
    actions = []
    for seat in (0, 1):
        first = (np.arange(len(scenarios)) + seat) % 2
        batch = ItemBatch(scenarios, first, env.max_turns)
        trace = run_batch(batch, (learner, partner), np.full(len(scenarios), seat), temperature,
                          torch.Generator().manual_seed(seed * 7919 + seat))
        scores = batch.scores()
        out["own"] += scores[:, seat].tolist()
        out["other"] += scores[:, 1 - seat].tolist()
        out["agreed"] += batch.agreed.tolist()
        out["length"] += batch.length.tolist()
        out["pareto"] += [bool(a and env.is_pareto(s, tuple(d))) for s, a, d in zip(scenarios, batch.agreed, batch.deal,
                                                                                    strict=True)]
        out["scenario"] += list(range(len(scenarios)))
        out["seat"] += [seat] * len(scenarios)
        actions += trace.actions.tolist()
    out["actions"] = actions
    return out


def _summary_of(games: dict) -> dict[str, float]:
    import numpy as np

    agreed = np.asarray(games["agreed"])
    own = np.asarray(games["own"])
    return {"score_all": float(own.mean()), "partner_score_all": float(np.mean(games["other"])),
            "agreement": float(agreed.mean()),
            "score_agreed": float(own[agreed].mean()) if agreed.any() else float("nan"),
            "pareto": float(np.mean(np.asarray(games["pareto"])[agreed])) if agreed.any() else float("nan"),
            "length": float(np.mean(games["length"]))}


def _parse_rate(env: Any, actions: list[int], seed: int, limit: int = 200) -> float:
    """Share of a policy's acts whose rendered text parses back to the same act (the modular path)."""
    from .language import Generator, Parser
    from .policies import ItemActions

    space, generator, parser = ItemActions(), Generator(env, seed), Parser(env)
    acts = [space.decode(a, None) for a in actions[:limit]]
    return sum(parser.parse(generator.render(a)) == a for a in acts) / max(1, len(acts))


def _rule_games(env: Any, policy: Any, partners: list, scenarios: list, seed: int) -> dict:
    """`policy` against each rule partner: every scenario, both seats, first movers alternating."""
    from .arena import play

    rows: dict[str, dict[str, list]] = {}
    for partner in partners:
        games: dict[str, list] = {k: [] for k in ("own", "other", "agreed", "pareto", "length")}
        for k, scenario in enumerate(scenarios):
            for seat in (0, 1):
                pair = (policy, partner) if seat == 0 else (partner, policy)
                d = play(*pair, scenario, seed=seed * 1_000_003 + 2 * k + seat, env=env, first=(k + seat) % 2)
                games["own"].append(d.scores[seat])
                games["other"].append(d.scores[1 - seat])
                games["agreed"].append(d.agreed)
                games["pareto"].append(d.agreed and d.pareto_optimal)
                games["length"].append(len(d.turns))
        rows[partner.name] = games
    return rows


def seed_study(seed: int, config: dict[str, Any]) -> dict[str, Any]:
    """Everything that is trained per seed; returns plain data (it runs in a worker process)."""
    import numpy as np
    import torch

    from paperzoo.core.seeding import seed_everything

    from .agents import TimeDependent
    from .environments import ItemDivision
    from .policies import RLPolicy, SupervisedPolicy, self_play_logs

    torch.set_num_threads(1)
    seed_everything(seed)
    clock = {}
    start = time.perf_counter()
    env = ItemDivision(max_turns=config["max_turns"])
    data = config["data_seed"]
    train = env.scenarios(config["train_scenarios"], data)
    test = env.scenarios(config["test_scenarios"], data + 1)
    curve_set = env.scenarios(config["curve_scenarios"], data + 2)
    temperature = config["temperature"]
    logs = self_play_logs(env, train, seed=seed)
    sl = SupervisedPolicy(env, **config["sl"], temperature=temperature, seed=seed).fit(logs)
    partner = sl.frozen("supervised-frozen")
    clock["supervised_s"] = time.perf_counter() - start

    def curve_point(policy: Any, dialogues: int) -> dict[str, float]:
        games = _batched_games(env, policy.net, partner.net, curve_set, temperature, seed + 100)
        point = _summary_of(games)
        return {"score": point["score_all"], "partner": point["partner_score_all"], "agreement": point["agreement"],
                "parse_rate": _parse_rate(env, games["actions"], seed)}

    rl_config = {k: v for k, v in config["rl"].items() if k != "dialogues"}
    start = time.perf_counter()
    rl = RLPolicy(sl, **rl_config, temperature=temperature, seed=seed).train(
        partner, train, config["rl"]["dialogues"], eval_every=config["curve_every"], evaluate=curve_point)
    clock["rl_s"] = time.perf_counter() - start
    out: dict[str, Any] = {
        "seed": seed, "sl_decisions": len(sl.data[2]), "sl_accuracy": sl.history[-1]["accuracy"],
        "sl_loss": [h["loss"] for h in sl.history], "curve": rl.history,
        "rl_games": _batched_games(env, rl.net, partner.net, test, temperature, seed),
        "sl_games": _batched_games(env, sl.net, partner.net, test, temperature, seed),
    }
    start = time.perf_counter()
    heldout = [TimeDependent(e, u, name=f"td(e={e:g},u_min={u:g})") for e, u in config["heldout_partners"]]
    out["heldout"] = {"rl": _rule_games(env, rl, heldout, test, seed), "sl": _rule_games(env, sl, heldout, test, seed)}
    clock["heldout_s"] = time.perf_counter() - start
    if config["full_studies"]:
        out.update(_full_studies(seed, config, env, sl, rl, partner, logs, train, test))
    for games in (out["rl_games"], out["sl_games"]):
        games.pop("actions")
    out["seconds"] = clock
    out["pareto_base"] = float(np.mean([env.pareto_base_rate(s) for s in test]))
    return out


def _full_studies(seed: int, config: dict, env: Any, sl: Any, rl: Any, partner: Any, logs: list, train: list,
                  test: list) -> dict[str, Any]:
    import numpy as np

    from .arena import play
    from .end_to_end import EndToEndAgent
    from .environments import PriceBargain
    from .planning import RolloutAgent
    from .policies import ActRL, SupervisedPolicy, self_play_logs

    out: dict[str, Any] = {}
    clock = time.perf_counter()
    rollout = RolloutAgent(sl, partner_model=sl, **config["rollouts"])
    out["rollout_games"] = _rule_games(env, rollout, [partner], test, seed)[partner.name]
    out["rollout_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    price = PriceBargain(max_turns=config["price_max_turns"])
    price_train = price.scenarios(config["act_rl"]["price_train"], config["data_seed"] + 10)
    price_test = price.scenarios(config["price_listings"], config["data_seed"] + 11)
    price_sl = SupervisedPolicy(price, **config["sl"], temperature=config["temperature"], seed=seed).fit(
        self_play_logs(price, price_train, seed=seed))
    price_partner = price_sl.frozen("price-supervised-frozen")
    act_rl = {}
    for reward in ["supervised", *config["act_rl"]["rewards"]]:
        agent = price_sl if reward == "supervised" else ActRL(reward, price_sl, temperature=config["temperature"],
                                                              seed=seed).train(price_partner, price_train,
                                                                               config["act_rl"]["dialogues"])
        rows = []
        for k, scenario in enumerate(price_test):
            for seat in (0, 1):
                pair = (agent, price_partner) if seat == 0 else (price_partner, agent)
                d = play(*pair, scenario, seed=seed * 1_000_003 + 2 * k + seat, env=price, first=(k + seat) % 2)
                rows.append({"utility": d.scores[seat], "agreed": d.agreed, "length": len(d.turns),
                             "fairness": d.outcome.extra["fairness"]})
        deals = [r for r in rows if r["agreed"]]
        act_rl[reward] = {"utility": float(np.mean([r["utility"] for r in rows])),
                          "agreement": float(np.mean([r["agreed"] for r in rows])),
                          "fairness": float(np.mean([r["fairness"] for r in deals])) if deals else float("nan"),
                          "length": float(np.mean([r["length"] for r in rows]))}
    out["act_rl"] = act_rl
    out["act_rl_s"] = time.perf_counter() - clock

    clock = time.perf_counter()
    e2e_cfg = config["e2e"]
    e2e = EndToEndAgent(env, epochs=e2e_cfg["epochs"], temperature=config["temperature"], seed=seed).fit(logs)
    games = test[:e2e_cfg["eval_games"]]

    def parse_rate() -> float:
        start = len(e2e.lines)
        for k, scenario in enumerate(games):
            play(e2e, partner, scenario, seed=seed * 1_000_003 + k, env=env)
        return e2e.parse_rate(start)

    before = parse_rate()
    e2e.train_rl(partner, train, e2e_cfg["rl_dialogues"], lr=e2e_cfg["lr"], seed=seed)
    out["e2e"] = {"before": before, "after": parse_rate(), "modular": rl.history[-1]["parse_rate"]}
    out["e2e_s"] = time.perf_counter() - clock
    return out


# ---------------------------------------------------------------- the run


def _rule_agents(u_mins: list[float], p_accept: float) -> list:
    from .agents import RandomAgent, TitForTat, boulware, conceder, linear

    agents = [make(u) for u in u_mins for make in (boulware, linear, conceder, lambda u: TitForTat(u))]
    return [*agents, RandomAgent(p_accept)]


def _concession_curves(env: Any, scenarios: list) -> dict[str, Any]:
    """Target and actual bid utility by message position for the time-dependent agents vs a linear partner."""
    import numpy as np

    from .agents import TimeDependent, linear
    from .arena import play

    curves = {}
    for e in (0.2, 0.5, 1.0, 2.0, 5.0):
        agent = TimeDependent(e)
        bids: dict[int, list[float]] = {}
        for k, scenario in enumerate(scenarios):
            d = play(agent, linear(), scenario, seed=k, env=env, first=k % 2)
            for t, turn in enumerate(d.turns):
                if turn.speaker == 0 and turn.act.intent == "propose":
                    bids.setdefault(t + 1, []).append(env.score(scenario, 0, turn.act.offer) / 10)
        positions = list(range(1, env.max_turns + 1))
        curves[f"{e:g}"] = {"target": [agent.target(t, env.max_turns) for t in positions],
                            "bid": [float(np.mean(bids[t])) if t in bids else None for t in positions],
                            "positions": positions}
    return curves


def run(config: dict[str, Any], seeds: list[int], ctx: RunContext) -> dict[str, Any]:
    import numpy as np

    from paperzoo.core.parallel import parallel_map

    from .arena import Tournament
    from .environments import ItemDivision, PriceBargain
    from .language import paraphrase_accuracy, round_trip

    wall = time.perf_counter()
    stages: dict[str, float] = {}
    with ctx.stage(f"supervised and RL policies, {len(seeds)} seeds in worker processes"):
        studies = parallel_map(seed_study, [(seed, config) for seed in seeds], config["workers"], ctx, "seeds")
    stages["seeds"] = time.perf_counter() - wall
    items = ItemDivision(max_turns=config["max_turns"])
    test = items.scenarios(config["test_scenarios"], config["data_seed"] + 1)
    price = PriceBargain(max_turns=config["price_max_turns"])
    listings = price.scenarios(config["price_listings"], config["data_seed"] + 11)
    agents = _rule_agents(config["tournament_u_min"], config["random_p_accept"])
    tournaments = {}
    for name, env, scenarios in (("items", items, test[:config["tournament_scenarios"]]), ("price", price, listings)):
        clock = time.perf_counter()
        with ctx.stage(f"{name} tournament: {len(agents)} rule agents, {len(scenarios)} scenarios"):
            tournaments[name] = Tournament(agents, env, scenarios=scenarios, seeds=[seeds[0]]).run(
                config["workers"], ctx, log=ctx.path(f"tournament_{name}.jsonl"))
        stages[f"tournament_{name}"] = time.perf_counter() - clock
    clock = time.perf_counter()
    with ctx.stage("act layer: round trips and held-out paraphrases"):
        parse = {env.name: {"round_trip": round_trip(env, config["parse_acts"], seeds[0]),
                            "paraphrases": paraphrase_accuracy(env, config["paraphrase_draws"], seeds[0])}
                 for env in (items, price)}
    stages["parse"] = time.perf_counter() - clock
    clock = time.perf_counter()
    metrics = _metrics(config, studies, tournaments, parse, agents)
    metrics["concession"] = _concession_curves(items, test[:config["concession_scenarios"]])
    from .figures import make_figures

    make_figures(ctx, metrics, studies, tournaments, items, test[0])
    stages["metrics_and_figures"] = time.perf_counter() - clock
    metrics["seconds"] = {"total": time.perf_counter() - wall, "stages": stages,
                          "per_seed": [s["seconds"] for s in studies]}
    metrics["pareto_base_rate_test"] = float(np.mean([s["pareto_base"] for s in studies]))
    return metrics


def _paired(a: list[float], b: list[float], resamples: int, seed: int = 0) -> dict[str, Any]:
    import numpy as np

    from .evaluation import bootstrap_mean

    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    low, high = bootstrap_mean(diff, seed=seed, n_resamples=resamples)
    return {"mean": float(diff.mean()), "ci95": [low, high], "n": int(diff.size)}


def _metrics(config: dict, studies: list[dict], tournaments: dict, parse: dict, agents: list) -> dict[str, Any]:
    import numpy as np

    from .evaluation import bootstrap_mean

    resamples = config["bootstrap"]
    pooled = {key: [x for s in studies for x in s[f"{key}_games"]["own"]] for key in ("rl", "sl")}
    per_seed = []
    for s in studies:
        rl, sl = _summary_of(s["rl_games"]), _summary_of(s["sl_games"])
        held = {}
        for who in ("rl", "sl"):
            games = s["heldout"][who]
            agreed = np.concatenate([g["agreed"] for g in games.values()]).astype(bool)
            own = np.concatenate([g["own"] for g in games.values()])
            held[who] = {"agreement": float(agreed.mean()), "score_agreed": float(own[agreed].mean()),
                         "score_all": float(own.mean()),
                         "by_partner": {name: _summary_of(g) for name, g in games.items()}}
        per_seed.append({
            "seed": s["seed"], "rl_vs_sl": rl, "sl_vs_sl": sl,
            "score_gain": rl["score_all"] - sl["score_all"],
            "partner_change": rl["partner_score_all"] - sl["partner_score_all"],
            "heldout": held,
            "heldout_agreement_change": held["rl"]["agreement"] - held["sl"]["agreement"],
            "heldout_score_agreed_change": held["rl"]["score_agreed"] - held["sl"]["score_agreed"],
            "sl_decisions": s["sl_decisions"], "sl_accuracy": s["sl_accuracy"],
            "final_parse_rate": s["curve"][-1]["parse_rate"] if s["curve"] else None,
        })
    items_t = tournaments["items"]
    base_test = float(np.mean([s["pareto_base"] for s in studies]))
    # Each agent's own Pareto efficiency: its self-play deals (RL: against its frozen supervised partner).
    # Against a pool, a random agent would inherit its partners' Pareto-seeking proposals by accepting them.
    rule_rates = {a.name: items_t.summary(a.name, [a.name]) for a in agents}
    pareto = {"sl": {"rate": float(np.nanmean([p["sl_vs_sl"]["pareto"] for p in per_seed])), "base": base_test},
              "rl": {"rate": float(np.nanmean([p["rl_vs_sl"]["pareto"] for p in per_seed])), "base": base_test}}
    for name, summary in rule_rates.items():
        pareto[name] = {"rate": summary["pareto"], "base": summary["pareto_base"]}
    for entry in pareto.values():
        entry["ratio"] = entry["rate"] / entry["base"]

    def per_agent_ci(results: Any) -> dict[str, dict[str, Any]]:
        table = {}
        for a in agents:
            games, seats = results.games_of(a.name)
            agreed = np.array([g["agreed"] for g in games], dtype=bool)
            own = np.array([g["scores"][s] for g, s in zip(games, seats, strict=True)])
            table[a.name] = {**results.summary(a.name),
                             "agreement_ci95": list(bootstrap_mean(agreed.astype(float), n_resamples=resamples)),
                             "score_agreed_ci95": list(bootstrap_mean(own[agreed], n_resamples=resamples))}
        return table

    metrics: dict[str, Any] = {
        "full_studies": config["full_studies"],
        "per_seed": per_seed,
        "rl_minus_sl_score": _paired(pooled["rl"], pooled["sl"], resamples),
        "rl_score_all": float(np.mean(pooled["rl"])), "sl_score_all": float(np.mean(pooled["sl"])),
        "rl_partner_change": [p["partner_change"] for p in per_seed],
        "heldout_agreement_change": float(np.mean([p["heldout_agreement_change"] for p in per_seed])),
        "heldout_score_agreed_change": float(np.mean([p["heldout_score_agreed_change"] for p in per_seed])),
        "pareto": pareto,
        "tournament_items": per_agent_ci(items_t), "tournament_price": per_agent_ci(tournaments["price"]),
        "pairwise_items": items_t.pairwise(), "pairwise_price": tournaments["price"].pairwise(),
        "parse": {env: {"round_trip": p["round_trip"]["rate"], "round_trip_n": p["round_trip"]["n"],
                        "paraphrase_accuracy": p["paraphrases"]["accuracy"], "paraphrase_n": p["paraphrases"]["n"],
                        "paraphrase_failures": p["paraphrases"]["failures"][:20]}
                  for env, p in parse.items()},
        "rl_curve": [s["curve"] for s in studies],
    }
    metrics["boulware_vs_conceder"] = {
        kind: _pooled_summary(items_t, names)
        for kind, names in (("boulware", [a.name for a in agents if a.name.startswith("boulware")]),
                            ("conceder", [a.name for a in agents if a.name.startswith("conceder")]))}
    metrics["boulware_vs_conceder_price"] = {
        kind: _pooled_summary(tournaments["price"], [a.name for a in agents if a.name.startswith(kind)])
        for kind in ("boulware", "conceder")}
    if config["full_studies"]:
        metrics["rollouts_minus_sl_score"] = _paired([x for s in studies for x in s["rollout_games"]["own"]],
                                                     pooled["sl"], resamples)
        metrics["rollouts_minus_sl_pareto_deals"] = _paired(
            [float(x) for s in studies for x in s["rollout_games"]["pareto"]],
            [float(x) for s in studies for x in s["sl_games"]["pareto"]], resamples)
        metrics["act_rl"] = {reward: {m: float(np.mean([s["act_rl"][reward][m] for s in studies]))
                                      for m in ("utility", "agreement", "fairness", "length")}
                             for reward in studies[0]["act_rl"]}
        metrics["e2e"] = {k: float(np.mean([s["e2e"][k] for s in studies])) for k in ("before", "after", "modular")}
    return metrics


def _pooled_summary(results: Any, names: list[str]) -> dict[str, float]:
    """Metrics of several agents pooled over their games against the whole pool."""
    from .evaluation import metrics as measure

    games, seats = [], []
    for name in names:
        g, s = results.games_of(name)
        games += g
        seats += s
    return measure(games, seat=seats)


# ---------------------------------------------------------------- claims



def _full_only(check: Any) -> Any:
    """A claim that only the full preset measures: failed as not run at quick, never held."""

    def wrapped(m: dict) -> Evidence:
        return check(m) if m["full_studies"] else Evidence.not_run("at quick (full preset only)")

    wrapped.__name__ = check.__name__
    return wrapped


@numeric_metrics
def _rl_beats(m: dict) -> Evidence:
    d = m["rl_minus_sl_score"]
    ok = d["mean"] >= RL_MIN_GAIN and d["ci95"][0] > 0
    seeds = ", ".join(f"{p['score_gain']:+.2f}" for p in m["per_seed"])
    return Evidence({"mean_gain": d["mean"], "ci95": d["ci95"]}, bool(ok),
                    f"score(all) vs the frozen supervised partner: RL {m['rl_score_all']:.2f}, supervised "
                    f"{m['sl_score_all']:.2f}; paired gain {d['mean']:+.2f} (95% bootstrap CI {d['ci95'][0]:+.2f} to "
                    f"{d['ci95'][1]:+.2f}, {d['n']} paired games; per seed {seeds}); needs >= +{RL_MIN_GAIN} "
                    "and CI > 0")


@numeric_metrics
def _rl_exploits(m: dict) -> Evidence:
    changes = m["rl_partner_change"]
    return Evidence(changes, bool(changes and all(c < 0 for c in changes)),
                    "partner score(all) in the RL game minus in the supervised game, per seed: "
                    + ", ".join(f"{c:+.2f}" for c in changes) + "; needs < 0 in every seed")


@numeric_metrics
def _rl_agrees_less(m: dict) -> Evidence:
    da, ds = m["heldout_agreement_change"], m["heldout_score_agreed_change"]
    ok = da <= AGREE_DROP and ds > 0
    def side(held: dict, who: str) -> str:
        return f"{who.upper()} {held[who]['agreement']:.1%} / {held[who]['score_agreed']:.2f}"

    seeds = "; ".join(f"seed {p['seed']}: {side(p['heldout'], 'rl')}, {side(p['heldout'], 'sl')}"
                      for p in m["per_seed"])
    return Evidence({"agreement_change": da, "score_agreed_change": ds}, bool(ok),
                    f"vs 3 held-out reservation partners, RL − SL (seed means): agreement {100 * da:+.1f} points, "
                    f"score(agreed) {ds:+.2f} ({seeds}); needs agreement <= {100 * AGREE_DROP:+.0f} point and "
                    "score(agreed) > 0")


@numeric_metrics
@_full_only
def _rollouts_help(m: dict) -> Evidence:
    s, p = m["rollouts_minus_sl_score"], m["rollouts_minus_sl_pareto_deals"]
    ok = all(x > 0 for x in (s["mean"], s["ci95"][0], p["mean"], p["ci95"][0]))
    return Evidence({"score_gain": s["mean"], "pareto_gain": p["mean"]}, bool(ok),
                    f"rollouts − supervised vs the frozen supervised partner: score(all) {s['mean']:+.2f} (CI "
                    f"{s['ci95'][0]:+.2f} to {s['ci95'][1]:+.2f}), Pareto-optimal deals per game {p['mean']:+.3f} "
                    f"(CI {p['ci95'][0]:+.3f} to {p['ci95'][1]:+.3f}); needs both > 0 with CI > 0")


@numeric_metrics
def _pareto(m: dict) -> Evidence:
    entries = m["pareto"]
    trained = {k: v for k, v in entries.items() if k != "random"}
    ok = all(v["ratio"] >= PARETO_RATIO for v in trained.values()) and entries["random"]["ratio"] < RANDOM_RATIO
    detail = ", ".join(f"{k} no deals in self-play" if math.isnan(v["ratio"])
                       else f"{k} {v['rate']:.2f} ({v['ratio']:.1f}x)" for k, v in entries.items())
    return Evidence({k: v["ratio"] for k, v in entries.items()}, bool(ok),
                    f"Pareto rate of self-play deals (RL: vs its frozen supervised partner; x base rate "
                    f"{entries['sl']['base']:.2f}): {detail}; needs >= "
                    f"{PARETO_RATIO:g}x for SL, RL and each rule agent and < {RANDOM_RATIO:g}x for random")


@numeric_metrics
def _boulware(m: dict) -> Evidence:
    b, c = m["boulware_vs_conceder"]["boulware"], m["boulware_vs_conceder"]["conceder"]
    ok = (b["score_agreed"] > c["score_agreed"] and b["length"] > c["length"]
          and c["agreement"] >= b["agreement"])
    pb, pc = m["boulware_vs_conceder_price"]["boulware"], m["boulware_vs_conceder_price"]["conceder"]
    return Evidence({"boulware": b, "conceder": c}, bool(ok),
                    f"items, vs the whole rule pool: Boulware score(agreed) {b['score_agreed']:.2f}, length "
                    f"{b['length']:.1f}, agreement {b['agreement']:.1%}; Conceder {c['score_agreed']:.2f}, "
                    f"{c['length']:.1f}, {c['agreement']:.1%} (prices, not scored: Boulware utility(agreed) "
                    f"{pb['score_agreed']:.2f}, {pb['length']:.1f} messages, {pb['agreement']:.1%} agreed; Conceder "
                    f"{pc['score_agreed']:.2f}, {pc['length']:.1f}, {pc['agreement']:.1%})")


@numeric_metrics
@_full_only
def _tradeoff(m: dict) -> Evidence:
    a = m["act_rl"]
    ok = (a["margin"]["utility"] > a["fair"]["utility"]
          and a["margin"]["agreement"] < a["fair"]["agreement"]
          and a["fair"]["fairness"] > a["margin"]["fairness"])
    detail = "; ".join(f"{k}: utility {v['utility']:.3f}, agreement {v['agreement']:.1%}, "
                       f"fairness {v['fairness']:.3f}, length {v['length']:.1f}" for k, v in a.items())
    return Evidence(a, bool(ok), f"ActRL vs the frozen supervised price policy — {detail}")


@numeric_metrics
def _acts_parse(m: dict) -> Evidence:
    p = m["parse"]
    ok = all(v["round_trip"] == 1.0 and v["paraphrase_accuracy"] >= PARAPHRASE_MIN for v in p.values())
    detail = "; ".join(f"{env}: round trip {v['round_trip']:.1%} of {v['round_trip_n']} acts, held-out paraphrases "
                       f"{v['paraphrase_accuracy']:.1%} of {v['paraphrase_n']}" for env, v in p.items())
    observed = {env: {"round_trip": v["round_trip"], "paraphrases": v["paraphrase_accuracy"]} for env, v in p.items()}
    return Evidence(observed, bool(ok), f"{detail}; needs 100% round trip and >= {PARAPHRASE_MIN:.0%} paraphrases")


@numeric_metrics
@_full_only
def _drifts(m: dict) -> Evidence:
    e = m["e2e"]
    ok = e["before"] - e["after"] >= DRIFT_MIN and e["modular"] == 1.0
    return Evidence(e, bool(ok), f"legal-act parse rate of the end-to-end agent's lines {e['before']:.1%} before RL, "
                                 f"{e['after']:.1%} after; the act-level RL agent's rendered acts {e['modular']:.1%}; "
                                 f"needs a fall >= {100 * DRIFT_MIN:.0f} points and 100% modular")


# ---------------------------------------------------------------- the chat command


def _negotiate_arguments(parser: Any) -> None:
    parser.add_argument("--env", default="items", choices=("items", "price"),
                        help="items (DealOrNoDeal-style) or price (CraigslistBargain-style)")
    parser.add_argument("--agent", default="boulware",
                        choices=("boulware", "linear", "conceder", "titfortat", "random", "supervised", "rl"),
                        help="the opponent (supervised and rl train for a few seconds first)")
    parser.add_argument("--seed", type=int, default=0, help="scenario, seats and agent randomness")
    parser.add_argument("--u-min", type=float, default=0.3, dest="u_min",
                        help="a rule agent's reservation utility in [0, 1) (0.3)")
    parser.add_argument("--role", default=None, help="your seat: A or B (items), seller or buyer (price)")


PAPER = register(Paper(
    id="negotiation", title="Let's Negotiate! A Survey of Negotiation Dialogue Systems", arxiv="2212.09072",
    presets=PRESETS,
    claims=[
        Claim("rl-beats-supervised", "RL raises the score against the same supervised partner (Lewis et al.)",
              "7.1 vs 5.4 score(all)", _rl_beats),
        Claim("rl-exploits-partner", "The RL agent's partner scores less than against the supervised agent",
              "4.2 vs 5.5", _rl_exploits),
        Claim("rl-agrees-less", "Against new partners RL agrees less but gains more when it agrees",
              "humans: 67.3% vs 76.5% agreed", _rl_agrees_less),
        Claim("rollouts-help", "Rollout planning raises score and Pareto rate", "7.3 vs 5.4; 63.7% vs 49.6% Pareto",
              _rollouts_help),
        Claim("pareto-above-chance", "Trained and rule agents reach Pareto-optimal deals well above chance",
              "49.6–74.8% Pareto", _pareto),
        Claim("boulware-vs-conceder", "Boulware wins more per deal and takes longer; Conceder agrees faster",
              "Faratin et al.; GENIUS", _boulware),
        Claim("utility-fairness-tradeoff", "A utility reward gives higher utility and lower agreement than a fairness "
              "reward (He et al.)", "trend, numbers unverified", _tradeoff),
        Claim("acts-parse", "The modular act layer is reliable", "parse(generate(a)) = a; paraphrases", _acts_parse),
        Claim("end-to-end-drifts", "RL on words degrades the language, RL on acts does not (Lewis, He)",
              "qualitative", _drifts),
    ],
    run=run, summary="negotiation environments, dialogue acts, rule/supervised/RL agents, arena, survey metrics, chat",
    readme=Path(__file__).with_name("README.md"),
    key_metrics=("rl_score_all", "sl_score_all", "rl_minus_sl_score", "rl_partner_change", "heldout_agreement_change",
                 "heldout_score_agreed_change", "pareto", "boulware_vs_conceder", "parse"),
    captions={
        "tournament_heatmap.png": "Mean score of the row agent against the column agent (items: points; prices: "
                                  "utility), both seats and first movers: Boulware rows are bright against Conceder.",
        "agreement_vs_score.png": "Agreement against score(agreed) per agent with 95% bootstrap CIs: hard bargainers "
                                  "sit up and to the left (more per deal, fewer deals).",
        "rl_curve.png": "RL against its frozen supervised partner: own and partner score and the modular parse rate "
                        "per 500 dialogues; the gap opening between the two scores is the exploitation.",
        "pareto_frontier.png": "All divisions of one scenario by both scores, the Pareto frontier and the deals the "
                               "rule agents reached on it (marker size = how often).",
        "concession_curves.png": "Target (line) and actual bid (dots) own utility by message for time-dependent "
                                 "agents: Boulware (e = 0.2) holds out, Conceder (e = 5) gives in early.",
    },
    commands=[Command("negotiate", "negotiate with an agent in the terminal (negotiation paper)",
                      _negotiate_arguments, "paperzoo.papers.negotiation.chat:negotiate")],
))
