"""Reproduction: the anchor systems of the survey's four paradigms, run on one runtime of real processes."""

from __future__ import annotations

from pathlib import Path

from paperzoo.core import Claim, Evidence, Paper, RunContext, register

# Emulation constants are fixed here, before any claim is computed, and never retuned after.
COMMON = {"slowdown": {"device": 10, "edge": 3, "cloud": 1}, "latency_cloud_s": 0.010, "latency_edge_s": 0.002,
          "d2d_link": [100e6, 0.001], "profile_repeats": 20, "regression_configs": 200, "exit_epochs": 10,
          "threshold_max_drop": 0.005, "skip_factor": 20.0}
PRESETS = {
    "quick": {**COMMON, "seeds": 3, "bandwidths_mbps": [0.1, 1, 10, 100, 1000], "requests": 10, "few_requests": 3,
              "grid_de_mbps": [10, 100], "grid_ec_mbps": [1, 10], "dags_2tier": 200, "dag_nodes_2tier": 12,
              "dags_3tier": 100, "dag_nodes_3tier": 8, "edgent_bandwidths_mbps": [1, 10], "edgent_budgets": 6,
              "edgent_requests": 5, "latency_samples": 300, "d2d_workers": [1, 2, 4], "d2d_reps": 5},
    "full": {**COMMON, "seeds": 5, "bandwidths_mbps": [0.1, 0.3, 1, 3, 10, 30, 100, 300, 1000], "requests": 30,
             "few_requests": 3, "grid_de_mbps": [1, 10, 100], "grid_ec_mbps": [1, 10, 100], "dags_2tier": 200,
             "dag_nodes_2tier": 12, "dags_3tier": 100, "dag_nodes_3tier": 8, "edgent_bandwidths_mbps": [0.3, 1, 10],
             "edgent_budgets": 10, "edgent_requests": 10, "latency_samples": 1000, "d2d_workers": [1, 2, 3, 4, 5, 6],
             "d2d_reps": 10},
}


def _measure_plan(rt, plan, x, n):
    from .runtime import measure

    rt.set_plan(plan)
    return measure(rt, x, n)


def run(config: dict, seeds: list[int], ctx: RunContext) -> dict:
    import time

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
        train_early_exit,
    )
    from .models import DagNet, EdgeNet, exit_cnn_1d
    from .planning import (
        Link,
        Plan,
        Tier,
        brute_force_partition,
        chain_assignment,
        chain_latencies,
        mincut_partition,
    )
    from .profiling import LatencyModel, profile_graph, random_dag, random_layer_records
    from .runtime import Runtime, TierProcess, measure
    from .serve import dilated
    from .spatial import D2DRuntime, SpatialPartition

    torch.set_num_threads(1)
    seed_everything(0)
    sd = config["slowdown"]
    dev, edge, cloud = Tier("device", sd["device"]), Tier("edge", sd["edge"]), Tier("cloud", sd["cloud"])
    model, x = EdgeNet().eval(), torch.randn(1, 3, 64, 64)
    metrics: dict = {"threads": 1}
    with ctx.stage("profiling EdgeNet and fitting per-layer regressions"):
        prof = profile_graph(model, x, repeats=config["profile_repeats"])
        lm = LatencyModel(seed=0).fit(random_layer_records(config["regression_configs"], seed=0))
        reg_prof = lm.predict(prof)
        metrics["regression"] = lm.report_
        metrics["edgenet_host_ms"] = 1e3 * sum(n.seconds for n in prof.nodes)

    n_workers = max(config["d2d_workers"])
    procs = {}
    try:
        with ctx.stage("starting tier processes"):
            for name in ["edge", "cloud"] + [f"worker{i}" for i in range(n_workers)]:
                procs[name] = TierProcess(name)

        # 1. cloud-device chain split (Neurosurgeon) ------------------------------------------------------
        chain = []
        tiers2 = [dev, cloud]
        for bw in ctx.track(config["bandwidths_mbps"], description="bandwidths"):
            links = [Link(bw * 1e6, config["latency_cloud_s"])]
            pred = {k[0]: v for k, v in chain_latencies(prof, tiers2, links).items()}
            reg = {k[0]: v for k, v in chain_latencies(reg_prof, tiers2, links).items()}
            best_pred = min(pred.values())
            k_star, k_reg = min(pred, key=pred.get), min(reg, key=reg.get)
            measured = {}
            plan0 = Plan(chain_assignment(prof, (k_star,)), pred[k_star], "chain", prof, tuple(tiers2), tuple(links))
            with Runtime(model, plan0, tiers2, links, addresses=[procs["cloud"].address]) as rt:
                for k, p in pred.items():
                    if p > config["skip_factor"] * best_pred and k not in (k_star, k_reg):
                        continue
                    n = config["requests"] if p <= 3 * best_pred else config["few_requests"]
                    plan = Plan(chain_assignment(prof, (k,)), p, "chain", prof, tuple(tiers2), tuple(links))
                    measured[k] = _measure_plan(rt, plan, x, n)["median_s"]
            best_meas = min(measured.values())
            ape = [abs(pred[k] - m) / m for k, m in measured.items()]
            chain.append({"bandwidth_mbps": bw, "L": len(prof.nodes) - 1, "k_star": k_star, "k_reg": k_reg,
                          "predicted_s": pred, "regression_s": reg, "measured_s": measured,
                          "ratio_planner": measured[k_star] / best_meas,
                          "ratio_regression": measured[k_reg] / best_meas,
                          "mape": float(np.mean(ape))})
        metrics["chain"] = chain

        # 2. cloud-edge-device: two cut points -------------------------------------------------------------
        tiers3 = [dev, edge, cloud]
        L = len(prof.nodes) - 1
        grid = []
        for bde in config["grid_de_mbps"]:
            for bec in config["grid_ec_mbps"]:
                links = [Link(bde * 1e6, config["latency_edge_s"]),
                         Link(bec * 1e6, config["latency_cloud_s"] - config["latency_edge_s"])]
                lat = chain_latencies(prof, tiers3, links)
                families = {"device": [(L, L)], "device+edge": [(k, L) for k in range(L)],
                            "device+cloud": [(k, k) for k in range(L)],
                            "three-tier": [(a, b) for a in range(L) for b in range(a + 1, L)]}
                chosen = {f: min(c, key=lat.get) for f, c in families.items()}
                meas = {}
                p0 = Plan(chain_assignment(prof, (L, L)), lat[(L, L)], "chain", prof, tuple(tiers3), tuple(links))
                with Runtime(model, p0, tiers3, links,
                             addresses=[procs["edge"].address, procs["cloud"].address]) as rt:
                    for fam, ks in chosen.items():
                        plan = Plan(chain_assignment(prof, ks), lat[ks], "chain", prof, tuple(tiers3), tuple(links))
                        meas[fam] = _measure_plan(rt, plan, x, config["requests"])["median_s"]
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
            dprof = profile_graph(dag, x, repeats=config["profile_repeats"])
            dag_runs = []
            for bde in config["grid_de_mbps"]:
                links = [Link(bde * 1e6, config["latency_edge_s"]), Link(10e6, 0.008)]
                plan = mincut_partition(dprof, tiers3, links)
                with Runtime(dag, plan, tiers3, links, addresses=[procs["edge"].address, procs["cloud"].address]) as rt:
                    y = rt.infer(x).y
                    m = measure(rt, x, config["requests"])
                dag_runs.append({"de_mbps": bde, "predicted_s": plan.predicted_s, "measured_s": m["median_s"],
                                 "tiers_used": list(plan.tiers_used), "exact": bool(torch.equal(y, dag(x)))})
            metrics["dagnet"] = dag_runs

        # 4. early exit (BranchyNet) and Edgent -----------------------------------------------------------
        data = mnist1d()
        xt, yt = torch.tensor(data.x_train), torch.tensor(data.y_train)
        x_tr, y_tr, x_val, y_val = xt[:3500], yt[:3500], xt[3500:], yt[3500:]
        x_te, y_te = torch.tensor(data.x_test), torch.tensor(data.y_test)
        ee = []
        nets = []
        for seed in ctx.track(seeds, description="early-exit seeds"):
            seed_everything(seed)
            net = train_early_exit(exit_cnn_1d(), x_tr, y_tr, epochs=config["exit_epochs"], seed=seed)
            calibrate_thresholds(net, x_val, y_val, max_drop=config["threshold_max_drop"])
            logits, where = net.predict(x_te)
            acc_exit = float((logits.argmax(1) == y_te).float().mean())
            acc_full = float((net(x_te)[-1].argmax(1) == y_te).float().mean())
            lat_exit, lat_full = [], []
            with torch.no_grad():
                for i in range(config["latency_samples"]):
                    xi = x_te[i:i + 1]
                    for fn, out in ((net.predict, lat_exit), (net, lat_full)):
                        t = time.perf_counter()
                        fn(xi)
                        out.append(dev.slowdown * (time.perf_counter() - t))
            ee.append({"seed": seed, "acc_exit": acc_exit, "acc_full": acc_full, "threshold": net.thresholds[0],
                       "exit_rates": [float((where == n).float().mean()) for n in range(net.n_exits)],
                       "latency_exit_s": float(np.mean(lat_exit)), "latency_full_s": float(np.mean(lat_full)),
                       "val_exit_acc": exit_accuracies(net, x_val, y_val)})
            nets.append(net)
        metrics["early_exit"] = ee
        metrics["early_exit_latency_ratio"] = summarize([e["latency_exit_s"] / e["latency_full_s"] for e in ee])
        metrics["early_exit_acc_drop_pt"] = summarize([100 * (e["acc_full"] - e["acc_exit"]) for e in ee])

        net, accs = nets[0], ee[0]["val_exit_acc"]
        x1 = x_te[:1]
        profiles = [profile_graph(net.truncated(n).eval(), x1, repeats=config["profile_repeats"])
                    for n in range(net.n_exits)]
        edgent = []
        tiers_e = [dev, edge]
        for bw in config["edgent_bandwidths_mbps"]:
            links = [Link(bw * 1e6, config["latency_edge_s"])]
            all_pred = [v for p in profiles for v in chain_latencies(p, tiers_e, links).values()]
            best_per_exit = [min(chain_latencies(p, tiers_e, links).values()) for p in profiles]
            budgets = np.linspace(1.05 * min(all_pred), 1.2 * max(best_per_exit), config["edgent_budgets"])
            for budget in budgets:
                choice = joint_exit_split(net, profiles, float(budget), tiers=tiers_e, links=links, accuracies=accs)
                brute = brute_force_exit_split(profiles, float(budget), tiers=tiers_e, links=links, accuracies=accs)
                row = {"bandwidth_mbps": bw, "budget_s": float(budget), "exit": None if choice is None else choice.exit,
                       "brute_exit": None if brute is None else brute.exit}
                if choice is not None:
                    sub = net.truncated(choice.exit).eval()
                    with Runtime(sub, choice.plan, tiers_e, links, addresses=[procs["edge"].address]) as rt:
                        row["measured_s"] = measure(rt, x1, config["edgent_requests"])["median_s"]
                    row["predicted_s"] = choice.predicted_s
                    row["met"] = row["measured_s"] <= budget
                edgent.append(row)
        metrics["edgent"] = edgent

        # 5. device-device spatial partition --------------------------------------------------------------
        d2d_link = Link(*config["d2d_link"])
        feats, head = model.features, model.head
        diffs = {}
        for mode in ("layerwise", "fused"):
            for p in (2, 3, 4):
                split = SpatialPartition(feats, p, mode).forward(x)
                diffs[f"{mode}-{p}"] = float((split - feats(x)).abs().max().detach())
        local = []
        for _ in range(config["d2d_reps"]):
            t = time.perf_counter()
            dilated(lambda: model(x), dev.slowdown)
            local.append(time.perf_counter() - t)
        d2d = {"T1_s": float(np.median(local)), "modes": {}}
        workers = [procs[f"worker{i}"].address for i in range(n_workers)]
        for mode in ("layerwise", "fused"):
            times = {1: d2d["T1_s"]}
            for p in [q for q in config["d2d_workers"] if q > 1]:
                with D2DRuntime(SpatialPartition(feats, p, mode), head, dev.slowdown, d2d_link, workers) as rt:
                    y, _ = rt.infer(x)
                    diffs[f"runtime-{mode}-{p}"] = float((y - model(x)).abs().max().detach())
                    times[p] = float(np.median([rt.infer(x)[1] for _ in range(config["d2d_reps"])]))
            d2d["modes"][mode] = {"T_s": times, "speedup": {p: times[1] / t for p, t in times.items()}}
        d2d["max_abs_diff"] = diffs
        metrics["d2d"] = d2d
    finally:
        for p in procs.values():
            p.stop()

    figures.all_figures(metrics, ctx)
    return metrics


# ------------------------------------------------------------------------------------------------------
# Claims: each a function of the metrics.

def _split_moves(m):
    ks = [(c["bandwidth_mbps"], c["k_star"]) for c in m["chain"]]
    L = m["chain"][0]["L"]
    ok = ks[0][1] == L and ks[-1][1] == 0 and any(0 < k < L for _, k in ks[1:-1])
    return Evidence(ks, ok, f"(B Mbit/s, k*) with L={L}; device-only at min B: {ks[0][1] == L}, cloud-only at max B: "
                    f"{ks[-1][1] == 0}, interior between: {any(0 < k < L for _, k in ks[1:-1])}; EdgeNet host time "
                    f"{m['edgenet_host_ms']:.2f} ms x10 on the device vs 2x{10:.0f} ms link latency to the cloud")


def _plan_near_best(m):
    r = [round(c["ratio_planner"], 3) for c in m["chain"]]
    mape = [round(c["mape"], 3) for c in m["chain"]]
    return Evidence(r, max(r) <= 1.10,
                    f"measured(k*)/best measured per bandwidth {r}; predicted-vs-measured MAPE {mape}")


def _regression_plan(m):
    r = [round(c["ratio_regression"], 3) for c in m["chain"]]
    rep = {k: round(v["mape"], 3) for k, v in m["regression"].items()}
    return Evidence(r, max(r) <= 1.15, f"measured(k from regressions)/best measured {r}; hold-out MAPE per type {rep}")


def _mincut(m):
    mc = m["mincut"]
    ok = mc["equal_2tier"] == mc["n_2tier"] and mc["equal_3tier"] == mc["n_3tier"]
    return Evidence(mc, ok, f"equal cost on {mc['equal_2tier']}/{mc['n_2tier']} two-tier and "
                            f"{mc['equal_3tier']}/{mc['n_3tier']} three-tier random DAGs")


def _three_tier(m):
    cells = [(g["de_mbps"], g["ec_mbps"], g["best_measured"], round(g["three_tier_gain"], 3)) for g in m["three_tier"]]
    ok = any(g["best_measured"] == "three-tier" and g["three_tier_gain"] >= 0.05 for g in m["three_tier"])
    return Evidence(cells, ok, f"(B_de, B_ec, best measured family, gain of best three-tier over best two-tier) "
                               f"per cell: {cells}")


def _early_exit(m):
    r, d = m["early_exit_latency_ratio"]["mean"], m["early_exit_acc_drop_pt"]["mean"]
    return Evidence({"latency_ratio": r, "acc_drop_pt": d}, r <= 0.8 and d <= 1.0,
                    f"device latency with exits / without = {r:.3f}, accuracy drop {d:.2f} pt (mean of seeds; "
                    f"per seed drops {[round(v, 2) for v in m['early_exit_acc_drop_pt']['per_seed']]})")


def _edgent(m):
    rows = [r for r in m["edgent"]]
    chosen = [r for r in rows if r["exit"] is not None]
    met = sum(r["met"] for r in chosen)
    same = sum(r["exit"] == r["brute_exit"] for r in rows)
    ok = bool(chosen) and met >= 0.9 * len(chosen) and same == len(rows)
    over = [round(r["measured_s"] / r["budget_s"], 2) for r in chosen if not r["met"]]
    return Evidence({"met": met, "cases": len(chosen), "same_as_brute_force": same, "budgets": len(rows)}, ok,
                    f"budget met in {met}/{len(chosen)} measured cases (misses at measured/budget {over}); chosen "
                    f"exit = brute force in {same}/{len(rows)}")


def _d2d_exact(m):
    d = m["d2d"]["max_abs_diff"]
    worst = max(d.values())
    return Evidence(worst, worst <= 1e-5,
                    f"max |split - unsplit| over modes and P in (2, 3, 4), in-process and runtime: {worst:.2e}")


def _d2d_speedup(m):
    s = {p: round(v, 3) for p, v in m["d2d"]["modes"]["fused"]["speedup"].items()}
    lw = {p: round(v, 3) for p, v in m["d2d"]["modes"]["layerwise"]["speedup"].items()}
    s2, s4 = s.get("2", s.get(2)), s.get("4", s.get(4))
    return Evidence(s, s2 >= 1.3 and s4 > s2, f"fused T(1)/T(P) = {s}; layerwise {lw}; T(1) = one device locally "
                                              f"({1e3 * m['d2d']['T1_s']:.1f} ms, slowdown 10)")


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
              "<= 1.15 x best measured at every B", _regression_plan),
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
    key_metrics=("edgenet_host_ms", "early_exit_latency_ratio", "early_exit_acc_drop_pt"),
))
