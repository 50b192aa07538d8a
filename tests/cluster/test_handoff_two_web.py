"""A live hand-over across two web processes of the cluster (issue 12): the
citizen talks to one, staff work on the other, and every change reaches
the other side (state in the card backend on PostgreSQL, the conversation's
version counter in Redis). Two members of staff claiming the same
conversation at once, one on each process: exactly one wins."""
from __future__ import annotations

import sys
import threading
import time

import httpx
import pytest

from bot.ops.processes import Service, ServiceGroup, free_port
from tests.support.product import STAFF_PASSWORD, STAFF_USER

pytestmark = [pytest.mark.cluster, pytest.mark.product, pytest.mark.postgres, pytest.mark.redis]

SESSION_HEADER = "X-Chat-Session"


@pytest.fixture(scope="module")
def second_web(cluster, tmp_path_factory):
    """Another web process with the cluster's settings (its staff database,
    Redis, secret key, Rasa behind nginx, the backend): as a second machine would run it."""
    env = {**cluster.product.env, "WEB_PORT": str(free_port())}
    url = f"http://127.0.0.1:{env['WEB_PORT']}"
    log = tmp_path_factory.mktemp("second-web") / "web.log"
    group = ServiceGroup([Service("web-2", [sys.executable, "-m", "bot.web", "serve"], f"{url}/health", log)], env)
    group.start(timeout=60)
    yield url
    group.stop()


class Citizen:
    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=30)
        self.session = self.client.post("/api/chat/sessions").json()["session"]
        self.count = 0

    def say(self, text: str) -> dict:
        answer = self.client.post("/api/chat/messages", json={"message": text},
                                  headers={SESSION_HEADER: self.session})
        assert answer.status_code == 200, answer.text
        data = answer.json()
        self.session = data["session"]
        return data

    def history(self) -> dict:
        data = self.client.get("/api/chat/history", headers={SESSION_HEADER: self.session}).json()
        self.count = len(data["messages"])
        return data

    def updates(self) -> dict:
        data = self.client.get("/api/chat/updates", params={"after": self.count},
                               headers={SESSION_HEADER: self.session}).json()
        self.count = data["count"]
        return data


def staff(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30, headers={"Origin": url})
    login = client.post("/api/staff/login", json={"username": STAFF_USER, "password": STAFF_PASSWORD})
    assert login.status_code == 200, login.text
    client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    return client


def waiting_id(client: httpx.Client, known: set) -> int:
    deadline = time.time() + 20
    while time.time() < deadline:
        for handoff in client.get("/api/staff/handoffs").json()["handoffs"]:
            if handoff["status"] == "waiting" and handoff["id"] not in known:
                return handoff["id"]
        time.sleep(0.3)
    pytest.fail("the request for a person never reached the staff queue")


def test_a_hand_over_works_whichever_web_process_each_side_reaches(cluster, second_web):
    first = cluster.product.web_url
    citizen = Citizen(first)
    asked = citizen.say("转人工")
    assert asked["handoff"] and asked["handoff"]["status"] == "waiting"
    citizen.history()
    clerk = staff(second_web)
    handoff_id = waiting_id(clerk, set())

    assert clerk.post(f"/api/staff/handoffs/{handoff_id}/claim").status_code == 200
    joined = citizen.updates()  # the long poll on the first process answers the claim made on the second
    assert joined["handoff"]["status"] == "claimed"
    assert any("已接入" in m["text"] for m in joined["messages"])

    sent_at = time.time()
    reply = clerk.post(f"/api/staff/handoffs/{handoff_id}/messages", json={"text": "您好，我是人工客服，请问有什么可以帮您？"})
    assert reply.status_code == 201, reply.text
    update = citizen.updates()
    assert time.time() - sent_at < 2  # live: well within 2 seconds
    assert [(m["from"], m["text"]) for m in update["messages"]] == [("staff", "您好，我是人工客服，请问有什么可以帮您？")]

    quiet = citizen.say("我的卡补办好了吗")  # held: the bot does not answer, the person sees it
    assert quiet["messages"] == []
    transcript = clerk.get(f"/api/staff/handoffs/{handoff_id}").json()["transcript"]
    assert transcript[-1]["from"] == "user" and transcript[-1]["text"] == "我的卡补办好了吗"

    assert clerk.post(f"/api/staff/handoffs/{handoff_id}/release", json={"to": "bot"}).status_code == 200
    back = citizen.updates()
    assert back["handoff"] is None
    answer = citizen.say("补办的社保卡需要重新激活吗")
    assert answer["messages"] and answer["handoff"] is None  # the bot answers again


def test_two_staff_claiming_at_once_on_two_processes_one_wins(cluster, second_web):
    citizen = Citizen(cluster.product.web_url)
    one, other = staff(cluster.product.web_url), staff(second_web)
    known = {h["id"] for h in one.get("/api/staff/handoffs", params={"status": "closed"}).json()["handoffs"]}
    citizen.say("我要人工客服")
    handoff_id = waiting_id(one, known)
    statuses = []
    start = threading.Barrier(2)

    def claim(client):
        start.wait()
        statuses.append(client.post(f"/api/staff/handoffs/{handoff_id}/claim").status_code)

    threads = [threading.Thread(target=claim, args=(c,)) for c in (one, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409]
    one.post(f"/api/staff/handoffs/{handoff_id}/release", json={"to": "closed", "outcome": "resolved"})
