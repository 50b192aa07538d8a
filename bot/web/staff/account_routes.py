"""The admin's staff accounts: a page and its JSON API (role `admin` only).

    GET    /staff/accounts                      the page (routes.py capability_page: 303 to the login page, 403)
    GET    /api/staff/accounts                  -> {"accounts": [{"username", "role", "display_name", "created_at"}]}
    POST   /api/staff/accounts    X-CSRF-Token  {"username", "password", "role", "display_name"?} -> 201 {"account"};
                                                409 account_exists; 422 invalid_account (the message says why)
    PATCH  /api/staff/accounts/<username>       {"role"?, "display_name"?} -> {"account"}; 404; 422 (the last admin)
    DELETE /api/staff/accounts/<username>       -> {"deleted": true}; 404; 422 (the last admin, or yourself)

A changed role ends that account's sessions (the next request logs in anew
with the new role). Passwords are set only when an account is made (and by
`python -m bot.web add-staff`); nothing here ever shows one.
"""
from __future__ import annotations

import logging

from sanic import Blueprint
from sqlalchemy import select
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.http.errors import HttpError
from bot.http.json import json_response
from bot.web.http import json_body
from bot.web.staff import accounts
from bot.web.staff.guard import StaffGuard
from bot.web.staff.models import StaffUser

log = logging.getLogger("bot.web.staff.accounts")

_FIELDS = {"username", "password", "role", "display_name"}


def _only(data: dict, allowed: set) -> dict:
    for name in data:
        if name not in allowed:
            raise HttpError(422, "invalid_request", f"Unknown field `{str(name)[:40]}`.")
    for name, value in data.items():
        if value is not None and not isinstance(value, str):
            raise HttpError(422, "invalid_request", f"`{name}` is text.")
    return data


def accounts_blueprint(guard: StaffGuard) -> Blueprint:
    """routes.py guards it: a login whose role has the capability `accounts`."""
    bp = Blueprint("staff_accounts")

    def invalid(error: accounts.AccountError) -> HttpError:
        return HttpError(422, "invalid_account", str(error))

    @bp.get("/api/staff/accounts")
    async def list_accounts(request: Request) -> HTTPResponse:
        return json_response({"accounts": await guard.work.read(accounts.list_accounts)})

    @bp.post("/api/staff/accounts")
    async def add_account(request: Request) -> HTTPResponse:
        guard.check_csrf_token(request)
        data = _only(json_body(request), _FIELDS)
        username, password = data.get("username") or "", data.get("password") or ""

        def work(session):
            name = accounts.normalize_username(username)
            if session.execute(select(StaffUser.id).where(StaffUser.username == name)).first() is not None:
                raise HttpError(409, "account_exists", "An account with this username exists already.")
            accounts.set_account(session, username, password, data.get("role") or "agent", data.get("display_name"))
            return next(a for a in accounts.list_accounts(session) if a["username"] == name)

        try:
            account = await guard.work.write(work)
        except accounts.AccountError as error:
            raise invalid(error) from None
        log.info("staff account added by an admin (role %s)", account["role"])
        return json_response({"account": account}, status=201)

    @bp.patch("/api/staff/accounts/<username:str>")
    async def change_account(request: Request, username: str) -> HTTPResponse:
        guard.check_csrf_token(request)
        data = _only(json_body(request), {"role", "display_name"})

        def work(session):
            return accounts.change_account(session, username, data.get("role"), data.get("display_name"))

        try:
            account = await guard.work.write(work)
        except accounts.AccountError as error:
            raise invalid(error) from None
        if account is None:
            raise HttpError(404, "account_not_found", "No such staff account.")
        log.info("staff account changed by an admin (role %s)", account["role"])
        return json_response({"account": account})

    @bp.delete("/api/staff/accounts/<username:str>")
    async def delete_account(request: Request, username: str) -> HTTPResponse:
        guard.check_csrf_token(request)
        if accounts.normalize_username(username) == request.ctx.staff.username:
            raise HttpError(422, "invalid_account", "You cannot delete your own account.")

        try:
            deleted = await guard.work.write(accounts.delete_account, username)
        except accounts.AccountError as error:
            raise invalid(error) from None
        if not deleted:
            raise HttpError(404, "account_not_found", "No such staff account.")
        log.info("staff account deleted by an admin")
        return json_response({"deleted": True})

    return bp
