"""Faults in the cluster: turns alternating between replicas, a replica
stalled, concurrent load, a replica killed under load, PostgreSQL and Redis
away for a few seconds."""
from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List, Optional, Tuple

import httpx
import pytest

from bot.core import knowledge_base
from tests.support.cluster import ASK_ID, ASK_NAME, Turn, form_conversation
from tests.support.product import REST_HEADERS
from tests.support.wait import wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.product, pytest.mark.postgres, pytest.mark.redis]

CONVERSATIONS = 30


def send(url: str, sender: str, message: str, client: httpx.Client) -> Tuple[int, Optional[list]]:
    """(status, replies); status 0 when the connection failed."""
    try:
        response = client.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": message})
    except httpx.HTTPError:
        return 0, None
    return response.status_code, response.json() if response.status_code == 200 else None


def joined(replies: Optional[list]) -> str:
    return "\n".join(r.get("text") or "" for r in replies or [])


def run_conversation(url: str, sender: str, turns: List[Turn], after_turn=None) -> List[Tuple[Turn, int, str]]:
    results = []
    with httpx.Client(timeout=180, headers=REST_HEADERS) as client:
        for turn in turns:
            status, replies = send(url, sender, turn.text, client)
            results.append((turn, status, joined(replies)))
            if after_turn:
                after_turn()
    return results


def replicas_used(log: Path, start: int) -> List[str]:
    """The Rasa replicas (upstream addresses) that served REST turns since byte `start` of nginx's log."""
    lines = log.read_bytes()[start:].decode().splitlines()
    return [re.search(r" (\d+\.\d+\.\d+\.\d+:\d+) ", line).group(1)
            for line in lines if "/webhooks/rest/webhook" in line]


def test_a_form_started_on_one_replica_finishes_on_the_other(cluster):
    product = cluster.product
    log = Path(product.env["LOG_DIR"]) / "nginx-access.log"
    start = log.stat().st_size
    sender = "cluster-form"
    assert ASK_NAME in joined(product.say(sender, "帮我查一下社保卡状态"))
    assert ASK_ID in joined(product.say(sender, "张三"))
    assert "验证码" in joined(product.say(sender, "11010519491231002X"))
    status = joined(product.say(sender, product.latest_sms_code()))
    assert "身份核验成功" in status and "正常使用中" in status
    # nginx writes a request's log line after the response has gone: the client can be faster.
    wait_until(lambda: len(replicas_used(log, start)) >= 4, "nginx's log lines of the four turns")
    used = replicas_used(log, start)
    assert len(used) == 4 and len(set(used)) == 2, used  # both replicas served this one conversation


STALLED_TURNS = 10


def test_new_turns_go_past_a_stalled_replica_and_its_turn_is_answered_when_it_resumes(cluster):
    """nginx gives a turn to the replica with the fewest turns in flight (least_conn): while
    one replica stalls (a long garbage collection, a core taken by other work; here SIGSTOP),
    the turns that come go to the other one instead of every second one waiting behind it
    (round robin: half of them), and the turn it holds is answered when it resumes."""
    url = cluster.product.rasa_url
    entry = knowledge_base.load()["reissue_documents"].entry("zh")
    answered = {}

    def ask(i: int) -> None:
        with httpx.Client(timeout=120, headers=REST_HEADERS) as client:
            answered[i] = send(url, f"stalled-{i}", entry.question, client)

    askers = []
    with cluster.stopped("rasa server-1"):
        for i in range(STALLED_TURNS):  # one citizen after another, each while the others wait
            askers.append(threading.Thread(target=ask, args=(i,)))
            askers[-1].start()
            time.sleep(0.4)
        # The first turn, or one that came while the other replica was busy, may have gone to the stalled one.
        wait_until(lambda: len(answered) >= STALLED_TURNS - 2, "all but two turns answered during the stall", timeout=30)
    for asker in askers:
        asker.join(120)
    assert len(answered) == STALLED_TURNS
    for status, replies in answered.values():
        assert status == 200 and entry.answer in joined(replies)


def test_30_concurrent_conversations_every_reply_arrives_and_every_message_is_stored_once(cluster):
    turns = form_conversation()
    url = cluster.product.rasa_url
    senders = [f"load-{i}" for i in range(CONVERSATIONS)]
    with ThreadPoolExecutor(CONVERSATIONS) as pool:
        results = list(pool.map(lambda s: run_conversation(url, s, turns), senders))
    for sender, conversation in zip(senders, results):
        for turn, status, reply in conversation:
            assert status == 200, (sender, turn.text, status)
            for expected in turn.expect:
                assert expected in reply, (sender, turn.text, reply)
        assert cluster.stored_user_texts(sender) == [t.stored for t in turns], sender


def test_a_replica_killed_under_load_only_fails_requests_in_flight(cluster):
    turns = form_conversation()
    url = cluster.product.rasa_url
    senders = [f"kill-{i}" for i in range(CONVERSATIONS)]
    done, killed = [0], []
    lock = threading.Lock()

    def count_and_maybe_kill():
        with lock:
            done[0] += 1
            if done[0] == CONVERSATIONS * 3 and not killed:  # a third of the way through
                killed.append(cluster.kill("rasa server-1"))

    with ThreadPoolExecutor(CONVERSATIONS) as pool:
        results = list(pool.map(lambda s: run_conversation(url, s, turns, count_and_maybe_kill), senders))
    assert killed
    failed = [(s, t.text, status) for s, conv in zip(senders, results) for t, status, _ in conv if status != 200]
    # Only a request in flight on the killed replica may fail: at most one per conversation.
    assert len(failed) <= CONVERSATIONS, failed
    assert len({s for s, _, _ in failed}) == len(failed), failed
    print(f"\nrequests failed when rasa server-1 was killed: {len(failed)} of {CONVERSATIONS * len(turns)}")
    for sender, conversation in zip(senders, results):
        stored = cluster.stored_user_texts(sender)
        answered = [t.stored for t, status, _ in conversation if status == 200]
        sent = [t.stored for t, _, _ in conversation]
        # Nothing answered lost; nothing stored twice but the turn in flight on the killed replica:
        # it may have been stored there before the kill, and nginx passes a POST that got no answer
        # on to the other replica (proxy_next_upstream ... non_idempotent, for model reloads), which
        # stores it once more. At most one such turn a conversation, stored twice.
        repeated = {text for text in stored if stored.count(text) > 1}
        assert len(repeated) <= 1 and all(stored.count(text) == 2 for text in repeated), (sender, stored)
        assert set(answered) <= set(stored) <= set(sent), sender
        if all(status == 200 for _, status, _ in conversation):  # state intact after the kill
            for turn, _, reply in conversation:
                for expected in turn.expect:
                    assert expected in reply, (sender, turn.text, reply)
    # The launcher started the killed replica again.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if next(p["pid"] for p in cluster.processes() if p["name"] == "rasa server-1") != killed[0]:
            break
        time.sleep(1)
    assert next(p["pid"] for p in cluster.processes() if p["name"] == "rasa server-1") != killed[0]


def _outage(cluster, proxy, sender: str) -> None:
    product = cluster.product
    with httpx.Client(timeout=60, headers=REST_HEADERS) as client:
        assert ASK_NAME in joined(send(product.rasa_url, sender, "帮我查一下社保卡状态", client)[1])
        proxy.cut()
        try:
            statuses = []
            for _ in range(3):  # a few seconds of outage
                status, replies = send(product.rasa_url, sender, "张三", client)
                statuses.append(status)
                time.sleep(1)
            assert set(statuses) == {503}, statuses  # a clear error, not silence or a 500
            response = client.post(f"{product.rasa_url}/webhooks/rest/webhook",
                                   json={"sender": sender, "message": "张三"})
            assert "send it again" in response.json()["error"]["message"]
        finally:
            proxy.restore()
        status, replies = send(product.rasa_url, sender, "张三", client)
        assert status == 200 and ASK_ID in joined(replies)  # full recovery: the form goes on
        assert ASK_ID in joined(send(product.rasa_url, sender, "补办社保卡需要带什么材料？", client)[1])
    # Only the turns that were answered are stored, each once.
    assert cluster.stored_user_texts(sender) == ["帮我查一下社保卡状态", "张*", "补办社保卡需要带什么材料？"]


def test_postgresql_away_for_a_few_seconds(cluster):
    _outage(cluster, cluster.postgres, "outage-postgres")


def test_redis_away_for_a_few_seconds(cluster):
    _outage(cluster, cluster.redis, "outage-redis")
