"""`paperzoo negotiate` through a pipe, with scripted stdin."""

import os
import signal
import subprocess
import sys
import time

import pytest


def _negotiate(*args, stdin="", timeout=120):
    return subprocess.run([sys.executable, "-m", "paperzoo.cli", "negotiate", *args], input=stdin,
                          capture_output=True, text=True, timeout=timeout)


def _clean(proc):
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr


def test_a_deal_after_garbage_and_empty_lines():
    proc = _negotiate("--env", "items", "--agent", "conceder", "--seed", "0",
                      stdin="\nasdf qwerty\n!!!\ndeal\nI take 9 books\nI take nothing\n")
    _clean(proc)
    assert proc.returncode == 0
    out = proc.stdout
    assert "Your points per item" in out and "not understood" in out and "say something" in out
    assert "You start" in out and "not possible: there is no proposal from the partner to accept" in out
    assert "not possible: offer (9, 0, 0) is not a division of (1, 3, 3) (1 book, 3 hats" in out
    assert "Deal: you get nothing (0 points)" in out and "Pareto optimal" in out


def test_walk_away_is_no_deal_exit_0():
    proc = _negotiate("--env", "items", "--agent", "boulware", "--seed", "3", stdin="I walk away, bye\n")
    _clean(proc)
    assert proc.returncode == 0 and "No deal: both score 0" in proc.stdout


def test_end_of_input_is_no_deal_exit_0():
    for env in ("items", "price"):
        proc = _negotiate("--env", env, "--agent", "boulware", "--seed", "1", stdin="")
        _clean(proc)
        assert proc.returncode == 0 and "No deal (input ended)" in proc.stdout


def test_price_chat_deal():
    proc = _negotiate("--env", "price", "--agent", "linear", "--seed", "2", "--role", "buyer",
                      stdin="hello\nhow about $1?\nmy final offer is $1,000,000\n")
    _clean(proc)
    assert proc.returncode == 0
    assert "You are the buyer" in proc.stdout and "your bottom line: pay no more than" in proc.stdout
    assert "Deal at $1,000,000" in proc.stdout


@pytest.mark.parametrize("args, needle", [
    (["--agent", "nash"], "invalid choice: 'nash'"),
    (["--env", "chess"], "invalid choice: 'chess'"),
    (["--env", "price", "--role", "A"], "--role 'A' does not exist in price"),
    (["--u-min", "2"], "--u-min must be in [0, 1)"),
    (["--seed", "x"], "invalid int value"),
])
def test_bad_arguments_are_one_line_exit_2(args, needle):
    proc = _negotiate(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in proc.stderr


def test_ctrl_c_exits_130_without_a_traceback():
    # A runner started in the background (nohup, `cmd &`) ignores SIGINT and its children inherit that:
    # give the chat the default disposition a terminal user has.
    proc = subprocess.Popen([sys.executable, "-m", "paperzoo.cli", "negotiate", "--seed", "0"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    os.set_blocking(proc.stdout.fileno(), False)
    seen, deadline = b"", time.monotonic() + 60
    while b"you> " not in seen and time.monotonic() < deadline:
        seen += proc.stdout.read() or b""
        time.sleep(0.05)
    assert b"you> " in seen
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert b"No deal (interrupted)" in seen + (rest or b"") and b"Traceback" not in err
