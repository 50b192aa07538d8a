"""The widget's API and the pages' headers against the running product
(`product`: Rasa, action server, backend and web as `make run` starts them),
and against a web process whose Rasa is down."""
from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import pytest

from tests.support import personal_values
from tests.support.product import UNCLEAR
from tests.support.web import start_web

pytestmark = pytest.mark.product


def error_code(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "Traceback" not in response.text
    return response.json()["error"]["code"]


@pytest.fixture(scope="module")
def web_url(product):
    return product.web_url


def _typed(request: httpx.Request) -> None:
    """Every message a test posts counts among the values typed (tests/support/personal_values.py)."""
    if request.url.path == "/api/chat/messages" and request.method == "POST":
        try:
            personal_values.typed_in(str(json.loads(request.content).get("message", "")))
        except (ValueError, AttributeError):
            pass  # the malformed bodies of test_bad_messages_get_a_clear_answer


def turn(chat, message):
    """Sends `message`; the turn must have succeeded: the messages the user sees."""
    response = chat.post("/api/chat/messages", json={"message": message})
    assert response.status_code == 200, response.text
    messages = response.json()["messages"]
    assert messages and all(m["text"] for m in messages), messages
    return messages


@pytest.fixture()
def chat(web_url):
    with httpx.Client(base_url=web_url, timeout=60, event_hooks={"request": [_typed]}) as client:
        response = client.post("/api/chat/sessions")
        assert response.status_code == 201
        client.headers["X-Chat-Session"] = response.json()["session"]
        yield client


def test_the_launcher_prints_the_widget_and_staff_urls(product):
    banner = product.output.read_text()
    assert f"{product.web_url}/" in banner and f"{product.web_url}/staff" in banner


def test_a_turn_and_its_history(chat):
    response = chat.post("/api/chat/messages", json={"message": "补办的社保卡需要重新激活吗?"})
    assert response.status_code == 200, response.text
    answer = response.json()["messages"][0]["text"]
    assert "需要" in answer and "激活" in answer
    response = chat.post("/api/chat/messages", json={"message": UNCLEAR})  # "did you mean"
    buttons = response.json()["messages"][0]["buttons"]
    how = next(b for b in buttons if b["title"] == "怎么补办、去哪补办")
    assert chat.post("/api/chat/messages", json={"message": how["payload"]}).status_code == 200

    history = chat.get("/api/chat/history").json()["messages"]
    users = [m["text"] for m in history if m["from"] == "user"]
    assert users == ["补办的社保卡需要重新激活吗?", UNCLEAR, "怎么补办、去哪补办"]  # the click shows as its title
    assert sum(1 for m in history if m["from"] == "bot" and m["buttons"]) == 1
    assert "社保卡遗失或损坏时" in history[-1]["text"]


def test_personal_data_in_the_history_is_masked(chat):
    replies = turn(chat, "我的身份证号是440524188001010014，电话13800000002")
    history = chat.get("/api/chat/history").json()["messages"]
    assert [m["from"] for m in history] == ["user"] + ["bot"] * len(replies)
    assert [m["text"] for m in history[1:]] == [m["text"] for m in replies]  # the answer, as the user saw it
    assert history[0]["text"] == "我的身份证号是440524********0014，电话138****0002"


def test_the_web_log_holds_no_message_text(product, chat):
    turn(chat, "补卡要带什么材料，我的电话13800000002")
    log = (Path(product.env["LOG_DIR"]) / "web.log").read_text()
    assert "chat turn" in log and "补卡要带" not in log and "13800000002" not in log
    assert product.env["RASA_AUTH_TOKEN"] not in log


def test_sessions_do_not_see_each_other(web_url, chat):
    turn(chat, "补卡要带什么材料")
    assert chat.get("/api/chat/history").json()["messages"]
    with httpx.Client(base_url=web_url, timeout=30) as other:
        session = other.post("/api/chat/sessions").json()["session"]
        assert other.get("/api/chat/history", headers={"X-Chat-Session": session}).json()["messages"] == []


@pytest.mark.parametrize("session", [None, "", "someone-else", "web-abc", "a" * 32,
                                     "a" * 32 + "." + "b" * 43])
def test_forged_or_missing_sessions_are_refused(web_url, session):
    headers = {} if session is None else {"X-Chat-Session": session}
    with httpx.Client(base_url=web_url, timeout=30, headers=headers) as client:
        assert error_code(client.get("/api/chat/history"), 403) == "invalid_session"
        assert error_code(client.post("/api/chat/messages", json={"message": "你好"}), 403) == "invalid_session"


def test_a_tampered_session_is_refused(chat):
    nonce, at, signature = chat.headers["X-Chat-Session"].split(".")
    tampered = ("B" if nonce[0] != "B" else "C") + nonce[1:] + "." + at + "." + signature
    response = chat.get("/api/chat/history", headers={"X-Chat-Session": tampered})
    assert error_code(response, 403) == "invalid_session"


@pytest.mark.parametrize("content,status,code", [
    (b"{not json", 400, "invalid_json"),
    (b"[]", 400, "invalid_json"),
    (b'"hello"', 400, "invalid_json"),
    (b'{"message": NaN}', 400, "invalid_json"),
    (b"\xff\xfe", 400, "invalid_json"),
    (b"{}", 422, "invalid_request"),
    (b'{"message": ""}', 422, "invalid_request"),
    (b'{"message": "   \\n "}', 422, "invalid_request"),
    (b'{"message": 42}', 422, "invalid_request"),
    (b'{"message": "a\\u0000b"}', 422, "invalid_request"),
    ('{"message": "%s"}' % ("长" * 1001), 413, "too_long"),
    (b'{"message": "' + b"a" * 20000 + b'"}', 413, "payload_too_large"),
])
def test_bad_messages_get_a_clear_answer(chat, content, status, code):
    if isinstance(content, str):
        content = content.encode()
    response = chat.post("/api/chat/messages", content=content, headers={"Content-Type": "application/json"})
    assert error_code(response, status) == code
    assert response.json()["error"]["message"]


def test_a_message_of_1000_characters_is_accepted(chat):
    assert chat.post("/api/chat/messages", json={"message": "社" * 1000}).status_code == 200


def test_pages_and_static_files_carry_the_security_headers(web_url):
    with httpx.Client(base_url=web_url, timeout=30) as client:
        for path in ("/", "/staff/login", "/static/widget.js", "/static/widget.css", "/api/chat/sessions"):
            response = client.get(path) if path != "/api/chat/sessions" else client.post(path)
            assert response.status_code in (200, 201), path
            csp = response.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["x-frame-options"] == "DENY"
        page = client.get("/").text
        assert '<meta name="viewport"' in page and "<script>" not in page and " on" not in page.split("<body", 1)[1]
        assert client.get("/static/widget.js").headers["content-type"].startswith("text/javascript")


def test_unknown_routes_and_methods_are_json(web_url):
    with httpx.Client(base_url=web_url, timeout=30) as client:
        assert error_code(client.get("/nothing"), 404) == "not_found"
        for path in ("/static/", "/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fpages.py",
                     "/static/nothing.js", "/static/.hidden", "/index.html"):
            assert error_code(client.get(path), 404) == "not_found", path


def test_static_files_revalidate_by_etag(web_url):
    with httpx.Client(base_url=web_url, timeout=30) as client:
        first = client.get("/static/widget.css")
        assert first.headers["content-type"].startswith("text/css") and first.headers["cache-control"] == "no-cache"
        again = client.get("/static/widget.css", headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert error_code(client.put("/api/chat/messages"), 405) == "method_not_allowed"



def test_a_negative_content_length_is_refused_at_once(web_url):
    # Raw socket: HTTP clients refuse to send this. sanic 21.12 alone would hang on it.
    host, port = web_url.rsplit("/", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(b"POST /api/chat/sessions HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
        assert connection.recv(4096).startswith(b"HTTP/1.1 400")


def test_rasa_down_is_503_and_the_session_still_works_later(tmp_path):
    web = start_web(tmp_path, f"sqlite:///{tmp_path / 'staff.db'}")  # RASA_URL: nothing listens
    try:
        with web.client() as client:
            session = client.post("/api/chat/sessions").json()["session"]
            client.headers["X-Chat-Session"] = session
            response = client.post("/api/chat/messages", json={"message": "补卡要带什么材料"})
            assert error_code(response, 503) == "assistant_unavailable"
            assert response.headers["retry-after"]
            assert error_code(client.get("/api/chat/history"), 503) == "assistant_unavailable"
        log = web.log_path.read_text()
        assert "补卡" not in log  # no message text in the log
    finally:
        web.group.stop()
