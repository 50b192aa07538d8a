"""A person takes over (issue 12), over HTTP against the whole product (Rasa,
action server, card backend, web process as `make run` starts them; staff
hours `always`): the citizen's widget API and the staff API together.

The queue, a claim, both sides talking, the long poll (within 2 seconds), a
reload, leaving and the bot answering again; handing back and closing; only
the member of staff holding the claim may write; two claims at once in one
web process (one 200, one 409); the transcript never shows an ID number, a
phone number or a code in clear; a hand-over nobody claims in time becomes a
call-back offer (the web process's sweep). Across two web processes: the
cluster's tests."""
from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import re
import subprocess
import sys
import threading
import time

import httpx
import pytest
from sqlalchemy import create_engine, text

from bot.privacy.pii import mask_id_number, mask_phone
from tests.support import personal_values
from tests.support.backend import new_id_number, new_phone
from tests.support.product import STAFF_PASSWORD, STAFF_USER, start_product
from tests.support.web import login

pytestmark = pytest.mark.product

SECOND_STAFF = "counter2"
ASK_FOR_A_PERSON = "转人工"
BACK_TO_THE_BOT = "回到智能助手"  # what the widget's button sends


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    """A product of this module's own (its hand-overs would stand in other
    modules' queues), with staff answering at any hour."""
    # One proxy trusted: each Citizen comes from an address of its own (X-Forwarded-For), as
    # citizens do; the backend opens at most 5 hand-overs an hour per address.
    running = start_product(tmp_path_factory.mktemp("product-handoff"), HANDOFF_HOURS="always",
                            HANDOFF_WAIT_MINUTES="5", WEB_PROXIES_COUNT="1")
    env = {**running.env, "STAFF_PASSWORD": STAFF_PASSWORD}
    subprocess.run([sys.executable, "-m", "bot.web", "add-staff", SECOND_STAFF], env=env, check=True,
                   capture_output=True, timeout=60)
    yield running
    running.stop()


def _typed(request: httpx.Request) -> None:
    """Every message a test posts counts among the values typed (tests/support/personal_values.py)."""
    if request.method == "POST" and request.url.path.endswith("/messages"):  # a citizen's or a staff message
        try:
            body = json.loads(request.content)
            personal_values.typed_in(str(body.get("message") or body.get("text") or ""))
        except (ValueError, AttributeError):
            pass


_addresses = itertools.count(1)


class Citizen:
    """The widget's calls, as a browser makes them, from an address of its own."""

    def __init__(self, web_url: str) -> None:
        n = next(_addresses)
        self.http = httpx.Client(base_url=web_url, timeout=60, event_hooks={"request": [_typed]},
                                 headers={"X-Forwarded-For": f"198.51.100.{n % 250 + 1}"})
        response = self.http.post("/api/chat/sessions")
        assert response.status_code == 201, response.text
        self.http.headers["X-Chat-Session"] = response.json()["session"]

    def say(self, message: str) -> dict:
        response = self.http.post("/api/chat/messages", json={"message": message})
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"messages", "handoff", "session"}
        return body

    def history(self) -> dict:
        response = self.http.get("/api/chat/history")
        assert response.status_code == 200, response.text
        return response.json()

    def updates(self, after: int) -> dict:
        response = self.http.get("/api/chat/updates", params={"after": after})
        assert response.status_code == 200, response.text
        return response.json()

    def close(self) -> None:
        self.http.close()


class Staff:
    def __init__(self, web_url: str, username: str) -> None:
        self.username = username
        self.http = httpx.Client(base_url=web_url, timeout=60, event_hooks={"request": [_typed]})
        response = login(self.http, username, STAFF_PASSWORD)
        assert response.status_code == 200, response.text
        self.http.headers["X-CSRF-Token"] = response.json()["csrf_token"]

    def queue(self, status: str = "open") -> list:
        response = self.http.get("/api/staff/handoffs", params={"status": status})
        assert response.status_code == 200, response.text
        return response.json()["handoffs"]

    def handoff(self, handoff_id: int) -> dict:
        response = self.http.get(f"/api/staff/handoffs/{handoff_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def claim(self, handoff_id: int) -> httpx.Response:
        return self.http.post(f"/api/staff/handoffs/{handoff_id}/claim")

    def write(self, handoff_id: int, message: str) -> httpx.Response:
        return self.http.post(f"/api/staff/handoffs/{handoff_id}/messages", json={"text": message})

    def release(self, handoff_id: int, to: str, outcome: str = None) -> httpx.Response:
        body = {"to": to, **({"outcome": outcome} if outcome else {})}
        return self.http.post(f"/api/staff/handoffs/{handoff_id}/release", json=body)

    def close(self) -> None:
        self.http.close()


@pytest.fixture()
def citizen(product):
    person = Citizen(product.web_url)
    yield person
    person.close()


@pytest.fixture()
def staff(product):
    member = Staff(product.web_url, STAFF_USER)
    yield member
    member.close()


@pytest.fixture()
def other_staff(product):
    member = Staff(product.web_url, SECOND_STAFF)
    yield member
    member.close()


def queued(citizen: Citizen) -> int:
    """The citizen asks for a person and is queued: the hand-over's id."""
    answer = citizen.say(ASK_FOR_A_PERSON)
    handoff = answer["handoff"]
    assert handoff and handoff["status"] == "waiting" and handoff["position"] >= 1 and handoff["staff"] is None, answer
    assert "工作人员接入后会直接在这里回复您" in answer["messages"][0]["text"]
    assert all("handoff" not in m and m["text"] for m in answer["messages"])  # the payload is never shown
    return handoff["id"]


def claimed(citizen: Citizen, staff: Staff) -> int:
    handoff_id = queued(citizen)
    response = staff.claim(handoff_id)
    assert response.status_code == 200, response.text
    return handoff_id


def error_code(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["error"]["code"]


def test_a_person_takes_over_talks_and_the_citizen_goes_back_to_the_bot(citizen, staff):
    handoff_id = queued(citizen)
    listed = next(h for h in staff.queue() if h["id"] == handoff_id)
    assert listed["status"] == "waiting" and listed["channel"] == "web" and listed["language"] == "zh"
    assert listed["ticket_number"].startswith("HD-") and listed["waiting_since"].endswith("Z")
    assert listed["claimed_by"] is None and listed["mode"] == "live" and listed["verified"] is False
    assert "conversation" not in listed

    # While waiting, the citizen's messages go to staff: the bot says nothing.
    waiting = citizen.say("我的社保卡丢了，很着急")
    assert waiting["messages"] == [] and waiting["handoff"]["status"] == "waiting"
    count = citizen.history()["messages"].__len__()

    response = staff.claim(handoff_id)
    assert response.status_code == 200, response.text
    assert response.json()["handoff"]["status"] == "claimed" and response.json()["announced"] is True
    assert response.json()["handoff"]["claimed_by"] == STAFF_USER

    update = citizen.updates(count)  # the claim, said by the bot in the chat, with the masked name
    assert update["handoff"] == {"id": handoff_id, "status": "claimed", "position": None, "staff": "c**"}
    assert any("工作人员 c** 已接入" in m["text"] and m["from"] == "bot" for m in update["messages"]), update
    assert STAFF_USER not in json.dumps(update, ensure_ascii=False)

    # Staff write; the citizen's long poll, already waiting, answers within 2 seconds.
    count = update["count"]
    polled = {}

    def poll() -> None:
        polled["answer"] = citizen.updates(count)
        polled["at"] = time.monotonic()

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(1.0)
    sent_at = time.monotonic()
    response = staff.write(handoff_id, "您好，我是工作人员，请问卡是什么时候丢的？")
    assert response.status_code == 201, response.text
    assert response.json()["message"] == {"from": "staff", "staff": "c**", "text": "您好，我是工作人员，请问卡是什么时候丢的？"}
    poller.join(30)
    assert polled["at"] - sent_at < 2.0, polled
    [message] = polled["answer"]["messages"]
    assert message["from"] == "staff" and message["staff"] == "c**" and message["text"].startswith("您好，我是工作人员")
    assert message["at"].endswith("Z") and message["id"]

    answer = citizen.say("昨天下午丢的")
    assert answer["messages"] == [] and answer["handoff"]["status"] == "claimed"

    transcript = staff.handoff(handoff_id)["transcript"]
    said = [(line["from"], line["text"]) for line in transcript]
    assert ("user", "我的社保卡丢了，很着急") in said and ("user", "昨天下午丢的") in said
    assert ("staff", "您好，我是工作人员，请问卡是什么时候丢的？") in said
    assert all(line["at"] and line["id"] for line in transcript)
    assert said.index(("user", "昨天下午丢的")) > said.index(("staff", "您好，我是工作人员，请问卡是什么时候丢的？"))

    # A reload: the history holds it all, staff messages marked, and the hand-over's state.
    reloaded = citizen.history()
    assert reloaded["handoff"]["status"] == "claimed"
    staff_lines = [m for m in reloaded["messages"] if m["from"] == "staff"]
    assert [m["text"] for m in staff_lines] == ["您好，我是工作人员，请问卡是什么时候丢的？"]
    assert [m["id"] for m in reloaded["messages"]] == [m["id"] for m in citizen.history()["messages"]]

    # The citizen leaves: released, the bot says so, and answers again.
    back = citizen.say(BACK_TO_THE_BOT)
    assert back["handoff"] is None and "智能助手继续为您服务" in back["messages"][0]["text"], back
    view = staff.handoff(handoff_id)["handoff"]
    assert view["status"] == "closed" and view["outcome"] == "back_to_bot"
    faq = citizen.say("补办的社保卡需要重新激活吗?")
    assert faq["handoff"] is None and "激活" in faq["messages"][0]["text"]
    assert [m["text"] for m in citizen.history()["messages"] if m["from"] == "user"][-2:] == \
        [BACK_TO_THE_BOT, "补办的社保卡需要重新激活吗?"]


def test_staff_hand_back_or_close_and_the_citizen_is_told(citizen, staff, product):
    handoff_id = claimed(citizen, staff)
    count = citizen.history()["messages"].__len__()
    response = staff.release(handoff_id, "bot")
    assert response.status_code == 200 and response.json()["handoff"]["outcome"] == "back_to_bot", response.text
    update = citizen.updates(count)
    assert update["handoff"] is None
    assert any("工作人员已把对话交回智能助手" in m["text"] for m in update["messages"]), update
    assert error_code(staff.release(handoff_id, "closed"), 409) == "already_closed"
    assert citizen.say("补办的社保卡需要重新激活吗?")["messages"]  # the bot again

    second = Citizen(product.web_url)
    try:
        handoff_id = claimed(second, staff)
        phone = personal_values.typed(new_phone(), "phone number")
        assert error_code(staff.release(handoff_id, "closed", outcome=f"已回电 {phone}"), 422).startswith("personal_data")
        response = staff.release(handoff_id, "closed", outcome="已解答挂失流程")
        assert response.status_code == 200, response.text
        assert response.json()["handoff"]["outcome"] == "已解答挂失流程"
        history = second.history()
        assert history["handoff"] is None and "工作人员已结束本次服务" in history["messages"][-1]["text"]
        assert second.say("补办的社保卡需要重新激活吗?")["messages"]
        assert handoff_id in [h["id"] for h in staff.queue("closed")]
    finally:
        second.close()


def test_only_the_member_of_staff_holding_the_claim_writes_or_releases(citizen, staff, other_staff):
    handoff_id = queued(citizen)
    assert error_code(staff.write(handoff_id, "还没认领"), 409) == "not_claimed_by_you"
    assert staff.claim(handoff_id).status_code == 200
    assert error_code(other_staff.claim(handoff_id), 409) == "already_claimed"
    assert error_code(other_staff.write(handoff_id, "我来说"), 409) == "not_claimed_by_you"
    assert error_code(other_staff.release(handoff_id, "closed"), 409) == "not_claimed_by_you"
    assert staff.write(handoff_id, "我来处理").status_code == 201
    assert staff.release(handoff_id, "bot").status_code == 200
    assert error_code(staff.write(handoff_id, "结束了"), 409) == "already_closed"


def test_two_claims_at_once_in_one_web_process_one_wins(product, staff, other_staff):
    citizens = [Citizen(product.web_url) for _ in range(3)]
    try:
        ids = [queued(c) for c in citizens]

        async def race(handoff_id: int):
            headers = [dict(s.http.headers) for s in (staff, other_staff)]
            cookies = [s.http.cookies for s in (staff, other_staff)]
            clients = [httpx.AsyncClient(base_url=product.web_url, headers=h, cookies=c, timeout=60)
                       for h, c in zip(headers, cookies)]
            try:
                return await asyncio.gather(*(c.post(f"/api/staff/handoffs/{handoff_id}/claim") for c in clients))
            finally:
                await asyncio.gather(*(c.aclose() for c in clients))

        for handoff_id in ids:
            first, second = asyncio.run(race(handoff_id))
            assert sorted([first.status_code, second.status_code]) == [200, 409], (first.text, second.text)
            loser = first if first.status_code == 409 else second
            assert loser.json()["error"]["code"] == "already_claimed"
            winner = (first if first.status_code == 200 else second).json()["handoff"]["claimed_by"]
            assert staff.handoff(handoff_id)["handoff"]["claimed_by"] == winner
        for handoff_id in ids:
            holder = staff if staff.handoff(handoff_id)["handoff"]["claimed_by"] == staff.username else other_staff
            assert holder.release(handoff_id, "closed").status_code == 200
    finally:
        for c in citizens:
            c.close()


def test_the_transcript_never_shows_an_id_number_a_phone_number_or_a_code(citizen, staff):
    id_number = personal_values.typed(new_id_number(), "ID number")
    phone = personal_values.typed(new_phone(), "phone number")
    citizen.say(f"我的手机号是{phone}")  # before the hand-over, said to the bot
    handoff_id = claimed(citizen, staff)
    for message in (f"我的身份证号是 {id_number}", f"电话 {phone[:3]} {phone[3:7]} {phone[7:]}",
                    "验证码是 482913", "482913", f"{id_number[:6]}-{id_number[6:14]}-{id_number[14:]}"):
        assert citizen.say(message)["messages"] == []
    assert staff.write(handoff_id, f"您登记的号码是 {phone} 吗？").status_code == 201

    detail = staff.handoff(handoff_id)
    shown = json.dumps(detail, ensure_ascii=False)
    joined = re.sub(r"[\s-]", "", shown)  # the numbers as typed with spaces or dashes
    for clear in (id_number, phone, "482913"):
        assert clear not in joined, clear
    texts = " ".join(line["text"] for line in detail["transcript"])
    assert mask_id_number(id_number) in texts and mask_phone(phone) in texts
    listed = json.dumps(staff.queue("open"), ensure_ascii=False)
    assert id_number not in listed and phone not in listed
    assert staff.release(handoff_id, "closed").status_code == 200


def test_nobody_claims_in_time_the_citizen_is_offered_a_call_back(citizen, staff, product):
    handoff_id = queued(citizen)
    count = citizen.history()["messages"].__len__()
    engine = create_engine(product.env["BACKEND_DB_URL"])
    long_ago = (dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(hours=1))
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE handoff_tickets SET waiting_since = :t WHERE id = :id"),
                               {"t": long_ago.strftime("%Y-%m-%d %H:%M:%S.%f"), "id": handoff_id})
    finally:
        engine.dispose()
    deadline = time.monotonic() + 60  # the sweep runs every 15 s
    told = []
    while time.monotonic() < deadline and not told:
        update = citizen.updates(count)
        count = update["count"]
        told += [m for m in update["messages"] if "暂时没有工作人员接入" in m["text"]]
    assert told, "the citizen was not told within 60 s"
    assert citizen.history()["handoff"] is None
    view = staff.handoff(handoff_id)["handoff"]
    assert view["mode"] == "callback" and view["status"] == "waiting"
    assert "需要工作人员在工作时间给您回电吗" in " ".join(m["text"] for m in citizen.history()["messages"][-3:])
    answer = citizen.say("不用了")  # to the bot again (the call-back question), not to staff
    assert answer["handoff"] is None and answer["messages"]
    assert staff.release(handoff_id, "closed").status_code == 200


def test_the_long_poll_answers_at_once_when_the_widget_is_behind_and_refuses_bad_input(citizen):
    citizen.say("你好")
    started = time.monotonic()
    update = citizen.updates(0)
    assert time.monotonic() - started < 5
    assert update["count"] == len(update["messages"]) >= 2 and update["handoff"] is None
    assert update["session"] == citizen.http.headers["X-Chat-Session"]  # a poll is not a use
    ahead = citizen.updates(update["count"] + 5)
    assert ahead["messages"] == [] and ahead["count"] == update["count"]
    for params in ({"after": "-1"}, {"after": "x"}, {"after": ["1", "2"]}, {"since": "1"}):
        assert error_code(citizen.http.get("/api/chat/updates", params=params), 422) == "invalid_request"
    assert error_code(httpx.get(f"{citizen.http.base_url}/api/chat/updates", timeout=30), 403) == "invalid_session"


def test_the_staff_api_refuses_what_it_cannot_do(staff, product):
    assert error_code(staff.http.get("/api/staff/handoffs", params={"status": "everything"}), 422) == "invalid_request"
    assert error_code(staff.http.get("/api/staff/handoffs/987654"), 404) == "handoff_not_found"
    assert error_code(staff.http.get("/api/staff/handoffs/abc"), 404) == "handoff_not_found"
    assert error_code(staff.claim(987654), 404) == "handoff_not_found"
    assert error_code(staff.release(987654, "sideways"), 422) == "invalid_request"
    assert error_code(staff.http.post("/api/staff/handoffs/987654/messages", json={"text": ""}), 422) == "invalid_request"
    without_token = httpx.Client(base_url=product.web_url, cookies=staff.http.cookies, timeout=30)
    try:
        assert error_code(without_token.post("/api/staff/handoffs/987654/claim"), 403) == "csrf_token_invalid"
    finally:
        without_token.close()
    assert error_code(httpx.get(f"{product.web_url}/api/staff/handoffs", timeout=30), 401) == "login_required"
