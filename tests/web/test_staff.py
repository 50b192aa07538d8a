"""Staff accounts, logins and the lookup API against a real web process, on
SQLite and on PostgreSQL (the `web` fixture; Rasa and the backend are down,
so the search ranks by keywords and the tickets are unavailable)."""
from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys

import pytest

from bot.web.config import (
    ADDRESS_FREE_LOGIN_FAILURES,
    FREE_LOGIN_FAILURES,
    LOGIN_DELAY_CAP_SECONDS,
    LOGIN_FIRST_DELAY_SECONDS,
)
from bot.db import utcnow
from tests.support.web import STAFF_PASSWORD, STAFF_USER, login, start_web


@pytest.fixture(autouse=True)
def no_failed_logins(request):
    """Each test of the shared `web` starts with an empty throttle (all tests come
    from 127.0.0.1); a test that starts a web process of its own runs once, not per `web`."""
    if "web" in request.fixturenames:
        request.getfixturevalue("web").execute("DELETE FROM staff_login_failures")


def error_code(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()["error"]["code"]


def test_the_account_from_the_environment_is_stored_as_an_scrypt_hash(web):
    stored = web.scalar("SELECT password_hash FROM staff_users WHERE username = :u", u=STAFF_USER)
    assert stored.startswith("scrypt$") and STAFF_PASSWORD not in stored


def test_login_sets_a_strict_http_only_cookie_and_logout_ends_the_session(web):
    with web.client() as client:
        assert error_code(client.get("/api/staff/me"), 401) == "login_required"
        response = login(client)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["username"] == STAFF_USER and body["csrf_token"]
        cookie = response.headers["set-cookie"]
        for flag in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=28800"):
            assert flag in cookie
        token = client.cookies["staff_session"]
        # Stored hashed: a row holds the token's SHA-256, none the token itself.
        hashed = hashlib.sha256(token.encode()).hexdigest()
        assert web.scalar("SELECT count(*) FROM staff_sessions WHERE token_hash = :t", t=hashed) == 1
        assert web.scalar("SELECT count(*) FROM staff_sessions WHERE token_hash = :t", t=token) == 0
        assert client.get("/api/staff/me").json()["username"] == STAFF_USER
        assert client.get("/staff").status_code == 200

        assert error_code(client.post("/api/staff/logout"), 403) == "csrf_token_invalid"
        assert error_code(client.post("/api/staff/logout", headers={"X-CSRF-Token": body["csrf_token"],
                                                                    "Origin": "http://evil.example"}), 403) == "cross_origin"
        response = client.post("/api/staff/logout", headers={"X-CSRF-Token": body["csrf_token"], "Origin": web.url})
        assert response.status_code == 200 and "Max-Age=0" in response.headers["set-cookie"]
        client.cookies.set("staff_session", token)  # the old cookie, replayed
        assert error_code(client.get("/api/staff/me"), 401) == "login_required"


def test_the_staff_page_needs_a_login(web):
    with web.client() as client:
        response = client.get("/staff")
        assert response.status_code == 303 and response.headers["location"] == "/staff/login"
        page = client.get("/staff/login")
        assert page.status_code == 200 and 'id="login-form"' in page.text
        assert error_code(client.get("/api/staff/tickets"), 401) == "login_required"
        assert error_code(client.post("/api/faq/search", json={"q": "补卡"}), 401) == "login_required"


@pytest.mark.parametrize("body,status", [
    ({"username": STAFF_USER, "password": "wrong-password"}, 401),
    ({"username": "nobody", "password": STAFF_PASSWORD}, 401),
    ({"username": STAFF_USER.upper(), "password": STAFF_PASSWORD}, 200),  # usernames ignore case
    ({"username": STAFF_USER}, 422),
    ({"username": "", "password": "x"}, 422),
    ({"username": ["x"], "password": "x"}, 422),
])
def test_login_answers(web, body, status):
    with web.client() as client:
        assert client.post("/api/staff/login", json=body).status_code == status


def test_login_from_another_origin_is_refused(web):
    with web.client() as client:
        response = client.post("/api/staff/login", json={"username": STAFF_USER, "password": STAFF_PASSWORD},
                               headers={"Origin": "http://evil.example"})
        assert error_code(response, 403) == "cross_origin"


def test_a_session_expires(web):
    with web.client() as client:
        assert login(client).status_code == 200
        assert client.get("/api/staff/me").json()["username"] == STAFF_USER  # the session works
        web.execute("UPDATE staff_sessions SET expires_at = :t", t="2000-01-01 00:00:00")
        assert error_code(client.get("/api/staff/me"), 401) == "login_required"
        assert client.get("/staff").status_code == 303


def _ago(seconds: float) -> str:
    """A naive UTC time `seconds` ago, as the failure rows store it."""
    return (utcnow() - dt.timedelta(seconds=seconds)).isoformat(sep=" ", timespec="seconds")


def test_failures_delay_this_address_more_each_time_in_the_database_across_processes(web, tmp_path):
    with web.client() as client:
        for _ in range(FREE_LOGIN_FAILURES):
            assert login(client, password="wrong-password").status_code == 401
        response = login(client)  # even the right password, from this address
        assert error_code(response, 429) == "too_many_failures"
        assert 1 <= int(response.headers["retry-after"]) <= LOGIN_FIRST_DELAY_SECONDS
    # Once the delay has passed another try is allowed; one more failure doubles the delay.
    web.execute("UPDATE staff_login_failures SET created_at = :t", t=_ago(LOGIN_FIRST_DELAY_SECONDS + 1))
    with web.client() as client:
        assert login(client, password="wrong-password").status_code == 401
        response = login(client)
        assert error_code(response, 429) == "too_many_failures"
        assert LOGIN_FIRST_DELAY_SECONDS < int(response.headers["retry-after"]) <= 2 * LOGIN_FIRST_DELAY_SECONDS
    # Ten failures: over ten minutes, and a second web process on the same database says so too.
    for _ in range(6):
        web.execute("INSERT INTO staff_login_failures (username, client_address, created_at) VALUES (:u, :a, :t)",
                    u=STAFF_USER, a="127.0.0.1", t=_ago(0))
    other = start_web(tmp_path, web.db_url, STAFF_USER="", STAFF_PASSWORD="")
    try:
        with other.client() as client:
            response = login(client)
            assert error_code(response, 429) == "too_many_failures"
            assert int(response.headers["retry-after"]) > 600
    finally:
        other.group.stop()
    # After the delay the right password works and clears this address's failures.
    web.execute("UPDATE staff_login_failures SET created_at = :t", t=_ago(LOGIN_DELAY_CAP_SECONDS + 1))
    with web.client() as client:
        assert login(client).status_code == 200
    assert web.scalar("SELECT count(*) FROM staff_login_failures WHERE username = :u", u=STAFF_USER) == 0


def test_one_address_trying_many_usernames_is_delayed_too(web):
    with web.client() as client:
        for number in range(ADDRESS_FREE_LOGIN_FAILURES):
            assert login(client, username=f"guess{number}", password="wrong-password").status_code == 401
        assert error_code(login(client), 429) == "too_many_failures"


def _add_staff(web, *args, password=None, stdin=subprocess.DEVNULL):
    env = dict(web.env, STAFF_PASSWORD=password or "")
    return subprocess.run([sys.executable, "-m", "bot.web", "add-staff", *args], env=env, stdin=stdin,
                          capture_output=True, text=True, timeout=60)


def test_the_cli_adds_and_resets_an_account(web):
    result = _add_staff(web, "Phone7", password="phone-desk-password-7")
    assert result.returncode == 0 and "phone7 added" in result.stdout
    with web.client() as client:
        assert login(client, "phone7", "phone-desk-password-7").status_code == 200
        result = _add_staff(web, "phone7", password="a-new-password-for-7")
        assert result.returncode == 0 and "reset" in result.stdout
        assert client.get("/api/staff/me").status_code == 401  # a reset ends the account's sessions
        assert login(client, "phone7", "phone-desk-password-7").status_code == 401
        assert login(client, "phone7", "a-new-password-for-7").status_code == 200


@pytest.mark.parametrize("args,password,message", [
    (["short1"], "too-short", "at least 10 characters"),
    (["bad name"], "long-enough-password", "username"),
    (["nopassword"], None, "STAFF_PASSWORD"),  # no terminal to ask in
])
def test_the_cli_refuses_bad_accounts(web, args, password, message):
    result = _add_staff(web, *args, password=password)
    assert result.returncode == 2 and message in result.stderr
    assert web.scalar("SELECT count(*) FROM staff_users WHERE username = :u", u=args[0]) == 0


# --- the lookup API (Rasa down: keywords) -----------------------------------------------------------

@pytest.fixture()
def staff(web):
    with web.client() as client:
        assert login(client).status_code == 200
        yield client


def test_search_falls_back_to_keywords_when_rasa_is_unreachable(staff):
    body = staff.post("/api/faq/search", json={"q": "补卡要带什么材料"}).json()
    assert body["method"] == "keywords" and body["fallback_reason"] == "model_unavailable"
    assert body["language"] == "zh"
    top = body["results"][0]
    assert top["key"] == "reissue_documents" and top["method"] == "keywords" and top["score"] > 0
    assert [a["language"] for a in top["answers"]] == ["zh", "en"]
    assert "身份证" in top["answers"][0]["answer"] and "identity" in top["answers"][1]["answer"].lower()


def test_search_language_orders_the_answers(staff):
    english = staff.post("/api/faq/search", json={"q": "补卡要带什么材料", "lang": "en"}).json()
    assert [a["language"] for a in english["results"][0]["answers"]] == ["en", "zh"]
    guessed = staff.post("/api/faq/search", json={"q": "what is the legal basis"}).json()
    top = guessed["results"][0]
    assert guessed["language"] == "en" and top["key"] == "legal_basis"
    assert top["answers"][0]["legal_ref"] and top["answers"][1]["legal_ref"]


def test_search_answers_say_where_they_come_from(staff):
    fee = staff.post("/api/faq/search", json={"q": "补卡要钱吗"}).json()["results"][0]
    assert fee["key"] == "reissue_fee"
    assert [a["source"] for a in fee["answers"]] == ["general_practice", "general_practice"]
    legal = staff.post("/api/faq/search", json={"q": "what is the legal basis"}).json()["results"][0]
    assert legal["key"] == "legal_basis" and legal["answers"][0]["source"] == "measures_article_16"


@pytest.mark.parametrize("body", [
    {}, {"q": ""}, {"q": "   "}, {"q": "x" * 501}, {"q": "补卡", "lang": "fr"}, {"q": "补卡", "extra": "1"},
    {"q": ["补卡"]}, {"q": 1}, {"q": "补\x00卡"},
])
def test_search_refuses_bad_queries(staff, body):
    assert error_code(staff.post("/api/faq/search", json=body), 422) == "invalid_request"


def test_the_question_is_not_in_any_url(web, staff):
    """Proxies log URLs: the search is a POST with a JSON body; a GET with the
    question in its query string is not served."""
    assert staff.get("/api/faq/search", params={"q": "补卡要带什么材料"}).status_code == 405
    staff_js = staff.get("/static/staff.js").text
    assert "/api/faq/search?" not in staff_js and '"POST", "/api/faq/search"' in staff_js


def test_a_search_from_another_origin_is_refused(staff):
    response = staff.post("/api/faq/search", json={"q": "补卡"}, headers={"Origin": "http://evil.example"})
    assert error_code(response, 403) == "cross_origin"


def test_search_of_500_characters_is_answered(staff):
    assert staff.post("/api/faq/search", json={"q": "补" * 500}).status_code == 200


def test_tickets_say_when_the_backend_is_down(staff):
    assert error_code(staff.get("/api/staff/tickets"), 503) == "backend_unavailable"


def test_an_attacker_cannot_lock_the_owner_out(tmp_path):
    """Behind a proxy (WEB_PROXIES_COUNT=1: the address is the last X-Forwarded-For
    hop, which nginx adds): many wrong passwords for counter1 from one address
    delay that address only; counter1's owner at another address logs in."""
    server = start_web(tmp_path, f"sqlite:///{tmp_path / 'staff.db'}", WEB_PROXIES_COUNT="1")
    try:
        with server.client(headers={"X-Forwarded-For": "203.0.113.7"}) as attacker:
            statuses = [login(attacker, password=f"guess-{number}-password").status_code for number in range(8)]
            assert statuses[:FREE_LOGIN_FAILURES] == [401] * FREE_LOGIN_FAILURES and 429 in statuses
            assert login(attacker).status_code == 429
        with server.client(headers={"X-Forwarded-For": "198.51.100.20, 203.0.113.8"}) as owner:
            assert login(owner).status_code == 200
        with server.client(headers={"X-Forwarded-For": "203.0.113.7"}) as attacker:
            assert login(attacker).status_code == 429  # the owner's login did not clear the attacker's failures
    finally:
        server.group.stop()


def test_without_proxies_a_forwarded_header_is_not_believed(web):
    for number in range(FREE_LOGIN_FAILURES):
        with web.client(headers={"X-Forwarded-For": f"203.0.113.{number}"}) as client:
            assert login(client, password="wrong-password").status_code == 401
    with web.client(headers={"X-Forwarded-For": "203.0.113.99"}) as client:
        assert login(client).status_code == 429  # all of them came from 127.0.0.1


def test_behind_a_tls_proxy_public_origin_decides_the_origin_check_and_the_secure_cookie(tmp_path):
    """The proxy speaks http to us, so the request says http://127.0.0.1:port;
    browsers say https://helpdesk.example.gov.cn. PUBLIC_ORIGIN tells which is right."""
    public = "https://helpdesk.example.gov.cn"
    server = start_web(tmp_path, f"sqlite:///{tmp_path / 'staff.db'}", PUBLIC_ORIGIN=public)
    body = {"username": STAFF_USER, "password": STAFF_PASSWORD}
    try:
        with server.client() as client:
            response = client.post("/api/staff/login", json=body, headers={"Origin": server.url})
            assert error_code(response, 403) == "cross_origin"
            response = client.post("/api/staff/login", json=body, headers={"Origin": public})
            assert response.status_code == 200
            cookie = response.headers["set-cookie"].lower()
            assert "staff_session=" in cookie and "; secure" in cookie and "httponly" in cookie
            token = response.headers["set-cookie"].split(";")[0]  # a Secure cookie: httpx keeps it off http
            response = client.post("/api/faq/search", json={"q": "补卡"},
                                   headers={"Referer": public + "/staff", "Cookie": token})
            assert response.status_code == 200
    finally:
        server.group.stop()


def test_without_public_origin_the_request_decides_and_http_cookies_are_not_secure(web):
    with web.client() as client:
        response = client.post("/api/staff/login", json={"username": STAFF_USER, "password": STAFF_PASSWORD},
                               headers={"Origin": web.url})
        assert response.status_code == 200 and "secure" not in response.headers["set-cookie"].lower()
