"""Live hand-over: the queue, a claim, the release, the call-back, the expiry
sweep (bot/backend/handoffs.py; docs/BACKEND_API.md "Live hand-over").

    GET  /v1/handoffs?status=&limit=          {"handoffs": [view]}: waiting (oldest first), then claimed
    GET  /v1/handoffs/{id}                    {"handoff": view, "conversation"}
    POST /v1/handoffs/lookup                  {"conversation"} -> the conversation's held hand-over; 404
    POST /v1/handoffs/expire                  {"older_than_seconds"} -> {"expired": [...]}
    POST /v1/handoffs/{id}/claim              {"staff", "staff_name"?}; 409 already_claimed
    POST /v1/handoffs/{id}/release            {"to", "by"?, "staff"?, "outcome"?}; 409 already_closed
    POST /v1/handoffs/{id}/messages           {"staff"} -> 201 (audit only); 409 not_claimed_by_you
    POST /v1/handoffs/{id}/callback           {"consent", "phone"?}; 422 invalid_phone

No Idempotency-Key: each change is a conditional UPDATE, so a retry gets a
409 instead of acting twice. The conversation id travels in bodies (lookup)
and answers only, never in a URL or a log line.
"""
from __future__ import annotations

from typing import Callable

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.backend import handoffs, validation
from bot.backend.openapi import HANDOFF_ID_PATTERN
from bot.backend.routes.context import Backend
from bot.http.json import json_response


def _handoff_id(raw: str) -> int:
    if not validation.matches(HANDOFF_ID_PATTERN, raw):
        raise handoffs.handoff_not_found()
    return int(raw)


def blueprint(backend: Backend) -> Blueprint:
    bp = Blueprint("handoffs")
    key = backend.cfg.id_hash_key

    @bp.get("/v1/handoffs")
    async def list_handoffs(request: Request) -> HTTPResponse:
        args = request.get_args(keep_blank_values=True)
        status = validation.enum_query(args, "status", ("open", "waiting", "claimed", "closed")) or "open"
        limit = validation.int_query(args, "limit", 50, 1, 200)
        return json_response(await backend.work.read(handoffs.list_handoffs, status, limit))

    @bp.get("/v1/handoffs/<handoff_id:str>")
    async def get_handoff(request: Request, handoff_id: str) -> HTTPResponse:
        return json_response(await backend.work.read(handoffs.get_handoff, key, _handoff_id(handoff_id)))

    @bp.post("/v1/handoffs/lookup")
    async def lookup(request: Request) -> HTTPResponse:
        data = validation.body(request.body, "HandoffLookupRequest", required=True)
        return json_response(await backend.work.read(handoffs.lookup, key, data["conversation"]))

    @bp.post("/v1/handoffs/expire")
    async def expire(request: Request) -> HTTPResponse:
        data = validation.body(request.body, "HandoffExpireRequest", required=True)
        return json_response(await backend.work.write(handoffs.expire, key, data["older_than_seconds"]))

    def change(schema: str, required: bool, act: Callable) -> Callable:
        async def handler(request: Request, handoff_id: str) -> HTTPResponse:
            data = validation.body(request.body, schema, required=required)
            number = _handoff_id(handoff_id)
            status, body = await backend.work.write(lambda session: act(session, number, data))
            return json_response(body, status=status)

        return handler

    routes = {
        "claim": ("HandoffClaimRequest", True, lambda s, i, d: handoffs.claim(s, i, d["staff"], d.get("staff_name"))),
        "release": ("HandoffReleaseRequest", True, lambda s, i, d: handoffs.release(
            s, i, d["to"], d.get("by", "staff"), d.get("staff"), d.get("outcome"))),
        "messages": ("HandoffMessageRequest", True, lambda s, i, d: handoffs.record_message(s, i, d["staff"])),
        "callback": ("HandoffCallbackRequest", True, lambda s, i, d: handoffs.record_callback(
            s, key, i, d["consent"], d.get("phone"))),
    }
    for name, (schema, required, act) in routes.items():
        bp.add_route(change(schema, required, act), f"/v1/handoffs/<handoff_id:str>/{name}",
                     methods=["POST"], name=f"handoff_{name}")
    return bp
