"""Figures and audio of the prosody2vec reproduction."""

from __future__ import annotations

from typing import Any

import numpy as np

from paperzoo.core.context import RunContext

from .corpus import SAMPLE_RATE

EMOTION_COLOURS = {"neutral": "tab:gray", "happy": "tab:orange", "sad": "tab:blue", "angry": "tab:red",
                   "surprise": "tab:green", "fear": "tab:purple"}


def write_wav(path: Any, wav: np.ndarray) -> None:
    """16-bit PCM mono WAV at 16 kHz."""
    from scipy.io import wavfile

    wavfile.write(path, SAMPLE_RATE, (np.clip(wav, -1, 1) * 32767).astype(np.int16))


def write_audio(ctx: RunContext, examples: list[dict]) -> None:
    for i, ex in enumerate(examples):
        write_wav(ctx.path(f"evc_{i}_source.wav"), ex["source_wav"])
        write_wav(ctx.path(f"evc_{i}_reconstruction.wav"), ex["recon_wav"])
        for target, conv in ex["converted"].items():
            write_wav(ctx.path(f"evc_{i}_{target}.wav"), conv["wav"])


def probe_matrix(ctx: RunContext, metrics: dict) -> None:
    import matplotlib.pyplot as plt

    from .experiment import STREAMS, TASKS

    names = {"units": "units (bag of MFCC k-means)", "speaker": "speaker (GE2E per utterance)", "z": "prosody z"}
    values = np.array([[metrics["probe"][s][t]["mean"] for t in TASKS] for s in STREAMS])
    fig, ax = plt.subplots(figsize=(7.2, 3.6))
    image = ax.imshow(values, vmin=0, vmax=1, cmap="viridis")
    for i in range(len(STREAMS)):
        for j in range(len(TASKS)):
            ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center",
                    color="white" if values[i, j] < 0.6 else "black")
    ax.set_xticks(range(len(TASKS)), [f"{t}\n(chance {metrics['chance'][t]:.2f})" for t in TASKS], fontsize=8)
    ax.set_yticks(range(len(STREAMS)), [names[s] for s in STREAMS])
    ax.set_title("probe UA, held-out voices (mean over seeds)")
    fig.colorbar(image, ax=ax, fraction=0.04)
    ctx.save_figure(fig, "probe_matrix.png")


def mel_figure(ctx: RunContext, example: dict) -> None:
    import matplotlib.pyplot as plt

    panels = [("source", example["source_mel"]), ("reconstruction (own z)", example["recon_mel"])]
    panels += [(f"→ {t} prototype", c["mel"]) for t, c in example["converted"].items()]
    fig, axes = plt.subplots(len(panels), 1, figsize=(7, 1.5 * len(panels)), sharex=True)
    low = min(float(np.percentile(m, 1)) for _, m in panels)
    high = max(float(m.max()) for _, m in panels)
    for ax, (title, mel) in zip(axes, panels, strict=True):
        ax.imshow(mel.T, origin="lower", aspect="auto", vmin=low, vmax=high, cmap="magma")
        ax.set_ylabel("mel")
        ax.set_title(f"{title} ({len(mel)} frames)", fontsize=9, loc="left")
    axes[-1].set_xlabel("frame (10 ms)")
    fig.suptitle(f"{example['voice']}: “{example['text']}”", fontsize=10)
    fig.tight_layout()
    ctx.save_figure(fig, "mel_conversions.png")


def contours(ctx: RunContext, example: dict) -> None:
    import matplotlib.pyplot as plt

    from .features import f0, log_energy

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 4.5), sharex=True)
    for target, conv in example["converted"].items():
        pitch = f0(conv["wav"])
        time = np.arange(len(pitch)) * 0.01
        style = {"color": EMOTION_COLOURS.get(target, "k"), "lw": 2.2 if target == "neutral" else 1.2,
                 "label": f"{target}{' prototype (baseline)' if target == 'neutral' else ''}"}
        top.plot(time, np.where(pitch > 0, pitch, np.nan), **style)
        energy = log_energy(conv["wav"])
        bottom.plot(np.arange(len(energy)) * 0.01, energy, **style)
    top.set_ylabel("F0 (Hz)")
    bottom.set_ylabel("log RMS")
    bottom.set_xlabel("time (s)")
    top.legend(fontsize=8, ncol=2)
    top.set_title("converted vs neutral-prototype decoding (Griffin-Lim)", fontsize=10)
    fig.tight_layout()
    ctx.save_figure(fig, "contours.png")


def prosody_map(ctx: RunContext, corpus: Any, z: np.ndarray) -> None:
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA

    utts = corpus.utterances
    points = PCA(2, random_state=0).fit_transform(z)
    held = np.isin(utts.speaker, corpus.test_voices)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for emotion in corpus.emotions:
        colour = EMOTION_COLOURS.get(emotion, "k")
        rows = utts.emotion == emotion
        ax.scatter(*points[rows & ~held].T, s=12, color=colour, label=emotion, alpha=0.7)
        ax.scatter(*points[rows & held].T, s=22, facecolors="none", edgecolors=colour, alpha=0.9)
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.legend(fontsize=8)
    ax.set_title("prosody codes z (filled: training voices, hollow: held out)", fontsize=9)
    ctx.save_figure(fig, "prosody_map.png")


def training_curves(ctx: RunContext, runs: list[dict]) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    for r in runs:
        ax.plot(range(1, len(r["losses"]) + 1), r["losses"], marker="o", label=f"seed {r['seed']}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.legend(fontsize=8)
    ctx.save_figure(fig, "training_curves.png")
