"""Start, watch and stop the product's processes as one unit.

The launcher (`python -m bot run`) and the tests both use this: each process
is a child in its own process group, reported ready once its health URL
answers, and stopped with SIGTERM (then SIGKILL) together with the others.
(The whole product started as `make run` starts it: tests/support/launch.py.)
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional

from bot.core.paths import ROOT


# Ports this process handed out. The OS may give a port it just gave again once the probing
# socket is closed: a product's web and action-server ports once came out the same, and the
# web process's requests were answered by the action server (a clean clone's CI, 2026-12-03).
_handed_out: set = set()


def free_port(host: str = "127.0.0.1", avoid: Iterable[int] = ()) -> int:
    """A TCP port nothing listens on now (the OS picks it), never one this process gave before
    nor one of `avoid` (ports another process chose and may not be listening on yet)."""
    avoid = set(avoid)
    while True:
        with socket.socket() as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in _handed_out and port not in avoid:
            _handed_out.add(port)
            return port


@dataclass
class Service:
    name: str
    command: List[str]
    health_url: str
    log_path: Optional[Path] = None
    process: Optional[subprocess.Popen] = field(default=None, repr=False)

    def start(self, env: Dict[str, str]) -> None:
        out = open(self.log_path, "ab") if self.log_path else None
        self.process = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,  # Ctrl-C goes to the launcher, which stops us in order
        )

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def exited(self) -> Optional[int]:
        return self.process.poll() if self.process else None

    def stop(self, grace: float = 10.0) -> None:
        if not self.process or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


class ServiceGroup:
    def __init__(self, services: List[Service], env: Dict[str, str]) -> None:
        self.services = services
        self.env = env

    def start(self, timeout: float = 180.0) -> None:
        """Starts every service and waits until all are healthy; on failure
        stops them all and raises RuntimeError."""
        for service in self.services:
            service.start(self.env)
        deadline = time.monotonic() + timeout
        waiting = list(self.services)
        try:
            while waiting:
                for service in list(waiting):
                    code = service.exited()
                    if code is not None:
                        raise RuntimeError(
                            f"{service.name} exited with code {code} while starting"
                            + (f"; see {service.log_path}" if service.log_path else "")
                        )
                    if service.healthy():
                        waiting.remove(service)
                if waiting and time.monotonic() > deadline:
                    names = ", ".join(s.name for s in waiting)
                    raise RuntimeError(f"not healthy after {timeout:.0f}s: {names}")
                time.sleep(0.5)
        except BaseException:
            self.stop()
            raise

    def supervise(self, max_restarts: int = 5, window: float = 300.0, on_change=None) -> int:
        """Blocks while the services run; one that exits is started again (a
        replica killed by the OOM killer or by hand comes back). A service that
        exits more than `max_restarts` times within `window` seconds is broken:
        returns its exit code. `on_change()` is called after each restart."""
        restarts: Dict[str, List[float]] = {}
        while True:
            for service in self.services:
                code = service.exited()
                if code is None:
                    continue
                now = time.monotonic()
                recent = [t for t in restarts.get(service.name, []) if now - t < window] + [now]
                restarts[service.name] = recent
                if len(recent) > max_restarts:
                    print(f"{service.name} exited with code {code} {len(recent)} times "
                          f"in {window:.0f}s; stopping", file=sys.stderr, flush=True)
                    return code or 1
                print(f"{service.name} exited with code {code}; starting it again", file=sys.stderr, flush=True)
                service.start(self.env)
                if on_change:
                    on_change()
            time.sleep(0.5)

    def write_state(self, path: Path) -> None:
        """The running processes (name, pid, health URL, log) as JSON, for
        operators and for the fault tests that kill one."""
        state = [
            {"name": s.name, "pid": s.process.pid if s.process else None, "health_url": s.health_url,
             "log": str(s.log_path) if s.log_path else None}
            for s in self.services
        ]
        path.write_text(json.dumps(state, indent=2))

    def stop(self) -> None:
        # Reverse order: front ends first, the services they call last.
        for service in reversed(self.services):
            service.stop()
