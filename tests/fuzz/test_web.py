"""The web process (WEB_PORT): the widget's chat API and the staff login and search under hostile input.
Every answer is below 500 and every refusal is a JSON error."""
import json
import sqlite3

import httpx
import pytest
from hypothesis import given, strategies as st

from tests.fuzz.hostile import (
    EMOJI, FUZZ, MB, TIMEOUT, below_500, content_types, encode, headers_with, hostile_bodies, json_error, nasty_text,
    nested,
)

pytestmark = [pytest.mark.product, pytest.mark.fuzz]

# Header values as HTTP carries them (no CR, LF or NUL; obs-text bytes allowed).
header_bytes = st.binary(max_size=300).map(lambda b: bytes(c for c in b if c == 9 or 0x20 <= c != 0x7f).strip())


@pytest.fixture(scope="module")
def client(product):
    with httpx.Client(base_url=product.web_url, timeout=TIMEOUT) as client:
        yield client


@pytest.fixture(scope="module")
def session(client):
    response = client.post("/api/chat/sessions")
    assert response.status_code == 201
    return response.json()["session"]


def new_session(client: httpx.Client) -> str:
    """A session of its own for each example: one session sending hundreds of
    messages is (rightly) told to slow down (429, bot/web/rate_limit.py)."""
    response = client.post("/api/chat/sessions")
    assert response.status_code == 201
    return response.json()["session"]


def check(response: httpx.Response, what: str, allowed) -> None:
    below_500(response, what)
    assert response.status_code in allowed, (what, response.status_code, response.text[:300])
    if response.status_code >= 400:
        json_error(response)


@FUZZ
@given(body=hostile_bodies(keys=("message",)), content_type=content_types)
def test_chat_message_any_body(client, body, content_type):
    response = client.post("/api/chat/messages", content=body,
                           headers=headers_with(content_type, {"X-Chat-Session": new_session(client)}))
    check(response, f"POST /api/chat/messages {body[:200]!r}", allowed=(200, 400, 413, 422))
    if response.status_code == 200:
        assert isinstance(response.json()["messages"], list)


@FUZZ
@given(message=nasty_text)
def test_chat_message_any_text(client, message):
    body = encode('{"message": "%s"}' % message.replace("\\", "\\\\").replace('"', '\\"'))
    response = client.post("/api/chat/messages", content=body, headers={"X-Chat-Session": new_session(client)})
    check(response, f"POST /api/chat/messages {body[:300]!r}", allowed=(200, 400, 413, 422))


@FUZZ
@given(header=header_bytes, body=hostile_bodies(keys=("message",)))
def test_chat_with_a_forged_session(client, header, body):
    headers = {"X-Chat-Session": header} if header else {}
    response = client.post("/api/chat/messages", content=body, headers=headers)
    check(response, f"POST /api/chat/messages session {header!r}", allowed=(403, 413))
    check(client.get("/api/chat/history", headers=headers), f"GET history {header!r}", allowed=(403,))


@pytest.mark.parametrize("message, status", [
    (EMOJI[0] * 100_000, 413),  # past the 16 KiB body limit
    (EMOJI[0] * 1000, 200),
    ("\\ud800", 200),  # a JSON-escaped lone surrogate: refused or answered, not a 5xx
    ("\\u0000", 422),
])
def test_huge_emoji_and_escapes(client, message, status):
    body = ('{"message": "%s"}' % message).encode()
    response = client.post("/api/chat/messages", content=body, headers={"X-Chat-Session": new_session(client)})
    check(response, f"POST /api/chat/messages {body[:100]!r}", allowed=(status, 422) if status == 200 else (status,))


@pytest.mark.parametrize("opener", ["[", "{"])
def test_deeply_nested_json_is_refused(client, session, opener):
    for depth in (1000, 5000):  # 10 000 levels of "{" are past the 16 KiB limit
        response = client.post("/api/chat/messages", content=nested(depth, opener),
                               headers={"X-Chat-Session": session})
        check(response, f"nested {opener} x{depth}", allowed=(400, 413))
    response = client.post("/api/chat/messages", content=nested(10_000, opener), headers={"X-Chat-Session": session})
    check(response, f"nested {opener} x10000", allowed=(400, 413))


def forget_failed_logins(product) -> None:
    """Every example starts with an empty login throttle, so that its credentials
    reach the password check (past five failures from one address, 429 comes first)."""
    with sqlite3.connect(product.env["STAFF_DB_URL"].removeprefix("sqlite:///")) as db:
        db.execute("DELETE FROM staff_login_failures")


@FUZZ
@given(body=hostile_bodies(keys=("username", "password")), content_type=content_types,
       origin=st.none() | st.sampled_from(["null", "http://evil.example", "\x7f", ""]))
def test_staff_login_any_body(product, client, body, content_type, origin):
    """Never logged in by garbage: refused as malformed, or as wrong credentials."""
    forget_failed_logins(product)
    headers = headers_with(content_type, {"Origin": origin} if origin is not None else {})
    response = client.post("/api/staff/login", content=body, headers=headers)
    check(response, f"POST /api/staff/login {body[:200]!r}", allowed=(400, 401, 403, 413, 422))


@FUZZ
@given(username=nasty_text, password=nasty_text)
def test_staff_login_any_credentials(product, client, username, password):
    """Including lone surrogates (JSON-escaped), controls and huge text; the form's real fields."""
    forget_failed_logins(product)
    body = json.dumps({"username": username, "password": password}).encode()
    response = client.post("/api/staff/login", content=body, headers={"Content-Type": "application/json"})
    check(response, f"POST /api/staff/login {body[:300]!r}", allowed=(401, 413, 422))


def test_staff_login_form_encoded_and_oversized(product, client):
    forget_failed_logins(product)
    for response in (
        client.post("/api/staff/login", data={"username": "counter1", "password": "x"}),
        client.post("/api/staff/login", json={"username": "u" * MB, "password": "p"}),
        client.post("/api/staff/login", json={"username": "u", "password": EMOJI[0] * 3000}),
    ):
        check(response, "login", allowed=(400, 401, 413, 422))


query_strings = st.dictionaries(st.sampled_from(["q", "lang", "Q", "x", ""]),
                                nasty_text.map(lambda t: t.encode("utf-8", "surrogatepass").decode("utf-8", "replace")),
                                max_size=3)


@FUZZ
@given(params=query_strings)
def test_faq_search_any_query(client, staff_cookies, params):
    response = client.post("/api/faq/search", json=params, cookies=staff_cookies)
    check(response, f"POST /api/faq/search {params!r}", allowed=(200, 422))
    if response.status_code == 200:
        assert isinstance(response.json()["results"], list)


@pytest.mark.parametrize("query", ["q=%ED%A0%80", "q=%FF%FE", "q=%00", "q=" + "%F0%9F%98%80" * 5000,
                                   "q=a&q=b", "q=%E7%A4%BE&lang=%ED%A0%80", "%ED%A0%80=x", "q=" + "%" * 100],
                         ids=lambda q: q[:40])
def test_faq_search_raw_query_strings(client, staff_cookies, query):
    response = client.get(f"/api/faq/search?{query}", cookies=staff_cookies)  # the search is a POST: never served
    check(response, f"GET /api/faq/search?{query[:100]}", allowed=(400, 405, 413, 414))


@FUZZ
@given(cookie=header_bytes, params=query_strings)
def test_faq_search_with_a_forged_cookie(client, cookie, params):
    response = client.post("/api/faq/search", json=params, headers={"Cookie": b"staff_session=" + cookie})
    check(response, f"POST /api/faq/search cookie {cookie!r}", allowed=(400, 401))


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/chat/messages"), ("PUT", "/api/chat/messages"), ("PUT", "/api/chat/sessions"),
    ("POST", "/api/chat/history"), ("GET", "/api/staff/login"), ("PATCH", "/api/staff/login"),
    ("GET", "/api/faq/search"), ("DELETE", "/"),
])
def test_wrong_methods_are_405(client, method, path):
    response = client.request(method, path, content=b"{}")
    check(response, f"{method} {path}", allowed=(405,))


@FUZZ
@given(path=nasty_text)
def test_any_path(client, path):
    url = "/" + path.encode("utf-8", "surrogatepass").decode("utf-8", "replace").lstrip("/")
    try:
        request = client.build_request("GET", url)
    except (httpx.InvalidURL, UnicodeError):
        return  # not a URL the client can send
    response = client.send(request)
    check(response, f"GET {url!r}", allowed=(200, 303, 400, 404, 405, 414))
