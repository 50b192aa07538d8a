"""Red team, personal data: every form of a personal value a citizen may type
is absent from every table and every output file afterwards; the backend's
stored hashes do not give an ID number back to someone who knows its masked
form and guesses the rest."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.backend.models import Holder, IdempotencyRecord
from bot.privacy.pii import check_character
from tests.support.backend import start_backend
from tests.support.product import start_product

pytestmark = pytest.mark.product

LI_NAME, LI_ID, LI_PHONE = "李四", "440524188001010014", "13800000002"
ID_FORMS = ["440524 18800101 0014", "4405 2418 8001 0100 14", "440524-18800101-0014",
            "４４０５２４ １８８００１０１ ００１４", "ID440524188001010014"]
PHONE_FORMS = ["138 000 00002", "1380-000-0002", "+86 138 0000 0002", "138.0000.0002"]
ID_DIGITS = "18800101"  # the part of 李四's number no masked form shows
PHONE_DIGITS = "00000002"


# A number that is a JSON value (a confidence, a timestamp, a token offset), not text anybody
# typed: left out before folding, so that the digits of "1.720000000204891e-05" never
# pass for a phone's "00000002". Typed text is inside a JSON string, never matched.
_JSON_NUMBER = re.compile(r"(?<=[:\[,])\s*-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?=\s*[,\]}])")


def folded(text: str) -> str:
    """Digits only (full-width folded): a number is found however it was split."""
    text = _JSON_NUMBER.sub(" ", text)
    return "".join(ch for ch in re.sub(r"[０-９]", lambda m: chr(ord(m.group(0)) - 0xFEE0), text) if ch.isdigit())


def every_cell(db: Path) -> str:
    connection = sqlite3.connect(db)
    try:
        cells = []
        for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if not isinstance(value, (str, bytes)):
                        continue  # a number column (an id, a timestamp): nothing anybody typed
                    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
                    cells.append(text)
                    if text.startswith("{"):
                        try:
                            cells.append(json.dumps(json.loads(text), ensure_ascii=False))
                        except ValueError:
                            pass
        return "\n".join(cells)
    finally:
        connection.close()


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    running = start_product(tmp_path_factory.mktemp("redteam-pii"))
    yield running
    running.stop()


def test_every_typed_form_of_an_id_number_or_phone_is_stored_and_logged_masked(product):
    sender = "redteam-pii-forms"
    for index, typed in enumerate(ID_FORMS):  # at the ID prompt, each in a conversation of its own
        product.say(f"{sender}-{index}", "帮我激活社保卡")
        product.say(f"{sender}-{index}", LI_NAME)
        product.say(f"{sender}-{index}", typed)
    for typed in ID_FORMS + PHONE_FORMS:  # in the open, in a sentence
        product.say(sender, f"我的号码是 {typed}，补卡要带什么材料")
    product.say(sender, f"/{LI_NAME} {LI_ID}")  # Rasa warns about this one with the text in it
    product.say(sender, f"/{LI_NAME} {ID_FORMS[1]}")
    tmp = Path(product.env["TRACKER_DB"]).parent
    stored = every_cell(Path(product.env["TRACKER_DB"]))
    assert ID_DIGITS not in folded(stored) and PHONE_DIGITS not in folded(stored)
    outputs = [p for p in tmp.rglob("*") if p.is_file() and p.suffix not in (".db", ".db-wal", ".db-shm")]
    assert outputs
    for path in outputs:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert ID_DIGITS not in folded(text), path
        assert PHONE_DIGITS not in folded(text.replace("138****0002", "")), path
        assert LI_NAME not in text, path


# --- the backend's hashes ------------------------------------------------------------------------

def _recover(fingerprint: str, name: str, masked: str, hash_body) -> str:
    """Tries every birth date between the masked parts (~64 000 candidates)."""
    day, last = dt.date(1850, 1, 1), dt.date(2026, 12, 31)
    while day <= last:
        candidate = f"{masked[:6]}{day:%Y%m%d}{masked[-4:-1]}"
        candidate += check_character(candidate)
        if candidate[-4:] == masked[-4:]:
            body = {"name": name, "id_number": candidate, "channel": "web"}
            if hash_body(body) == fingerprint:
                return candidate
        day += dt.timedelta(days=1)
    return ""


def _plain_sha256(body) -> str:
    """The fingerprint as it was computed before (a plain SHA-256)."""
    text = json.dumps(["POST", "/v1/verifications", None, body], sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def test_the_idempotency_fingerprint_does_not_give_the_id_number_back(tmp_path):
    backend = start_backend("redteam", f"sqlite:///{tmp_path / 'backend.db'}", tmp_path)
    try:
        response = httpx.post(f"{backend.url}/v1/verifications", headers={**backend.auth, "Idempotency-Key": "rt-1"},
                              json={"name": LI_NAME, "id_number": LI_ID, "channel": "web"}, timeout=10)
        assert response.status_code == 201, response.text
        with backend.db.read() as session:  # what someone who copied the database has
            stored = session.execute(select(IdempotencyRecord.fingerprint).where(IdempotencyRecord.key == "rt-1")).scalar_one()
            holder = session.execute(select(Holder).where(Holder.name == LI_NAME)).scalar_one()
            name, masked = holder.name, holder.id_number_masked
    finally:
        backend.group.stop()
        backend.db.dispose()
    assert _recover(stored, name, masked, _plain_sha256) == ""
    # The attack works against the plain hash the backend used to store.
    old = _plain_sha256({"name": LI_NAME, "id_number": LI_ID, "channel": "web"})
    assert _recover(old, name, masked, _plain_sha256) == LI_ID
