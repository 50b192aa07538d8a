"""Conversations over the REST channel from N concurrent users, timed.

Each user is a person in a conversation of their own: the next message waits
for the reply to the last. Two kinds of turn are measured:

- faq: an FAQ question (NLU, response selection, the reply; no action call);
  a user starts a new conversation every 10 questions, so trackers stay short
  as real ones are;
- form: the turn that gives the resident ID number inside the identity form
  (the validation action on the action server, which calls the card backend
  to send the SMS code). Each user runs task -> name -> ID number -> cancel,
  and only the ID-number turns are timed.

Each user has a client of its own, as each citizen's browser does: one that
keeps its connection open between turns (keep-alive), or one that opens a new
connection for every message (as many HTTP clients do). One httpx client
shared by all users (what this generator did before) starves some of them
inside its own connection pool: with 50 users its p99 was 40 times its p50
while the server served every request it received in turn (README,
benchmarks). A 503 with Retry-After (the Rasa server's queue is full) is
counted as refused, apart from errors (no answer, a timeout, any other failure).
"""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import List, Optional

import httpx

from bench.products import REST_HEADERS

FAQ_QUESTIONS = [
    "补办的社保卡需要重新激活吗?", "补卡要带什么材料", "Does my reissued card need to be activated?",
    "社保卡激活以后能做什么", "what documents do I need to reissue my card", "社保卡有异常消费怎么办",
]
FORM_TURNS = [("帮我查一下社保卡状态", False), ("张三", False), ("11010519491231002X", True), ("算了", False)]


KEEP_ALIVE, CONNECTION_PER_REQUEST = "keep-alive", "connection per request"


@dataclass
class Result:
    kind: str
    users: int
    latencies_ms: List[float]
    seconds: float
    errors: int
    turns: int = 0  # every turn sent, timed or not
    client: str = KEEP_ALIVE
    refused: int = 0  # 503 with Retry-After

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")

    @property
    def throughput(self) -> float:
        """Messages answered per second (every turn, timed or not)."""
        return self.turns / self.seconds if self.seconds else 0.0

    def summary(self) -> dict:
        return {"kind": self.kind, "users": self.users, "client": self.client, "requests": len(self.latencies_ms),
                "errors": self.errors, "refused": self.refused,
                "p50_ms": round(self.percentile(50), 1), "p95_ms": round(self.percentile(95), 1),
                "p99_ms": round(self.percentile(99), 1), "mean_ms": round(statistics.fmean(self.latencies_ms), 1)
                if self.latencies_ms else None, "messages_per_s": round(self.throughput, 1)}


# One TLS context for every client. httpx builds one per client by default (24 ms of CPU, the CA
# bundle loaded again), synchronously in the event loop: with each of 50 or 200 users making
# theirs as it started, the loop stood still for seconds while other users' turns were being
# timed, and 200 clients took 3.5 GB. The URLs are plain HTTP on loopback; no TLS is used.
_TLS = ssl.create_default_context()


def _client(client_kind: str) -> httpx.AsyncClient:
    """One user's client: one connection kept, or none (a new one for every message)."""
    kept = 1 if client_kind == KEEP_ALIVE else 0
    return httpx.AsyncClient(timeout=120, headers=REST_HEADERS, verify=_TLS,
                             limits=httpx.Limits(max_connections=1, max_keepalive_connections=kept))


async def _conversations(client: httpx.AsyncClient, url: str, kind: str, user: int, turns: int, result: Result,
                         conversation_ids, deadline: Optional[float] = None) -> None:
    # Lazily: a run for a duration asks for 10**6 turns a user, and 200 users' lists of them took
    # seconds of the event loop (and gigabytes) while other users' turns were being timed.
    if kind == "faq":
        script = ((q, True) for q in itertools.islice(itertools.cycle(FAQ_QUESTIONS), user, user + turns))
        per_conversation = 10
    else:
        script = itertools.islice(itertools.cycle(FORM_TURNS), turns)
        per_conversation = len(FORM_TURNS)
    sender = ""
    for i, (message, timed) in enumerate(script):
        if deadline is not None and time.perf_counter() > deadline:
            break
        if i % per_conversation == 0:
            sender = f"bench-{kind}-{next(conversation_ids)}"  # ids of this run only (_run)
        started = time.perf_counter()
        refused = False
        try:
            response = await client.post(url, json={"sender": sender, "message": message})
            ok = response.status_code == 200 and bool(response.json())
            refused = response.status_code == 503 and "retry-after" in response.headers
        except httpx.HTTPError:
            ok = False
        elapsed = (time.perf_counter() - started) * 1000
        result.turns += 1
        if refused:
            result.refused += 1
        elif not ok:
            result.errors += 1
        elif timed:
            result.latencies_ms.append(elapsed)


async def _run(base_url: str, kind: str, users: int, turns_per_user: int, client_kind: str,
               seconds: Optional[float]) -> Result:
    result = Result(kind, users, [], 0.0, 0, client=client_kind)
    # New conversations for every run: ids that earlier runs used would carry their events on.
    run = uuid.uuid4().hex[:8]
    conversation_ids = (f"{run}-{n}" for n in itertools.count())
    url = f"{base_url}/webhooks/rest/webhook"
    # Every user's client exists before the clock starts, as each citizen's browser does; the
    # warm-up (a few turns, so that TensorFlow's first calls are not timed) has clients of its own.
    async with contextlib.AsyncExitStack() as stack:
        warm_up_clients = [await stack.enter_async_context(_client(client_kind)) for _ in range(min(users, 4))]
        clients = [await stack.enter_async_context(_client(client_kind)) for _ in range(users)]
        warm_up = Result(kind, 0, [], 0, 0, client=client_kind)
        await asyncio.gather(*(_conversations(c, url, kind, u, 4, warm_up, conversation_ids)
                               for u, c in enumerate(warm_up_clients)))
        started = time.perf_counter()
        deadline = started + seconds if seconds else None
        await asyncio.gather(*(_conversations(c, url, kind, u, turns_per_user, result, conversation_ids, deadline)
                               for u, c in enumerate(clients)))
        result.seconds = time.perf_counter() - started
    return result


def run(base_url: str, kind: str, users: int, turns_per_user: int, client: str = KEEP_ALIVE,
        seconds: Optional[float] = None) -> Result:
    """`users` users of `client`'s kind, `turns_per_user` turns each, or as many as fit in `seconds`."""
    return asyncio.run(_run(base_url, kind, users, turns_per_user, client, seconds))
