"""The typed async client the action server uses to reach the card backend.

One method per API call (`docs/BACKEND_API.md`), typed results (dataclasses
with the API's fields), and one exception per refusal, all subclasses of
`BackendError`. Everything that means "the backend cannot answer now" -- a
timeout, a refused connection, any 5xx, a reply that is not the JSON the
contract promises -- is `BackendUnavailable`, so an action needs one `except`
for "say so honestly and carry on".

    async with BackendClient.from_settings() as backend:
        verification = await backend.start_verification(name, id_number, "web",
                                                        idempotency_key(sender, "verify", message_id))
        token = await backend.confirm_verification(verification.verification_id, code)
        cards = await backend.list_cards(token)

Mutations take an `Idempotency-Key`: derive it with `idempotency_key(...)`
from what identifies the attempt (conversation, task, card, the user message
that confirmed), so a retried action sends the same key and the backend
replays its first answer instead of acting twice.

Personal data: request bodies (names, ID numbers, codes) and the tokens are
never logged; a log line has the method, the path (only opaque ids), the
status, the error code and the time taken.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Type, Union

import httpx

from bot.privacy.pii import redact

log = logging.getLogger("actions.backend_client")

DEFAULT_TIMEOUT = 3.0
IDEMPOTENCY_KEY_MAX = 100  # the API's limit: 1..100 characters of [A-Za-z0-9_.:-]


# --- results --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verification:
    """A started verification. No phone hint: the backend answers a name and
    ID number no holder has the same way (nothing tells who is a holder)."""

    verification_id: str
    expires_in: int


@dataclass(frozen=True)
class Token:
    """A confirmed verification: the opaque token (shown once by the backend,
    never logged: kept out of repr) and when it stops working."""

    token: str = field(repr=False)
    expires_at: float  # seconds since the epoch
    name_masked: str
    id_number_masked: str

    def valid(self, now: Optional[float] = None, margin: float = 5.0) -> bool:
        """Still usable for at least `margin` seconds."""
        return (time.time() if now is None else now) + margin < self.expires_at


@dataclass(frozen=True)
class Card:
    card_id: str
    card_number_masked: str
    status: str  # in_production | ready_for_pickup | issued_inactive | active | reported_lost | cancelled
    social_security_active: bool
    financial_active: bool
    issued_on: Optional[str]  # ISO date, None while in production or waiting for pickup
    expires_on: Optional[str]
    issuing_bank: Optional[str]
    pickup_location: Optional[str]

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Card":
        return cls(
            card_id=_str(data, "card_id"),
            card_number_masked=_str(data, "card_number_masked"),
            status=_str(data, "status"),
            social_security_active=_bool(data, "social_security_active"),
            financial_active=_bool(data, "financial_active"),
            issued_on=_opt_str(data, "issued_on"),
            expires_on=_opt_str(data, "expires_on"),
            issuing_bank=_opt_str(data, "issuing_bank"),
            pickup_location=_opt_str(data, "pickup_location"),
        )


@dataclass(frozen=True)
class LossReport:
    loss_report_id: str
    card: Card
    kind: str = "temporary"


@dataclass(frozen=True)
class TimelineEntry:
    status: str
    at: str  # ISO 8601 UTC
    note: Optional[str]


@dataclass(frozen=True)
class Application:
    application_id: str
    status: str  # submitted | in_production | ready_for_pickup | collected | rejected
    submitted_at: str
    old_card_number_masked: Optional[str]
    new_card_number_masked: Optional[str]
    pickup_location: Optional[str]
    timeline: List[TimelineEntry]  # oldest first

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Ticket:
    ticket_number: str
    status: str  # "open" (waiting or claimed) | "closed"
    created_at: str
    holder_linked: bool = False
    already_open: bool = False  # the conversation's ticket was still open: none opened
    id: Optional[int] = None  # the hand-over's id (/v1/handoffs/{id})
    mode: str = "live"  # live (a person in this chat) | callback (a person phones back)
    position: Optional[int] = None  # place among the live waiting tickets (1 = next); None otherwise


@dataclass(frozen=True)
class Handoff:
    """A hand-over as the backend shows it (docs/BACKEND_API.md "Live hand-over")."""

    id: int
    ticket_number: str
    status: str  # waiting | claimed | closed
    mode: str  # live | callback
    position: Optional[int]
    outcome: Optional[str]
    callback_consent: Optional[bool]
    callback_phone_masked: Optional[str]  # 138****5678

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Handoff":
        callback = data.get("callback") if isinstance(data.get("callback"), dict) else {}
        consent = callback.get("consent")
        return cls(
            id=_int(data, "id"),
            ticket_number=_str(data, "ticket_number"),
            status=_str(data, "status"),
            mode=_str(data, "mode"),
            position=_opt_int(data, "position"),
            outcome=_opt_str(data, "outcome"),
            callback_consent=consent if isinstance(consent, bool) else None,
            callback_phone_masked=_opt_str(callback, "phone"),
        )


# --- errors ---------------------------------------------------------------------------------------

class BackendError(Exception):
    """The backend refused or could not answer. `code` is the API's error code
    (or a client-side one such as "timeout"), `message` its text (never
    personal data), `http_status` the HTTP status when there was one."""

    def __init__(self, code: str, message: str, http_status: Optional[int] = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status


class BackendUnavailable(BackendError):
    """Timeout, refused connection, any 5xx, or a reply that could not be understood."""


class BackendRefused(BackendError):
    """Any other 4xx refusal (e.g. unauthorized, invalid_request, idempotency_key_reused)."""


class HolderNotFound(BackendError):
    """404 holder_not_found: no holder with this name and ID number."""


class IdentityLocked(BackendError):
    """423 identity_locked: too many wrong codes; try again after `retry_after` seconds."""

    def __init__(self, code: str, message: str, http_status: Optional[int] = None, retry_after: int = 0) -> None:
        super().__init__(code, message, http_status)
        self.retry_after = retry_after


class TooManyCodes(BackendError):
    """429 too_many_codes: the identity's or the phone's SMS quota is used; try again after `retry_after` seconds."""

    def __init__(self, code: str, message: str, http_status: Optional[int] = None, retry_after: int = 0) -> None:
        super().__init__(code, message, http_status)
        self.retry_after = retry_after


class WrongCode(BackendError):
    """422 wrong_code; `attempts_left` before the identity is locked."""

    def __init__(self, code: str, message: str, http_status: Optional[int] = None, attempts_left: int = 0) -> None:
        super().__init__(code, message, http_status)
        self.attempts_left = attempts_left


class VerificationExpired(BackendError):
    """410 verification_expired: the code expired or was already used; start again."""


class VerificationNotFound(VerificationExpired):
    """404 verification_not_found (for the user the same as expired: start again)."""


class VerificationRequired(BackendError):
    """401 verification_required: the verification token is missing, unknown or expired."""


class CardNotFound(BackendError):
    """404 card_not_found: not one of this holder's cards."""


class CardNotActivatable(BackendError):
    """409 card_not_activatable; `status` is the card's current status."""

    def __init__(self, code: str, message: str, http_status: Optional[int] = None, status: str = "") -> None:
        super().__init__(code, message, http_status)
        self.status = status


class CardNotReportable(BackendError):
    """409 card_not_reportable; `status` is the card's current status."""

    def __init__(self, code: str, message: str, http_status: Optional[int] = None, status: str = "") -> None:
        super().__init__(code, message, http_status)
        self.status = status


class InvalidIdNumber(BackendError):
    """422 invalid_id_number; `reason` is a key of bot.privacy.pii.ID_NUMBER_REASONS."""

    def __init__(self, code: str, message: str, http_status: Optional[int] = None, reason: str = "") -> None:
        super().__init__(code, message, http_status)
        self.reason = reason


class PersonalDataInSummary(BackendError):
    """422 personal_data_in_summary: the handoff summary holds a clear ID or phone number."""


class HandoffNotFound(BackendError):
    """404 handoff_not_found: no such hand-over."""


class HandoffConflict(BackendError):
    """409 already_claimed / already_closed: the hand-over moved on; `status` is its current one."""

    def __init__(self, code: str, message: str, http_status: Optional[int] = None, status: str = "") -> None:
        super().__init__(code, message, http_status)
        self.status = status


class InvalidPhone(BackendError):
    """422 invalid_phone: not a mainland mobile number."""


_ERRORS: Dict[str, Type[BackendError]] = {
    "holder_not_found": HolderNotFound,
    "identity_locked": IdentityLocked,
    "too_many_codes": TooManyCodes,
    "wrong_code": WrongCode,
    "verification_expired": VerificationExpired,
    "verification_not_found": VerificationNotFound,
    "verification_required": VerificationRequired,
    "card_not_found": CardNotFound,
    "card_not_activatable": CardNotActivatable,
    "card_not_reportable": CardNotReportable,
    "invalid_id_number": InvalidIdNumber,
    "personal_data_in_summary": PersonalDataInSummary,
    "handoff_not_found": HandoffNotFound,
    "already_claimed": HandoffConflict,
    "already_closed": HandoffConflict,
    "invalid_phone": InvalidPhone,
    "database_unavailable": BackendUnavailable,
}
_EXTRA = {  # the one extra field some errors carry, and its type
    IdentityLocked: ("retry_after", int),
    TooManyCodes: ("retry_after", int),
    WrongCode: ("attempts_left", int),
    CardNotActivatable: ("status", str),
    CardNotReportable: ("status", str),
    InvalidIdNumber: ("reason", str),
    HandoffConflict: ("status", str),
}


# --- helpers --------------------------------------------------------------------------------------

def idempotency_key(*parts: Any) -> str:
    """A deterministic Idempotency-Key for these parts (e.g. conversation id,
    task, card id, the id of the user message that confirmed): the sha256 hex
    of the parts joined, so the same attempt always gets the same key, and
    nothing of the parts (which may be personal) shows in the key."""
    text = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:IDEMPOTENCY_KEY_MAX]


class _Malformed(ValueError):
    pass


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(value, str):
        raise _Malformed(key)
    return value


def _opt_str(data: Mapping[str, Any], key: str) -> Optional[str]:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _Malformed(key)
    return value


def _opt_int(data: Mapping[str, Any], key: str) -> Optional[int]:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Malformed(key)
    return value


def _bool(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise _Malformed(key)
    return value


def _int(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Malformed(key)
    return int(value)


def _dict(data: Mapping[str, Any], key: str) -> Dict[str, Any]:
    value = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(value, dict):
        raise _Malformed(key)
    return value


def _list(data: Mapping[str, Any], key: str) -> list:
    value = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(value, list):
        raise _Malformed(key)
    return value


def _token_value(token: Union[Token, str]) -> str:
    return token.token if isinstance(token, Token) else token


def _application(data: Mapping[str, Any]) -> Application:
    return Application(
        application_id=_str(data, "application_id"),
        status=_str(data, "status"),
        submitted_at=_str(data, "submitted_at"),
        old_card_number_masked=_opt_str(data, "old_card_number_masked"),
        new_card_number_masked=_opt_str(data, "new_card_number_masked"),
        pickup_location=_opt_str(data, "pickup_location"),
        timeline=[
            TimelineEntry(status=_str(e, "status"), at=_str(e, "at"), note=_opt_str(e, "note"))
            for e in _list(data, "timeline")
        ],
    )


def _service_token_from_settings(env: Mapping[str, str]) -> str:
    token = env.get("BACKEND_SERVICE_TOKEN", "")
    if token:
        return token
    # Development: `python -m bot.backend serve` with an empty token writes the
    # one it generated here "for whoever starts the action server".
    from bot.backend.config import SERVICE_TOKEN_FILE

    try:
        return Path(SERVICE_TOKEN_FILE).read_text().strip()
    except OSError:
        return ""


# --- the client -----------------------------------------------------------------------------------

class BackendClient:
    """Async client of the card backend. The underlying httpx.AsyncClient (a
    connection pool) is created on first use in the running event loop, and
    again if the client is later used from another loop, so one instance can
    be kept for the life of the action server. Use it as an async context
    manager, or call `aclose()`."""

    def __init__(self, base_url: str, service_token: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self._service_token = service_token
        self.timeout = float(timeout)
        self._client: Optional[httpx.AsyncClient] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def __repr__(self) -> str:  # never the token
        return f"BackendClient({self.base_url!r}, timeout={self.timeout})"

    @classmethod
    def from_settings(cls, environ: Optional[Mapping[str, str]] = None, timeout: float = DEFAULT_TIMEOUT) -> "BackendClient":
        """BACKEND_URL and BACKEND_SERVICE_TOKEN from bot.core.settings (an empty
        token: the one a development backend wrote to var/secrets/)."""
        from bot.core.settings import resolved

        env = resolved(None if environ is None else dict(environ))
        return cls(env["BACKEND_URL"], _service_token_from_settings(env), timeout=timeout)

    async def __aenter__(self) -> "BackendClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._loop is asyncio.get_running_loop():
            await client.aclose()

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            # Connections belong to the event loop that opened them: a client
            # kept in a module (one per action server) used from another loop
            # (tests start one per test) starts a fresh pool there.
            self._loop = loop
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                timeout=httpx.Timeout(self.timeout),
                headers={"Authorization": f"Bearer {self._service_token}", "Accept": "application/json"},
                follow_redirects=False,
                trust_env=False,  # a proxy from the environment must not see the backend's traffic
            )
        return self._client

    # --- the one place requests are made --------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Optional[Dict[str, Any]] = None,
        token: Union[Token, str, None] = None,
        key: Optional[str] = None,
    ) -> Dict[str, Any]:
        headers: Dict[str, str] = {}
        if token is not None:
            headers["X-Verification-Token"] = _token_value(token)
        if key is not None:
            headers["Idempotency-Key"] = key
        started = time.monotonic()
        shown_path = redact(path)  # paths carry only opaque ids; masked anyway
        try:
            # httpx's timeout is per phase (connect, each read...); wait_for
            # bounds the whole exchange, so a server that trickles bytes cannot
            # hold an action longer than the timeout either.
            response = await asyncio.wait_for(
                self._http().request(method, path, json=json, headers=headers), timeout=self.timeout
            )
        except (asyncio.TimeoutError, httpx.TimeoutException):
            log.warning("backend %s %s timeout after %.1fs", method, shown_path, time.monotonic() - started)
            raise BackendUnavailable("timeout", f"The backend did not answer within {self.timeout:g} seconds.") from None
        except httpx.HTTPError as error:
            log.warning("backend %s %s unreachable (%s)", method, shown_path, type(error).__name__)
            raise BackendUnavailable("unreachable", "The backend could not be reached.") from None
        took = (time.monotonic() - started) * 1000
        replayed = " replayed" if response.headers.get("idempotent-replayed") == "true" else ""
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            log.warning("backend %s %s %s unparseable reply %.0fms", method, shown_path, response.status_code, took)
            raise BackendUnavailable("bad_reply", "The backend's reply could not be understood.", response.status_code)
        if response.status_code >= 500:
            code = _error_code(body) or "server_error"
            log.warning("backend %s %s %s %s %.0fms", method, shown_path, response.status_code, code, took)
            raise BackendUnavailable(code, "The backend is not available; try again later.", response.status_code)
        if response.status_code >= 400:
            error = self._error(response.status_code, body)
            level = logging.ERROR if error.code == "unauthorized" else logging.INFO
            log.log(level, "backend %s %s %s %s%s %.0fms", method, shown_path, response.status_code, error.code, replayed, took)
            raise error
        log.info("backend %s %s %s%s %.0fms", method, shown_path, response.status_code, replayed, took)
        return body

    @staticmethod
    def _error(status: int, body: Dict[str, Any]) -> BackendError:
        error = body.get("error")
        if not isinstance(error, dict) or not isinstance(error.get("code"), str):
            return BackendUnavailable("bad_reply", "The backend's error reply could not be understood.", status)
        code = error["code"]
        message = error.get("message") if isinstance(error.get("message"), str) else code
        cls = _ERRORS.get(code, BackendRefused)
        if cls is VerificationRequired and status != 401:
            cls = BackendRefused
        extra = _EXTRA.get(cls)
        if extra is None:
            return cls(code, message, status)
        name, kind = extra
        value = error.get(name)
        if kind is int:
            value = int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0
        else:
            value = value if isinstance(value, str) else ""
        return cls(code, message, status, **{name: value})

    async def _call(self, parse, method: str, path: str, **kwargs: Any):
        body = await self._request(method, path, **kwargs)
        try:
            return parse(body)
        except (_Malformed, TypeError, AttributeError) as error:
            log.warning("backend %s %s reply missing or malformed field %s", method, redact(path), error)
            raise BackendUnavailable("bad_reply", "The backend's reply could not be understood.") from None

    # --- identity verification ------------------------------------------------------------------

    async def start_verification(
        self, name: str, id_number: str, channel: str = "api", idempotency_key: Optional[str] = None
    ) -> Verification:
        """Sends a code to the holder's phone on file. HolderNotFound,
        InvalidIdNumber(reason), IdentityLocked(retry_after)."""
        return await self._call(
            lambda b: Verification(_str(b, "verification_id"), _int(b, "expires_in")),
            "POST", "/v1/verifications",
            json={"name": name, "id_number": id_number, "channel": channel}, key=idempotency_key,
        )

    async def confirm_verification(self, verification_id: str, code: str) -> Token:
        """The code the holder received -> a verification token. WrongCode(attempts_left),
        IdentityLocked(retry_after), VerificationExpired (also VerificationNotFound)."""
        code = "".join(unicodedata.normalize("NFKC", code or "").split())  # full-width digits, spaces
        received = time.time()

        def parse(b: Dict[str, Any]) -> Token:
            holder = b.get("holder")
            if not isinstance(holder, dict):
                raise _Malformed("holder")
            return Token(
                token=_str(b, "verification_token"),
                expires_at=received + _int(b, "expires_in"),
                name_masked=_str(holder, "name_masked"),
                id_number_masked=_str(holder, "id_number_masked"),
            )

        return await self._call(parse, "POST", f"/v1/verifications/{verification_id}/confirm", json={"code": code})

    # --- cards and applications -----------------------------------------------------------------

    async def list_cards(self, token: Union[Token, str]) -> List[Card]:
        """The holder's cards, newest first. VerificationRequired."""
        return await self._call(
            lambda b: [Card.from_dict(c) for c in _list(b, "cards")], "GET", "/v1/cards", token=token
        )

    async def activate_card(
        self, token: Union[Token, str], card_id: str, idempotency_key: str, channel: Optional[str] = None
    ) -> Card:
        """Activates the social-security function of an issued_inactive card.
        CardNotActivatable(status), CardNotFound, VerificationRequired."""
        return await self._call(
            Card.from_dict, "POST", f"/v1/cards/{card_id}/activate",
            json={"channel": channel} if channel else {}, token=token, key=idempotency_key,
        )

    async def report_loss(
        self, token: Union[Token, str], card_id: str, idempotency_key: str, channel: Optional[str] = None
    ) -> LossReport:
        """A temporary loss report. CardNotReportable(status), CardNotFound, VerificationRequired."""

        def parse(b: Dict[str, Any]) -> LossReport:
            card = b.get("card")
            if not isinstance(card, dict):
                raise _Malformed("card")
            return LossReport(_str(b, "loss_report_id"), Card.from_dict(card), b.get("kind") or "temporary")

        return await self._call(
            parse, "POST", f"/v1/cards/{card_id}/loss-report",
            json={"channel": channel} if channel else {}, token=token, key=idempotency_key,
        )

    async def list_applications(self, token: Union[Token, str]) -> List[Application]:
        """Replacement applications, newest first, each with its timeline. VerificationRequired."""
        return await self._call(
            lambda b: [_application(a) for a in _list(b, "applications")], "GET", "/v1/applications", token=token
        )

    # --- handoff --------------------------------------------------------------------------------

    async def open_handoff_ticket(
        self,
        summary: str,
        channel: str,
        language: str,
        idempotency_key: str,
        token: Union[Token, str, None] = None,
        conversation: Optional[str] = None,
        client: Optional[str] = None,
        mode: Optional[str] = None,
    ) -> Ticket:
        """A ticket for a member of staff; a valid token links the verified
        holder (a stale one is ignored by the backend). `mode` "live" (the
        backend's default: the conversation joins the queue; `position` is its
        place) or "callback". PersonalDataInSummary; while `conversation` has
        an open ticket, that one (already_open); past `client`'s hourly share,
        BackendRefused too_many_tickets."""
        body = {"summary": summary, "channel": channel, "language": language}
        body.update({k: v for k, v in (("conversation", conversation), ("client", client), ("mode", mode)) if v})
        return await self._call(
            lambda b: Ticket(
                _str(b, "ticket_number"), _str(b, "status"), _str(b, "created_at"), bool(b.get("holder_linked")),
                bool(b.get("already_open")), id=_opt_int(b, "id"), mode=_opt_str(b, "mode") or "live",
                position=_opt_int(b, "position"),
            ),
            "POST", "/v1/handoff-tickets", json=body, token=token, key=idempotency_key,
        )

    async def callback(self, handoff_id: int, consent: bool, phone: Optional[str] = None) -> Handoff:
        """The waiting ticket becomes a call-back: with consent, the mobile
        number (the backend stores it sealed, shows it masked, deletes it when
        the ticket closes); without, the record that no contact was left.
        InvalidPhone; HandoffConflict(status) already_claimed / already_closed; HandoffNotFound."""
        body: Dict[str, Any] = {"consent": bool(consent)}
        if consent and phone:
            body["phone"] = phone
        return await self._call(lambda b: Handoff.from_dict(_dict(b, "handoff")),
                                "POST", f"/v1/handoffs/{int(handoff_id)}/callback", json=body)

    record_callback = callback

    async def release(self, handoff_id: int, to: str = "bot", by: str = "citizen",
                      outcome: Optional[str] = None) -> Handoff:
        """Closes the hand-over: `to` "bot" (outcome back_to_bot) or "closed".
        HandoffConflict already_closed; HandoffNotFound."""
        body: Dict[str, Any] = {"to": to, "by": by}
        if outcome:
            body["outcome"] = outcome
        return await self._call(lambda b: Handoff.from_dict(_dict(b, "handoff")),
                                "POST", f"/v1/handoffs/{int(handoff_id)}/release", json=body)


def _error_code(body: Dict[str, Any]) -> Optional[str]:
    error = body.get("error")
    return error.get("code") if isinstance(error, dict) and isinstance(error.get("code"), str) else None


__all__ = [
    "Application", "BackendClient", "BackendError", "BackendRefused", "BackendUnavailable", "Card",
    "CardNotActivatable", "CardNotFound", "CardNotReportable", "DEFAULT_TIMEOUT", "Handoff", "HandoffConflict",
    "HandoffNotFound", "HolderNotFound", "InvalidPhone",
    "IdentityLocked", "InvalidIdNumber", "LossReport", "PersonalDataInSummary", "Ticket", "TimelineEntry",
    "Token", "Verification", "VerificationExpired", "VerificationNotFound", "VerificationRequired",
    "WrongCode", "idempotency_key",
]
