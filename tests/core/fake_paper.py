"""A tiny paper for harness tests: registered through PAPERZOO_PLUGINS, never shipped in src/.

Preset "quick" runs; "boom" raises after writing an artifact; "interrupt" raises KeyboardInterrupt.
It registers the command `paperzoo fake-echo`, run by `fake_command.echo` (imported only when it runs).
"""

from paperzoo.core import Claim, Command, Evidence, Paper, RunContext, register


def run(config: dict, seeds: list[int], ctx: RunContext) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from paperzoo.core.parallel import parallel_map
    from paperzoo.core.stats import summarize

    print("chatter on stdout from a library")  # --json must keep stdout pure JSON all the same
    values = parallel_map(seeded_value, [(seed,) for seed in seeds], 1, ctx, "seeds")
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(values, "o-")
    ctx.save_figure(fig, "values.png")
    _write_tone(ctx.path("tone.wav"))
    ctx.path("page.html").write_text("<!DOCTYPE html><title>extra page</title><h1 id='extra'>an extra page</h1>")
    if config["mode"] == "raise":
        raise RuntimeError("injected failure after an artifact was written")
    if config["mode"] == "interrupt":
        raise KeyboardInterrupt
    return {"value": summarize(values), "threshold": config["threshold"], "label": "fake <b>&"}


def seeded_value(seed: int) -> float:
    """One seeded task of the run (module level, so worker processes and Ray workers can import it)."""
    import numpy as np

    return float(np.random.default_rng(seed).normal(1.0, 0.1))


def _write_tone(path, seconds: float = 0.5, rate: int = 8000) -> None:
    """A short sine tone: the kind of audio artifact a speech paper writes."""
    import wave

    import numpy as np

    samples = (0.3 * 32767 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * rate)) / rate)).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(samples.tobytes())


def _mean_positive(m: dict) -> Evidence:
    mean = m["value"]["mean"]
    return Evidence(mean, mean > 0, f"mean {mean:.3f} over {len(m['value']['per_seed'])} seeds")


def _above_threshold(m: dict) -> Evidence:
    mean = m["value"]["mean"]
    return Evidence(mean, mean > m["threshold"], f"mean {mean:.3f} vs threshold {m['threshold']}")


def _echo_arguments(parser) -> None:
    parser.add_argument("word")
    parser.add_argument("--times", type=int, default=1)


PAPER = register(Paper(
    id="fake-paper", title="A fake paper for harness tests", arxiv="0000.00000",
    presets={"quick": {"seeds": 2, "mode": "ok", "threshold": 5.0},
             "boom": {"seeds": 1, "mode": "raise", "threshold": 5.0},
             "interrupt": {"seeds": 1, "mode": "interrupt", "threshold": 5.0}},
    claims=[Claim("mean-positive", "The mean is positive", "> 0", _mean_positive),
            Claim("above-threshold", "The mean beats the threshold", "> 5", _above_threshold),
            Claim("never-measured", "A metric the run does not produce", "present", lambda m: Evidence(
                m["absent"], True)),
            Claim("full-only", "A claim only a larger preset measures", "measured at full",
                  lambda m: Evidence.not_run("full preset only"))],
    run=run, summary="harness test fixture", key_metrics=("value",),
    captions={"values.png": "One value per seed.", "tone.wav": "A 440 Hz tone.", "page.html": "An extra page."},
    commands=[Command("fake-echo", "print a word (harness test)", _echo_arguments, "fake_command:echo")]))
