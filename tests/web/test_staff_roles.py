"""Staff roles (bot/web/staff/roles.py) and the admin's accounts page: what
each role may use, against a real web process on SQLite and PostgreSQL (the
`web` fixture: Rasa and the backend down), and the staff database of an
older release gaining the new columns."""
from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from bot.web.staff import accounts, roles
from bot.web.staff.store import open_store
from tests.support.web import STAFF_PASSWORD, STAFF_USER, login

PASSWORD = "a-long-enough-password"


@pytest.fixture(autouse=True)
def fresh_accounts(web):
    """Only the account `make run` creates (an admin), and no failed logins."""
    web.execute("DELETE FROM staff_login_failures")
    web.execute("DELETE FROM staff_sessions WHERE user_id IN (SELECT id FROM staff_users WHERE username <> :u)",
                u=STAFF_USER)
    web.execute("DELETE FROM staff_users WHERE username <> :u", u=STAFF_USER)


def logged_in(web, username=STAFF_USER, password=STAFF_PASSWORD):
    client = web.client(headers={"Origin": web.url})
    response = login(client, username, password)
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client, response.json()


def add(admin, username, role, display_name=None):
    response = admin.post("/api/staff/accounts", json={
        "username": username, "password": PASSWORD, "role": role, "display_name": display_name})
    assert response.status_code == 201, response.text
    return response.json()["account"]


def test_the_account_from_the_environment_is_an_admin(web):
    with web.client() as client:
        me = login(client).json()
    assert me["role"] == "admin"
    assert me["capabilities"] == sorted(roles.CAPABILITIES)


def test_each_role_gets_what_it_may_use_and_403_for_the_rest(web):
    admin, _ = logged_in(web)
    add(admin, "agent1", "agent", "王小明")
    add(admin, "reviewer1", "reviewer")
    agent, me = logged_in(web, "agent1", PASSWORD)
    assert me["role"] == "agent" and me["display_name"] == "王小明"
    assert me["capabilities"] == ["faq_lookup", "handoff"]
    reviewer, me = logged_in(web, "reviewer1", PASSWORD)
    assert me["capabilities"] == ["analytics", "review"]

    search = {"q": "补办社保卡要带什么"}
    assert agent.post("/api/faq/search", json=search).status_code == 200  # keywords: Rasa is down
    assert agent.get("/api/staff/accounts").json()["error"]["code"] == "forbidden"
    assert agent.get("/staff/accounts").status_code == 403
    assert reviewer.post("/api/faq/search", json=search).status_code == 403
    assert reviewer.get("/api/staff/handoffs").status_code == 403
    assert reviewer.get("/api/staff/tickets").status_code == 403
    assert admin.post("/api/faq/search", json=search).status_code == 200
    assert admin.get("/staff/accounts").status_code == 200
    # Without a login it stays 401 (the login check runs before the role's).
    with web.client() as anonymous:
        assert anonymous.get("/api/staff/accounts").status_code == 401
        assert anonymous.get("/api/staff/handoffs").status_code == 401


def test_a_changed_role_holds_from_the_next_request(web):
    admin, _ = logged_in(web)
    add(admin, "agent2", "agent")
    agent, _ = logged_in(web, "agent2", PASSWORD)
    assert agent.post("/api/faq/search", json={"q": "社保卡丢了"}).status_code == 200
    changed = admin.patch("/api/staff/accounts/agent2", json={"role": "reviewer"})
    assert changed.status_code == 200 and changed.json()["account"]["role"] == "reviewer"
    assert agent.post("/api/faq/search", json={"q": "社保卡丢了"}).status_code == 401  # its sessions ended
    reviewer, me = logged_in(web, "agent2", PASSWORD)
    assert me["role"] == "reviewer"


def test_the_accounts_api_refuses_what_it_must(web):
    admin, _ = logged_in(web)
    add(admin, "agent3", "agent")
    assert admin.post("/api/staff/accounts", json={"username": "agent3", "password": PASSWORD,
                                                   "role": "agent"}).json()["error"]["code"] == "account_exists"
    for body in ({"username": "x", "password": "short", "role": "agent"},
                 {"username": "agent4", "password": PASSWORD, "role": "root"},
                 {"username": "Bad Name!", "password": PASSWORD, "role": "agent"}):
        response = admin.post("/api/staff/accounts", json=body)
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_account", body
    assert admin.post("/api/staff/accounts", json={"username": "a5", "password": PASSWORD, "is_admin": "1"}
                      ).status_code == 422
    # The last admin can be neither demoted nor deleted, and nobody deletes themselves.
    assert admin.patch(f"/api/staff/accounts/{STAFF_USER}", json={"role": "agent"}).status_code == 422
    assert admin.delete(f"/api/staff/accounts/{STAFF_USER}").status_code == 422
    assert admin.patch("/api/staff/accounts/nobody", json={"role": "agent"}).status_code == 404
    assert admin.delete("/api/staff/accounts/agent3").json() == {"deleted": True}
    # A change without the page's CSRF token is refused.
    del admin.headers["X-CSRF-Token"]
    assert admin.post("/api/staff/accounts", json={"username": "agent6", "password": PASSWORD,
                                                   "role": "agent"}).status_code == 403
    listed = {a["username"]: a["role"] for a in logged_in(web)[0].get("/api/staff/accounts").json()["accounts"]}
    assert listed == {STAFF_USER: "admin"}


def test_the_cli_sets_a_role_and_a_display_name(web):
    env = {**web.env, "STAFF_PASSWORD": PASSWORD}
    result = subprocess.run([sys.executable, "-m", "bot.web", "add-staff", "Reviewer7", "--role", "reviewer",
                             "--display-name", "李四"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert web.scalar("SELECT role FROM staff_users WHERE username = 'reviewer7'") == "reviewer"
    assert web.scalar("SELECT display_name FROM staff_users WHERE username = 'reviewer7'") == "李四"


def test_an_older_staff_database_gains_the_role_columns(tmp_path):
    url = f"sqlite:///{tmp_path / 'old-staff.db'}"
    engine = create_engine(url)
    with engine.begin() as connection:  # the table as the first release made it
        connection.execute(text("CREATE TABLE staff_users (id INTEGER PRIMARY KEY, username VARCHAR(64) NOT NULL "
                                "UNIQUE, password_hash VARCHAR(255) NOT NULL, created_at DATETIME NOT NULL, "
                                "password_changed_at DATETIME NOT NULL)"))
        connection.execute(text("INSERT INTO staff_users VALUES (1, 'old', 'scrypt$x', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
    engine.dispose()
    db = open_store(url)
    try:
        with db.read() as session:
            assert session.execute(text("SELECT role, display_name FROM staff_users")).one() == ("agent", None)
        with db.write() as session:
            assert accounts.set_account(session, "old", PASSWORD, role="admin") is False
            session.commit()
        with db.read() as session:
            assert accounts.list_accounts(session)[0]["role"] == "admin"
    finally:
        db.dispose()
    open_store(url).dispose()  # opening again changes nothing
