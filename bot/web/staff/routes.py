"""The staff routes, one blueprint per resource, guarded by middleware (guard.py).

    GET  /staff/login                      the login page (303 to /staff when logged in)        staff_login
    POST /api/staff/login   {"username", "password"} -> the login (as /api/staff/me) + cookie
    GET  /staff                            the lookup page (303 to /staff/login without a login) staff_page
    POST /api/staff/logout  X-CSRF-Token   -> {"logged_out": true}                               staff_session
    GET  /api/staff/me                     -> {"username", "csrf_token", "expires_at", "role",
                                               "display_name", "capabilities": [...]}
    POST /api/faq/search    {"q", "lang": "zh"|"en"?} -> ranked topics (bot.web.faq_search); a   faq_search
                            POST so that a citizen's question never is in a URL (proxy logs keep URLs)
    GET  /api/staff/tickets                -> {"tickets": [...]} (503 when the backend is down)   staff_tickets
    GET/POST /api/staff/handoffs...        live hand-overs: queue, claim, transcript, messages,   staff_handoffs
                                           release (bot/web/staff/handoffs.py)
    /staff/accounts, /api/staff/accounts   the admin's accounts (account_routes.py)              staff_accounts
    GET/POST /api/staff/model...           each Rasa server's model, the rolling reload (admin;  staff_model
                                           model_routes.py)
    /staff/review, /api/staff/review...    the review inbox (review_routes.py)                   staff_review
    /staff/analytics, /api/staff/analytics the figures, JSON and CSV (analytics_routes.py)       staff_analytics

staff_login is open (same-origin POSTs only); staff_page needs a login; every
API blueprint needs a login (and same-origin POSTs) and, but staff_session, a
role that has its capability (roles.py: FAQ lookup, tickets and hand-overs:
agent or admin; review and figures: reviewer or admin; accounts and the
model: admin).
"""
from __future__ import annotations

import logging

from sanic import Blueprint, Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, redirect

from bot.http.errors import HttpError
from bot.http.json import json_response
from bot.http.middleware import on_request
from bot.text import LANGUAGES, is_clean_text
from bot.web.config import MAX_QUERY_CHARS, WebConfig
from bot.web.faq_search import FaqSearch
from bot.web.handoff_state import HandoffState
from bot.web.http import client_address, json_body
from bot.web.pages import page
from bot.web.staff import logins, roles
from bot.web.staff.account_routes import accounts_blueprint
from bot.web.staff.analytics_routes import analytics_blueprint
from bot.web.staff.accounts import normalize_username
from bot.web.rasa_client import RasaClient
from bot.web.staff.guard import COOKIE, StaffGuard
from bot.web.staff.handoffs import handoffs_blueprint
from bot.web.staff.model_routes import model_blueprint
from bot.web.staff.review_routes import review_blueprint
from bot.web.tickets import TicketSource, TicketsUnavailable

log = logging.getLogger("bot.web.staff")


def _login_view(login: logins.LoggedIn) -> dict:
    return {"username": login.username, "csrf_token": login.csrf_token,
            "expires_at": login.expires_at.isoformat(timespec="seconds") + "Z",
            "role": login.role, "display_name": login.display_name,
            "capabilities": roles.capabilities_of(login.role)}


def login_blueprint(cfg: WebConfig, guard: StaffGuard) -> Blueprint:
    bp = Blueprint("staff_login")
    on_request(bp, guard.same_origin)

    @bp.get("/staff/login")
    async def login_page(request: Request) -> HTTPResponse:
        if await guard.current(request) is not None:
            return redirect("/staff", status=303)
        return page("login.html")

    @bp.post("/api/staff/login")
    async def login(request: Request) -> HTTPResponse:
        data = json_body(request)
        username, password = data.get("username"), data.get("password")
        if not isinstance(username, str) or not isinstance(password, str) or not username.strip() or not password \
                or not is_clean_text(username) or not is_clean_text(password):
            raise HttpError(422, "invalid_request", "Give a username and a password.")
        wait, started = await guard.work.write(logins.log_in, normalize_username(username), password,
                                               client_address(request), cfg.session_minutes)
        if wait:
            log.info("staff login throttled")
            raise HttpError(429, "too_many_failures", "Too many failed logins; try again later.",
                            {"Retry-After": str(wait)})
        if started is None:
            log.info("staff login refused")
            raise HttpError(401, "wrong_credentials", "Wrong username or password.")
        token, login_ = started
        log.info("staff login")
        response = json_response(_login_view(login_))
        guard.set_cookie(request, response, token, cfg.session_minutes * 60)
        return response

    return bp


def page_blueprint(guard: StaffGuard) -> Blueprint:
    bp = Blueprint("staff_page")
    on_request(bp, guard.page_login)

    @bp.get("/staff")
    async def staff_page(request: Request) -> HTTPResponse:
        return page("staff.html")

    return bp


def capability_page(guard: StaffGuard, uri: str, template: str, capability: str) -> Blueprint:
    """A page of one capability: 303 to the login page without a login, 403 without the capability."""
    bp = Blueprint("staff_page_" + template.split(".")[0])
    on_request(bp, guard.page_login)

    @bp.get(uri)
    async def capability_page_(request: Request) -> HTTPResponse:
        if not guard.requires_allows(request, capability):
            raise HttpError(403, "forbidden", "Your staff role does not include this.")
        return page(template)

    return bp


def session_blueprint(guard: StaffGuard) -> Blueprint:
    bp = Blueprint("staff_session")

    @bp.post("/api/staff/logout")
    async def logout(request: Request) -> HTTPResponse:
        guard.check_csrf_token(request)
        await guard.work.write(logins.end_session, request.cookies.get(COOKIE))
        response = json_response({"logged_out": True})
        guard.set_cookie(request, response, "", 0)
        return response

    @bp.get("/api/staff/me")
    async def me(request: Request) -> HTTPResponse:
        return json_response(_login_view(request.ctx.staff))

    return bp


def search_blueprint(search: FaqSearch) -> Blueprint:
    bp = Blueprint("faq_search")

    @bp.post("/api/faq/search")
    async def faq_search(request: Request) -> HTTPResponse:
        data = json_body(request)
        for name in data:
            if name not in ("q", "lang"):
                raise HttpError(422, "invalid_request", f"Unknown field `{str(name)[:40]}`.")
        query = data.get("q")
        if not isinstance(query, str) or not query.strip():
            raise HttpError(422, "invalid_request", "`q` (the question) is required.")
        query = query.strip()
        if len(query) > MAX_QUERY_CHARS or not is_clean_text(query):
            raise HttpError(422, "invalid_request", f"`q` is text of at most {MAX_QUERY_CHARS} characters.")
        language = data.get("lang")
        if language is not None and language not in LANGUAGES:
            raise HttpError(422, "invalid_request", f"`lang` is {' or '.join(LANGUAGES)}.")
        result = await search.search(query, language)
        log.info("faq search: %s, %d results", result["method"], len(result["results"]))
        return json_response(result)

    return bp


def tickets_blueprint(tickets: TicketSource) -> Blueprint:
    bp = Blueprint("staff_tickets")

    @bp.get("/api/staff/tickets")
    async def open_tickets(request: Request) -> HTTPResponse:
        try:
            return json_response({"tickets": await tickets.open_tickets()})
        except TicketsUnavailable:
            raise HttpError(503, "backend_unavailable", "The ticket system is unavailable at the moment.") from None

    return bp


def add_staff_routes(app: Sanic, cfg: WebConfig, guard: StaffGuard, search: FaqSearch, tickets: TicketSource,
                     handoffs: HandoffState, rasa: RasaClient) -> None:
    app.blueprint(login_blueprint(cfg, guard))
    app.blueprint(page_blueprint(guard))
    for uri, template, capability in (("/staff/accounts", "accounts.html", roles.ACCOUNTS),
                                      ("/staff/review", "review.html", roles.REVIEW),
                                      ("/staff/analytics", "analytics.html", roles.ANALYTICS)):
        app.blueprint(capability_page(guard, uri, template, capability))
    # Each API blueprint needs a login, then (but staff_session) a role with
    # its capability (roles.py). Both are the blueprint's own middleware, in
    # this order: a group's middleware would run after the blueprint's.
    needs = [
        (session_blueprint(guard), None),
        (search_blueprint(search), roles.FAQ_LOOKUP),
        (tickets_blueprint(tickets), roles.HANDOFF),
        (handoffs_blueprint(handoffs.client, rasa, handoffs, guard), roles.HANDOFF),
        (accounts_blueprint(guard), roles.ACCOUNTS),
        (model_blueprint(guard), roles.ACCOUNTS),
        (analytics_blueprint(guard), roles.ANALYTICS),
        (review_blueprint(guard), roles.REVIEW),
    ]
    for bp, capability in needs:
        on_request(bp, guard.login_required)
        if capability:
            on_request(bp, guard.requires(capability))
        app.blueprint(bp)
