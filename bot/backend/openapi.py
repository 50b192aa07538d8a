"""The OpenAPI 3 document of the backend, served at /openapi.json.

One source: the request schemas here are also what api.py validates request
bodies against (validation.py), and the tests fuzz the running server from
this document and check every response against its response schemas.
"""
from __future__ import annotations

import copy
from typing import Any, Dict

from bot.text import DEFAULT_LANGUAGE, LANGUAGES

CHANNEL = {
    "type": "string",
    "pattern": "^[a-z][a-z0-9_]{0,19}$",
    "description": "Where the request came from (web, wechat, rest, staff, ...); default: the verification's channel, else api.",
}
CARD_STATUS = {
    "type": "string",
    "enum": ["in_production", "ready_for_pickup", "issued_inactive", "active", "reported_lost", "cancelled"],
}
APPLICATION_STATUS = {"type": "string", "enum": ["submitted", "in_production", "ready_for_pickup", "collected", "rejected"]}
TICKET_STATUS = {"type": "string", "enum": ["open", "closed"]}
HANDOFF_STATUS = {"type": "string", "enum": ["waiting", "claimed", "closed"]}
HANDOFF_MODE = {"type": "string", "enum": ["live", "callback"],
                "description": "live: a person in this chat; callback: a person will phone back (the bot goes on answering)."}
LANGUAGE = {"type": "string", "enum": list(LANGUAGES)}
TIME = {"type": "string", "format": "date-time", "example": "2026-11-24T22:00:00Z"}
DATE = {"type": "string", "format": "date", "nullable": True, "example": "2026-10-01"}

# Patterns of the opaque identifiers (anything else is answered 404 without a look-up).
VERIFICATION_ID_PATTERN = "^ver_[A-Za-z0-9_-]{8,64}$"
CARD_ID_PATTERN = "^crd_[A-Za-z0-9_-]{8,64}$"
TICKET_NUMBER_PATTERN = "^HD-[0-9]{8}-[0-9]{4,6}$"
IDEMPOTENCY_KEY_PATTERN = "^[A-Za-z0-9_.:-]{1,100}$"
VERIFICATION_TOKEN_PATTERN = "^[A-Za-z0-9_-]{16,128}$"
HANDOFF_ID_PATTERN = "^[1-9][0-9]{0,8}$"
STAFF_USERNAME_PATTERN = "^[a-z0-9][a-z0-9_.@-]{0,63}$"  # bot/web/staff/accounts.py USERNAME


CONVERSATION = {"type": "string", "minLength": 1, "maxLength": 200, "description": "The conversation (Rasa's sender id)."}
STAFF = {"type": "string", "pattern": STAFF_USERNAME_PATTERN, "description": "The staff member's username (audited)."}
STAFF_NAME = {"type": "string", "minLength": 1, "maxLength": 40, "example": "王**",
              "description": "The masked display name the citizen is shown."}


def _object(properties: Dict[str, Any], required=(), description: str = "") -> Dict[str, Any]:
    schema: Dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    return schema


REQUEST_SCHEMAS: Dict[str, Dict[str, Any]] = {
    "VerificationStartRequest": _object(
        {
            "name": {"type": "string", "minLength": 1, "maxLength": 50, "example": "张三"},
            "id_number": {
                "type": "string", "minLength": 1, "maxLength": 40, "example": "11010519491231002X",
                "description": "18-character resident ID number (GB 11643); full-width characters, spaces and a lower-case x are accepted.",
            },
            "channel": CHANNEL,
        },
        required=("name", "id_number"),
    ),
    "VerificationConfirmRequest": _object(
        {"code": {"type": "string", "pattern": "^[0-9]{6}$", "example": "123456"}}, required=("code",)
    ),
    "ActivateRequest": _object({"channel": CHANNEL}, description="Optional body."),
    "LossReportRequest": _object({"channel": CHANNEL}, description="Optional body."),
    "HandoffTicketRequest": _object(
        {
            "summary": {
                "type": "string", "minLength": 1, "maxLength": 2000,
                "description": "What the citizen needs; must contain no clear ID or phone number.",
            },
            "channel": CHANNEL,
            "language": {**LANGUAGE, "default": DEFAULT_LANGUAGE},
            "conversation": {
                "type": "string", "minLength": 1, "maxLength": 200,
                "description": "The conversation (sender id): while a ticket of it is open, no second one opens.",
            },
            "client": {
                "type": "string", "minLength": 1, "maxLength": 200,
                "description": "An opaque reference to the client's address: a few tickets per hour each.",
            },
            "mode": {**HANDOFF_MODE, "default": "live"},
        },
        required=("summary",),
    ),
    "CloseTicketRequest": _object({"channel": CHANNEL}, description="Optional body."),
    "HandoffLookupRequest": _object({"conversation": CONVERSATION}, required=("conversation",)),
    "RetentionPurgeRequest": _object(
        {"older_than_days": {"type": "integer", "minimum": 1, "maximum": 36500, "example": 180}},
        required=("older_than_days",),
    ),
    "HandoffExpireRequest": _object(
        {"older_than_seconds": {"type": "integer", "minimum": 0, "maximum": 7 * 24 * 3600, "example": 600}},
        required=("older_than_seconds",),
    ),
    "HandoffClaimRequest": _object({"staff": STAFF, "staff_name": STAFF_NAME}, required=("staff",)),
    "HandoffReleaseRequest": _object(
        {
            "to": {"type": "string", "enum": ["bot", "closed"],
                   "description": "bot: the bot answers again (outcome back_to_bot); closed: staff ended the service."},
            "by": {"type": "string", "enum": ["staff", "citizen"], "default": "staff"},
            "staff": STAFF,
            "outcome": {"type": "string", "minLength": 1, "maxLength": 200,
                        "description": "Free short text without ID or phone numbers; default back_to_bot / resolved."},
        },
        required=("to",),
    ),
    "HandoffMessageRequest": _object({"staff": STAFF}, required=("staff",)),
    "HandoffCallbackRequest": _object(
        {
            "consent": {"type": "boolean", "description": "false: the citizen leaves no contact (no phone)."},
            "phone": {"type": "string", "minLength": 1, "maxLength": 40, "example": "13812345678",
                      "description": "With consent: a mainland mobile number (+86 and separators accepted)."},
        },
        required=("consent",),
    ),
}

HOLDER = _object(
    {"name_masked": {"type": "string", "example": "张*"}, "id_number_masked": {"type": "string", "example": "110105********002X"}},
    required=("name_masked", "id_number_masked"),
)
CARD = _object(
    {
        "card_id": {"type": "string", "pattern": CARD_ID_PATTERN},
        "card_number_masked": {"type": "string", "example": "****1234"},
        "status": CARD_STATUS,
        "social_security_active": {"type": "boolean"},
        "financial_active": {"type": "boolean"},
        "issued_on": DATE,
        "expires_on": DATE,
        "issuing_bank": {"type": "string"},
        "pickup_location": {"type": "string", "nullable": True},
    },
    required=(
        "card_id", "card_number_masked", "status", "social_security_active", "financial_active",
        "issued_on", "expires_on", "issuing_bank", "pickup_location",
    ),
)
TICKET = _object(
    {
        "ticket_number": {"type": "string", "pattern": TICKET_NUMBER_PATTERN},
        "status": TICKET_STATUS,
        "created_at": TIME,
        "closed_at": {**TIME, "nullable": True},
        "channel": {"type": "string"},
        "language": LANGUAGE,
        "summary": {"type": "string"},
        "holder": {**HOLDER, "nullable": True},
    },
    required=("ticket_number", "status", "created_at", "closed_at", "channel", "language", "summary", "holder"),
)

NULLABLE_TIME = {**TIME, "nullable": True}
HANDOFF = _object(
    {
        "id": {"type": "integer"},
        "ticket_number": {"type": "string", "pattern": TICKET_NUMBER_PATTERN},
        "status": HANDOFF_STATUS,
        "mode": HANDOFF_MODE,
        "channel": {"type": "string"},
        "language": LANGUAGE,
        "created_at": TIME,
        "waiting_since": TIME,
        "claimed_by": {"type": "string", "nullable": True, "description": "the staff username"},
        "staff_name": {"type": "string", "nullable": True, "description": "the masked display name of who claimed"},
        "claimed_at": NULLABLE_TIME,
        "closed_at": NULLABLE_TIME,
        "outcome": {"type": "string", "nullable": True},
        "position": {"type": "integer", "minimum": 1, "nullable": True,
                     "description": "place among the live waiting tickets (1 = next); null otherwise"},
        "summary": {"type": "string"},
        "holder": {**HOLDER, "nullable": True},
        "verified": {"type": "boolean", "description": "a verified holder is linked"},
        "callback": _object(
            {"consent": {"type": "boolean", "nullable": True},
             "phone": {"type": "string", "nullable": True, "example": "138****5678", "description": "masked"}},
            required=("consent", "phone"),
        ),
    },
    required=("id", "ticket_number", "status", "mode", "channel", "language", "created_at", "waiting_since",
              "claimed_by", "staff_name", "claimed_at", "closed_at", "outcome", "position", "summary", "holder",
              "verified", "callback"),
)

RESPONSE_SCHEMAS: Dict[str, Dict[str, Any]] = {
    "Error": _object(
        {
            "error": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "pattern": "^[a-z_]+$"},
                    "message": {"type": "string"},
                    "reason": {
                        "type": "string",
                        "enum": ["legacy_15_digits", "length", "characters", "birth_date", "check_character"],
                        "description": "invalid_id_number: why the ID number is invalid.",
                    },
                    "retry_after": {"type": "integer", "minimum": 1, "description": "identity_locked: seconds until unlocked."},
                    "attempts_left": {"type": "integer", "minimum": 1, "description": "wrong_code: wrong codes left before the lock."},
                    "status": {"type": "string", "description": "the current status, on a 409 about a card or ticket."},
                },
            }
        },
        required=("error",),
    ),
    "Health": _object({"status": {"type": "string", "enum": ["ok"]}}, required=("status",)),
    "Holder": HOLDER,
    "Card": CARD,
    "VerificationStarted": _object(
        {
            "verification_id": {"type": "string", "pattern": VERIFICATION_ID_PATTERN},
            "expires_in": {"type": "integer", "example": 300},
        },
        required=("verification_id", "expires_in"),
    ),
    "VerificationConfirmed": _object(
        {
            "verification_token": {"type": "string", "pattern": VERIFICATION_TOKEN_PATTERN},
            "expires_in": {"type": "integer", "example": 900},
            "holder": HOLDER,
        },
        required=("verification_token", "expires_in", "holder"),
    ),
    "CardList": _object({"cards": {"type": "array", "items": CARD}}, required=("cards",)),
    "LossReportCreated": _object(
        {"loss_report_id": {"type": "string"}, "card": CARD, "kind": {"type": "string", "enum": ["temporary"]}},
        required=("loss_report_id", "card", "kind"),
    ),
    "ApplicationList": _object(
        {
            "applications": {
                "type": "array",
                "items": _object(
                    {
                        "application_id": {"type": "string"},
                        "status": APPLICATION_STATUS,
                        "submitted_at": TIME,
                        "old_card_number_masked": {"type": "string"},
                        "new_card_number_masked": {"type": "string", "nullable": True},
                        "pickup_location": {"type": "string", "nullable": True},
                        "timeline": {
                            "type": "array",
                            "items": _object(
                                {"status": APPLICATION_STATUS, "at": TIME, "note": {"type": "string"}},
                                required=("status", "at", "note"),
                            ),
                        },
                    },
                    required=(
                        "application_id", "status", "submitted_at", "old_card_number_masked",
                        "new_card_number_masked", "pickup_location", "timeline",
                    ),
                ),
            }
        },
        required=("applications",),
    ),
    "TicketCreated": _object(
        {
            "id": {"type": "integer", "description": "the hand-over's id (/v1/handoffs/{id})"},
            "mode": HANDOFF_MODE,
            "position": {"type": "integer", "minimum": 1, "nullable": True,
                         "description": "place among the live waiting tickets; null unless live and waiting"},
            "ticket_number": {"type": "string", "pattern": TICKET_NUMBER_PATTERN, "example": "HD-20261124-0001"},
            "status": {"type": "string", "enum": ["open"]},
            "created_at": TIME,
            "holder_linked": {"type": "boolean", "description": "whether a valid verification token linked the holder"},
            "already_open": {"type": "boolean", "description": "true (HTTP 200): this conversation's open ticket, none opened"},
        },
        required=("id", "ticket_number", "status", "mode", "position", "created_at", "holder_linked"),
    ),
    "Ticket": TICKET,
    "Handoff": _object({"handoff": HANDOFF}, required=("handoff",)),
    "HandoffDetail": _object(
        {"handoff": HANDOFF,
         "conversation": {"type": "string", "nullable": True,
                          "description": "the conversation (sender id), unsealed; null if the ticket has none"}},
        required=("handoff", "conversation"),
    ),
    "HandoffList": _object({"handoffs": {"type": "array", "items": HANDOFF}}, required=("handoffs",)),
    "RetentionPurged": _object(
        {"handoff_tickets": {"type": "integer", "minimum": 0, "description": "hand-over tickets deleted"}},
        required=("handoff_tickets",),
    ),
    "HandoffsExpired": _object(
        {
            "expired": {
                "type": "array",
                "items": _object(
                    {"id": {"type": "integer"},
                     "ticket_number": {"type": "string", "pattern": TICKET_NUMBER_PATTERN},
                     "conversation": {"type": "string", "nullable": True},
                     "channel": {"type": "string"},
                     "language": LANGUAGE,
                     "waited_seconds": {"type": "integer", "minimum": 0}},
                    required=("id", "ticket_number", "conversation", "channel", "language", "waited_seconds"),
                ),
            }
        },
        required=("expired",),
    ),
    "TicketList": _object({"tickets": {"type": "array", "items": TICKET}}, required=("tickets",)),
    "Outbox": _object(
        {
            "messages": {
                "type": "array",
                "items": _object(
                    {
                        "id": {"type": "integer"},
                        "phone_masked": {"type": "string"},
                        "text": {"type": "string"},
                        "created_at": TIME,
                    },
                    required=("id", "phone_masked", "text", "created_at"),
                ),
            }
        },
        required=("messages",),
    ),
}

ERROR_DESCRIPTIONS = {
    "400": "invalid_json, idempotency_key_required or invalid_idempotency_key",
    "401": "unauthorized (service token) or verification_required (verification token)",
    "404": "not found",
    "409": "conflict",
    "410": "verification_expired",
    "413": "payload_too_large",
    "422": "invalid_request (wrong types, missing or unknown fields) or a more specific code",
    "423": "identity_locked (with retry_after)",
    "429": "too many requests (with retry_after)",
}


def _ref(name: str) -> Dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> Dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _errors(*statuses: str, **descriptions: str) -> Dict[str, Any]:
    return {s: _json("Error", descriptions.get(f"e{s}", ERROR_DESCRIPTIONS[s])) for s in statuses}


def _body(name: str, required: bool) -> Dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": _ref(name)}}}


def _path(name: str, pattern: str) -> Dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": pattern}}


IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "The same key with the same request replays the stored response; with a different request: 409.",
    "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
}
SERVICE = [{"serviceToken": []}]
HOLDER_SCOPED = [{"serviceToken": [], "verificationToken": []}]


def _handoff_change(operation_id: str, summary: str, request: str, ok: str, answer: str, **errors: str) -> Dict[str, Any]:
    return {
        "post": {
            "operationId": operation_id,
            "summary": summary,
            "security": SERVICE,
            "parameters": [_path("handoff_id", HANDOFF_ID_PATTERN)],
            "requestBody": _body(request, True),
            "responses": {ok: _json("Handoff", answer),
                          **_errors("400", "401", "404", *sorted(s[1:] for s in errors), "413", "422",
                                    e404="handoff_not_found", **errors)},
        }
    }


def handoff_paths() -> Dict[str, Any]:
    return {
        "/v1/handoffs": {
            "get": {
                "operationId": "listHandoffs",
                "summary": "Hand-overs: open (default) = waiting, oldest first (the queue), then claimed; "
                           "or only waiting, claimed, or closed (newest first).",
                "security": SERVICE,
                "parameters": [
                    {"name": "status", "in": "query", "required": False,
                     "schema": {"type": "string", "enum": ["open", "waiting", "claimed", "closed"], "default": "open"}},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
                ],
                "responses": {"200": _json("HandoffList", "the hand-overs"), **_errors("401", "422")},
            }
        },
        "/v1/handoffs/{handoff_id}": {
            "get": {
                "operationId": "getHandoff",
                "summary": "One hand-over and its conversation (the sender id, unsealed: service callers only).",
                "security": SERVICE,
                "parameters": [_path("handoff_id", HANDOFF_ID_PATTERN)],
                "responses": {"200": _json("HandoffDetail", "the hand-over"),
                              **_errors("401", "404", e404="handoff_not_found")},
            }
        },
        "/v1/handoffs/lookup": {
            "post": {
                "operationId": "lookupHandoff",
                "summary": "The hand-over holding a conversation (live, waiting or claimed).",
                "security": SERVICE,
                "requestBody": _body("HandoffLookupRequest", True),
                "responses": {"200": _json("Handoff", "the conversation is held"),
                              **_errors("400", "401", "404", "413", "422",
                                        e404="handoff_not_found: the conversation is not held")},
            }
        },
        "/v1/retention/purge": {
            "post": {
                "operationId": "purgeOldData",
                "summary": "Deletes hand-over tickets whose last change is older than older_than_days "
                           "(RETENTION_DAYS; `python -m bot purge`). The audit log stays.",
                "security": SERVICE,
                "requestBody": _body("RetentionPurgeRequest", True),
                "responses": {"200": _json("RetentionPurged", "what was deleted"),
                              **_errors("400", "401", "413", "422")},
            }
        },
        "/v1/handoffs/expire": {
            "post": {
                "operationId": "expireHandoffs",
                "summary": "Live waiting hand-overs older than older_than_seconds become call-backs (still "
                           "waiting); each is returned to exactly one caller.",
                "security": SERVICE,
                "requestBody": _body("HandoffExpireRequest", True),
                "responses": {"200": _json("HandoffsExpired", "the hand-overs this call switched"),
                              **_errors("400", "401", "413", "422")},
            }
        },
        "/v1/handoffs/{handoff_id}/claim": _handoff_change(
            "claimHandoff", "A member of staff takes a waiting hand-over (it becomes live).",
            "HandoffClaimRequest", "200", "claimed", e409="already_claimed (claimed or closed; with status)"),
        "/v1/handoffs/{handoff_id}/release": _handoff_change(
            "releaseHandoff", "Back to the bot, or closed with an outcome; the call-back phone is deleted.",
            "HandoffReleaseRequest", "200", "closed", e409="already_closed",
            e422="invalid_request or personal_data_in_outcome"),
        "/v1/handoffs/{handoff_id}/messages": _handoff_change(
            "recordHandoffMessage", "Audit record that the member of staff holding the claim sent a message "
                                    "(never its text).",
            "HandoffMessageRequest", "201", "recorded", e409="not_claimed_by_you or already_closed (with status)"),
        "/v1/handoffs/{handoff_id}/callback": _handoff_change(
            "recordHandoffCallback", "A waiting hand-over becomes a call-back: the mobile number with consent "
                                     "(stored sealed, shown masked), or the record that no contact was left.",
            "HandoffCallbackRequest", "200", "recorded",
            e409="already_claimed or already_closed (with status)", e422="invalid_request or invalid_phone"),
    }


def document(development: bool) -> Dict[str, Any]:
    paths: Dict[str, Any] = {
        "/health": {
            "get": {
                "operationId": "health",
                "summary": "Liveness and database check (no authentication).",
                "security": [],
                "responses": {"200": _json("Health", "up"), "503": _json("Error", "database_unavailable")},
            }
        },
        "/v1/verifications": {
            "post": {
                "operationId": "startVerification",
                "summary": "Start identity verification: a 6-digit code goes to the phone on file. A name and ID "
                           "number no holder has get the same 201 (no code is sent; confirming it fails as "
                           "wrong_code), so the answer tells no one who is a holder.",
                "security": SERVICE,
                "parameters": [
                    {**IDEMPOTENCY_KEY, "required": False,
                     "description": "Optional: with it, a retried request does not send a second code."}
                ],
                "requestBody": _body("VerificationStartRequest", True),
                "responses": {
                    "201": _json("VerificationStarted", "code sent if the name and ID number are a holder's"),
                    **_errors("400", "401", "409", "413", "422", "423", "429",
                              e422="invalid_request or invalid_id_number (with reason)",
                              e429="too_many_codes: the identity's hourly or the phone's daily quota is used "
                                   "(with retry_after)"),
                },
            }
        },
        "/v1/verifications/{verification_id}/confirm": {
            "post": {
                "operationId": "confirmVerification",
                "summary": "Confirm with the code: a verification token (15 minutes).",
                "security": SERVICE,
                "parameters": [_path("verification_id", VERIFICATION_ID_PATTERN)],
                "requestBody": _body("VerificationConfirmRequest", True),
                "responses": {
                    "200": _json("VerificationConfirmed", "verified"),
                    **_errors("400", "401", "404", "410", "413", "422", "423",
                              e404="verification_not_found", e422="invalid_request or wrong_code (with attempts_left)"),
                },
            }
        },
        "/v1/cards": {
            "get": {
                "operationId": "listCards",
                "summary": "The verified holder's cards.",
                "security": HOLDER_SCOPED,
                "responses": {"200": _json("CardList", "the cards"), **_errors("401")},
            }
        },
        "/v1/cards/{card_id}/activate": {
            "post": {
                "operationId": "activateCard",
                "summary": "Activate the social-security function of an issued_inactive card.",
                "security": HOLDER_SCOPED,
                "parameters": [_path("card_id", CARD_ID_PATTERN), IDEMPOTENCY_KEY],
                "requestBody": _body("ActivateRequest", False),
                "responses": {
                    "200": _json("Card", "activated"),
                    **_errors("400", "401", "404", "409", "413", "422",
                              e404="card_not_found", e409="card_not_activatable (with status) or idempotency_key_reused"),
                },
            }
        },
        "/v1/cards/{card_id}/loss-report": {
            "post": {
                "operationId": "reportCardLost",
                "summary": "Temporary loss report.",
                "security": HOLDER_SCOPED,
                "parameters": [_path("card_id", CARD_ID_PATTERN), IDEMPOTENCY_KEY],
                "requestBody": _body("LossReportRequest", False),
                "responses": {
                    "201": _json("LossReportCreated", "reported"),
                    **_errors("400", "401", "404", "409", "413", "422",
                              e404="card_not_found", e409="card_not_reportable (with status) or idempotency_key_reused"),
                },
            }
        },
        "/v1/applications": {
            "get": {
                "operationId": "listApplications",
                "summary": "The verified holder's replacement applications with their timeline.",
                "security": HOLDER_SCOPED,
                "responses": {"200": _json("ApplicationList", "the applications"), **_errors("401")},
            }
        },
        "/v1/handoff-tickets": {
            "post": {
                "operationId": "openHandoffTicket",
                "summary": "Open a human-handoff ticket (a valid verification token links the holder).",
                "security": [{"serviceToken": [], "verificationToken": []}, {"serviceToken": []}],
                "parameters": [IDEMPOTENCY_KEY],
                "requestBody": _body("HandoffTicketRequest", True),
                "responses": {
                    "201": _json("TicketCreated", "opened"),
                    "200": _json("TicketCreated", "this conversation's ticket is still open: nothing opened"),
                    **_errors("400", "401", "409", "413", "422", "429",
                              e409="idempotency_key_reused",
                              e422="invalid_request or personal_data_in_summary",
                              e429="too_many_tickets: the client's hourly share is used (with retry_after)"),
                },
            },
            "get": {
                "operationId": "listHandoffTickets",
                "summary": "Handoff tickets, newest first (for the staff page).",
                "security": SERVICE,
                "parameters": [
                    {"name": "status", "in": "query", "required": False, "schema": TICKET_STATUS},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
                ],
                "responses": {"200": _json("TicketList", "the tickets"), **_errors("401", "422")},
            },
        },
        "/v1/handoff-tickets/{ticket_number}/close": {
            "post": {
                "operationId": "closeHandoffTicket",
                "summary": "Close an open handoff ticket (staff).",
                "security": SERVICE,
                "parameters": [_path("ticket_number", TICKET_NUMBER_PATTERN), IDEMPOTENCY_KEY],
                "requestBody": _body("CloseTicketRequest", False),
                "responses": {
                    "200": _json("Ticket", "closed"),
                    **_errors("400", "401", "404", "409", "413", "422",
                              e404="ticket_not_found", e409="ticket_not_open or idempotency_key_reused"),
                },
            }
        },
        **handoff_paths(),
    }
    if development:
        paths["/dev/outbox"] = {
            "get": {
                "operationId": "devOutbox",
                "summary": "Development only: the SMS messages the development gateway recorded, newest first.",
                "security": SERVICE,
                "parameters": [
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
                ],
                "responses": {"200": _json("Outbox", "the messages"), **_errors("401", "422")},
            }
        }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Social security card backend",
            "version": "1.0.0",
            "description": "The card-status system of record the helpdesk's forms act on. See docs/BACKEND_API.md.",
        },
        "paths": paths,
        "components": {
            "schemas": copy.deepcopy({**REQUEST_SCHEMAS, **RESPONSE_SCHEMAS}),
            "securitySchemes": {
                "serviceToken": {"type": "http", "scheme": "bearer", "description": "BACKEND_SERVICE_TOKEN"},
                "verificationToken": {"type": "apiKey", "in": "header", "name": "X-Verification-Token"},
            },
        },
    }
