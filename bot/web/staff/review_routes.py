"""The review inbox: a page and its JSON API (capability `review`: reviewer, admin).

    GET  /staff/review                       the page (routes.py capability_page: 303 to the login page, 403)
    GET  /api/staff/review?status=open&kind= -> {"items": [{"id", "kind", "text", "language", "predicted",
                                                "confidence", "count", "model_id", "first_at", "last_at",
                                                "status", "label", "note", "reviewed_by", "reviewed_at"}],
                                                "labels": [{"value", "kind", "zh", "en"}]}
                                                newest first; status open (default), labelled, dismissed or all
    POST /api/staff/review/<id>  X-CSRF-Token {"label": "<faq key>"|"<intent>"|"out_of_scope"|"new_topic",
                                                "note"?} or {"dismiss": true} -> {"item"}; 404 review_item_not_found;
                                                422 unknown_label, note_required (new_topic), invalid_request

The items are bot/insights/review.py's; a label becomes training data (bot/insights/training_export.py).
Before listing, the indexer takes in what is new and collects the items (a few batches at most:
bot/insights/indexer.py), through the IndexerJob app.py keeps in `app.ctx.insights` (none: as collected).
"""
from __future__ import annotations

import logging
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.http.errors import HttpError
from bot.http.json import json_response
from bot.insights import review, training_export
from bot.text import is_clean_text
from bot.web.http import json_body
from bot.web.staff.guard import StaffGuard

log = logging.getLogger("bot.web.staff.review")

ALL = "all"
MAX_ITEMS = 500


def _labels_view() -> list:
    return [{"value": value, **about} for value, about in training_export.labels().items()]


def _decision(data: dict) -> tuple:
    """("label", label, note) or ("dismiss", None, None) of a POST body; 422 otherwise."""
    for name in data:
        if name not in ("label", "note", "dismiss"):
            raise HttpError(422, "invalid_request", f"Unknown field `{str(name)[:40]}`.")
    note = data.get("note")
    if note is not None and (not isinstance(note, str) or not is_clean_text(note)):
        raise HttpError(422, "invalid_request", "`note` is text.")
    if note is not None and len(note.strip()) > review.MAX_NOTE_CHARS:
        raise HttpError(413, "too_long", f"`note` is longer than {review.MAX_NOTE_CHARS} characters.")
    if "dismiss" in data:
        if data["dismiss"] is not True or "label" in data:
            raise HttpError(422, "invalid_request", 'Give either {"label"} or {"dismiss": true}.')
        return "dismiss", None, None
    label = data.get("label")
    if not isinstance(label, str) or not label:
        raise HttpError(422, "invalid_request", 'Give either {"label"} or {"dismiss": true}.')
    if label.startswith(training_export.FAQ + "/"):  # "faq/reissue_fee" as the training data writes it
        label = label[len(training_export.FAQ) + 1:]
    if label not in training_export.labels():
        raise HttpError(422, "unknown_label", "Not a label: an FAQ key, an intent, out_of_scope or new_topic.")
    if label == review.NEW_TOPIC and not (note or "").strip():
        raise HttpError(422, "note_required", "Say in the note what the new topic is.")
    return "label", label, note


def review_blueprint(guard: StaffGuard) -> Blueprint:
    """routes.py guards it: a login whose role has the capability `review`."""
    bp = Blueprint("staff_review")

    @bp.get("/api/staff/review")
    async def list_items(request: Request) -> HTTPResponse:
        status = request.args.get("status", "open")
        kind = request.args.get("kind") or None
        if status not in review.STATUSES + (ALL,):
            raise HttpError(422, "invalid_request", f"`status` is one of {', '.join(review.STATUSES + (ALL,))}.")
        if kind is not None and kind not in review.KINDS:
            raise HttpError(422, "invalid_request", f"`kind` is one of {', '.join(review.KINDS)}.")
        insights = getattr(request.app.ctx, "insights", None)
        if insights is not None:
            await insights.refresh()
        found = await guard.work.read(review.items, None if status == ALL else status, kind, MAX_ITEMS)
        return json_response({"items": found, "labels": _labels_view()})

    @bp.post("/api/staff/review/<item_id:int>")
    async def decide(request: Request, item_id: int) -> HTTPResponse:
        guard.check_csrf_token(request)
        action, label, note = _decision(json_body(request))
        username = request.ctx.staff.username
        if action == "dismiss":
            item = await guard.work.write(review.dismiss, item_id, username)
        else:
            item = await guard.work.write(review.label, item_id, label, note, username)
        if item is None:
            raise HttpError(404, "review_item_not_found", "No such review item.")
        log.info("review item %s by a reviewer", "dismissed" if action == "dismiss" else "labelled")
        return json_response({"item": item})

    return bp
