"""negotiation speed target: RL over 4,000 dialogues in at most 60 s, batched, with the speed-up over
playing the same RL one act at a time measured in the same run.

Trains the quick preset's supervised policy (2,000 self-play dialogues, not timed), then runs REINFORCE
against its frozen copy for 4,000 dialogues twice: batched (32 games per update, one forward pass per
message for the whole batch) and one act at a time through `play` (the same updates, same batch size).
Also times a rule-agent tournament (games per second). One thread.

    .venv/bin/python benchmarks/bench_negotiation.py [--dialogues 4000]
Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

from paperzoo.papers.negotiation import (
    ItemDivision,
    RLPolicy,
    SupervisedPolicy,
    Tournament,
    boulware,
    conceder,
    linear,
    self_play_logs,
)

TARGET_SECONDS = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialogues", type=int, default=4000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    env = ItemDivision()
    train = env.scenarios(2000, seed=20221218)
    sl = SupervisedPolicy(env, seed=0).fit(self_play_logs(env, train, seed=0))
    partner = sl.frozen()
    timings = {}
    for batched in (True, False):
        start = time.perf_counter()
        RLPolicy(sl, seed=0).train(partner, train, args.dialogues, batched=batched)
        timings["batched" if batched else "one_act_at_a_time"] = time.perf_counter() - start
    start = time.perf_counter()
    res = Tournament([boulware(), linear(), conceder()], env, scenarios=train[:200], seeds=[0]).run()
    tournament = time.perf_counter() - start
    result = {
        "dialogues": args.dialogues, "batched_s": round(timings["batched"], 2),
        "one_act_at_a_time_s": round(timings["one_act_at_a_time"], 2),
        "speedup": round(timings["one_act_at_a_time"] / timings["batched"], 2),
        "target_s": TARGET_SECONDS, "target_ok": timings["batched"] <= TARGET_SECONDS,
        "tournament_games_per_s": round(len(res.rows) / tournament, 1), "load": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(result, indent=1))
    return 0 if result["target_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
