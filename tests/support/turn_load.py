"""Citizens sending turns in a loop while something else happens (a model
reload): each request's outcome and latency, for the tests that say no turn fails."""
from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass
from typing import Dict, List

import httpx

from bot.core import knowledge_base

TOPICS = ["reissue_needs_activation", "why_reactivate", "card_number_change", "reissue_documents",
          "after_activation_use", "abnormal_use", "legal_basis"]


@dataclass(frozen=True)
class Sent:
    started: float  # time.monotonic()
    ended: float
    status: int  # 0: no answer at all (connection failed, timed out)
    answered: bool  # 200 with at least one message

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    @property
    def failed(self) -> bool:
        return not (self.status == 200 and self.answered)


class TurnLoad:
    """`clients` conversations, each sending FAQ questions one after another through
    the REST channel at `url` until stopped; `with TurnLoad(...) as load:`."""

    def __init__(self, url: str, headers: Dict[str, str], clients: int = 4, prefix: str = "load",
                 timeout: float = 120.0) -> None:
        self.url, self.headers, self.timeout = url, headers, timeout
        topics = knowledge_base.load()
        self.questions = [topics[key].entry("zh").question for key in TOPICS]
        self.senders = [f"{prefix}-{i}-{time.time_ns()}" for i in range(clients)]
        self.sent: List[Sent] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._talk, args=(s,), daemon=True) for s in self.senders]

    def _talk(self, sender: str) -> None:
        with httpx.Client(timeout=self.timeout, headers=self.headers) as client:
            index = 0
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    response = client.post(f"{self.url}/webhooks/rest/webhook",
                                           json={"sender": sender, "message": self.questions[index % len(self.questions)]})
                    status, answered = response.status_code, response.status_code == 200 and bool(response.json())
                except httpx.HTTPError:
                    status, answered = 0, False
                with self._lock:
                    self.sent.append(Sent(started, time.monotonic(), status, answered))
                index += 1

    def __enter__(self) -> "TurnLoad":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 10)

    def wait_for(self, count: int, timeout: float = 120.0) -> None:
        """Until `count` turns more have ended."""
        target, deadline = len(self.sent) + count, time.monotonic() + timeout
        while len(self.sent) < target and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(self.sent) >= target, f"only {len(self.sent)} turns in {timeout:.0f} s"

    def overlapping(self, start: float, end: float) -> List[Sent]:
        """The turns that were running at some moment between start and end."""
        with self._lock:
            return [s for s in self.sent if s.started < end and s.ended > start]

    def failures(self) -> List[Sent]:
        with self._lock:
            return [s for s in self.sent if s.failed]


def latency(sent: List[Sent]) -> Dict[str, float]:
    """count, p50, p95, max of the turns' seconds."""
    seconds = sorted(s.seconds for s in sent)
    if not seconds:
        return {"count": 0}
    p95 = seconds[min(len(seconds) - 1, int(round(0.95 * (len(seconds) - 1))))]
    return {"count": len(seconds), "p50": round(statistics.median(seconds), 3), "p95": round(p95, 3),
            "max": round(seconds[-1], 3)}
