"""Who may use the staff pages and API: the login session cookie, and CSRF.

The checks are blueprint middleware (routes.py), so a route of a guarded
blueprint cannot forget them:
- `same_origin`: every POST must come from this origin (Origin, else Referer);
  with the SameSite=Strict cookie this is the CSRF defence. "This origin" is
  PUBLIC_ORIGIN when set (behind a TLS proxy the request itself says http),
  which also decides the cookie's Secure flag.
- `login_required` (the API: 401 login_required) and `page_login` (the page:
  303 to the login page) put the login in `request.ctx.staff`.
- `requires(capability)` (after them): 403 `forbidden` unless the login's
  role has the capability (bot/web/staff/roles.py).
Logout also carries the session's CSRF token (`check_csrf_token`).
"""
from __future__ import annotations

import hmac
from typing import Optional
from urllib.parse import urlsplit

from sanic.request import Request
from sanic.response import HTTPResponse, redirect

from bot.http.blocking import DatabaseWork
from bot.http.errors import HttpError
from bot.web.config import WebConfig
from bot.web.staff import logins, roles

COOKIE = "staff_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_PAGE = "/staff/login"


class StaffGuard:
    def __init__(self, cfg: WebConfig, work: DatabaseWork) -> None:
        self.cfg = cfg
        self.work = work

    async def current(self, request: Request) -> Optional[logins.LoggedIn]:
        token = request.cookies.get(COOKIE)
        return await self.work.read(logins.current, token) if token else None

    def own_origin(self, request: Request) -> str:
        return self.cfg.public_origin or f"{request.scheme}://{request.host}".lower()

    # --- middleware ----------------------------------------------------------------------------

    def same_origin(self, request: Request) -> None:
        if request.method in SAFE_METHODS:
            return
        source = request.headers.get("origin") or request.headers.get("referer")
        if source is None:
            return  # not a browser (no browser omits both on a cross-site POST)
        parts = urlsplit(source)
        if f"{parts.scheme}://{parts.netloc}".lower() != self.own_origin(request):
            raise HttpError(403, "cross_origin", "This request must come from the staff page itself.")

    async def login_required(self, request: Request) -> None:
        self.same_origin(request)  # first: a cross-site POST is refused as such, logged in or not
        request.ctx.staff = await self.current(request)
        if request.ctx.staff is None:
            raise HttpError(401, "login_required", "Log in as a member of staff first.")

    async def page_login(self, request: Request) -> Optional[HTTPResponse]:
        request.ctx.staff = await self.current(request)
        return redirect(LOGIN_PAGE, status=303) if request.ctx.staff is None else None

    @staticmethod
    def requires(capability: str):
        """A check for on_request: the login's role must have `capability`."""
        if capability not in roles.CAPABILITIES:
            raise ValueError(f"unknown capability {capability!r}")

        def role_required(request: Request) -> None:
            staff = getattr(request.ctx, "staff", None)
            if staff is None or not roles.may(staff.role, capability):
                raise HttpError(403, "forbidden", "Your staff role does not include this.")

        role_required.__name__ = f"requires_{capability}"
        return role_required

    @staticmethod
    def requires_allows(request: Request, capability: str) -> bool:
        staff = getattr(request.ctx, "staff", None)
        return staff is not None and roles.may(staff.role, capability)

    # --- in handlers ---------------------------------------------------------------------------

    @staticmethod
    def check_csrf_token(request: Request) -> None:
        given = request.headers.get(CSRF_HEADER) or ""
        if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), request.ctx.staff.csrf_token.encode()):
            raise HttpError(403, "csrf_token_invalid", "This request lacks the page's CSRF token.")

    def set_cookie(self, request: Request, response: HTTPResponse, value: str, max_age: int) -> None:
        response.cookies[COOKIE] = value
        cookie = response.cookies[COOKIE]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = "/"
        cookie["max-age"] = max_age
        if self.own_origin(request).startswith("https://"):
            cookie["secure"] = True
