"""Reproduction of FedPETuning (arXiv 2212.10025) on BBC News with all-MiniLM-L6-v2 and Flower."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from paperzoo.core import Claim, Evidence, Paper, RunContext, register

from .reference import PAPER_PARAM_RATIO, QUICK_LR, REFERENCE_LR

# Method variants: name -> PETConfig keyword arguments. The claims use the first five; "head" is the
# head-only control (frozen encoder, mean-pooling head): how much the frozen representation gives alone.
VARIANTS: dict[str, dict[str, Any]] = {
    "full": {"method": "full"},
    "lora": {"method": "lora", "rank": 8},
    "adapter": {"method": "adapter", "bottleneck": 16},
    "prefix": {"method": "prefix", "prefix_tokens": 16},
    "bitfit": {"method": "bitfit"},
    "head": {"method": "head"},
    "adapter64": {"method": "adapter", "bottleneck": 64},
    "prefix_proj": {"method": "prefix", "prefix_tokens": 16, "prefix_projection": True},
}
PAPER_METHODS = ("full", "lora", "adapter", "prefix", "bitfit")

PRESETS: dict[str, dict[str, Any]] = {
    # Budget fixed before any claim was computed (a validation-only pilot, seed 99, README): 2 MiniLM
    # layers, 32 tokens, 10 clients of 48 articles, 2 per round, 5 rounds x 6 local steps of batch 8.
    "quick": {"seeds": 3, "methods": ["full", "lora", "adapter", "prefix", "bitfit", "head"], "alphas": [0.1, 1.0],
              "num_layers": 2, "n_train": 480, "n_valid": 100, "n_test": 300, "max_len": 32, "rounds": 5,
              "num_clients": 10, "clients_per_round": 2, "local_epochs": 1, "batch_size": 8,
              "central_epochs": 0, "lr": QUICK_LR},
    "full": {"seeds": 5, "methods": list(VARIANTS), "alphas": [0.1, 1.0, 10.0],
             "num_layers": None, "n_train": None, "n_valid": None, "n_test": None, "max_len": 128, "rounds": 15,
             "num_clients": 10, "clients_per_round": 5, "local_epochs": 1, "batch_size": 16,
             "central_epochs": 3, "lr": REFERENCE_LR},
    # end-to-end tests only: one layer, a few articles, one round, no Ray
    "tiny": {"engine": "inprocess", "seeds": 1, "methods": ["full", "lora", "adapter", "prefix", "bitfit", "head"],
             "alphas": [0.1, 1.0],
             "num_layers": 1, "n_train": 40, "n_valid": 20, "n_test": 20, "max_len": 16, "rounds": 1,
             "num_clients": 2, "clients_per_round": 2, "local_epochs": 1, "batch_size": 8,
             "central_epochs": 1, "lr": QUICK_LR},
}

MB = 1e6


def _truncated_texts(data: Any) -> list[str]:
    """The text the encoder reads: its token ids decoded (lower case, truncated to max_len tokens)."""
    from paperzoo.data.minilm import minilm_tokenizer

    return minilm_tokenizer().batch_decode(data.input_ids, skip_special_tokens=True)


def _central(config: dict, seed: int) -> dict[str, float | None]:
    """Centralised references on the same split: TF-IDF + logistic regression on the truncated input the
    encoder sees (and on the full articles), full fine-tuning (best valid epoch) when central_epochs > 0."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from .federation import task_for

    s = _settings(config, alpha=1.0, seed=seed)
    task = task_for(s)
    y_train, y_test = task.train.labels.numpy(), task.test.labels.numpy()

    def tfidf(train: list[str], test: list[str]) -> float:
        vec = TfidfVectorizer(sublinear_tf=True, min_df=2)
        clf = LogisticRegression(max_iter=2000).fit(vec.fit_transform(train), y_train)
        return float((clf.predict(vec.transform(test)) == y_test).mean())

    out: dict[str, float | None] = {
        "tfidf_lr": tfidf(_truncated_texts(task.train), _truncated_texts(task.test)),
        "tfidf_lr_full_articles": tfidf(list(task.train_texts), list(task.test_texts)),
        "central_ft": None}
    if config["central_epochs"] > 0:
        out["central_ft"] = _central_ft(config, s, task, seed)
    return out


def _central_ft(config: dict, s: Any, task: Any, seed: int) -> float:
    from .federation import model_for
    from .pet import PETConfig, load_trainable_state_dict, trainable_state_dict
    from .training import evaluate, train_local

    model = model_for(PETConfig("full"), s, task.num_labels)
    best, best_state = -1.0, None
    for epoch in range(config["central_epochs"]):
        train_local(model, task.train, lr=config["lr"]["full"], epochs=1, batch_size=s.batch_size,
                    seed=seed * 31 + epoch)
        acc, _ = evaluate(model, task.valid)
        if acc > best:
            best, best_state = acc, {k: v.clone() for k, v in trainable_state_dict(model).items()}
    load_trainable_state_dict(model, best_state)
    return float(evaluate(model, task.test)[0])


def _settings(config: dict, alpha: float, seed: int):  # noqa: ANN202
    from .federation import FedSettings

    keys = ("rounds", "num_clients", "clients_per_round", "local_epochs", "batch_size", "n_train", "n_valid",
            "n_test", "max_len", "num_layers")
    return FedSettings(alpha=float(alpha), seed=int(seed), **{k: config[k] for k in keys})


def _cumulative_mb_to(valid_acc: list[float], bytes_per_round: list[int], target: float) -> float | None:
    """MB sent + received until the validation accuracy after a round first reaches `target` (None: never)."""
    total = 0
    for acc, b in zip(valid_acc[1:], bytes_per_round, strict=True):
        total += b
        if acc >= target:
            return total / MB
    return None


def _communication(results: dict, methods: list[str]) -> dict[str, dict[str, Any]]:
    """Measured bytes per round vs Flower's framing of the trainable tensors, and reductions vs FT."""
    import numpy as np

    comm: dict[str, dict[str, Any]] = {}
    for name in methods:
        rs = [r for (n, _, _), r in results.items() if n == name]
        measured = [b for r in rs for b in r.bytes_per_round]
        analytic = [r.message_bytes * (md + mu) for r in rs
                    for md, mu in zip(r.messages_down, r.messages_up, strict=True)]
        comm[name] = {"trainable_params": rs[0].trainable_params, "message_bytes": rs[0].message_bytes,
                      "bytes_per_round": float(np.mean(measured)), "analytic_bytes_per_round": float(np.mean(analytic)),
                      "rounds_exact": int(sum(m == a for m, a in zip(measured, analytic, strict=True))),
                      "rounds": len(measured)}
    if "full" in comm:
        for name in methods:
            c = comm[name]
            c["reduction_vs_full"] = comm["full"]["bytes_per_round"] / c["bytes_per_round"]
            c["param_ratio_vs_full"] = comm["full"]["trainable_params"] / c["trainable_params"]
            c["paper_param_ratio"] = PAPER_PARAM_RATIO.get(VARIANTS[name]["method"])
    return comm


def _federate(runs: list, engine: str, num_clients: int) -> list:
    """All runs in one Flower simulation (Ray starts once), or on an `InProcessGrid` calling the same
    ClientApp in this process (engine "inprocess": no Ray, for quick checks)."""
    from paperzoo.federated import InProcessGrid

    from .federation import client_app, run_many, run_on_grid

    if engine == "simulation":
        return run_many(runs)
    if engine == "inprocess":
        return run_on_grid(InProcessGrid(client_app, num_clients, node_config=lambda pid: {"torch-threads": 1}), runs)
    raise ValueError(f"engine must be 'simulation' or 'inprocess', got {engine!r}")


def run(config: dict, seeds: list[int], ctx: RunContext) -> dict:
    from dataclasses import replace

    import numpy as np

    from paperzoo.core.stats import paired_t, summarize

    from .federation import task_for
    from .pet import PETConfig

    methods, alphas = list(config["methods"]), [float(a) for a in config["alphas"]]
    unknown = set(methods) - set(VARIANTS)
    if unknown:
        raise ValueError(f"unknown methods {sorted(unknown)}; choose from {list(VARIANTS)}")
    runs, keys = [], []
    for seed in seeds:
        for alpha in alphas:
            for name in methods:
                pet = PETConfig(**VARIANTS[name])
                runs.append((pet, replace(_settings(config, alpha, seed), lr=config["lr"][pet.method])))
                keys.append((name, alpha, seed))
    engine = config.get("engine", "simulation")
    with ctx.stage(f"{engine}: {len(runs)} federated runs ({len(methods)} methods x "
                   f"{len(alphas)} alphas x {len(seeds)} seeds)"):
        results = dict(zip(keys, _federate(runs, engine, config["num_clients"]), strict=True))
    central = {seed: _central(config, seed) for seed in ctx.track(seeds, description="centralised references")}

    def acc(name: str, alpha: float, split: str = "test") -> list[float]:
        key = "best_test_accuracy" if split == "test" else "best_valid_accuracy"
        return [100 * getattr(results[(name, alpha, s)], key) for s in seeds]

    accuracy = {name: {str(a): summarize(acc(name, a)) for a in alphas} for name in methods}
    valid_accuracy = {name: {str(a): summarize(acc(name, a, "valid")) for a in alphas} for name in methods}
    comm = _communication(results, methods)
    mb_to_target: dict[str, list[float | None]] = {}
    if "full" in methods and 1.0 in alphas:
        for name in methods:
            mb_to_target[name] = []
            for s in seeds:
                target = 0.95 * results[("full", 1.0, s)].best_valid_accuracy
                r = results[(name, 1.0, s)]
                mb_to_target[name].append(_cumulative_mb_to(r.valid_accuracy, r.bytes_per_round, target))
    drop = {}
    if {0.1, 1.0} <= set(alphas):
        for name in methods:
            drop[name] = summarize([a - b for a, b in zip(acc(name, 1.0), acc(name, 0.1), strict=True)])
    pet_gap = None
    if {"full", "lora", "adapter"} <= set(methods) and 1.0 in alphas:
        # the PET method to compare is chosen on validation accuracy, never on test
        best_pet = max(("lora", "adapter"), key=lambda n: np.mean(acc(n, 1.0, "valid")))
        gaps = [f - p for f, p in zip(acc("full", 1.0), acc(best_pet, 1.0), strict=True)]
        pet_gap = {"best_pet": best_pet, "chosen_on": "validation", **summarize(gaps),
                   "paired_t": _test_dict(paired_t(acc("full", 1.0), acc(best_pet, 1.0))) if len(seeds) > 1 else None}
    curves = {name: {str(a): {"valid_accuracy": np.mean([results[(name, a, s)].valid_accuracy for s in seeds],
                                                        0).tolist(),
                              "cumulative_mb": (np.cumsum(results[(name, a, seeds[0])].bytes_per_round) / MB).tolist()}
                     for a in alphas} for name in methods}
    majority = float(100 * max(_majority(task_for(_settings(config, 1.0, s)).test.labels.numpy()) for s in seeds))
    _figures(ctx, methods, alphas, accuracy, comm, curves, central, majority)
    central_ft = [100 * c["central_ft"] for c in central.values() if c["central_ft"] is not None]
    return {
        "accuracy": accuracy,
        "valid_accuracy": valid_accuracy,
        "communication": comm,
        "skew_drop": drop,
        "pet_minus_ft_gap": pet_gap,
        "mb_to_target": mb_to_target,
        "rounds": int(config["rounds"]),
        "central_ft_accuracy": summarize(central_ft) if central_ft else None,
        "majority_class_accuracy": majority,
        "tfidf_lr_accuracy": summarize([100 * central[s]["tfidf_lr"] for s in seeds]),
        "tfidf_lr_full_articles_accuracy": summarize([100 * central[s]["tfidf_lr_full_articles"] for s in seeds]),
        "curves": curves,
        "failures": int(sum(sum(r.failures) for r in results.values())),
        "aggregation": "FedAvg weighted by num-examples (equal client sizes, the last client takes leftovers)",
        "runs": [{"method": n, "alpha": a, "seed": s, "best_round": r.best_round,
                  "best_valid_accuracy": r.best_valid_accuracy, "best_test_accuracy": r.best_test_accuracy,
                  "valid_accuracy": r.valid_accuracy, "bytes_down": r.bytes_down, "bytes_up": r.bytes_up,
                  "seconds": r.seconds} for (n, a, s), r in results.items()],
    }


def _majority(labels: Any) -> float:
    import numpy as np

    return float(np.bincount(labels).max() / len(labels))


def _test_dict(result: Any) -> dict[str, float]:
    return {"statistic": float(result.statistic), "p": float(result.pvalue), "effect": float(result.effect)}


def _figures(ctx: RunContext, methods, alphas, accuracy, comm, curves, central, majority) -> None:  # noqa: ANN001
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    a_ref = "1.0" if "1.0" in curves[methods[0]] else str(alphas[-1])
    fig, ax = plt.subplots(figsize=(6, 4))
    for name in methods:
        c = curves[name][a_ref]
        ax.plot(c["cumulative_mb"], c["valid_accuracy"][1:], marker="o", label=name)
    ax.set_xscale("log")
    ax.set(xlabel="cumulative MB sent + received", ylabel="validation accuracy",
           title=f"accuracy vs communication (alpha = {a_ref}, mean over seeds)")
    ax.legend()
    ctx.save_figure(fig, "accuracy_vs_mb.png")

    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.8 / len(alphas)
    for j, a in enumerate(alphas):
        means = [accuracy[n][str(a)]["mean"] for n in methods]
        stds = [accuracy[n][str(a)]["std"] for n in methods]
        ax.bar(np.arange(len(methods)) + j * width, means, width, yerr=stds, label=f"alpha = {a}")
    ft = [v["central_ft"] for v in central.values() if v["central_ft"] is not None]
    if ft:
        ax.axhline(np.mean(ft) * 100, ls="--", c="k", label="central FT")
    ax.axhline(np.mean([v["tfidf_lr"] for v in central.values()]) * 100, ls=":", c="gray",
               label="TF-IDF + LR (same truncated input)")
    ax.axhline(majority, ls="-.", c="r", label="majority class")
    ax.set_xticks(np.arange(len(methods)) + width * (len(alphas) - 1) / 2, methods)
    ax.set(ylabel="test accuracy (%)", title="accuracy per method and label skew")
    ax.legend(fontsize=8)
    ctx.save_figure(fig, "accuracy_per_alpha.png")

    fig, ax = plt.subplots(figsize=(7, 4))
    x = np.arange(len(methods))
    ax.bar(x - 0.2, [comm[n]["bytes_per_round"] for n in methods], 0.4, label="measured (count_bytes)")
    ax.bar(x + 0.2, [comm[n]["analytic_bytes_per_round"] for n in methods], 0.4,
           label="Flower framing of the tensors x messages")
    ax.set_yscale("log")
    ax.set_xticks(x, methods)
    ax.set(ylabel="bytes per round (down + up)", title="communication per round")
    ax.legend()
    ctx.save_figure(fig, "bytes_per_round.png")


# ----------------------------------------------------------------------------------- claims
def _unconverged(m: dict, methods: tuple[str, ...], alphas: tuple[float, ...]) -> str:
    """'; not converged: ...' naming the (method, alpha) whose best validation round is the last one in a seed."""
    last = m["rounds"]
    hit = sorted({(r["method"], r["alpha"]) for r in m["runs"]
                  if r["method"] in methods and r["alpha"] in alphas and r["best_round"] == last})
    if not hit:
        return ""
    return "; not converged (best round = last round " + str(last) + " in some seed): " + ", ".join(
        f"{n} alpha={a:g}" for n, a in hit)


def _comm_reduction(m: dict) -> Evidence:
    c = m["communication"]
    red = {n: c[n]["reduction_vs_full"] for n in ("lora", "bitfit")}
    exact = {n: c[n]["rounds_exact"] == c[n]["rounds"] for n in c}
    ok = all(v >= 100 for v in red.values()) and all(exact.values())
    detail = "measured MB/round (down + up), reduction vs FT measured / by parameters / paper's parameters: " + \
        "; ".join(f"{n} {c[n]['bytes_per_round'] / MB:.3f} MB" + (
            "" if n == "full" else f", {c[n]['reduction_vs_full']:.0f}x / {c[n]['param_ratio_vs_full']:.0f}x / "
            + (f"{c[n]['paper_param_ratio']:g}x" if c[n].get("paper_param_ratio") else "-")) for n in c)
    detail += "; measured == Flower framing (4 B x params + .npy header + key per tensor) x messages in " + \
        ", ".join(f"{n} {c[n]['rounds_exact']}/{c[n]['rounds']}" for n in c) + " rounds"
    return Evidence({n: round(v, 1) for n, v in red.items()}, ok, detail)


def _pet_near_ft(m: dict) -> Evidence:
    g = m["pet_minus_ft_gap"]
    p = g["paired_t"]["p"] if g.get("paired_t") else float("nan")
    ft, chance = m["accuracy"]["full"]["1.0"]["mean"], m["majority_class_accuracy"]
    learned = ft >= chance + 10  # a gap between two models at chance level says nothing
    control = m["accuracy"].get("head", {}).get("1.0")
    detail = (f"FT - {g['best_pet']} (best of LoRA/adapter on validation) at alpha=1.0 = {g['mean']:.2f} points "
              f"(per seed {[round(x, 1) for x in g['per_seed']]}, paired t p={p:.3g}); FT {ft:.1f}% vs majority "
              f"class {chance:.1f}%" + ("" if learned else " (FT not above chance: not measurable)"))
    if control:
        detail += f"; head-only control {control['mean']:.1f}%"
    detail += _unconverged(m, ("full", g["best_pet"]), (1.0,))
    return Evidence(round(g["mean"], 2), learned and g["mean"] <= 3.0, detail)


def _skew_hurts(m: dict) -> Evidence:
    d = {n: v["mean"] for n, v in m["skew_drop"].items()}
    base = [n for n in PAPER_METHODS if n in d]
    positive = sum(d[n] > 0 for n in base)
    detail = "acc(alpha=1.0) - acc(alpha=0.1), points: " + ", ".join(f"{n} {d[n]:+.2f}" for n in base)
    if "head" in d:
        detail += f" (head-only control {d['head']:+.2f})"
    return Evidence(positive, positive >= 4, detail + _unconverged(m, tuple(base), (0.1, 1.0)))


def _mb_to_target(m: dict) -> Evidence:
    t = m["mb_to_target"]

    def mean(v: list) -> float:
        return math.inf if any(x is None for x in v) else sum(v) / len(v)

    # 95% of FT's best is no target when FT itself never left its starting accuracy (e.g. the majority class)
    ft_runs = [r for r in m["runs"] if r["method"] == "full" and r["alpha"] == 1.0]
    stuck = [r["seed"] for r in ft_runs if r["best_valid_accuracy"] < r["valid_accuracy"][0] + 0.10]
    ft, lora = mean(t["full"]), mean(t["lora"])
    ratio = ft / lora if lora not in (0, math.inf) else 0.0

    def fmt(v: list) -> str:
        return "[" + ", ".join("never" if x is None else f"{x:.1f}" for x in v) + "]"

    detail = f"MB until valid acc >= 95% of FT's best: FT {fmt(t['full'])}, LoRA {fmt(t['lora'])}"
    if stuck:
        detail += f"; not measurable: FT gained < 10 points over its initial validation accuracy in seeds {stuck}"
    detail += _unconverged(m, ("full",), (1.0,))
    return Evidence(round(ratio, 1) if math.isfinite(ratio) else None, ratio >= 10 and not stuck, detail)


def _lora_bitfit_robust(m: dict) -> Evidence:
    d = {n: v["mean"] for n, v in m["skew_drop"].items()}
    robust, fragile = (d["lora"] + d["bitfit"]) / 2, (d["adapter"] + d["prefix"]) / 2
    detail = f"mean drop alpha 1.0 -> 0.1: LoRA/BitFit {robust:.2f} vs adapter/prefix {fragile:.2f} points"
    return Evidence({"lora_bitfit": round(robust, 2), "adapter_prefix": round(fragile, 2)}, robust < fragile,
                    detail + _unconverged(m, ("lora", "bitfit", "adapter", "prefix"), (0.1, 1.0)))


PAPER = register(Paper(
    id="fedpetuning",
    title="FedPETuning: When Federated Learning Meets the Parameter-Efficient Tuning Methods of Pre-trained "
          "Language Models",
    arxiv="2212.10025",
    presets=PRESETS,
    claims=[
        Claim("comm-reduction", "PETuning heavily cuts communication (measured bytes per round)",
              "12-190x fewer parameters than FT on RoBERTa (BitFit 190x, LoRA ~140x)", _comm_reduction),
        Claim("pet-near-ft", "PETuning keeps acceptable accuracy: best of LoRA/adapter within 3 points of FT at "
              "alpha=1.0", "FT 87.0 vs adapter 86.2 / LoRA 84.8 (GLUE average)", _pet_near_ft),
        Claim("skew-hurts", "All methods degrade under strong label skew (alpha 1.0 -> 0.1), >= 4 of 5 methods",
              "QNLI drops: FT 7.0, AP 38.4, LR 12.0, PF 35.3, BF 7.6 points", _skew_hurts),
        Claim("mb-to-target", "PET reaches a target accuracy with far less communication: LoRA >= 10x fewer MB "
              "than FT to 95% of FT's best validation accuracy", "~140x fewer bytes per round for LoRA",
              _mb_to_target),
        Claim("lora-bitfit-robust", "LoRA and BitFit degrade more gracefully under skew than adapter and prefix",
              "QNLI drop: LR 12.0, BF 7.6 vs AP 38.4, PF 35.3", _lora_bitfit_robust),
    ],
    run=run,
    summary="Federated parameter-efficient tuning (LoRA, adapters, deep prefix, BitFit; head-only control) of a "
            "mean-pooling BERT classifier on Flower",
    readme=Path(__file__).with_name("README.md"),
    key_metrics=("communication", "accuracy", "pet_minus_ft_gap", "skew_drop", "majority_class_accuracy",
                 "tfidf_lr_accuracy", "tfidf_lr_full_articles_accuracy", "central_ft_accuracy"),
    captions={
        "accuracy_vs_mb.png": "Validation accuracy after each round against the cumulative bytes sent and received "
                              "(measured on the Flower messages), alpha = 1.0, mean over seeds; log x axis.",
        "accuracy_per_alpha.png": "Test accuracy of the best validation round per method at each label skew alpha "
                                  "(mean and std over seeds), with the majority class and TF-IDF + logistic "
                                  "regression on the same truncated input.",
        "bytes_per_round.png": "Bytes per round, down + up: measured with ArrayRecord.count_bytes() beside Flower's "
                               "framing predicted from the tensor shapes (4 B per parameter + .npy header + key).",
    },
))
