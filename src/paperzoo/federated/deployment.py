"""Run a ServerApp and ClientApp as a real Flower deployment: one SuperLink, N SuperNodes, `flwr run`.

The same apps as in `simulate`, but as separate processes talking gRPC/HTTP through a SuperLink, the
way they run across machines. `run_local_deployment` starts everything on 127.0.0.1 (free ports, a
temporary app folder and FLWR_HOME, insecure transport), streams the run to a log and stops the
processes. Across machines the commands are the same with the SuperLink's address and TLS::

    flower-superlink --host 0.0.0.0 --port 9093 --ssl-ca-certfile ... --ssl-certfile ... --ssl-keyfile ...
    flower-supernode --superlink LINK:9093 --root-certificates ca.crt --node-config "partition-id=0 num-partitions=10"
    flwr run path/to/app my-superlink --stream    # app: pyproject.toml with [tool.flwr.app.components]

Example::

    run = run_local_deployment("mypkg.apps:server_app", "mypkg.apps:client_app",
                               run_config={"rounds": 2, "result-path": "/tmp/out.json"}, num_supernodes=2)
    run.returncode, run.seconds, run.logs["run"]
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .simulation import SIMULATION_ENV

APP_TOML = """[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "{name}"
version = "1.0.0"
dependencies = []

[tool.hatch.build.targets.wheel]
packages = ["."]

[tool.flwr.app]
publisher = "paperzoo"

[tool.flwr.app.components]
serverapp = "{serverapp}"
clientapp = "{clientapp}"

[tool.flwr.app.config]
{config}
"""


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string
    raise TypeError(f"run config values must be bool, int, float or str, got {type(value).__name__}")


def app_pyproject(serverapp: str, clientapp: str, run_config: Mapping[str, Any], name: str = "paperzoo-app") -> str:
    """The pyproject.toml of a Flower app folder naming the two components and the run config."""
    for label, ref in (("serverapp", serverapp), ("clientapp", clientapp)):
        if ":" not in ref:
            raise ValueError(f"{label} must be 'module:attribute', got {ref!r}")
    config = "\n".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in run_config.items())
    return APP_TOML.format(name=name, serverapp=serverapp, clientapp=clientapp, config=config)


def node_config_arg(config: Mapping[str, Any]) -> str:
    """The `--node-config` argument of a SuperNode: space-separated TOML `key=value` pairs (strings quoted).

    >>> node_config_arg({"partition-id": 0, "data": "fmnist 8x8", "fast": True})
    'partition-id=0 data="fmnist 8x8" fast=true'
    """
    return " ".join(f"{k}={_toml_value(v)}" for k, v in config.items())


def free_ports(n: int) -> list[int]:
    """n distinct free TCP ports on 127.0.0.1."""
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class DeploymentRun:
    """What `run_local_deployment` did: its folder, the exit code of `flwr run`, wall time, log files."""

    workdir: Path
    returncode: int
    seconds: float
    logs: dict[str, Path] = field(default_factory=dict)

    def log_tail(self, name: str = "run", chars: int = 3000) -> str:
        return self.logs[name].read_text(errors="replace")[-chars:] if name in self.logs else ""


def run_local_deployment(serverapp: str, clientapp: str, run_config: Mapping[str, Any], num_supernodes: int, *,
                         node_config: Callable[[int], Mapping[str, Any]] | None = None, timeout: float = 600.0,
                         workdir: str | Path | None = None, startup_s: float = 3.0,
                         wait_for: str | Path | None = None, wait_s: float = 60.0) -> DeploymentRun:
    """Start a SuperLink and `num_supernodes` SuperNodes on loopback, `flwr run` the app, stop them all.

    SuperNode i gets `partition-id=i num-partitions=N` plus `node_config(i)`. The Flower executables
    are taken from this interpreter's folder (the venv). Logs stay in `workdir` (a new temporary folder
    by default); remove it when the run has given what you need. `wait_for`: a file the ServerApp writes
    at its end (e.g. a "result-path" in the run config); the processes stay up until it exists (at most
    `wait_s` after `flwr run` returns), since a streamed run may return before the ServerApp is done.
    """
    if not isinstance(num_supernodes, int) or num_supernodes < 1:
        raise ValueError(f"num_supernodes must be an int >= 1, got {num_supernodes!r}")
    bin_dir = Path(sys.executable).parent
    for exe in ("flower-superlink", "flower-supernode", "flwr"):
        if not (bin_dir / exe).exists():
            raise RuntimeError(f"{exe} not found next to {sys.executable}; install flwr in this environment")
    work = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="flwr-deploy-"))
    app, home = work / "app", work / "flwr-home"
    app.mkdir(parents=True, exist_ok=True)
    home.mkdir(exist_ok=True)
    (app / "pyproject.toml").write_text(app_pyproject(serverapp, clientapp, run_config))
    link, *node_ports = free_ports(1 + num_supernodes)  # flwr 1.42: one port serves Fleet, Control and Runtime
    (home / "config.toml").write_text(f'[superlink]\ndefault = "loopback"\n\n[superlink.loopback]\n'
                                      f'address = "127.0.0.1:{link}"\ninsecure = true\n')
    env = {**os.environ, **SIMULATION_ENV, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "FLWR_HOME": str(home)}  # SuperLink and SuperNodes start flower-superexec etc. from PATH
    names = ["superlink", *(f"supernode{i}" for i in range(num_supernodes)), "run"]
    logs = {name: work / f"{name}.log" for name in names}
    handles = {name: open(path, "w") for name, path in logs.items()}  # noqa: SIM115 - closed in finally
    procs = [subprocess.Popen([str(bin_dir / "flower-superlink"), "--insecure", "--host", "127.0.0.1",
                               "--port", str(link)], env=env, stdout=handles["superlink"], stderr=subprocess.STDOUT)]
    start = time.perf_counter()
    try:
        time.sleep(startup_s)
        for i, port in enumerate(node_ports):
            extra = dict(node_config(i)) if node_config else {}
            cfg = node_config_arg({"partition-id": i, "num-partitions": num_supernodes, **extra})
            procs.append(subprocess.Popen(
                [str(bin_dir / "flower-supernode"), "--insecure", "--superlink", f"127.0.0.1:{link}",
                 "--host", "127.0.0.1", "--port", str(port), "--node-config", cfg],
                env=env, stdout=handles[f"supernode{i}"], stderr=subprocess.STDOUT))
        done = subprocess.run([str(bin_dir / "flwr"), "run", str(app), "loopback", "--stream"], env=env,
                              stdout=handles["run"], stderr=subprocess.STDOUT, timeout=timeout, check=False)
        returncode = done.returncode
        deadline = time.perf_counter() + wait_s
        while wait_for is not None and not Path(wait_for).exists() and time.perf_counter() < deadline:
            time.sleep(0.5)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        for fh in handles.values():
            fh.close()
    return DeploymentRun(work, returncode, time.perf_counter() - start, logs)


def remove(run: DeploymentRun) -> None:
    """Delete a deployment's folder (app, FLWR_HOME, logs)."""
    shutil.rmtree(run.workdir, ignore_errors=True)


__all__ = ["DeploymentRun", "app_pyproject", "free_ports", "node_config_arg", "remove", "run_local_deployment"]
