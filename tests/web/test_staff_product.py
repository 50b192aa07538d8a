"""The staff lookup inside the running product: the model ranks, the keywords
take over for what the model calls out of scope, open tickets come from the
card backend. The account is the launcher's (STAFF_USER / STAFF_PASSWORD)."""
from __future__ import annotations

import uuid

import httpx
import pytest

from bot.web.faq_search import MIN_MODEL_CONFIDENCE
from tests.support.web import login

pytestmark = pytest.mark.product


@pytest.fixture(scope="module")
def staff(product):
    with httpx.Client(base_url=product.web_url, timeout=60) as client:
        assert login(client).status_code == 200
        yield client


@pytest.mark.parametrize("query,expected", [
    ("补卡要带什么材料", "reissue_documents"),
    ("补办的社保卡需要重新激活吗", "reissue_needs_activation"),
    ("Does my reissued card need to be activated?", "reissue_needs_activation"),
    ("社保卡管理办法第十六条说了什么", "legal_basis"),
])
def test_the_model_ranks_the_right_topic_first(staff, query, expected):
    body = staff.post("/api/faq/search", json={"q": query}).json()
    assert body["method"] == "model" and body["fallback_reason"] is None
    top = body["results"][0]
    assert top["key"] == expected and top["method"] == "model" and MIN_MODEL_CONFIDENCE <= top["score"] <= 1
    assert {a["language"] for a in top["answers"]} == {"zh", "en"}
    methods = [r["method"] for r in body["results"]]
    assert methods == sorted(methods, key=lambda m: m != "model")  # the model's topics, then related ones


def test_out_of_scope_questions_fall_back_to_keywords(staff):
    body = staff.post("/api/faq/search", json={"q": "养老金什么时候发"}).json()
    assert body["method"] == "keywords" and body["fallback_reason"] == "model_unsure"


def test_open_tickets_come_from_the_backend(product, staff):
    summary = f"市民咨询补卡进度，需要人工回电 {uuid.uuid4().hex[:6]}"
    opened = httpx.post(
        f"{product.backend_url}/v1/handoff-tickets", json={"summary": summary, "channel": "web", "language": "zh"},
        headers={"Authorization": f"Bearer {product.env['BACKEND_SERVICE_TOKEN']}", "Idempotency-Key": uuid.uuid4().hex},
        timeout=30,
    )
    assert opened.status_code == 201, opened.text
    tickets = staff.get("/api/staff/tickets").json()["tickets"]
    ticket = next(t for t in tickets if t["ticket_number"] == opened.json()["ticket_number"])
    assert ticket["summary"] == summary and ticket["status"] == "open" and ticket["channel"] == "web"
    assert ticket["holder"] is None
