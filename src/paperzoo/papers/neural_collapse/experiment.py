"""Reproduction of Li et al. (arXiv 2212.12206): NC1 predicts transfer; SCL-FT vs LP / Layer-FT / full FT.

Experiment A (digits): a zoo of MLPs pre-trained on digits 0-4; NC1 of their penultimate features on
the downstream (digits 5-9) training split and on the source data, against linear-probe accuracy.
Experiment B (MNIST-1D): a 1-D CNN pre-trained on classes 0-4 per seed, transferred to classes 5-9
with a small fraction of the downstream training set by LP, full FT, Layer-FT and SCL-FT.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from paperzoo.core import Claim, Evidence, Paper, RunContext, register

BLOCKS = ["block1", "block2", "block3", "block4"]

PRESETS: dict[str, dict[str, Any]] = {
    "quick": {
        "seeds": 5,
        # experiment A: digits model zoo (36 MLPs)
        "zoo_widths": [16, 32, 64], "zoo_alphas": [1e-4, 1e-2, 1.0], "zoo_epochs": [20, 200],
        "zoo_seeds": 2, "zoo_lr": 1e-3, "zoo_batch_size": 64, "probe_C": 1.0,
        "zoo_cnn": None, "bootstrap_resamples": 2000,
        # experiment B: MNIST-1D transfer
        "pretrain_epochs": 30, "pretrain_lr": 1e-3, "pretrain_batch_size": 64,
        "regimes": [0.05, 0.10], "ft_epochs": 50, "ft_batch_size": 32,
        "lr": {"LP": 1e-3, "Full FT": 3e-4, "Layer-FT": 1e-3, "SCL-FT": 1e-3}, "lr_grid": None,
        "scl_block": "block2", "fuse": "concat", "tune_blocks": ["block2"], "profile_regime": 0.10,
    },
    "full": {
        "seeds": 10,
        "zoo_widths": [16, 32, 64], "zoo_alphas": [1e-4, 1e-2, 1.0], "zoo_epochs": [20, 200],
        "zoo_seeds": 2, "zoo_lr": 1e-3, "zoo_batch_size": 64, "probe_C": 1.0,
        "zoo_cnn": {"widths": [0.25, 0.5, 1.0], "epochs": [3, 30]}, "bootstrap_resamples": 2000,
        "pretrain_epochs": 30, "pretrain_lr": 1e-3, "pretrain_batch_size": 64,
        "regimes": [0.05, 0.10, 1.0], "ft_epochs": 50, "ft_batch_size": 32,
        "lr": {"LP": 1e-3, "Full FT": 3e-4, "Layer-FT": 1e-3, "SCL-FT": 1e-3}, "lr_grid": [1e-4, 3e-4, 1e-3],
        "scl_block": "block2", "fuse": "concat", "tune_blocks": BLOCKS, "profile_regime": 0.10,
    },
}


def _regime(fraction: float) -> str:
    return f"{fraction * 100:g}%"


# ----------------------------------------------------------------------------------------- exp. A
def _zoo(config: dict, make_model, data, widths, epochs_list, ctx: RunContext, label: str) -> list[dict]:
    """Pre-train one model per (width, alpha, epochs, seed) on the source; measure NC1 and LP accuracy."""
    import itertools
    import warnings

    from paperzoo.core.seeding import seed_everything

    from .features import collect_features, linear_probe
    from .finetune import fine_tune
    from .metrics import nc_metrics

    Xs, ys, Xd_tr, yd_tr, Xd_te, yd_te = data
    grid = list(itertools.product(widths, config["zoo_alphas"], epochs_list, range(config["zoo_seeds"])))
    rows = []
    for width, alpha, epochs, zseed in ctx.track(grid, description=f"{label} zoo"):
        seed_everything(zseed)
        model = fine_tune(make_model(width), Xs, ys, epochs=epochs, lr=config["zoo_lr"], seed=zseed,
                          batch_size=config["zoo_batch_size"], l2_alpha=alpha)
        H_tr, H_te, H_src = (collect_features(model, X) for X in (Xd_tr, Xd_te, Xs))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            acc = linear_probe(H_tr, yd_tr, H_te, yd_te, C=config["probe_C"])
        rows.append({"width": width, "alpha": alpha, "epochs": epochs, "seed": zseed,
                     "nc1_down": nc_metrics(H_tr, yd_tr)["nc1"], "nc1_source": nc_metrics(H_src, ys)["nc1"],
                     "source_acc": _accuracy(model, Xs, ys),
                     "lp_acc": acc, "lp_convergence_warnings": sum("converge" in str(w.message) for w in caught)})
    return rows


def _accuracy(model, X, y) -> float:
    import torch

    from .features import as_tensor

    model.eval()
    with torch.no_grad():
        return float((model(as_tensor(X)).argmax(1).numpy() == y).mean())


def _correlations(rows: list[dict], resamples: int) -> dict:
    """Spearman ρ of LP accuracy with NC1 (downstream, source): p-values, bootstrap CIs, within width."""
    import numpy as np
    from scipy.stats import spearmanr

    from paperzoo.core.stats import bootstrap_ci, spearman

    nd = np.log([r["nc1_down"] for r in rows])  # ranks are unchanged by log; it keeps the bootstrap tame
    ns = np.log([r["nc1_source"] for r in rows])
    acc = np.array([r["lp_acc"] for r in rows])

    def rho(a, b):
        return float(spearmanr(a, b)[0])

    out = {}
    for name, x in (("down", nd), ("source", ns)):
        test = spearman(x, acc)
        out[f"spearman_{name}"] = {"rho": test.statistic, "p": test.pvalue, "n": len(rows),
                                   "ci95": list(bootstrap_ci((x, acc), rho, n_resamples=resamples))}
    out["abs_rho_gap"] = {
        "value": abs(out["spearman_down"]["rho"]) - abs(out["spearman_source"]["rho"]),
        "ci95": list(bootstrap_ci((nd, ns, acc), lambda a, b, c: abs(rho(a, c)) - abs(rho(b, c)),
                                  n_resamples=resamples))}
    within = {}
    for width in sorted({r["width"] for r in rows}):
        idx = [i for i, r in enumerate(rows) if r["width"] == width]
        down, source = spearman(nd[idx], acc[idx]), spearman(ns[idx], acc[idx])
        within[str(width)] = {"rho": down.statistic, "p": down.pvalue, "rho_source": source.statistic,
                              "p_source": source.pvalue, "n": len(idx)}
    out["within_width"] = within
    return out


def _experiment_a(config: dict, ctx: RunContext) -> dict:
    from sklearn.model_selection import train_test_split

    from paperzoo.data import digits, mnist1d

    from .backbones import CNN1D, MLP

    X, y = digits()
    Xd_tr, Xd_te, yd_tr, yd_te = train_test_split(X[y >= 5], y[y >= 5] - 5, test_size=0.5,
                                                  stratify=y[y >= 5], random_state=0)
    data = (X[y < 5], y[y < 5], Xd_tr, yd_tr, Xd_te, yd_te)
    rows = _zoo(config, lambda w: MLP(64, w, 5), data, config["zoo_widths"], config["zoo_epochs"], ctx, "digits")
    out = {f"zoo_{k}": v for k, v in _correlations(rows, config["bootstrap_resamples"]).items()}
    out["zoo_models"] = rows
    out["zoo_lp_convergence_warnings"] = int(sum(r["lp_convergence_warnings"] for r in rows))
    _plot_zoo(rows, out, ctx)
    if config.get("zoo_cnn"):
        split = mnist1d()
        src, dtr, dte = split.y_train < 5, split.y_train >= 5, split.y_test >= 5
        data = (split.x_train[src], split.y_train[src], split.x_train[dtr], split.y_train[dtr] - 5,
                split.x_test[dte], split.y_test[dte] - 5)
        cnn_rows = _zoo(config, lambda w: CNN1D(5, width=w), data, config["zoo_cnn"]["widths"],
                        config["zoo_cnn"]["epochs"], ctx, "mnist1d")
        out.update({f"zoo_cnn_{k}": v for k, v in _correlations(cnn_rows, config["bootstrap_resamples"]).items()})
        out["zoo_cnn_models"] = cnn_rows
    return out


def _plot_zoo(rows: list[dict], stats: dict, ctx: RunContext) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    widths = sorted({r["width"] for r in rows})
    colors = dict(zip(widths, plt.cm.viridis([0.1, 0.5, 0.85][:len(widths)] if len(widths) <= 3
                                             else [i / len(widths) for i in range(len(widths))]), strict=True))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, key, title in ((axes[0], "nc1_down", "downstream train (digits 5-9)"),
                           (axes[1], "nc1_source", "source train (digits 0-4)")):
        for width in widths:
            pts = [r for r in rows if r["width"] == width]
            ax.scatter([r[key] for r in pts], [r["lp_acc"] for r in pts], color=colors[width], label=f"width {width}",
                       edgecolor="k", linewidth=0.4)
        s = stats["zoo_spearman_" + ("down" if key == "nc1_down" else "source")]
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # overlapping minor labels
        ax.set_xlabel(f"NC1 on {title}")
        ax.set_title(f"Spearman rho = {s['rho']:.2f} (p = {s['p']:.1e})")
    axes[0].set_ylabel("linear-probe test accuracy (digits 5-9)")
    axes[0].legend()
    fig.suptitle("Pre-trained MLP zoo: feature collapse vs transfer")
    ctx.save_figure(fig, "nc1_vs_lp.png")


# ----------------------------------------------------------------------------------------- exp. B
def _variants(config: dict) -> list[tuple[str, str, Any]]:
    """(name, kind, block) of every fine-tuning variant run."""
    names = [("LP", "lp", None), ("Full FT", "full", "all")]
    for block in config["tune_blocks"]:
        suffix = "" if block == config["scl_block"] else f" ({block})"
        names += [(f"Layer-FT{suffix}", "layer", block), (f"SCL-FT{suffix}", "scl", block)]
    return names


def _build(kind: str, block: Any, backbone, config: dict):
    from .finetune import LayerFineTune, SCLFineTune

    if kind == "scl":
        return SCLFineTune(backbone, tune=block, num_classes=5, fuse=config["fuse"])
    return LayerFineTune(backbone, block, 5)


def _pick_lr(kind, block, backbone, X, y, seed, config) -> float:
    """Learning rate with the best accuracy on a stratified 20% validation split of (X, y)."""
    from sklearn.model_selection import train_test_split

    from paperzoo.core.seeding import seed_everything

    from .finetune import fine_tune

    X_fit, X_val, y_fit, y_val = train_test_split(X, y, test_size=0.2, stratify=y, random_state=seed)
    scores = []
    for lr in config["lr_grid"]:
        seed_everything(seed)
        model = fine_tune(_build(kind, block, backbone, config), X_fit, y_fit, epochs=config["ft_epochs"], lr=lr,
                          seed=seed, batch_size=config["ft_batch_size"])
        scores.append(_accuracy(model, X_val, y_val))
    return config["lr_grid"][max(range(len(scores)), key=scores.__getitem__)]


def _experiment_b(config: dict, seeds: list[int], ctx: RunContext) -> dict:
    import numpy as np
    from sklearn.model_selection import train_test_split

    from paperzoo.core.seeding import seed_everything
    from paperzoo.data import mnist1d

    from .backbones import CNN1D
    from .features import collect_features, layerwise_nc1, linear_probe
    from .finetune import fine_tune
    from .metrics import nc_metrics

    split = mnist1d()
    src = split.y_train < 5
    Xs, ys = split.x_train[src], split.y_train[src]
    src_te = split.y_test < 5
    Xd, yd = split.x_train[~src], split.y_train[~src] - 5
    Xd_te, yd_te = split.x_test[~src_te], split.y_test[~src_te] - 5
    variants = _variants(config)
    regimes = [_regime(f) for f in config["regimes"]]
    acc = {r: {v[0]: [] for v in variants} for r in regimes}
    nc1 = {r: {v[0]: [] for v in variants} for r in regimes}
    lrs = {r: {v[0]: [] for v in variants} for r in regimes}
    sk_lp = {r: [] for r in regimes}
    profile_layers = {"before": []} | {v[0]: [] for v in variants}
    pretrain_acc, fractions, rule_choice, train_size = [], {}, [], {}
    for seed in ctx.track(seeds, description="transfer seeds"):
        seed_everything(seed)
        backbone = fine_tune(CNN1D(num_classes=5), Xs, ys, epochs=config["pretrain_epochs"],
                             lr=config["pretrain_lr"], seed=seed, batch_size=config["pretrain_batch_size"])
        pretrain_acc.append(_accuracy(backbone, split.x_test[src_te], split.y_test[src_te]))
        for fraction, regime in zip(config["regimes"], regimes, strict=True):
            if fraction < 1:
                X_tr, _, y_tr, _ = train_test_split(Xd, yd, train_size=fraction, stratify=yd, random_state=seed)
            else:
                X_tr, y_tr = Xd, yd
            train_size[regime] = len(X_tr)
            sk_lp[regime].append(linear_probe(collect_features(backbone, X_tr), y_tr,
                                              collect_features(backbone, Xd_te), yd_te, C=config["probe_C"]))
            profile = fraction == config["profile_regime"]
            if profile:
                before = layerwise_nc1(backbone, X_tr, y_tr, BLOCKS)
                profile_layers["before"].append([before[b] for b in BLOCKS])
                # The block-choice rule: lowest downstream NC1 among blocks with <= 10% of the parameters.
                shares = {b: _build("scl", b, backbone, config).trainable_fraction() for b in BLOCKS}
                rule_choice.append(min((b for b in BLOCKS if shares[b] <= 0.10), key=before.__getitem__))
            for name, kind, block in variants:
                lr = (_pick_lr(kind, block, backbone, X_tr, y_tr, seed, config) if config["lr_grid"]
                      else config["lr"][name.split(" (")[0]])
                seed_everything(seed)
                model = _build(kind, block, backbone, config)
                fractions[name] = model.trainable_fraction()
                fine_tune(model, X_tr, y_tr, epochs=config["ft_epochs"], lr=lr, seed=seed,
                          batch_size=config["ft_batch_size"])
                acc[regime][name].append(_accuracy(model, Xd_te, yd_te))
                nc1[regime][name].append(nc_metrics(collect_features(model, X_tr), y_tr)["nc1"])
                lrs[regime][name].append(lr)
                if profile:
                    after = layerwise_nc1(model, X_tr, y_tr, [f"body.{b}" for b in BLOCKS])
                    profile_layers[name].append([after[f"body.{b}"] for b in BLOCKS])
    return _summarise_b(config, acc, nc1, lrs, sk_lp, profile_layers, pretrain_acc, fractions, rule_choice,
                        train_size, ctx, np)


def _summarise_b(config, acc, nc1, lrs, sk_lp, profile_layers, pretrain_acc, fractions, rule_choice, train_size,
                 ctx, np) -> dict:
    from paperzoo.core.stats import spearman, summarize, wilcoxon

    scl, layer = "SCL-FT", "Layer-FT"
    out: dict[str, Any] = {
        "pretrain_source_accuracy": summarize(pretrain_acc),
        "trainable_fraction": fractions,
        "scl_trainable_fraction": fractions[scl],
        "downstream_train_size": train_size,
        "accuracy": {r: {v: summarize(a) for v, a in d.items()} for r, d in acc.items()},
        "final_nc1": {r: {v: summarize(a) for v, a in d.items()} for r, d in nc1.items()},
        "sklearn_lp_accuracy": {r: summarize(a) for r, a in sk_lp.items()},
        "scl_block_rule_choice": rule_choice,
    }
    if config["lr_grid"]:
        out["selected_lr"] = lrs
    out["scl_vs_lp"], out["scl_minus_full_ft"], out["scl_vs_layer_ft"] = {}, {}, {}
    for regime, d in acc.items():
        test = wilcoxon(d[scl], d["LP"], alternative="greater")
        out["scl_vs_lp"][regime] = {"p": test.pvalue, "mean_diff": test.effect,
                                    "wins": int(np.sum(np.array(d[scl]) > np.array(d["LP"])))}
        out["scl_minus_full_ft"][regime] = summarize(np.array(d[scl]) - np.array(d["Full FT"]))
        test = wilcoxon(d[scl], d[layer])
        out["scl_vs_layer_ft"][regime] = {"p": test.pvalue, "mean_diff": test.effect}
    regime = _regime(config["profile_regime"])
    core = ["LP", "Full FT", layer, scl]
    x = [v for name in core for v in nc1[regime][name]]
    yv = [v for name in core for v in acc[regime][name]]
    test = spearman(np.log(x), yv)
    out["ft_nc1_vs_accuracy"] = {"regime": regime, "rho": test.statistic, "p": test.pvalue, "n": len(x)}
    out["layerwise_nc1"] = {"regime": regime, "layers": BLOCKS,
                            **{k: np.mean(v, axis=0).tolist() for k, v in profile_layers.items() if v}}
    _plot_layers(out["layerwise_nc1"], ctx)
    _plot_accuracy(acc, ctx)
    return out


def _plot_layers(profile: dict, ctx: RunContext) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, values in profile.items():
        if name not in ("regime", "layers", "before"):
            ax.plot(profile["layers"], values, marker="o", label=f"after {name}")
    # Drawn last so it stays visible on top of LP, whose backbone is frozen (identical profile).
    ax.plot(profile["layers"], profile["before"], "k--", marker="x", label="pre-trained (before)")
    ax.set_yscale("log")
    ax.set_ylabel("NC1 of pooled block output (downstream train)")
    ax.set_title(f"Layer-wise NC1, MNIST-1D 5-9, {profile['regime']} data (mean over seeds)")
    ax.legend(fontsize=8)
    ctx.save_figure(fig, "layerwise_nc1.png")


def _plot_accuracy(acc: dict, ctx: RunContext) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    regimes = list(acc)
    methods = list(acc[regimes[0]])
    fig, axes = plt.subplots(1, len(regimes), figsize=(4.5 * len(regimes), 4), sharey=True, squeeze=False)
    rng = np.random.default_rng(0)
    for ax, regime in zip(axes[0], regimes, strict=True):
        for i, method in enumerate(methods):
            vals = np.array(acc[regime][method])
            ax.bar(i, vals.mean(), color=f"C{i}", alpha=0.35)
            ax.scatter(i + rng.uniform(-0.15, 0.15, vals.size), vals, color=f"C{i}", edgecolor="k", linewidth=0.4,
                       zorder=3)
        ax.set_xticks(range(len(methods)), methods, rotation=30, ha="right", fontsize=8)
        ax.set_title(f"{regime} of downstream train")
        ax.set_ylim(max(0.0, min(min(v) for v in acc[regime].values()) - 0.05), 1.0)
    axes[0][0].set_ylabel("test accuracy, MNIST-1D classes 5-9 (dots = seeds)")
    ctx.save_figure(fig, "accuracy.png")


def run(config: dict, seeds: list[int], ctx: RunContext) -> dict:
    import torch

    torch.set_num_threads(1)
    with ctx.stage("experiment A: NC1 vs linear-probe accuracy over a digits model zoo"):
        metrics = _experiment_a(config, ctx)
    with ctx.stage("experiment B: MNIST-1D transfer, LP / full FT / Layer-FT / SCL-FT"):
        metrics.update(_experiment_b(config, seeds, ctx))
    return metrics


# ----------------------------------------------------------------------------------------- claims
def _nc1_predicts_transfer(m: dict) -> Evidence:
    s, within = m["zoo_spearman_down"], m["zoo_within_width"]
    negative = sum(w["rho"] < 0 for w in within.values())
    ok = s["rho"] <= -0.5 and s["p"] < 0.01 and negative >= 2
    parts = ", ".join(f"w={k}: {w['rho']:.2f} (p={w['p']:.2g})" for k, w in within.items())
    return Evidence(round(s["rho"], 3), ok,
                    f"rho={s['rho']:.3f} (p={s['p']:.2g}, 95% CI [{s['ci95'][0]:.2f}, {s['ci95'][1]:.2f}], "
                    f"n={s['n']}); within width: {parts}; negative in {negative}/{len(within)}")


def _source_nuanced(m: dict) -> Evidence:
    gap, s, d = m["zoo_abs_rho_gap"], m["zoo_spearman_source"], m["zoo_spearman_down"]
    return Evidence(round(gap["value"], 3), gap["ci95"][0] > 0,
                    f"|rho_down|-|rho_source| = {abs(d['rho']):.3f}-{abs(s['rho']):.3f} = {gap['value']:.3f}, "
                    f"95% bootstrap CI [{gap['ci95'][0]:.3f}, {gap['ci95'][1]:.3f}]; rho_source={s['rho']:.3f} "
                    f"(p={s['p']:.2g})")


def _param_reduction(m: dict) -> Evidence:
    f = m["scl_trainable_fraction"]
    return Evidence(round(f, 4), f <= 0.10, f"SCL-FT trains {f:.1%} of the full-FT parameter count")


def _scl_beats_lp(m: dict) -> Evidence:
    low = {r: v for r, v in m["scl_vs_lp"].items() if r in ("5%", "10%")}
    ok = len(low) == 2 and all(v["p"] < 0.05 for v in low.values())
    return Evidence({r: round(v["mean_diff"], 4) for r, v in low.items()}, ok,
                    "; ".join(f"{r}: SCL-FT {m['accuracy'][r]['SCL-FT']['mean']:.3f} vs LP "
                              f"{m['accuracy'][r]['LP']['mean']:.3f}, diff {v['mean_diff']:+.3f}, "
                              f"wins {v['wins']}/{len(m['accuracy'][r]['LP']['per_seed'])}, one-sided Wilcoxon "
                              f"p={v['p']:.3g}" for r, v in low.items())
                    + " (LP = head trained with Adam like the other variants; scikit-learn LP on standardised "
                    "features: " + ", ".join(f"{r} {m['sklearn_lp_accuracy'][r]['mean']:.3f}" for r in low) + ")")


def _scl_scarce(m: dict) -> Evidence:
    d = m["scl_minus_full_ft"]["5%"]
    acc = m["accuracy"]["5%"]
    return Evidence(round(d["mean"], 4), d["mean"] >= 0,
                    f"5%: SCL-FT {acc['SCL-FT']['mean']:.3f} vs full FT {acc['Full FT']['mean']:.3f}; paired diff "
                    f"{d['mean']:+.3f}, 95% CI [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}], per seed "
                    f"{[round(v, 3) for v in d['per_seed']]}")


def _ft_collapse(m: dict) -> Evidence:
    s = m["ft_nc1_vs_accuracy"]
    return Evidence(round(s["rho"], 3), s["rho"] < 0 and s["p"] < 0.05,
                    f"{s['regime']}: Spearman(NC1 of final features on downstream train, test accuracy) = "
                    f"{s['rho']:.3f}, p={s['p']:.2g}, n={s['n']} (4 variants x seeds)")


PAPER = register(Paper(
    id="neural-collapse",
    title="Understanding and Improving Transfer Learning of Deep Models via Neural Collapse",
    arxiv="2212.12206",
    presets=PRESETS,
    claims=[
        Claim("nc1-predicts-transfer", "More collapse (lower NC1) of pre-trained features on downstream training "
              "data goes with higher transfer (linear-probe) accuracy", "negative correlation (no numbers quoted); "
              "pass: rho <= -0.5, p < 0.01, rho < 0 within >= 2 of 3 widths", _nc1_predicts_transfer),
        Claim("source-nc-nuanced", "On source data the relation between collapse and transfer is more nuanced",
              "qualitative; pass: bootstrap 95% CI of |rho_down| - |rho_source| above 0", _source_nuanced),
        Claim("scl-param-reduction", "SCL-FT fine-tunes >= 90% fewer parameters than full fine-tuning",
              ">= 90% fewer (<= 10% trainable)", _param_reduction),
        Claim("scl-beats-lp", "SCL-FT improves on linear probing", "higher accuracy; pass: one-sided Wilcoxon "
              "p < 0.05 at 5% and 10% data", _scl_beats_lp),
        Claim("scl-scarce-data", "SCL-FT mitigates over-fitting when downstream data are scarce",
              "SCL-FT >= full FT with scarce data; pass: mean paired diff >= 0 at 5%", _scl_scarce),
        Claim("ft-collapse-accuracy", "More collapse on downstream data during fine-tuning gives better test "
              "accuracy", "negative NC1-accuracy relation; pass: Spearman rho < 0, p < 0.05 (10% regime)",
              _ft_collapse),
    ],
    run=run,
    summary="NC1/NC2/NC3 metrics, layer-wise collapse, linear probes and SCL fine-tuning for transfer learning",
    readme=Path(__file__).with_name("README.md"),
    key_metrics=("zoo_spearman_down", "zoo_spearman_source", "scl_trainable_fraction", "accuracy",
                 "scl_vs_lp", "scl_minus_full_ft", "ft_nc1_vs_accuracy"),
    captions={
        "nc1_vs_lp.png": "Model zoo of MLPs pre-trained on digits 0-4: NC1 of the penultimate features on the "
                         "downstream training data (left) and on the source data (right) against linear-probe "
                         "test accuracy on digits 5-9, coloured by width.",
        "layerwise_nc1.png": "NC1 of each block's pooled output on the downstream training data, before and after "
                             "each fine-tuning variant (MNIST-1D classes 5-9, mean over seeds).",
        "accuracy.png": "Test accuracy on MNIST-1D classes 5-9 per fine-tuning variant and data regime (bars: "
                        "mean, dots: seeds; every variant starts from the same pre-trained backbone per seed).",
    },
))
