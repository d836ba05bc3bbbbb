"""Reproduction: the anchor systems of the survey's four paradigms, run on one runtime of real processes."""

from __future__ import annotations

import os
from pathlib import Path

from paperzoo.core import Claim, Evidence, Paper, RunContext, register

# Regimes from the anchors. Every constant that shapes a claim is fixed here, before any claim is
# computed, and never retuned after; SOURCES names where each comes from ("spec" = the project's paper
# spec, which fixes what the anchors' texts available to us do not).
SOURCES = {
    "model": "MiniAlexNet: AlexNet (Neurosurgeon's vision model, Kang et al. 2017) at half width on 3x112x112; "
             "per-layer compute and activation sizes keep AlexNet's profile, device-only is tens of ms at "
             "slowdown 10. EdgeNet (spec) is planned next to it",
    "slowdown": "spec: device 10, edge 3, cloud 1. Kang et al. 2017 compare a Jetson TK1 mobile platform with a "
                "Tesla K40 server; an order of magnitude between them is our reading of their AlexNet timings, "
                "not a figure quoted from the text",
    "networks": "Kang et al. 2017 (Neurosurgeon) measured uplinks: 3G 1.1, LTE 5.85, Wi-Fi 18.88 Mbit/s, bracketed "
                "by the spec's sweep ends 0.1 and 1000 Mbit/s",
    "latency_cloud_s": "spec: 10 ms one way to the cloud on every network; per-network latencies are not given in "
                       "the parts of Kang et al. we could check, so none is invented",
    "latency_edge_s": "spec: 2 ms one way to the edge (one wireless hop, Edgent's device-edge setting)",
    "d2d_link": "assumed 100 Mbit/s, 1 ms (an 802.11n-class WLAN between devices); MoDNN and DeepThings use WLANs "
                "but their rates are not in the texts we could check",
    "d2d_workers": "MoDNN: 2-4 devices; DeepThings: 2-6 (quick 1, 2, 4; full 1-6)",
    "edgent_budget_span": "Edgent (Li et al. 2018) sweeps latency requirements across its model's feasible range: "
                          "budgets from 1.05 x the fastest (exit, split) to 1.2 x the slowest best-per-exit",
    "exit_model": "BranchyNet (Teerapittayanon et al. 2016): side exits of one layer next to heavier blocks; "
                  "entropy thresholds from validation data; 1-D CNN on MNIST-1D (spec)",
    "measurement": "medians of repeated requests after warm-up; compute dilated from a per-layer profile taken in "
                   "the same run; gRPC/serialisation overhead per hop measured in the same run",
}
COMMON = {"slowdown": {"device": 10, "edge": 3, "cloud": 1}, "latency_cloud_s": 0.010, "latency_edge_s": 0.002,
          "d2d_link": [100e6, 0.001], "profile_repeats": 20, "regression_configs": 200, "exit_epochs": 10,
          "exit_widths": [32, 128, 128, 128], "threshold_max_drop": 0.005, "edgent_budget_span": [1.05, 1.2],
          "skip_factor": 20.0, "warmup": 2, "hop_requests": 20, "exit_path_repeats": 30, "d2d_profile_repeats": 5,
          "model": "MiniAlexNet", "sources": SOURCES}
NETWORKS = [["0.1 Mbit/s", 0.1], ["3G", 1.1], ["LTE", 5.85], ["Wi-Fi", 18.88], ["1 Gbit/s", 1000.0]]
PRESETS = {
    "quick": {**COMMON, "seeds": 3, "networks": NETWORKS, "requests": 10, "few_requests": 3,
              "grid_de_mbps": [10, 100], "grid_ec_mbps": [1, 10], "dags_2tier": 200, "dag_nodes_2tier": 12,
              "dags_3tier": 100, "dag_nodes_3tier": 8, "edgent_bandwidths_mbps": [1, 10], "edgent_budgets": 6,
              "edgent_requests": 5, "d2d_workers": [1, 2, 4], "d2d_reps": 5},
    "full": {**COMMON, "seeds": 5, "requests": 30, "few_requests": 3,
             "networks": sorted(NETWORKS + [["0.3 Mbit/s", 0.3], ["3 Mbit/s", 3.0], ["10 Mbit/s", 10.0],
                                            ["100 Mbit/s", 100.0], ["300 Mbit/s", 300.0]], key=lambda n: n[1]),
             "grid_de_mbps": [1, 10, 100], "grid_ec_mbps": [1, 10, 100], "dags_2tier": 200,
             "dag_nodes_2tier": 12, "dags_3tier": 100, "dag_nodes_3tier": 8, "edgent_bandwidths_mbps": [0.3, 1, 10],
             "edgent_budgets": 10, "edgent_requests": 10, "d2d_workers": [1, 2, 3, 4, 5, 6], "d2d_reps": 10},
    # for tests: every stage once, in seconds
    "tiny": {**COMMON, "seeds": 1, "model": "EdgeNet", "networks": [["0.1 Mbit/s", 0.1], ["1 Gbit/s", 1000.0]],
             "requests": 2, "few_requests": 1, "warmup": 1, "profile_repeats": 2, "regression_configs": 6,
             "grid_de_mbps": [100], "grid_ec_mbps": [10], "dags_2tier": 5, "dag_nodes_2tier": 6, "dags_3tier": 3,
             "dag_nodes_3tier": 5, "exit_epochs": 1, "exit_path_repeats": 3, "edgent_bandwidths_mbps": [10],
             "edgent_budgets": 2, "edgent_requests": 1, "d2d_workers": [1, 2], "d2d_reps": 1,
             "d2d_profile_repeats": 1, "hop_requests": 3},
}
# The host counts as loaded when the 1-min load average was >= 1 at the start (one busy core before we
# began) or >= 2 at the end (more than this run's own ~1).
LOADED_START, LOADED_END = 1.0, 2.0


def _load() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def _planning_links(links, hop_s):
    """The links the planners see: each hop also pays half the measured serialisation + gRPC round trip."""
    from .planning import Link

    return [Link(ln.bandwidth_bps, ln.latency_s + hop_s / 2) for ln in links]


def _chain_study(model, prof, reg_prof, x, tiers, networks, latency_s, hop_s, config, address):
    """Neurosurgeon on one chain: predicted T(k) for every split at every network, then the measured
    median of every plausible split through the runtime."""
    import numpy as np

    from .planning import Link, Plan, chain_assignment, chain_latencies
    from .runtime import Runtime, measure

    rows = []
    for name, mbps in networks:
        links = [Link(mbps * 1e6, latency_s)]
        plinks = _planning_links(links, hop_s)
        pred = {k[0]: v for k, v in chain_latencies(prof, tiers, plinks).items()}
        reg = {k[0]: v for k, v in chain_latencies(reg_prof, tiers, plinks).items()}
        best_pred = min(pred.values())
        k_star, k_reg = min(pred, key=pred.get), min(reg, key=reg.get)

        def plan(k, links=links, pred=pred):
            return Plan(chain_assignment(prof, (k,)), pred[k], "chain", prof, tuple(tiers), tuple(links))

        measured = {}
        with Runtime(model, plan(k_star), tiers, links, addresses=[address], compute_profile=prof) as rt:
            for k, p in pred.items():
                if p > config["skip_factor"] * best_pred and k not in (k_star, k_reg):
                    continue
                rt.set_plan(plan(k))
                if p <= 3 * best_pred:
                    measured[k] = measure(rt, x, config["requests"], config["warmup"])["median_s"]
                else:
                    measured[k] = measure(rt, x, config["few_requests"], 1)["median_s"]
        best_meas = min(measured.values())
        rows.append({"network": name, "bandwidth_mbps": mbps, "L": len(prof.nodes) - 1, "k_star": k_star,
                     "k_reg": k_reg, "predicted_s": pred, "regression_s": reg, "measured_s": measured,
                     "best_measured_k": min(measured, key=measured.get),
                     "ratio_planner": measured[k_star] / best_meas, "ratio_regression": measured[k_reg] / best_meas,
                     "mape": float(np.mean([abs(pred[k] - m) / m for k, m in measured.items()]))})
    return rows


def _d2d_study(model, prof, x, dev, config, workers):
    """MoDNN/DeepThings row partitions of the conv stack: exactness, then T(1)/T(P) and where time goes."""
    import time

    import numpy as np
    import torch

    from .planning import Link
    from .serve import dilated
    from .spatial import D2DRuntime, SpatialPartition

    feats, head = model.features, model.head
    diffs = {}
    with torch.no_grad():
        ref_feats, ref = feats(x), model(x)
        for mode in ("layerwise", "fused"):
            for p in (2, 3, 4):
                diffs[f"{mode}-{p}"] = float((SpatialPartition(feats, p, mode).forward(x) - ref_feats).abs().max())
        local = []
        target = dev.slowdown * sum(n.seconds for n in prof.nodes)
        for _ in range(config["d2d_reps"]):
            t = time.perf_counter()
            dilated(lambda: model(x), dev.slowdown, target)
            local.append(time.perf_counter() - t)
    t1 = float(np.median(local))
    out = {"T1_s": t1, "modes": {}, "stack_layers": len(feats)}
    link = Link(*config["d2d_link"])
    for mode in ("layerwise", "fused"):
        times, parts = {1: t1}, {1: {"compute": t1}}
        for p in [q for q in config["d2d_workers"] if q > 1]:
            with D2DRuntime(SpatialPartition(feats, p, mode), head, dev.slowdown, link, workers[:p],
                            profile_repeats=config["d2d_profile_repeats"]) as rt:
                y, _ = rt.infer(x)  # warm-up, and the exactness check through the runtime
                diffs[f"runtime-{mode}-{p}"] = float((y - ref).abs().max())
                runs = []
                for _ in range(config["d2d_reps"]):
                    runs.append((rt.infer(x)[1], rt.last_breakdown))
            times[p] = float(np.median([r[0] for r in runs]))
            parts[p] = {k: float(np.median([r[1][k] for r in runs])) for k in runs[0][1]}
        out["modes"][mode] = {"T_s": times, "speedup": {p: t1 / t for p, t in times.items()}, "breakdown_s": parts,
                              "rounds": len(SpatialPartition(feats, 2, mode).rounds())}
    out["max_abs_diff"] = diffs
    return out


def run(config: dict, seeds: list[int], ctx: RunContext) -> dict:
    import numpy as np
    import torch

    from paperzoo.core.seeding import seed_everything
    from paperzoo.core.stats import summarize
    from paperzoo.data import mnist1d

    from . import figures
    from .early_exit import (
        brute_force_exit_split,
        calibrate_thresholds,
        exit_accuracies,
        joint_exit_split,
        path_latencies,
        train_early_exit,
    )
    from .models import DagNet, EdgeNet, MiniAlexNet, exit_cnn_1d
    from .planning import Link, Plan, Tier, brute_force_partition, chain_assignment, chain_latencies, mincut_partition
    from .profiling import LatencyModel, profile_graph, random_dag, random_layer_records
    from .runtime import Runtime, hop_overhead, measure, start_tiers

    metrics: dict = {"threads": 1, "host_load": {"start": _load()}, "model": config["model"]}
    torch.set_num_threads(1)
    seed_everything(0)
    sd = config["slowdown"]
    dev, edge, cloud = Tier("device", sd["device"]), Tier("edge", sd["edge"]), Tier("cloud", sd["cloud"])
    models = {"MiniAlexNet": (MiniAlexNet, (1, 3, 112, 112)), "EdgeNet": (EdgeNet, (1, 3, 64, 64))}
    if config["model"] not in models:
        raise ValueError(f"config model must be one of {sorted(models)}, got {config['model']!r}")
    model_cls, shape = models[config["model"]]
    model, x = model_cls().eval(), torch.randn(*shape)
    edgenet, x64 = EdgeNet().eval(), torch.randn(1, 3, 64, 64)
    with ctx.stage(f"profiling {config['model']} and EdgeNet, fitting per-layer regressions"):
        prof = profile_graph(model, x, repeats=config["profile_repeats"])
        eprof = profile_graph(edgenet, x64, repeats=config["profile_repeats"])
        lm = LatencyModel(seed=0).fit(random_layer_records(config["regression_configs"], seed=0))
        reg_prof = lm.predict(prof)
        metrics["regression"] = lm.report_
        metrics["model_host_ms"] = 1e3 * sum(n.seconds for n in prof.nodes)
        metrics["edgenet_host_ms"] = 1e3 * sum(n.seconds for n in eprof.nodes)
        metrics["model_layers"] = [{"name": n.name, "type": n.layer_type, "host_ms": 1e3 * n.seconds,
                                    "out_bytes": n.out_bytes} for n in prof.nodes]

    n_workers = max(config["d2d_workers"])
    procs = {}
    try:
        with ctx.stage("starting tier processes"):
            procs = start_tiers(["edge", "cloud"] + [f"worker{i}" for i in range(n_workers)])
            hop_x = hop_overhead(procs["cloud"].address, x, config["hop_requests"])
            metrics["hop_overhead_s"] = hop_x

        # 1. cloud-device chain split (Neurosurgeon) on the anchor model; EdgeNet's plan next to it --------
        tiers2 = [dev, cloud]
        with ctx.stage("chain split at every network"):
            metrics["chain"] = _chain_study(model, prof, reg_prof, x, tiers2, config["networks"],
                                            config["latency_cloud_s"], hop_x, config, procs["cloud"].address)
        metrics["edgenet_k_star"] = []
        for name, mbps in config["networks"]:
            plinks = _planning_links([Link(mbps * 1e6, config["latency_cloud_s"])], hop_x)
            lat = chain_latencies(eprof, tiers2, plinks)
            metrics["edgenet_k_star"].append({"network": name, "k_star": min(lat, key=lat.get)[0],
                                              "L": len(eprof.nodes) - 1})

        # 2. cloud-edge-device: two cut points -------------------------------------------------------------
        tiers3 = [dev, edge, cloud]
        L = len(prof.nodes) - 1
        grid = []
        for bde in ctx.track(config["grid_de_mbps"], description="three-tier grid"):
            for bec in config["grid_ec_mbps"]:
                links = [Link(bde * 1e6, config["latency_edge_s"]),
                         Link(bec * 1e6, config["latency_cloud_s"] - config["latency_edge_s"])]
                lat = chain_latencies(prof, tiers3, _planning_links(links, hop_x))
                families = {"device": [(L, L)], "device+edge": [(k, L) for k in range(L)],
                            "device+cloud": [(k, k) for k in range(L)],
                            "three-tier": [(a, b) for a in range(L) for b in range(a + 1, L)]}
                chosen = {f: min(c, key=lat.get) for f, c in families.items()}
                meas = {}
                p0 = Plan(chain_assignment(prof, (L, L)), lat[(L, L)], "chain", prof, tuple(tiers3), tuple(links))
                with Runtime(model, p0, tiers3, links, addresses=[procs["edge"].address, procs["cloud"].address],
                             compute_profile=prof) as rt:
                    for fam, ks in chosen.items():
                        rt.set_plan(Plan(chain_assignment(prof, ks), lat[ks], "chain", prof, tuple(tiers3),
                                         tuple(links)))
                        meas[fam] = measure(rt, x, config["requests"], config["warmup"])["median_s"]
                best_two = min(v for f, v in meas.items() if f != "three-tier")
                grid.append({"de_mbps": bde, "ec_mbps": bec, "plans": {f: list(k) for f, k in chosen.items()},
                             "predicted_s": {f: lat[k] for f, k in chosen.items()}, "measured_s": meas,
                             "three_tier_gain": best_two / meas["three-tier"] - 1,
                             "best_measured": min(meas, key=meas.get)})
        metrics["three_tier"] = grid

        # 3. DADS: min-cut vs brute force on random DAGs, and DagNet through the runtime -------------------
        with ctx.stage("min-cut vs brute force on random DAGs"):
            rng = np.random.default_rng(0)
            equal2 = equal3 = 0
            for _ in range(config["dags_2tier"]):
                g = random_dag(rng, int(rng.integers(3, config["dag_nodes_2tier"] + 1)))
                links = [Link(float(rng.choice([0.1, 1, 10, 100])) * 1e6, 0.010)]
                optimal = brute_force_partition(g, tiers2, links).predicted_s
                equal2 += mincut_partition(g, tiers2, links).predicted_s == optimal
            for _ in range(config["dags_3tier"]):
                g = random_dag(rng, int(rng.integers(3, config["dag_nodes_3tier"] + 1)))
                links = [Link(float(rng.choice([1, 10, 100])) * 1e6, 0.002),
                         Link(float(rng.choice([1, 10, 100])) * 1e6, 0.008)]
                optimal = brute_force_partition(g, tiers3, links).predicted_s
                equal3 += mincut_partition(g, tiers3, links).predicted_s == optimal
            metrics["mincut"] = {"equal_2tier": equal2, "n_2tier": config["dags_2tier"],
                                 "equal_3tier": equal3, "n_3tier": config["dags_3tier"]}
            dag = DagNet().eval()
            dprof = profile_graph(dag, x64, repeats=config["profile_repeats"])
            dag_runs = []
            for bde in config["grid_de_mbps"]:
                links = [Link(bde * 1e6, config["latency_edge_s"]), Link(10e6, 0.008)]
                plan = mincut_partition(dprof, tiers3, links)
                with Runtime(dag, plan, tiers3, links, addresses=[procs["edge"].address, procs["cloud"].address],
                             compute_profile=dprof) as rt:
                    y = rt.infer(x64).y
                    m = measure(rt, x64, config["requests"], config["warmup"])
                with torch.no_grad():
                    exact = bool(torch.equal(y, dag(x64)))
                dag_runs.append({"de_mbps": bde, "predicted_s": plan.predicted_s, "measured_s": m["median_s"],
                                 "tiers_used": list(plan.tiers_used), "exact": exact})
            metrics["dagnet"] = dag_runs

        # 4. early exit (BranchyNet) and Edgent -----------------------------------------------------------
        data = mnist1d()
        xt, yt = torch.tensor(data.x_train), torch.tensor(data.y_train)
        x_tr, y_tr, x_val, y_val = xt[:3500], yt[:3500], xt[3500:], yt[3500:]
        x_te, y_te = torch.tensor(data.x_test), torch.tensor(data.y_test)
        ee, nets = [], []
        for seed in ctx.track(seeds, description="early-exit seeds"):
            seed_everything(seed)
            net = train_early_exit(exit_cnn_1d(widths=tuple(config["exit_widths"])), x_tr, y_tr,
                                   epochs=config["exit_epochs"], seed=seed)
            calibrate_thresholds(net, x_val, y_val, max_drop=config["threshold_max_drop"])
            with torch.no_grad():
                logits, where = net.predict(x_te)
                acc_exit = float((logits.argmax(1) == y_te).float().mean())
                acc_full = float((net(x_te)[-1].argmax(1) == y_te).float().mean())
            rates = [float((where == n).float().mean()) for n in range(net.n_exits)]
            lat = path_latencies(net, x_te[:1], repeats=config["exit_path_repeats"], warmup=config["warmup"] + 3)
            ee.append({"seed": seed, "acc_exit": acc_exit, "acc_full": acc_full, "threshold": net.thresholds[0],
                       "exit_rates": rates, "path_host_s": lat["paths"], "no_exit_host_s": lat["no_exit"],
                       "latency_exit_s": dev.slowdown * sum(p * t for p, t in zip(rates, lat["paths"], strict=True)),
                       "latency_full_s": dev.slowdown * lat["no_exit"],
                       "val_exit_acc": exit_accuracies(net, x_val, y_val)})
            nets.append(net)
        metrics["early_exit"] = ee
        metrics["early_exit_latency_ratio"] = summarize([e["latency_exit_s"] / e["latency_full_s"] for e in ee])
        metrics["early_exit_acc_drop_pt"] = summarize([100 * (e["acc_full"] - e["acc_exit"]) for e in ee])

        net, accs = nets[0], ee[0]["val_exit_acc"]
        x1 = x_te[:1]
        profiles = [profile_graph(net.truncated(n).eval(), x1, repeats=config["profile_repeats"])
                    for n in range(net.n_exits)]
        hop_e = hop_overhead(procs["edge"].address, x1, config["hop_requests"])
        metrics["hop_overhead_edge_s"] = hop_e
        edgent, tiers_e = [], [dev, edge]
        lo, hi = config["edgent_budget_span"]
        for bw in config["edgent_bandwidths_mbps"]:
            links = [Link(bw * 1e6, config["latency_edge_s"])]
            plinks = _planning_links(links, hop_e)
            all_pred = [v for p in profiles for v in chain_latencies(p, tiers_e, plinks).values()]
            best_per_exit = [min(chain_latencies(p, tiers_e, plinks).values()) for p in profiles]
            for budget in np.linspace(lo * min(all_pred), hi * max(best_per_exit), config["edgent_budgets"]):
                choice = joint_exit_split(net, profiles, float(budget), tiers=tiers_e, links=plinks, accuracies=accs)
                brute = brute_force_exit_split(profiles, float(budget), tiers=tiers_e, links=plinks, accuracies=accs)
                row = {"bandwidth_mbps": bw, "budget_s": float(budget), "exit": None if choice is None else choice.exit,
                       "brute_exit": None if brute is None else brute.exit}
                if choice is not None:
                    sub, cprof = net.truncated(choice.exit).eval(), profiles[choice.exit]
                    plan = Plan(choice.plan.assignment, choice.predicted_s, "chain", cprof, tuple(tiers_e),
                                tuple(links))
                    with Runtime(sub, plan, tiers_e, links, addresses=[procs["edge"].address],
                                 compute_profile=cprof) as rt:
                        row["measured_s"] = measure(rt, x1, config["edgent_requests"], config["warmup"])["median_s"]
                    row["predicted_s"] = choice.predicted_s
                    row["met"] = row["measured_s"] <= budget
                edgent.append(row)
        metrics["edgent"] = edgent

        # 5. device-device spatial partition --------------------------------------------------------------
        with ctx.stage("device-device row partitions"):
            metrics["d2d"] = _d2d_study(model, prof, x, dev, config,
                                        [procs[f"worker{i}"].address for i in range(n_workers)])
    finally:
        for p in procs.values():
            p.stop()

    metrics["host_load"]["end"] = _load()
    metrics["host_load"]["cpus"] = os.cpu_count()
    figures.all_figures(metrics, ctx)
    return metrics


# ------------------------------------------------------------------------------------------------------
# Claims: each a function of the metrics.

def _host(m) -> str:
    """The host load during the run, for every claim that rests on wall-clock time."""
    load = m.get("host_load") or {}
    start, end = (load.get("start") or [None])[0], (load.get("end") or [None])[0]
    if start is None or end is None:
        return "host load unknown"
    loaded = start >= LOADED_START or end >= LOADED_END
    return (f"host load (1 min) {start:.2f} -> {end:.2f} on {load.get('cpus', '?')} cores"
            + ("; the host was LOADED during this run" if loaded else "; host not loaded"))


def _split_moves(m):
    ks = [(c["network"], c["k_star"]) for c in m["chain"]]
    L = m["chain"][0]["L"]
    low, high, mid = ks[0][1] == L, ks[-1][1] == 0, any(0 < k < L for _, k in ks[1:-1])
    edgenet = [(c["network"], c["k_star"]) for c in m.get("edgenet_k_star", [])]
    return Evidence(ks, low and high and mid,
                    f"(network, k*) with L={L} (k = layers on the device): device-only at the slowest: {low}, "
                    f"cloud-only at the fastest: {high}, interior between: {mid}; {m.get('model', 'model')} host "
                    f"{m['model_host_ms']:.2f} ms (x10 on the device); EdgeNet k* {edgenet} "
                    f"(host {m['edgenet_host_ms']:.2f} ms); from per-layer profiles, {_host(m)}")


def _plan_near_best(m):
    raw = [c["ratio_planner"] for c in m["chain"]]
    r, mape = [round(v, 3) for v in raw], [round(c["mape"], 3) for c in m["chain"]]
    return Evidence(r, max(raw) <= 1.10,
                    f"measured(k*)/best measured per network {r}; predicted-vs-measured MAPE {mape}; {_host(m)}")


def _regression_plan(m):
    raw = [c["ratio_regression"] for c in m["chain"]]
    r = [round(v, 3) for v in raw]
    k_reg = [c["k_reg"] for c in m["chain"]]
    informative = len(set(k_reg)) > 1
    rep = {k: round(v["mape"], 3) for k, v in m["regression"].items()}
    detail = (f"k from regressions per network {k_reg}; measured(k_reg)/best measured {r}; hold-out MAPE per "
              f"type {rep}; {_host(m)}")
    if not informative:
        detail = f"not informative: the regression plan is k={k_reg[0]} at every network, so it is never tested; " \
                 + detail
    return Evidence(r, informative and max(raw) <= 1.15, detail)


def _mincut(m):
    mc = m["mincut"]
    ok = mc["equal_2tier"] == mc["n_2tier"] and mc["equal_3tier"] == mc["n_3tier"]
    return Evidence(mc, ok, f"equal cost on {mc['equal_2tier']}/{mc['n_2tier']} two-tier and "
                            f"{mc['equal_3tier']}/{mc['n_3tier']} three-tier random DAGs")


def _three_tier(m):
    cells = [(g["de_mbps"], g["ec_mbps"], g["best_measured"], round(g["three_tier_gain"], 3)) for g in m["three_tier"]]
    ok = any(g["best_measured"] == "three-tier" and g["three_tier_gain"] >= 0.05 for g in m["three_tier"])
    return Evidence(cells, ok, f"(B_de, B_ec, best measured family, gain of best three-tier over best two-tier) "
                               f"per cell: {cells}; {_host(m)}")


def _early_exit(m):
    r, d = m["early_exit_latency_ratio"]["mean"], m["early_exit_acc_drop_pt"]["mean"]
    e0 = m["early_exit"][0]
    paths = [round(1e6 * t) for t in e0["path_host_s"]]
    return Evidence({"latency_ratio": r, "acc_drop_pt": d}, r <= 0.8 and d <= 1.0,
                    f"device latency with exits / without = {r:.3f}, accuracy drop {d:.2f} pt (mean of seeds; "
                    f"per seed drops {[round(v, 2) for v in m['early_exit_acc_drop_pt']['per_seed']]}); seed "
                    f"{e0['seed']}: exit rates {[round(p, 3) for p in e0['exit_rates']]}, host us per path {paths} "
                    f"vs {round(1e6 * e0['no_exit_host_s'])} without exits; {_host(m)}")


def _edgent(m):
    rows = list(m["edgent"])
    chosen = [r for r in rows if r["exit"] is not None]
    met = sum(r["met"] for r in chosen)
    same = sum(r["exit"] == r["brute_exit"] for r in rows)
    ok = bool(chosen) and met >= 0.9 * len(chosen) and same == len(rows)
    over = [round(r["measured_s"] / r["budget_s"], 2) for r in chosen if not r["met"]]
    return Evidence({"met": met, "cases": len(chosen), "same_as_brute_force": same, "budgets": len(rows)}, ok,
                    f"budget met in {met}/{len(chosen)} measured cases (misses at measured/budget {over}); chosen "
                    f"exit = brute force in {same}/{len(rows)}; {_host(m)}")


def _d2d_exact(m):
    d = m["d2d"]["max_abs_diff"]
    worst = max(d.values())
    return Evidence(worst, worst <= 1e-5,
                    f"max |split - unsplit| over modes and P in (2, 3, 4), in-process and runtime: {worst:.2e}")


def _speedups(mode: dict) -> dict:
    return {int(p): round(v, 3) for p, v in mode["speedup"].items()}


def _d2d_speedup(m):
    s, lw = _speedups(m["d2d"]["modes"]["fused"]), _speedups(m["d2d"]["modes"]["layerwise"])
    raw = {int(p): v for p, v in m["d2d"]["modes"]["fused"]["speedup"].items()}
    s2, s4 = raw.get(2), raw.get(4)
    ok = s2 is not None and s4 is not None and s2 >= 1.3 and s4 > s2
    where = {mode: {int(p): {k: round(1e3 * v, 1) for k, v in parts.items()}
                    for p, parts in d.get("breakdown_s", {}).items() if int(p) > 1}
             for mode, d in m["d2d"]["modes"].items()}
    return Evidence(s, ok, f"fused T(1)/T(P) = {s}; layerwise {lw}; T(1) = one device locally "
                           f"({1e3 * m['d2d']['T1_s']:.1f} ms, slowdown 10); critical-path ms per P {where}; "
                           f"{_host(m)}")


PAPER = register(Paper(
    id="edge-inference",
    title="A Survey on Collaborative DNN Inference for Edge Intelligence",
    arxiv="2207.07812",
    presets=PRESETS,
    claims=[
        Claim("split-moves-with-bandwidth", "Neurosurgeon: the best split point follows the bandwidth",
              "device-only at low B, cloud-only at high B, interior in between", _split_moves),
        Claim("plan-near-best-measured", "the cost model picks the best partition",
              "chosen split <= 1.10 x best measured at every B", _plan_near_best),
        Claim("regression-plan", "per-layer-type regressions suffice to plan",
              "<= 1.15 x best measured at every B; counts only if the chosen split changes across B",
              _regression_plan),
        Claim("mincut-equals-bruteforce", "DADS: the min-cut partition is optimal (light load)",
              "equal cost on every DAG", _mincut),
        Claim("three-tier-helps", "device-edge-cloud beats two tiers in some settings",
              ">= 1 cell where the best plan uses all three tiers and is >= 5% faster", _three_tier),
        Claim("early-exit-speedup", "BranchyNet: side exits cut latency at a small accuracy cost",
              "latency <= 0.8 x no-exit, accuracy drop <= 1 pt", _early_exit),
        Claim("edgent-meets-budget", "Edgent: joint exit/split search meets the latency requirement",
              "met in >= 90% of cases; exit = most accurate feasible", _edgent),
        Claim("d2d-equal-output", "MoDNN/DeepThings: intra-layer partition is exact", "max abs diff <= 1e-5",
              _d2d_exact),
        Claim("d2d-speedup-grows", "MoDNN/DeepThings: speed-up grows with the number of devices",
              "2.17-4.28x on 2-4 devices (MoDNN); ours: S(2) >= 1.3, S(4) > S(2)", _d2d_speedup),
    ],
    run=run,
    summary="Collaborative inference toolkit: chain split, DAG min-cut, early exit, row partition, gRPC runtime",
    readme=Path(__file__).with_name("README.md"),
    key_metrics=("model_host_ms", "edgenet_host_ms", "hop_overhead_s", "early_exit_latency_ratio",
                 "early_exit_acc_drop_pt", "host_load"),
    captions={
        "latency_vs_split.png": "MiniAlexNet end-to-end latency per split k (layers on the device) at each network: "
                                "predicted from the profile, from the per-layer regressions, and measured medians "
                                "through the gRPC runtime; the grey line is the planner's k*.",
        "split_vs_bandwidth.png": "The split chosen at each network bandwidth, from the profile and from the "
                                  "regressions (k = L: device only, k = 0: cloud only).",
        "three_tier_heatmap.png": "Measured gain of the best three-tier plan over the best two-tier plan per "
                                  "(device-edge, edge-cloud) bandwidth cell (negative: three tiers are slower).",
        "early_exit_tradeoff.png": "Early exit on MNIST-1D per seed: device latency per request and test accuracy "
                                   "with exits (heads on the path only) and without (no heads).",
        "d2d_speedup.png": "Device-device speed-up T(1)/T(P) of the MiniAlexNet conv stack by worker count, "
                           "layerwise (MoDNN-like) and fused tiles (DeepThings FTP).",
        "d2d_breakdown.png": "Where the time of a device-device request goes per worker count (critical path): "
                             "dilated compute, serialisation, gRPC, emulated link, gathering device.",
    },
))
