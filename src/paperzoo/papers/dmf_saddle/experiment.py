"""Reproduction of Cao et al. (arXiv 2212.14150): SPE stages of deep matrix factorization.

Every setting trains DMF by plain GD (sum-form loss) on seeded synthetic low-rank targets, counts
stages, certifies plateau midpoints and end points, and compares with GLRL and nuclear-norm completion.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

from paperzoo.core import Claim, Evidence, Paper, RunContext, register
from paperzoo.core.parallel import parallel_map, resolve_workers


def _setting(n: int, singular_values: list[float], depth: int, init_scale: float, fraction: float | None,
             lr: float, steps: int) -> dict[str, Any]:
    obs = "full" if fraction is None else f"obs{round(100 * fraction)}"
    name = f"n{n}-R{len(singular_values)}-d{depth}-s{init_scale:g}-{obs}-lr{lr:g}"
    return {"name": name, "n": n, "singular_values": singular_values, "depth": depth, "init": "gaussian",
            "init_scale": init_scale, "fraction": fraction, "lr": lr, "steps": steps}


QUICK_SV = [10.0, 6.0, 3.0]
_QUICK = [_setting(20, QUICK_SV, d, s, f, 0.01, 30_000)
          for d, s, f in [(3, 1e-3, None), (3, 1e-3, 0.6), (3, 1e-2, None), (2, 1e-2, None), (2, 1e-3, None)]]
_FULL_SV = {r: [round(10 * 0.6 ** i, 6) for i in range(r)] for r in range(1, 6)}
_FULL = [_setting(n, _FULL_SV[r], d, s, f, lr, 60_000)
         for r, n, d, s, f, lr in itertools.product(range(1, 6), (20, 50), (2, 3, 4), (1e-2, 1e-3), (None, 0.6),
                                                     (0.005, 0.01, 0.02))]

PRESETS: dict[str, dict[str, Any]] = {
    "quick": {
        "seeds": 5, "settings": _QUICK, "log_every": 50, "tau": 0.1, "tau_check": [0.05, 0.1, 0.3],
        "plateau_window": 200, "loss_form": "sum (0.5 * squared error over observed entries)",
        "clean_min_fraction": 0.8,
        "depth_pair": [_QUICK[3]["name"], _QUICK[2]["name"]], "depth_test": "gap", "depth_min_gap": 0.6,
        "glrl_setting": _QUICK[1]["name"], "glrl_eps": 1e-3, "glrl_min_cosine": 0.9, "glrl_min_fraction": 0.8,
        "figure_settings": [_QUICK[0]["name"], _QUICK[1]["name"]],
        "overview_settings": [s["name"] for s in _QUICK], "certify_max_params": 2000, "workers": 0,
        "completion": {"seeds": 3, "n": 30, "singular_values": QUICK_SV, "n_obs": [300], "depths": [2, 3],
                       "init": "gaussian", "init_scale": 1e-3, "lr": 0.01, "steps": 30_000, "nuclear_tol": 1e-3,
                       "claim_n_obs": 300, "min_win_fraction": 2 / 3},
    },
    "full": {
        "seeds": 10, "settings": _FULL, "log_every": 50, "tau": 0.1, "tau_check": [0.05, 0.1, 0.3],
        "plateau_window": 200, "loss_form": "sum (0.5 * squared error over observed entries)",
        "clean_min_fraction": 0.9,
        "depth_pair": [_setting(20, _FULL_SV[3], 2, 1e-2, None, 0.01, 60_000)["name"],
                       _setting(20, _FULL_SV[3], 3, 1e-2, None, 0.01, 60_000)["name"]],
        "depth_test": "fisher", "depth_alpha": 0.05,
        "glrl_setting": _setting(20, _FULL_SV[3], 3, 1e-3, 0.6, 0.01, 60_000)["name"], "glrl_eps": 1e-3,
        "glrl_min_cosine": 0.9, "glrl_min_fraction": 0.8,
        "figure_settings": [_setting(20, _FULL_SV[5], 3, 1e-3, None, 0.01, 60_000)["name"],
                            _setting(20, _FULL_SV[3], 3, 1e-3, 0.6, 0.01, 60_000)["name"]],
        "overview_settings": [_setting(20, _FULL_SV[3], d, s, None, 0.01, 60_000)["name"]
                              for d in (2, 3, 4) for s in (1e-2, 1e-3)],
        "certify_max_params": 2000, "workers": 0,
        # The Arora et al. setup: n = 100, rank 5, 2000 and 5000 observed entries, Arora's init.
        "completion": {"seeds": 5, "n": 100, "singular_values": _FULL_SV[5], "n_obs": [2000, 5000],
                       "depths": [2, 3, 4], "init": "arora", "init_scale": 1e-3, "lr": 0.01, "steps": 60_000,
                       "nuclear_tol": 1e-3, "claim_n_obs": 2000, "min_win_fraction": 0.8},
    },
}


def _certified(setting: dict[str, Any], config: dict[str, Any]) -> bool:
    """Certificates use the exact Hessian, so only settings with N·n² ≤ `certify_max_params` get them:
    Lanczos cannot resolve λ_min ≈ 0 next to the (N−1)·n²-dimensional near-null cluster at end points."""
    return setting["depth"] * setting["n"] ** 2 <= config["certify_max_params"]


def _run_one(setting: dict[str, Any], seed: int, config: dict[str, Any], keep: bool) -> dict[str, Any]:
    """Train one seed of one setting; certify plateau midpoints (clean runs) and the end point, and
    compare with GLRL when this is the GLRL setting. Returns plain data, so it can come from a worker."""
    from paperzoo.core.seeding import seed_everything

    from .certificates import second_order_check
    from .matrices import low_rank_matrix, observation_mask
    from .stages import check_clean, detect_stages, find_plateaus
    from .training import DeepMatrixFactorization, DivergenceError, train_dmf

    seed_everything(seed)
    sv, tau, steps = setting["singular_values"], config["tau"], setting["steps"]
    target = low_rank_matrix(setting["n"], sv, seed=seed)
    mask = observation_mask(target.shape, fraction=setting["fraction"], seed=seed)
    certify = _certified(setting, config)
    with_glrl = setting["name"] == config["glrl_setting"]
    model = DeepMatrixFactorization(target.shape, depth=setting["depth"], init=setting["init"],
                                    init_scale=setting["init_scale"], seed=seed)
    # Plateau midpoints are known only after training: keep the factors at every logged step.
    checkpoints = range(0, steps + 1, config["log_every"]) if certify or with_glrl else ()
    try:
        hist = train_dmf(model, target, mask, lr=setting["lr"], steps=steps, log_every=config["log_every"],
                         checkpoints=checkpoints)
    except DivergenceError as err:
        return {"seed": seed, "diverged": True, "clean": False, "reason": str(err)}
    rank = len(sv)
    stages = detect_stages(hist, tau, config["plateau_window"])
    clean, reason = check_clean(hist, stages, rank, tau, config["plateau_window"])
    out: dict[str, Any] = {
        "seed": seed, "diverged": False, "clean": clean, "reason": reason,
        "unit_increments": bool(stages) and all(s.jump == 1 for s in stages) and stages[-1].rank == rank,
        "onsets": [s.step for s in stages], "jumps": [s.jump for s in stages],
        "stage_counts_by_tau": {str(t): len(detect_stages(hist, t, config["plateau_window"]))
                                for t in config["tau_check"]},
        "n_plateaus": len(find_plateaus(hist, tau, config["plateau_window"])),
        "final_loss": float(hist.loss[-1]), "final_rank": int((hist.singular_values[-1] > tau).sum()),
        "plateaus": [],
    }
    if certify:
        end = second_order_check(model, target, mask)
        out["end"] = {"grad_norm": end.grad_norm, "lambda_min": end.lambda_min, "method": end.method}
    # Plateau midpoints, rounded down to a logged step (where the factors were kept).
    mids = [s.plateau.midpoint - s.plateau.midpoint % config["log_every"] for s in stages[:-1]] if clean else []
    if clean and certify:
        max_grad = float(hist.grad_norm.max())
        for k, (stage, mid) in enumerate(zip(stages[:-1], mids, strict=True), start=1):
            cert = second_order_check(hist.checkpoints[mid], target, mask)
            out["plateaus"].append({
                "k": k, "step": mid, "loss": stage.plateau.loss, "saddle_value": 0.5 * sum(s * s for s in sv[k:]),
                "grad_norm": cert.grad_norm, "grad_ratio": cert.grad_norm / max_grad, "lambda_min": cert.lambda_min})
        init_cert = second_order_check(hist.checkpoints[0], target, mask)
        out["init"] = {"grad_norm": init_cert.grad_norm, "lambda_min": init_cert.lambda_min}
    if with_glrl:
        out["glrl_min_cosine"] = _glrl_cosines(hist, mids, clean, target, mask, model, config)
    if keep:
        hist.checkpoints = {}
        out.update(_history=hist, _stages=stages)
    return out


def _glrl_cosines(hist: Any, mids: list[int], clean: bool, target: Any, mask: Any, model: Any,
                  config: dict[str, Any]) -> float | None:
    """Smallest cosine of the principal angles between DMF's top-k singular subspaces at plateau k (and
    at the end, k = R) and those of GLRL's rank-k iterate; None when the run is not clean."""
    import numpy as np
    import torch
    from scipy.linalg import subspace_angles

    from .baselines import glrl
    from .training import _product

    if not clean:
        return None
    greedy = glrl(target, mask, eps=config["glrl_eps"])
    points = [_product(hist.checkpoints[mid]) for mid in mids]
    points.append(model.end_to_end().detach())
    cosines = []
    for k, W in enumerate(points, start=1):
        if k > greedy.rank:
            return 0.0
        for a, b in ((W, greedy.iterates[k - 1]), (W.T, greedy.iterates[k - 1].T)):
            ua, ub = torch.linalg.svd(a)[0][:, :k].numpy(), torch.linalg.svd(b)[0][:, :k].numpy()
            cosines.extend(np.cos(subspace_angles(ua, ub)))
    return float(min(cosines))


def _depth_fisher_p(clean_depth2: list[bool], clean_depth3: list[bool]) -> float:
    """One-sided Fisher exact p that depth 3 is clean more often than depth 2 (paired settings)."""
    from paperzoo.core.stats import fisher_exact

    c2, c3 = sum(clean_depth2), sum(clean_depth3)
    table = [[c3, len(clean_depth3) - c3], [c2, len(clean_depth2) - c2]]
    return float(fisher_exact(table, alternative="greater").pvalue)


def _completion_one(cfg: dict[str, Any], n_obs: int, seed: int, method: str) -> float:
    """Test MSE over all entries of one completion method ("depth<N>" or "nuclear") on one seeded mask."""
    from .baselines import nuclear_norm_completion
    from .matrices import low_rank_matrix, observation_mask
    from .training import DeepMatrixFactorization, DivergenceError, train_dmf

    target = low_rank_matrix(cfg["n"], cfg["singular_values"], seed=seed)
    mask = observation_mask(target.shape, n_obs=n_obs, seed=seed)
    if method == "nuclear":
        estimate = nuclear_norm_completion(target, mask, tol=cfg["nuclear_tol"])
    else:
        model = DeepMatrixFactorization(target.shape, depth=int(method.removeprefix("depth")), init=cfg["init"],
                                        init_scale=cfg["init_scale"], seed=seed)
        try:
            train_dmf(model, target, mask, lr=cfg["lr"], steps=cfg["steps"], log_every=500)
        except DivergenceError:
            return float("inf")
        estimate = model.end_to_end().detach()
    return float(((estimate - target) ** 2).mean())


def _completion(config: dict[str, Any], seeds: list[int], ctx: RunContext) -> dict[str, Any]:
    """Test MSE over all entries: DMF at each depth vs nuclear-norm minimisation, same masks."""
    from paperzoo.core.stats import summarize

    cfg = config["completion"]
    methods = [f"depth{d}" for d in cfg["depths"]] + ["nuclear"]
    tasks = [(cfg, n_obs, seed, m) for n_obs in cfg["n_obs"] for seed in seeds[:cfg["seeds"]] for m in methods]
    results = dict(zip(((n, s, m) for _, n, s, m in tasks),
                       parallel_map(_completion_one, tasks, config["workers"], ctx, "completion runs"), strict=True))
    out: dict[str, Any] = {}
    for n_obs in cfg["n_obs"]:
        mse = {m: [results[n_obs, seed, m] for seed in seeds[:cfg["seeds"]]] for m in methods}
        wins = [all(mse["depth3"][i] < mse[m][i] for m in ("depth2", "nuclear")) for i in range(len(mse["nuclear"]))]
        out[str(n_obs)] = {"mse": {m: summarize(v) if all(x < float("inf") for x in v) else {"per_seed": v}
                                   for m, v in mse.items()},
                           "depth3_wins": wins}
    return out


def run(config: dict[str, Any], seeds: list[int], ctx: RunContext) -> dict[str, Any]:
    import numpy as np
    import torch

    from . import figures
    from .certificates import second_order_check
    from .training import LOSS_FORM

    torch.set_num_threads(1)
    clock = time.perf_counter()
    kept_names = {config["glrl_setting"], *config["figure_settings"], *config["overview_settings"]}
    tasks = [(setting, seed, config, seed == seeds[0] and setting["name"] in kept_names)
             for setting in config["settings"] for seed in seeds]
    ctx.log(f"{len(config['settings'])} settings x {len(seeds)} seeds on {resolve_workers(config['workers'])} "
            "worker process(es)")
    results = parallel_map(_run_one, tasks, config["workers"], ctx, "DMF runs")
    settings: dict[str, Any] = {}
    kept: dict[str, dict[int, dict[str, Any]]] = {}
    for i, setting in enumerate(config["settings"]):
        runs = results[i * len(seeds):(i + 1) * len(seeds)]
        if setting["name"] in kept_names and not runs[0]["diverged"]:
            kept[setting["name"]] = {seeds[0]: runs[0]}
        settings[setting["name"]] = {
            **{k: setting[k] for k in ("n", "depth", "init", "init_scale", "fraction", "lr", "steps")},
            "rank": len(setting["singular_values"]), "singular_values": setting["singular_values"],
            "certified": _certified(setting, config),
            "clean": [r["clean"] for r in runs], "clean_rate": float(np.mean([r["clean"] for r in runs])),
            "unit_increment_rate": float(np.mean([r.get("unit_increments", False) for r in runs])),
            "diverged": int(sum(r["diverged"] for r in runs)),
            "runs": [{k: v for k, v in r.items() if not k.startswith("_")} for r in runs],
        }
    seconds_dmf = time.perf_counter() - clock

    # Exact origin θ = 0 per depth: the Hessian vanishes for depth >= 3 (degenerate saddle).
    n0 = config["settings"][0]["n"]
    origin = {}
    for depth in sorted({s["depth"] for s in config["settings"]}):
        zeros = [torch.zeros(n0, n0, dtype=torch.float64) for _ in range(depth)]
        target = torch.diag(torch.tensor(config["settings"][0]["singular_values"] + [0.0] * n0)[:n0])
        cert = second_order_check(zeros, target)
        origin[f"depth{depth}"] = {"grad_norm": cert.grad_norm, "lambda_min": cert.lambda_min,
                                   "lambda_max": cert.lambda_max}

    glrl_runs = settings.get(config["glrl_setting"], {"runs": []})["runs"]
    glrl_cos = [r.get("glrl_min_cosine") for r in glrl_runs]

    all_runs = [(name, r) for name, st in settings.items() for r in st["runs"] if not r["diverged"]]
    clean_runs = [(name, r) for name, r in all_runs if r["clean"] and settings[name]["certified"]]
    d2, d3 = (settings.get(name) for name in config["depth_pair"])
    metrics: dict[str, Any] = {
        "loss_form": LOSS_FORM,
        "clean_rate_by_setting": {name: st["clean_rate"] for name, st in settings.items()},
        "unit_increment_rate_by_setting": {name: st["unit_increment_rate"] for name, st in settings.items()},
        "depth3_settings": [name for name, st in settings.items() if st["depth"] == 3],
        "clean_runs": sum(r["clean"] for _, r in all_runs), "certified_clean_runs": len(clean_runs),
        "runs": len(all_runs), "diverged_runs": sum(st["diverged"] for st in settings.values()),
        "plateau_rel_errors": [abs(p["loss"] - p["saddle_value"]) / p["saddle_value"] for name, r in clean_runs
                               if settings[name]["fraction"] is None for p in r["plateaus"]],
        "plateau_certificates": [{"setting": name, "seed": r["seed"], **p} for name, r in clean_runs
                                 for p in r["plateaus"]],
        "end_certificates": [{"setting": name, "seed": r["seed"], "final_rank": r["final_rank"],
                              "rank": settings[name]["rank"], **r["end"]} for name, r in clean_runs],
        "init_lambda_min": [r["init"]["lambda_min"] for _, r in clean_runs],
        "origin": origin,
        "depth_pair": {"depth2": config["depth_pair"][0], "depth3": config["depth_pair"][1],
                       "clean_depth2": d2["clean"] if d2 else None, "clean_depth3": d3["clean"] if d3 else None,
                       "unit_increment_rate_depth2": d2["unit_increment_rate"] if d2 else None,
                       "unit_increment_rate_depth3": d3["unit_increment_rate"] if d3 else None},
        "glrl_min_cosine": glrl_cos,
        "seconds_dmf": seconds_dmf,
        "thresholds": {k: config[k] for k in ("clean_min_fraction", "depth_test", "glrl_min_cosine",
                                              "glrl_min_fraction")}
        | {"depth_min_gap": config.get("depth_min_gap"), "depth_alpha": config.get("depth_alpha"),
           "completion_n_obs": config["completion"]["claim_n_obs"],
           "completion_min_win_fraction": config["completion"]["min_win_fraction"]},
    }
    if d2 and d3:
        metrics["depth_pair"]["fisher_p"] = _depth_fisher_p(d2["clean"], d3["clean"])
    with ctx.stage("completion: DMF depths vs nuclear norm"):
        metrics["completion"] = _completion(config, seeds, ctx)
    metrics["settings"] = settings

    figures.stage_figure(ctx, kept, config)
    figures.certificate_table(ctx, metrics)
    figures.completion_figure(ctx, metrics["completion"])
    return metrics


def _stages_equal_rank(m: dict[str, Any]) -> Evidence:
    need = m["thresholds"]["clean_min_fraction"]
    rates = {name: m["clean_rate_by_setting"][name] for name in m["depth3_settings"]}
    units = {name: m["unit_increment_rate_by_setting"][name] for name in m["depth3_settings"]}
    ok = bool(rates) and all(rate >= need for rate in rates.values())
    if len(rates) <= 6:
        return Evidence(rates, ok, f"clean rate per depth-3 setting (need >= {need} each): {rates}. Rate of runs "
                        f"whose r_tau rises one at a time to R, ignoring the 200-step plateau condition: {units}")
    passing = sum(rate >= need for rate in rates.values())
    lowest = dict(sorted(rates.items(), key=lambda item: item[1])[:5])
    unit_ok = sum(rate >= need for rate in units.values())
    return Evidence(rates, ok, f"{passing}/{len(rates)} depth-3 settings clean in >= {need} of seeds; lowest: "
                    f"{lowest}. Ignoring the 200-step plateau condition (r_tau rises one at a time to R): "
                    f"{unit_ok}/{len(units)} settings")


def _plateaus_at_saddle_values(m: dict[str, Any]) -> Evidence:
    errors = m["plateau_rel_errors"]
    worst = max(errors) if errors else None
    ok = bool(errors) and worst <= 0.02
    return Evidence(worst, ok, f"{len(errors)} plateaus (clean full-observation runs, k >= 1); worst relative gap "
                    f"to 0.5*sum_(i>k) sigma_i^2: {worst if worst is None else f'{worst:.2e}'} (need <= 2%)")


def _plateaus_are_saddles(m: dict[str, Any]) -> Evidence:
    # Only the curvature decides: plateau detection already demands ||grad|| <= 1e-2 max||grad|| over the
    # plateau window, so a gradient test at the midpoint could not fail. The ratio is reported, not tested.
    certs = m["plateau_certificates"]
    worst_ratio = max((c["grad_ratio"] for c in certs), default=None)
    worst_lam = max((c["lambda_min"] for c in certs), default=None)
    ok = bool(certs) and worst_lam <= -1e-3
    origin = {d: f"{o['lambda_min']:.1e}..{o['lambda_max']:.1e}" for d, o in m["origin"].items()}
    init = m["init_lambda_min"]
    return Evidence({"max_lambda_min": worst_lam, "max_grad_ratio": worst_ratio}, ok,
                    f"{len(certs)} plateau midpoints in {m['certified_clean_runs']} certified clean runs: "
                    f"max lambda_min = {worst_lam} (need <= -1e-3 at every one); max ||grad||/max||grad|| = "
                    f"{worst_ratio} (small by the plateau definition, not tested). Hessian spectrum at theta = 0: "
                    f"{origin}; lambda_min at the initial point: "
                    + (f"{min(init):.2g}..{max(init):.2g}" if init else "none certified"))


def _ends_second_order(m: dict[str, Any]) -> Evidence:
    ends = m["end_certificates"]
    g = max((e["grad_norm"] for e in ends), default=None)
    lam = min((e["lambda_min"] for e in ends), default=None)
    ranks_ok = all(e["final_rank"] == e["rank"] for e in ends)
    ok = bool(ends) and g <= 1e-6 and lam >= -1e-6 and ranks_ok
    return Evidence({"max_grad_norm": g, "min_lambda_min": lam}, ok,
                    f"{len(ends)} certified clean runs: max final ||grad|| = {g}, min final lambda_min = {lam}, "
                    f"r_tau = R in all: {ranks_ok} (need ||grad|| <= 1e-6, lambda_min >= -1e-6)")


def _depth_sharpens_stages(m: dict[str, Any]) -> Evidence:
    pair, th = m["depth_pair"], m["thresholds"]
    if pair["clean_depth2"] is None or pair["clean_depth3"] is None:
        return Evidence(None, False, f"not measured: settings {pair['depth2']} / {pair['depth3']} were not run")
    r2 = sum(pair["clean_depth2"]) / len(pair["clean_depth2"])
    r3 = sum(pair["clean_depth3"]) / len(pair["clean_depth3"])
    if th["depth_test"] == "fisher":
        ok, need = pair["fisher_p"] < th["depth_alpha"], f"one-sided Fisher p < {th['depth_alpha']}"
    else:
        ok, need = r3 - r2 >= th["depth_min_gap"], f"gap >= {th['depth_min_gap']}"
    return Evidence({"depth3": r3, "depth2": r2, "gap": r3 - r2}, ok,
                    f"clean rate depth 3 {r3:.2f} vs depth 2 {r2:.2f} at the same init (need {need}; "
                    f"Fisher p = {pair['fisher_p']:.3g}). Unit-increment rate (no plateau condition): depth 3 "
                    f"{pair['unit_increment_rate_depth3']:.2f}, depth 2 {pair['unit_increment_rate_depth2']:.2f}")


def _matches_glrl(m: dict[str, Any]) -> Evidence:
    th = m["thresholds"]
    cos = m["glrl_min_cosine"]
    hits = [c is not None and c >= th["glrl_min_cosine"] for c in cos]
    ok = bool(cos) and sum(hits) / len(cos) >= th["glrl_min_fraction"]
    return Evidence(cos, ok, f"{sum(hits)}/{len(cos)} seeds with all principal-angle cosines >= "
                    f"{th['glrl_min_cosine']} at every plateau and the end (None = run not clean); need "
                    f">= {th['glrl_min_fraction']:.2f} of seeds")


def _depth_helps_completion(m: dict[str, Any]) -> Evidence:
    th = m["thresholds"]
    res = m["completion"][str(th["completion_n_obs"])]
    wins = res["depth3_wins"]
    ok = bool(wins) and sum(wins) / len(wins) >= th["completion_min_win_fraction"] - 1e-9
    means = {k: v.get("mean", v.get("per_seed")) for k, v in res["mse"].items()}
    return Evidence({"wins": sum(wins), "seeds": len(wins), "mse": means}, ok,
                    f"{th['completion_n_obs']} observed entries: depth 3 beats depth 2 and nuclear norm in "
                    f"{sum(wins)}/{len(wins)} seeds (need >= {th['completion_min_win_fraction']:.2f}); "
                    f"mean test MSE {means}")


PAPER = register(Paper(
    id="dmf-saddle",
    title="A Dynamics Theory of Implicit Regularization in Deep Low-Rank Matrix Factorization",
    arxiv="2212.14150",
    presets=PRESETS,
    claims=[
        Claim("stages-equal-rank", "For a rank-R target, GD on deep matrix factorization reaches rank R after R "
              "saddle-point-escaping stages, one rank each", "R stages (pilot: 5/5 clean at depth 3)",
              _stages_equal_rank),
        Claim("plateaus-at-saddle-values", "The stages are escapes from rank-k critical points: plateau losses "
              "equal 0.5*sum_(i>k) sigma_i^2 under full observation", "exact (theory)", _plateaus_at_saddle_values),
        Claim("plateaus-are-saddles", "The plateaus are strict saddles: negative curvature where the gradient "
              "is small", "lambda_min < 0 at every plateau", _plateaus_are_saddles),
        Claim("ends-second-order", "DMF converges to a second-order critical point of rank R",
              "||grad|| = 0, lambda_min >= 0, rank R", _ends_second_order),
        Claim("depth-sharpens-stages", "Depth strengthens incremental (stage-wise) learning (Arora et al. 2019)",
              "depth 3 cleaner than depth 2", _depth_sharpens_stages),
        Claim("matches-glrl", "The stages follow the greedy low-rank learning path (Li, Luo & Lyu 2021)",
              "same rank-k subspaces", _matches_glrl),
        Claim("depth-helps-completion", "Depth 3 recovers a low-rank matrix with lower error than depth 2 and "
              "nuclear-norm minimisation (Arora et al. 2019)", "depth 3 < depth 2, nuclear", _depth_helps_completion),
    ],
    run=run,
    summary="Deep matrix factorization by GD with analytic gradients, stage detection, Hessian certificates, "
            "GLRL and nuclear-norm baselines",
    readme=Path(__file__).with_name("README.md"),
    key_metrics=("clean_rate_by_setting", "plateau_rel_errors", "glrl_min_cosine", "origin"),
    captions={
        "stages.png": "Singular values of W = W_N...W_1 over GD steps (top) and the loss on a log scale (bottom) "
                      "for the first seed: red lines mark stage onsets (r_tau rises), orange bars the detected "
                      "plateaus, dashed blue lines the rank-k saddle values 0.5*sum_(i>k) sigma_i^2.",
        "settings.png": "sigma(W) over steps for each depth, init scale and observation fraction (first seed): "
                        "small init and depth 3 give separated stages; depth 2 at s = 1e-2 merges them.",
        "certificates.png": "Second-order certificates of the first clean seed per certified setting: gradient "
                            "norm and smallest Hessian eigenvalue at the start, at every plateau midpoint and at "
                            "the end, and at the origin theta = 0 per depth.",
        "completion.png": "Matrix completion: test MSE over all entries per seed for DMF of depth 2 and 3 and "
                          "nuclear-norm minimisation, on the same target and mask per seed.",
    },
))
