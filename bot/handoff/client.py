"""The card backend's hand-over routes, for the web process and the WeChat
channel (the action server has its own client, actions/backend_client.py).

    client = HandoffClient(base_url, service_token, timeout=3.0)
    view = await client.lookup(sender_id)          # the held hand-over, or None
    view = await client.claim(7, staff="wang", staff_name="王**")
    await client.close()

Answers are the backend's JSON views (docs/BACKEND_API.md, "Live hand-over"):
dicts with "id", "status", "mode", "position", "claimed_by", "staff_name", ...
Errors: HandoffUnavailable when the backend cannot answer (timeout, refused
connection, 5xx, a reply that is not the promised JSON), HandoffNotFound on
404, HandoffConflict(code) on 409 (already_claimed, already_closed,
not_claimed_by_you), HandoffRefused for any other 4xx (invalid_phone,
personal_data_in_outcome, unauthorized...). All are HandoffError.

Personal data: the conversation id travels only in request bodies and
answers; a log line has the method, the path (ids only), the status, the
error code and the time, never a body.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Dict, List, Optional

import httpx

log = logging.getLogger("bot.handoff.client")

DEFAULT_TIMEOUT = 3.0


class HandoffError(Exception):
    """`code`: the backend's error code (or timeout / unreachable / bad_reply);
    `http_status` when there was an answer; `status`: the hand-over's status a
    409 names."""

    def __init__(self, code: str = "", message: str = "", http_status: Optional[int] = None,
                 status: Optional[str] = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message or code
        self.http_status = http_status
        self.status = status


class HandoffUnavailable(HandoffError):
    """The backend cannot answer now."""


class HandoffNotFound(HandoffError):
    """404 handoff_not_found."""


class HandoffConflict(HandoffError):
    """409: already_claimed, already_closed or not_claimed_by_you."""


class HandoffRefused(HandoffError):
    """Any other 4xx (e.g. 422 invalid_phone, personal_data_in_outcome; 401 unauthorized)."""


def _view(body: Any, key: str = "handoff") -> Dict[str, Any]:
    view = body.get(key) if isinstance(body, dict) else None
    if not isinstance(view, dict) or not isinstance(view.get("id"), int) or not isinstance(view.get("status"), str):
        raise HandoffUnavailable("bad_reply", "The backend's reply could not be understood.")
    return view


def _list(body: Any, key: str) -> List[Dict[str, Any]]:
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise HandoffUnavailable("bad_reply", "The backend's reply could not be understood.")
    return items


class HandoffClient:
    """Async client of /v1/handoffs. Its connection pool is made on first use
    in the running event loop (again if used from another loop); `close()`
    (or `aclose()`, or `async with`) ends it."""

    def __init__(self, base_url: str, token: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = float(timeout)
        self._client: Optional[httpx.AsyncClient] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def __repr__(self) -> str:  # never the token
        return f"HandoffClient({self.base_url!r}, timeout={self.timeout})"

    async def __aenter__(self) -> "HandoffClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._loop is asyncio.get_running_loop():
            await client.aclose()

    aclose = close

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._loop = loop
            self._client = httpx.AsyncClient(
                base_url=self.base_url, timeout=httpx.Timeout(self.timeout),
                headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"},
                follow_redirects=False, trust_env=False,
            )
        return self._client

    async def _request(self, method: str, path: str, json: Optional[Dict[str, Any]] = None,
                       params: Optional[Dict[str, Any]] = None) -> Any:
        started = time.monotonic()
        try:
            response = await asyncio.wait_for(
                self._http().request(method, path, json=json, params=params), timeout=self.timeout)
        except (asyncio.TimeoutError, httpx.TimeoutException):
            log.warning("backend %s %s timeout after %.1fs", method, path, time.monotonic() - started)
            raise HandoffUnavailable("timeout", f"The backend did not answer within {self.timeout:g} seconds.") from None
        except httpx.HTTPError as error:
            log.warning("backend %s %s unreachable (%s)", method, path, type(error).__name__)
            raise HandoffUnavailable("unreachable", "The backend could not be reached.") from None
        took = (time.monotonic() - started) * 1000
        try:
            body = response.json()
        except ValueError:
            body = None
        status = response.status_code
        if status >= 500 or not isinstance(body, dict):
            log.warning("backend %s %s %s %.0fms", method, path, status, took)
            raise HandoffUnavailable("server_error" if status >= 500 else "bad_reply",
                                     "The backend is not available; try again later.", status)
        if status >= 400:
            error = body.get("error") if isinstance(body.get("error"), dict) else {}
            code = error.get("code") if isinstance(error.get("code"), str) else "error"
            message = error.get("message") if isinstance(error.get("message"), str) else code
            level = logging.ERROR if status == 401 else logging.INFO
            log.log(level, "backend %s %s %s %s %.0fms", method, path, status, code, took)
            kind = {404: HandoffNotFound, 409: HandoffConflict}.get(status, HandoffRefused)
            current = error.get("status") if isinstance(error.get("status"), str) else None
            raise kind(code, message, status, current)
        # DEBUG: each staff console polls the queue every second, the sweep every 15 s
        # (the backend's access log has every call already).
        log.debug("backend %s %s %s %.0fms", method, path, status, took)
        return body

    # --- reading ---------------------------------------------------------------------------------

    async def lookup(self, conversation: str) -> Optional[Dict[str, Any]]:
        """The hand-over holding this conversation (a live ticket, waiting or claimed), or None."""
        try:
            return _view(await self._request("POST", "/v1/handoffs/lookup", json={"conversation": conversation}))
        except HandoffNotFound:
            return None

    async def list(self, status: Optional[str] = None, limit: int = 50) -> List[Dict[str, Any]]:
        """Hand-overs: `open` (default: waiting oldest first, then claimed), `waiting`, `claimed`, `closed`."""
        params = {"status": status or "open", "limit": limit}
        return _list(await self._request("GET", "/v1/handoffs", params=params), "handoffs")

    async def get(self, handoff_id: int) -> Dict[str, Any]:
        """{"handoff": view, "conversation": sender id or None}. HandoffNotFound."""
        body = await self._request("GET", f"/v1/handoffs/{int(handoff_id)}")
        conversation = body.get("conversation")
        if conversation is not None and not isinstance(conversation, str):
            raise HandoffUnavailable("bad_reply", "The backend's reply could not be understood.")
        return {"handoff": _view(body), "conversation": conversation}

    # --- changing --------------------------------------------------------------------------------

    async def _change(self, handoff_id: int, action: str, body: Dict[str, Any]) -> Dict[str, Any]:
        return _view(await self._request("POST", f"/v1/handoffs/{int(handoff_id)}/{action}", json=body))

    async def claim(self, handoff_id: int, staff: str, staff_name: Optional[str] = None) -> Dict[str, Any]:
        """The view, claimed by `staff`. HandoffConflict already_claimed (claimed or closed)."""
        body = {"staff": staff}
        if staff_name:
            body["staff_name"] = staff_name
        return await self._change(handoff_id, "claim", body)

    async def release(self, handoff_id: int, to: str, by: str = "staff", staff: Optional[str] = None,
                      outcome: Optional[str] = None) -> Dict[str, Any]:
        """Closed: `to` "bot" (outcome back_to_bot) or "closed" (outcome resolved or the one given).
        HandoffConflict already_closed; HandoffRefused personal_data_in_outcome."""
        body: Dict[str, Any] = {"to": to, "by": by}
        body.update({k: v for k, v in (("staff", staff), ("outcome", outcome)) if v})
        return await self._change(handoff_id, "release", body)

    async def record_message(self, handoff_id: int, staff: str) -> Dict[str, Any]:
        """The audit record of a staff message (never its text). HandoffConflict not_claimed_by_you."""
        return await self._change(handoff_id, "messages", {"staff": staff})

    async def callback(self, handoff_id: int, consent: bool, phone: Optional[str] = None) -> Dict[str, Any]:
        """The ticket becomes a call-back (with the phone, or no contact).
        HandoffRefused invalid_phone; HandoffConflict already_claimed / already_closed."""
        body: Dict[str, Any] = {"consent": bool(consent)}
        if consent and phone:
            body["phone"] = phone
        return await self._change(handoff_id, "callback", body)

    async def expire(self, older_than_seconds: int) -> List[Dict[str, Any]]:
        """Live tickets waiting longer than this become call-backs; this call's
        share: [{"id", "ticket_number", "conversation", "channel", "language", "waited_seconds"}]."""
        body = await self._request("POST", "/v1/handoffs/expire",
                                   json={"older_than_seconds": max(0, int(older_than_seconds))})
        return _list(body, "expired")


__all__ = ["DEFAULT_TIMEOUT", "HandoffClient", "HandoffConflict", "HandoffError", "HandoffNotFound",
           "HandoffRefused", "HandoffUnavailable"]
