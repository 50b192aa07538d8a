"""A local fake of WeChat's access-token and customer-service message API: a
real HTTP server on a free loopback port, recording what it receives."""
from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List
from urllib.parse import parse_qs, urlparse


class FakeWeChatAPI:
    def __init__(self, app_id: str, app_secret: str) -> None:
        self.app_id, self.app_secret = app_id, app_secret
        self.token_requests = 0
        self.sent: List[Dict[str, Any]] = []  # bodies accepted by custom/send
        self.send_attempts = 0
        self.send_errcodes: List[int] = []  # answered, in order, before accepting sends
        self._lock = threading.Lock()
        self._issued = 0
        self.valid_tokens: set = set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, data: Dict[str, Any]) -> None:
                body = json.dumps(data).encode()
                self.send_response(200)  # WeChat reports errors with HTTP 200 and errcode
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path != "/cgi-bin/token":
                    return self._answer({"errcode": 404, "errmsg": "not found"})
                if (query.get("grant_type"), query.get("appid"), query.get("secret")) != (
                    "client_credential", fake.app_id, fake.app_secret,
                ):
                    return self._answer({"errcode": 40125, "errmsg": "invalid appsecret"})
                with fake._lock:
                    fake.token_requests += 1
                    fake._issued += 1
                    token = f"token-{fake._issued}"
                    fake.valid_tokens.add(token)
                self._answer({"access_token": token, "expires_in": 7200})

            def do_POST(self) -> None:
                url = urlparse(self.path)
                token = parse_qs(url.query).get("access_token", [""])[0]
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                if url.path != "/cgi-bin/message/custom/send":
                    return self._answer({"errcode": 404, "errmsg": "not found"})
                with fake._lock:
                    fake.send_attempts += 1
                    if fake.send_errcodes:
                        errcode = fake.send_errcodes.pop(0)
                        if errcode in (40001, 42001):
                            fake.valid_tokens.discard(token)
                        return self._answer({"errcode": errcode, "errmsg": f"error {errcode} for {body.get('touser')}"})
                    if token not in fake.valid_tokens:
                        return self._answer({"errcode": 40001, "errmsg": "invalid credential"})
                    fake.sent.append(body)
                self._answer({"errcode": 0, "errmsg": "ok"})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> "FakeWeChatAPI":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for_sent(self, count: int, timeout: float = 30.0) -> List[Dict[str, Any]]:
        """From a thread other than the server's event loop (the product runs in another process)."""
        deadline = time.monotonic() + timeout
        while len(self.sent) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.sent)

    async def sent_messages(self, count: int, timeout: float = 30.0) -> List[Dict[str, Any]]:
        """The same, from a test whose event loop runs the channel."""
        deadline = time.monotonic() + timeout
        while len(self.sent) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return list(self.sent)
