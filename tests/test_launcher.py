"""`make run`'s launcher: prints where everything is, and Ctrl-C stops it all."""
import socket

import pytest

from tests.support.product import product_environment, start_product
from tests.support.wait import wait_until

pytestmark = pytest.mark.product

PORTS = ("RASA_PORT", "ACTION_SERVER_PORT", "BACKEND_PORT", "WEB_PORT")  # every process's port


def _port_open(port: str) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", int(port))) == 0


def test_ready_banner_then_ctrl_c_stops_every_process(tmp_path):
    product = start_product(tmp_path)
    banner = product.output.read_text()
    assert f"http://127.0.0.1:{product.env['RASA_PORT']}/webhooks/rest/webhook" in banner
    ports = [product.env[name] for name in PORTS]
    assert all(_port_open(port) for port in ports)
    assert product.stop() == 0
    assert not any(_port_open(port) for port in ports)


def test_sigterm_to_make_runs_process_group_twice_stops_everything(tmp_path):
    """As a process manager stops `make run`: SIGTERM to the group (make forwards it to the
    launcher, which so gets it twice), and once more while it is stopping. Every process
    must be gone and every port free, or the next `make run` cannot start."""
    import json
    import os
    import signal
    import subprocess
    import time

    from bot.core.paths import ROOT

    env = product_environment(tmp_path)
    output = tmp_path / "make-run.out"
    make = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=ROOT, env=env, start_new_session=True,
                            stdout=open(output, "wb"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while b"READY" not in output.read_bytes():
            assert make.poll() is None and time.monotonic() < deadline, output.read_text()[-2000:]
            time.sleep(0.5)
        children = [p["pid"] for p in json.loads((tmp_path / "run" / "processes.json").read_text())]
        os.killpg(make.pid, signal.SIGTERM)
        wait_until(lambda: b"stopping..." in output.read_bytes(), "the launcher to start stopping")
        os.killpg(make.pid, signal.SIGTERM)  # while it stops its children
        make.wait(timeout=90)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return not open(f"/proc/{pid}/stat").read().split()[2] == "Z"

    left = [pid for pid in children if alive(pid)]
    for pid in left:  # do not leave them to the rest of the suite
        os.killpg(pid, signal.SIGKILL)
    assert not left, output.read_text()[-2000:]
    assert not any(_port_open(env[name]) for name in PORTS)


def test_free_ports_are_never_handed_out_twice(monkeypatch):
    """The OS may pick a port it just picked once the probing socket is closed: a product's web and
    action-server ports once came out the same."""
    import socket

    from bot.ops import processes

    picks = iter([41001, 41001, 41002, 41001, 41003])

    class Probe(socket.socket):
        def getsockname(self):
            return ("127.0.0.1", next(picks))

    monkeypatch.setattr(processes, "_handed_out", set())
    monkeypatch.setattr(processes.socket, "socket", Probe)
    assert [processes.free_port() for _ in range(3)] == [41001, 41002, 41003]
    # Nor one another process chose (the launcher's replicas avoid the product's public ports).
    picks = iter([41004, 41005])
    assert processes.free_port(avoid=[41004]) == 41005
