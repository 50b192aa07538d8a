"""The figures (issue 13): a page and its API (capability `analytics`: reviewer and admin).

    GET /staff/analytics                          the page (routes.py capability_page; charts with their tables)
    GET /api/staff/analytics?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=json|csv]
                                                  -> the figures of those local days (bot/insights/analytics.py);
                                                  no dates: the last 30 days; 422 invalid_period
    GET /api/staff/analytics.csv?from=...&to=...  the same as CSV (an attachment)

Before answering, the indexer takes in what is new (a few batches at most: bot/insights/indexer.py),
through the IndexerJob app.py keeps in `app.ctx.insights` (none: the figures as indexed).
"""
from __future__ import annotations

from typing import Optional, Tuple

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.http.errors import HttpError
from bot.http.json import json_response
from bot.insights import analytics
from bot.web.staff.guard import StaffGuard

PARAMETERS = ("from", "to", "format")
FORMATS = ("json", "csv")


def _one(request: Request, name: str) -> Optional[str]:
    values = request.args.getlist(name) or []
    if len(values) > 1:
        raise HttpError(422, "invalid_period", f"Give `{name}` once.")
    return values[0] if values else None


def _query(request: Request) -> Tuple[str, tuple]:
    for name in request.args:
        if name not in PARAMETERS:
            raise HttpError(422, "invalid_request", f"Unknown parameter `{str(name)[:40]}`.")
    form = _one(request, "format") or "json"
    if form not in FORMATS:
        raise HttpError(422, "invalid_request", "`format` is json or csv.")
    try:
        return form, analytics.period(_one(request, "from"), _one(request, "to"))
    except analytics.PeriodError as error:
        raise HttpError(422, "invalid_period", str(error)) from None


def analytics_blueprint(guard: StaffGuard) -> Blueprint:
    """routes.py guards it: a login whose role has the capability `analytics`."""
    bp = Blueprint("staff_analytics")

    async def answer(request: Request, form: str, days: tuple) -> HTTPResponse:
        insights = getattr(request.app.ctx, "insights", None)
        if insights is not None:
            await insights.refresh()
        data = await guard.work.read(analytics.figures, *days)
        if form == "json":
            return json_response(data)
        return HTTPResponse("\ufeff" + analytics.to_csv(data), content_type="text/csv; charset=utf-8",  # BOM: Excel
                            headers={"Content-Disposition": f'attachment; filename="{analytics.csv_name(data)}"'})

    @bp.get("/api/staff/analytics")
    async def figures(request: Request) -> HTTPResponse:
        return await answer(request, *_query(request))

    @bp.get("/api/staff/analytics.csv")
    async def figures_csv(request: Request) -> HTTPResponse:
        form, days = _query(request)
        return await answer(request, "csv", days)

    return bp
