"""FedPETuning benchmarks: local-epoch speed, and one real Flower deployment on loopback.

    .venv/bin/python benchmarks/bench_fedpetuning.py            # both
    .venv/bin/python benchmarks/bench_fedpetuning.py --skip-deployment

1. Speed target: one local epoch of LoRA on 200 examples, max_len 64, full MiniLM, <= 30 s.
2. Real deployment: `flower-superlink` + two `flower-supernode`s (partition 0 and 1 of 2) on 127.0.0.1,
   then `flwr run` of the same ServerApp/ClientApp as the simulation (LoRA, 2 rounds, first 2 MiniLM
   layers); the ServerApp writes its FedResult to a JSON file, and the bytes per round must equal
   2 messages down + 2 up of the LoRA tensors (4 bytes per parameter plus a fixed header).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


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


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


APP_TOML = """[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "fedpetuning-app"
version = "1.0.0"
dependencies = []

[tool.hatch.build.targets.wheel]
packages = ["."]

[tool.flwr.app]
publisher = "paperzoo"

[tool.flwr.app.components]
serverapp = "paperzoo.papers.fedpetuning.federation:server_app"
clientapp = "paperzoo.papers.fedpetuning.federation:client_app"

[tool.flwr.app.config]
"pet.method" = "lora"
"fed.rounds" = 2
"fed.num_clients" = 2
"fed.clients_per_round" = 2
"fed.n_train" = 200
"fed.n_valid" = 100
"fed.n_test" = 200
"fed.max_len" = 32
"fed.num_layers" = 2
"fed.alpha" = 1.0
"result-path" = "{result}"
"""


def bench_deployment(timeout: float = 600) -> dict:
    """SuperLink + 2 SuperNodes + `flwr run`, all on loopback, insecure (no TLS) for the demo."""
    work = Path(tempfile.mkdtemp(prefix="fedpetuning-deploy-"))
    app, home, result = work / "app", work / "flwr-home", work / "result.json"
    app.mkdir()
    home.mkdir()
    (app / "pyproject.toml").write_text(APP_TOML.format(result=result))
    link, node0, node1 = _free_ports(3)  # flwr 1.42: one HTTP port serves the Fleet, Control and Runtime APIs
    (home / "config.toml").write_text(
        f'[superlink]\ndefault = "loopback"\n\n[superlink.loopback]\naddress = "127.0.0.1:{link}"\ninsecure = true\n')
    # The SuperNode and SuperLink start `flower-superexec` etc. from PATH.
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", "FLWR_HOME": str(home),
           "FLWR_TELEMETRY_ENABLED": "0", "HF_HUB_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    logs = {name: open(work / f"{name}.log", "w") for name in ("superlink", "supernode0", "supernode1", "run")}
    procs = [subprocess.Popen([str(VENV_BIN / "flower-superlink"), "--insecure", "--host", "127.0.0.1",
                               "--port", str(link)],
                              env=env, stdout=logs["superlink"], stderr=subprocess.STDOUT)]
    start = time.perf_counter()
    try:
        time.sleep(3)
        for i, port in enumerate((node0, node1)):
            procs.append(subprocess.Popen(
                [str(VENV_BIN / "flower-supernode"), "--insecure", "--superlink", f"127.0.0.1:{link}",
                 "--host", "127.0.0.1", "--port", str(port),
                 "--node-config", f"partition-id={i} num-partitions=2"],
                env=env, stdout=logs[f"supernode{i}"], stderr=subprocess.STDOUT))
        subprocess.run([str(VENV_BIN / "flwr"), "run", str(app), "loopback", "--stream"], env=env,
                       stdout=logs["run"], stderr=subprocess.STDOUT, timeout=timeout, check=False)
        deadline = time.perf_counter() + 60
        while not result.exists() and time.perf_counter() < deadline:
            time.sleep(1)
        if not result.exists():
            tail = (work / "run.log").read_text()[-3000:]
            raise RuntimeError(f"the deployed run wrote no result; logs in {work}\n{tail}")
        res = json.loads(result.read_text())
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        for fh in logs.values():
            fh.close()
    messages = zip(res["messages_down"], res["messages_up"], strict=True)
    analytic = [4 * res["trainable_params"] * (d + u) for d, u in messages]
    measured = [d + u for d, u in zip(res["bytes_down"], res["bytes_up"], strict=True)]
    out = {"deployment_seconds": round(time.perf_counter() - start, 1), "best_test_accuracy": res["best_test_accuracy"],
           "valid_accuracy": res["valid_accuracy"], "bytes_per_round": measured, "analytic_bytes_per_round": analytic,
           "messages_down": res["messages_down"], "messages_up": res["messages_up"], "logs": str(work),
           "passed": all(m > a and (m - a) / a < 0.05 for m, a in zip(measured, analytic, strict=True))
           and res["messages_up"] == [2] * len(measured)}
    if out["passed"]:
        shutil.rmtree(work, ignore_errors=True)
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
