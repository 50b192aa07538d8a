"""The whole product as `make run` starts it, and stopped as a person stops it
(the tests of the product and the benchmarks start it this way)."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict

from bot.core.paths import ROOT


def launch_product(env: Dict[str, str], output: Path, timeout: float = 300.0, root: Path = ROOT) -> subprocess.Popen:
    """`python -m bot run` (as `make run` starts it) with `env`, its output in
    `output`; returns once it printed READY. RuntimeError with the end of the
    output if it exits first or takes longer than `timeout` seconds. `root`:
    the checkout to run (another one's code, for a before-and-after benchmark)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=root, env=env,
        stdout=open(output, "wb"), stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if b"READY" in output.read_bytes():
            return process
        if process.poll() is not None:
            raise RuntimeError(f"launcher exited early:\n{output.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"product not ready in {timeout:.0f}s:\n{output.read_text(errors='replace')[-3000:]}")


def interrupt(process: subprocess.Popen, timeout: float = 60.0) -> bool:
    """Ctrl-C, as a person would press it; killed if still running after
    `timeout` seconds. True when it stopped by itself."""
    if process.poll() is not None:
        return True
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return False
