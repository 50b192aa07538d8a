"""The staff routes: the pages, login / logout, the FAQ search API, open tickets.

    GET  /staff/login                      the login page (303 to /staff when logged in)
    GET  /staff                            the lookup page (303 to /staff/login without a login)
    POST /api/staff/login   {"username", "password"} -> {"username", "csrf_token", "expires_at"} + cookie
    POST /api/staff/logout  X-CSRF-Token   -> {"logged_out": true}
    GET  /api/staff/me                     -> {"username", "csrf_token", "expires_at"}
    POST /api/faq/search    {"q", "lang": "zh"|"en"?} -> ranked topics (bot.web.faq_search); a POST so
                            that a citizen's question never is in a URL (proxy logs keep URLs)
    GET  /api/staff/tickets                -> {"tickets": [...]} (503 when the backend is down)

CSRF: the cookie is SameSite=Strict; every POST must come from this origin
(Origin, else Referer), and logout also carries the session's CSRF token.
"This origin" is PUBLIC_ORIGIN when set (behind a TLS proxy the request
itself says http), which also decides the cookie's Secure flag.
"""
from __future__ import annotations

import asyncio
import functools
import hmac
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, redirect

from bot.backend.db import Database
from bot.web.config import MAX_QUERY_CHARS, WebConfig
from bot.web.faq_search import FaqSearch
from bot.web.http import WebError, client_address, json_body, json_response
from bot.web.pages import page
from bot.web.staff import logins
from bot.text import is_clean_text
from bot.web.staff.accounts import authenticate, normalize_username
from bot.web.tickets import TicketSource, TicketsUnavailable

log = logging.getLogger("bot.web.staff")

COOKIE = "staff_session"
CSRF_HEADER = "X-CSRF-Token"


def _login_view(login: logins.LoggedIn) -> dict:
    return {"username": login.username, "csrf_token": login.csrf_token,
            "expires_at": login.expires_at.isoformat(timespec="seconds") + "Z"}


def add_staff_routes(app: Sanic, cfg: WebConfig, db: Database, search: FaqSearch, tickets: TicketSource) -> None:
    executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="staff-db")

    async def run(fn: Callable, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(executor, functools.partial(fn, *args))

    def reading(work: Callable) -> Callable:
        def call(*args):
            with db.read() as session:
                return work(session, *args)
        return call

    def writing(work: Callable) -> Callable:
        def call(*args):
            with db.write() as session:
                result = work(session, *args)
                session.commit()
                return result
        return call

    async def current(request: Request) -> Optional[logins.LoggedIn]:
        token = request.cookies.get(COOKIE)
        return await run(reading(logins.current), token) if token else None

    async def require_login(request: Request) -> logins.LoggedIn:
        login = await current(request)
        if login is None:
            raise WebError(401, "login_required", "Log in as a member of staff first.")
        return login

    def require_same_origin(request: Request) -> None:
        source = request.headers.get("origin") or request.headers.get("referer")
        if source is None:
            return  # not a browser (no browser omits both on a cross-site POST)
        parts = urlsplit(source)
        if f"{parts.scheme}://{parts.netloc}".lower() != own_origin(request):
            raise WebError(403, "cross_origin", "This request must come from the staff page itself.")

    def own_origin(request: Request) -> str:
        return cfg.public_origin or f"{request.scheme}://{request.host}".lower()

    def set_cookie(request: Request, response: HTTPResponse, value: str, max_age: int) -> None:
        response.cookies[COOKIE] = value
        cookie = response.cookies[COOKIE]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = "/"
        cookie["max-age"] = max_age
        if own_origin(request).startswith("https://"):
            cookie["secure"] = True

    # --- pages ---------------------------------------------------------------------------------

    @app.get("/staff")
    async def staff_page(request: Request) -> HTTPResponse:
        if await current(request) is None:
            return redirect("/staff/login", status=303)
        return page("staff.html")

    @app.get("/staff/login")
    async def login_page(request: Request) -> HTTPResponse:
        if await current(request) is not None:
            return redirect("/staff", status=303)
        return page("login.html")

    # --- login ---------------------------------------------------------------------------------

    def attempt(session, username: str, password: str, address: str):
        """(retry_after seconds, None) when throttled; (0, login or None) otherwise."""
        wait = logins.retry_after(session, username, address)
        if wait:
            return wait, None
        user = authenticate(session, username, password)
        if user is None:
            logins.record_failure(session, username, address)
            return 0, None
        logins.clear_failures(session, username, address)
        return 0, logins.start_session(session, user, cfg.session_minutes)

    @app.post("/api/staff/login")
    async def login(request: Request) -> HTTPResponse:
        require_same_origin(request)
        data = json_body(request)
        username, password = data.get("username"), data.get("password")
        if not isinstance(username, str) or not isinstance(password, str) or not username.strip() or not password \
                or not is_clean_text(username) or not is_clean_text(password):
            raise WebError(422, "invalid_request", "Give a username and a password.")
        name = normalize_username(username)
        wait, started = await run(writing(attempt), name, password, client_address(request))
        if wait:
            log.info("staff login throttled")
            raise WebError(429, "too_many_failures", "Too many failed logins; try again later.",
                           {"Retry-After": str(wait)})
        if started is None:
            log.info("staff login refused")
            raise WebError(401, "wrong_credentials", "Wrong username or password.")
        token, login_ = started
        log.info("staff login")
        response = json_response(_login_view(login_))
        set_cookie(request, response, token, cfg.session_minutes * 60)
        return response

    @app.post("/api/staff/logout")
    async def logout(request: Request) -> HTTPResponse:
        require_same_origin(request)
        login_ = await require_login(request)
        given = request.headers.get(CSRF_HEADER) or ""
        if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), login_.csrf_token.encode()):
            raise WebError(403, "csrf_token_invalid", "This request lacks the page's CSRF token.")
        await run(writing(logins.end_session), request.cookies.get(COOKIE))
        response = json_response({"logged_out": True})
        set_cookie(request, response, "", 0)
        return response

    @app.get("/api/staff/me")
    async def me(request: Request) -> HTTPResponse:
        return json_response(_login_view(await require_login(request)))

    # --- the lookup ----------------------------------------------------------------------------

    @app.post("/api/faq/search")
    async def faq_search(request: Request) -> HTTPResponse:
        require_same_origin(request)
        await require_login(request)
        data = json_body(request)
        for name in data:
            if name not in ("q", "lang"):
                raise WebError(422, "invalid_request", f"Unknown field `{str(name)[:40]}`.")
        query = data.get("q")
        if not isinstance(query, str) or not query.strip():
            raise WebError(422, "invalid_request", "`q` (the question) is required.")
        query = query.strip()
        if len(query) > MAX_QUERY_CHARS or not is_clean_text(query):
            raise WebError(422, "invalid_request", f"`q` is text of at most {MAX_QUERY_CHARS} characters.")
        language = data.get("lang")
        if language not in (None, "zh", "en"):
            raise WebError(422, "invalid_request", "`lang` is zh or en.")
        result = await search.search(query, language)
        log.info("faq search: %s, %d results", result["method"], len(result["results"]))
        return json_response(result)

    @app.get("/api/staff/tickets")
    async def open_tickets(request: Request) -> HTTPResponse:
        await require_login(request)
        try:
            return json_response({"tickets": await tickets.open_tickets()})
        except TicketsUnavailable:
            raise WebError(503, "backend_unavailable", "The ticket system is unavailable at the moment.") from None

    @app.listener("after_server_stop")
    async def _stop(app_, loop) -> None:
        executor.shutdown(wait=True)
