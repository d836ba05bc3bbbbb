"""FedPETuning benchmarks: local-epoch speed, and one real Flower deployment on loopback.

    .venv/bin/python benchmarks/bench_fedpetuning.py            # both
    .venv/bin/python benchmarks/bench_fedpetuning.py --skip-deployment

1. Speed target: one local epoch of LoRA on 200 examples, max_len 64, full MiniLM, <= 30 s.
2. Real deployment: `flower-superlink` + two `flower-supernode`s (partition 0 and 1 of 2) on 127.0.0.1,
   then `flwr run` of the same ServerApp/ClientApp as the simulation (LoRA, 2 rounds, first 2 MiniLM
   layers), launched by `paperzoo.federated.run_local_deployment`; the ServerApp writes its FedResult to
   a JSON file, and the bytes per round must equal, exactly, 2 messages down + 2 up of the LoRA tensors
   in Flower's framing (`arrayrecord_bytes`: 4 bytes per parameter + .npy header + key per tensor).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def bench_local_epoch() -> dict:
    import torch

    from paperzoo.papers.fedpetuning import PETConfig, build_model, load_task, train_local

    torch.set_num_threads(2)
    task = load_task(600, 100, 400, 64, 0)
    model = build_model(PETConfig("lora"), task.num_labels)
    data = task.train.subset(range(200))
    start = time.perf_counter()
    train_local(model, data, lr=1e-3, epochs=1, batch_size=16)
    seconds = time.perf_counter() - start
    return {"lora_epoch_200x64_seconds": round(seconds, 2), "target_seconds": 30, "passed": seconds <= 30}


RUN_CONFIG = {"pet.method": "lora", "fed.rounds": 2, "fed.num_clients": 2, "fed.clients_per_round": 2,
              "fed.n_train": 200, "fed.n_valid": 100, "fed.n_test": 200, "fed.max_len": 32, "fed.num_layers": 2,
              "fed.alpha": 1.0}


def bench_deployment(timeout: float = 600) -> dict:
    """SuperLink + 2 SuperNodes + `flwr run`, all on loopback, insecure (no TLS) for the demo."""
    from paperzoo.federated import arrayrecord_bytes, run_local_deployment
    from paperzoo.federated.deployment import remove
    from paperzoo.papers.fedpetuning.federation import from_record, model_for
    from paperzoo.papers.fedpetuning.pet import trainable_state_dict

    result = Path(tempfile.mkdtemp(prefix="fedpetuning-deploy-")) / "result.json"
    run = run_local_deployment("paperzoo.papers.fedpetuning.federation:server_app",
                               "paperzoo.papers.fedpetuning.federation:client_app",
                               {**RUN_CONFIG, "result-path": str(result)}, num_supernodes=2, timeout=timeout,
                               workdir=result.parent, wait_for=result)
    if not result.exists():
        raise RuntimeError(f"the deployed run wrote no result; logs in {run.workdir}\n{run.log_tail()}")
    res = json.loads(result.read_text())
    pet, settings = from_record(RUN_CONFIG)
    per_message = arrayrecord_bytes(trainable_state_dict(model_for(pet, settings, num_labels=5)))
    expected = [per_message * (d + u) for d, u in zip(res["messages_down"], res["messages_up"], strict=True)]
    measured = [d + u for d, u in zip(res["bytes_down"], res["bytes_up"], strict=True)]
    out = {"deployment_seconds": round(run.seconds, 1), "best_test_accuracy": res["best_test_accuracy"],
           "valid_accuracy": res["valid_accuracy"], "bytes_per_round": measured, "analytic_bytes_per_round": expected,
           "messages_down": res["messages_down"], "messages_up": res["messages_up"], "logs": str(run.workdir),
           "passed": measured == expected and res["messages_up"] == [2] * len(measured)}
    if out["passed"]:
        remove(run)
        out["logs"] = "removed"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-deployment", action="store_true")
    args = parser.parse_args()
    report = {"local_epoch": bench_local_epoch()}
    if not args.skip_deployment:
        report["deployment"] = bench_deployment()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
