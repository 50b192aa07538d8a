"""A real HTTP server on a free loopback port that answers like a sick
backend, for the clients' failure tests: `sleep` (no answer until the test
ends), `500` (a JSON error), `502` (an HTML error page), `garbage` (a 200
that is not JSON), `wrong-shape` (a 200 JSON object of the wrong shape)."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import List, Tuple

from bot.ops.processes import free_port

ANSWERS = {
    "500": (500, "application/json", b'{"error": {"code": "internal_error", "message": "boom"}}'),
    "502": (502, "text/html", b"<html>Bad Gateway</html>"),
    "garbage": (200, "text/html", b"<html>hello</html>"),
    "wrong-shape": (200, "application/json", b'{"handoff": {"id": "seven"}, "cards": "none"}'),
}


class _Handler(BaseHTTPRequestHandler):
    mode = "sleep"
    release = threading.Event()

    def log_message(self, *args):  # keep the test output quiet
        pass

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.mode == "sleep":
            self.release.wait(120)  # no answer while the test runs (released when it ends)
            status, kind, body = 200, "application/json", b"{}"
        else:
            status, kind, body = ANSWERS[self.mode]
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:  # the client gave up waiting, as it should
            pass

    do_GET = do_POST = _answer


class BrokenServers:
    """start(mode) -> the URL of a new server answering so; close() stops them all."""

    def __init__(self) -> None:
        self.servers: List[Tuple[ThreadingHTTPServer, type]] = []

    def start(self, mode: str) -> str:
        handler = type(f"Handler_{mode}", (_Handler,), {"mode": mode, "release": threading.Event()})
        server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.servers.append((server, handler))
        return f"http://127.0.0.1:{server.server_address[1]}"

    def close(self) -> None:
        for server, handler in self.servers:
            handler.release.set()
            server.shutdown()
            server.server_close()
