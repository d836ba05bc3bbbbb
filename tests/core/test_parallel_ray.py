"""parallel_map on Ray: a Ray head on loopback started (and stopped) by the test gives the same results
as the local process pool, through the library and through `paperzoo reproduce --ray`."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from paperzoo.core import RunContext, UserError
from paperzoo.core.parallel import check_ray_address, parallel_map

RAY = Path(sys.executable).with_name("ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_head():
    """`ray start --head --block` on free loopback ports with its own temp dir; SIGTERM ends all it started
    (never `ray stop`, which would end every Ray instance on the machine)."""
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="/tmp/pzray-")  # short: Ray's socket paths must fit in 107 bytes
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(Path(__file__).parent),
                                                                     os.environ.get("PYTHONPATH")])))
    head = subprocess.Popen(
        [str(RAY), "start", "--head", "--block", f"--port={port}", "--node-ip-address=127.0.0.1", "--num-cpus=2",
         "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}",
         f"--ray-client-server-port={_free_port()}", f"--dashboard-agent-listen-port={_free_port()}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                check_ray_address(f"127.0.0.1:{port}")
                break
            except UserError:
                if head.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the Ray head did not come up") from None
                time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        head.send_signal(signal.SIGTERM)
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()


@pytest.mark.slow
def test_ray_backend_gives_the_local_results(ray_head, tmp_path, paperzoo):
    import ray

    tasks = [(base, 3) for base in range(6)]
    local = parallel_map(pow, tasks, 2, RunContext(tmp_path / "local"))
    ray.init(address=ray_head, include_dashboard=False, log_to_driver=False)  # one session for both calls
    try:
        assert parallel_map(pow, tasks, 2, RunContext(tmp_path / "ray", ray_address=ray_head)) == local
        with pytest.raises(ValueError, match="non-negative"):  # a task's error reaches the caller as itself
            parallel_map(time.sleep, [(-1,), (0,)], 2, RunContext(tmp_path / "err", ray_address=ray_head))
        assert ray.is_initialized()  # a session the caller opened is left open
    finally:
        ray.shutdown()

    # The fake paper's seeded tasks (imported by the Ray workers through the head's PYTHONPATH).
    runs = {}
    for name, extra in (("local", ()), ("ray", ("--ray", ray_head))):
        proc = paperzoo("reproduce", "fake-paper", "--seeds", "4", "--out", name, "--json", *extra)
        assert proc.returncode == 0, proc.stderr
        runs[name] = json.loads(proc.stdout)[0]
    assert runs["ray"]["metrics"] == runs["local"]["metrics"]
    assert runs["ray"]["environment"]["parallel"] == f"ray {ray_head}"
    assert runs["local"]["environment"]["parallel"] == "local"


@pytest.mark.parametrize("address, message", [("nonsense", "expects auto"), ("host:port", "expects auto"),
                                              ("127.0.0.1:{free}", "no Ray head answers")])
def test_bad_ray_address_is_one_line_and_exit_2(paperzoo, tmp_path, address, message):
    proc = paperzoo("reproduce", "fake-paper", "--out", "out", "--ray", address.format(free=_free_port()))
    assert proc.returncode == 2 and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()  # refused before anything is written
