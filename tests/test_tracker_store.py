"""bot/tracker_store.py (nothing personal reaches the tracker database) and
bot/privacy/log_redaction.py (nothing personal reaches a log line).

Trackers are built from Rasa's own event classes, saved in a
RedactingTrackerStore on a temporary SQLite file, and then every row of the
events table is read raw with sqlite3.
"""
from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import re
import sqlite3
import textwrap
import warnings
from pathlib import Path
from typing import List

import pytest
import structlog
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    EntitiesAdded,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

from bot.privacy import log_redaction
from bot.tracker_store import RedactingTrackerStore, mentions_password, redact_user_text

ID_NUMBER = "440524188001010014"
ID_MASKED = "440524********0014"
ID_X = "11010519491231002X"
PHONE = "13800000002"
PHONE_MASKED = "138****0002"
CODE = "583920"
BANK_PIN = "654321"
SHORT_PIN = "7391"
VOLUNTEERED_CODE = "246813"
TOKEN = "Qm9vdHN0cmFwVG9rZW5Gb3JUZXN0c19vbmx5X2FiY2RlZg"  # the backend's verification token
SEALED_TOKEN = "sealed:gAAAAABoU2VhbGVkVG9rZW5Gb3JUZXN0cw=="  # what the form keeps in its slot (bot/privacy/sealed.py)
ORDINARY = "补办的社保卡需要重新激活吗? 我有2张卡，2026年办的"

with warnings.catch_warnings():  # Rasa warns about the removed slot auto-fill for any slots
    warnings.simplefilter("ignore", UserWarning)
    DOMAIN = Domain.from_yaml(textwrap.dedent("""
        version: "3.1"
        intents: [activate_card, inform, faq, chitchat]
        entities: [id_number, number]
        slots:
          sms_code:
            type: text
            influence_conversation: false
            mappings: [{type: from_text, conditions: [{active_loop: verify_identity_form, requested_slot: sms_code}]}]
          id_number_masked: {type: text, influence_conversation: false, mappings: [{type: custom}]}
          verification_token: {type: text, influence_conversation: false, mappings: [{type: custom}]}
          holder_name: {type: text, influence_conversation: false, mappings: [{type: custom}]}
        forms:
          verify_identity_form:
            required_slots: [holder_name, sms_code]
        responses:
          utter_ask_sms_code: [{text: "请输入验证码"}]
    """))


class CollectingBroker(EventBroker):
    def __init__(self) -> None:
        self.published: List[dict] = []

    def publish(self, event: dict) -> None:
        self.published.append(copy.deepcopy(event))


def user(text: str, intent: str = "inform", entities=None, normalized: str = None) -> UserUttered:
    entities = entities or []
    return UserUttered(
        text,
        {"name": intent, "confidence": 0.9},
        entities,
        {
            "text": normalized if normalized is not None else text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": entities,
            "intent_ranking": [{"name": intent, "confidence": 0.9}],
        },
        input_channel="rest",
        message_id="2f1b3c4d5e6f40718293a4b5c6d7e8f9",
        metadata={"client": "web widget", "echo": f"phone {PHONE}"},
    )


def conversation() -> List:
    """A verification as the form runs it: an ID number and phone typed in the
    open, the SMS code typed when asked for, a password, ordinary questions."""
    return [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        user(
            f"我要激活社保卡，身份证号{ID_NUMBER}，手机{PHONE}",
            "activate_card",
            entities=[
                {"entity": "id_number", "value": ID_NUMBER, "start": 9, "end": 27, "extractor": "RegexEntityExtractor"},
                {"entity": "number", "value": int(PHONE), "start": 30, "end": 41, "extractor": "DucklingEntityExtractor"},
            ],
        ),
        ActionExecuted("verify_identity_form"),
        ActiveLoop("verify_identity_form"),
        SlotSet("holder_name", "李*"),
        SlotSet("id_number_masked", ID_MASKED),
        SlotSet("requested_slot", "sms_code"),
        BotUttered(f"验证码已发送到 {PHONE_MASKED}，请输入6位验证码。", {"buttons": [{"title": "转人工", "payload": "/human_handoff"}]}),
        ActionExecuted("action_listen"),
        # The code, typed while the form asks for it (full-width digits from an IME too).
        user(CODE, entities=[{"entity": "number", "value": int(CODE), "start": 0, "end": 6}]),
        ActionExecuted("action_extract_slots"),
        SlotSet("sms_code", CODE),  # Rasa's own from_text mapping: the clear code
        ActionExecuted("verify_identity_form"),
        SlotSet("verification_token", SEALED_TOKEN),
        SlotSet("sms_code", None),
        SlotSet("requested_slot", None),
        ActiveLoop(None),
        BotUttered("验证成功。"),
        ActionExecuted("action_listen"),
        user(f"我的银行卡密码是{BANK_PIN}，要告诉你吗"),
        BotUttered("请不要告诉任何人您的密码。"),
        ActionExecuted("action_listen"),
        user(f"my PIN is {SHORT_PIN}", normalized=f"my pin is {SHORT_PIN}"),
        ActionExecuted("action_listen"),
        user(f"验证码是 {VOLUNTEERED_CODE}"),
        ActionExecuted("action_listen"),
        user("身份证 ４４０５２４１８８００１０１００１４ 对吗", normalized=f"身份证 {ID_NUMBER} 对吗"),
        EntitiesAdded([{"entity": "id_number", "value": ID_NUMBER}]),
        ActionExecuted("action_listen"),
        user(ORDINARY, "faq"),
        BotUttered("需要。补办社保卡相当于重新制发一张新卡……"),
        ActionExecuted("action_listen"),
    ]


def new_tracker(sender: str, events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, events, DOMAIN.slots)


def rows(db: Path) -> List[sqlite3.Row]:
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute("SELECT * FROM events ORDER BY id").fetchall()
    finally:
        connection.close()


def raw_text(db: Path) -> str:
    """Every column of every row, as stored, plus the JSON decoded (for Chinese)."""
    parts = []
    for row in rows(db):
        values = [str(row[k]) for k in row.keys()]
        parts += values
        parts.append(json.dumps(json.loads(row["data"]), ensure_ascii=False))
    return "\n".join(parts)


CLEAR_VALUES = [ID_NUMBER, ID_X, "４４０５２４", PHONE, CODE, BANK_PIN, SHORT_PIN, VOLUNTEERED_CODE, TOKEN]


def assert_nothing_clear(stored: str) -> None:
    # A number counts where it stands alone: the short PIN "7391" inside a timestamp such as
    # 1796188741.5957391 is the clock, not the PIN (it failed CI once so).
    for value in CLEAR_VALUES:
        assert not re.search(rf"(?<!\d){re.escape(value)}(?!\d)", stored), value


@pytest.fixture()
def store(tmp_path):
    db = tmp_path / "tracker.db"
    broker = CollectingBroker()
    store = RedactingTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db), event_broker=broker)
    store.db_path, store.broker = db, broker
    yield store
    store.engine.dispose()


async def test_saved_rows_hold_no_personal_data(store):
    tracker = new_tracker("conv-1", conversation())
    before = [copy.deepcopy(e.as_dict()) for e in tracker.events]

    await store.save(tracker)

    stored = raw_text(store.db_path)
    assert_nothing_clear(stored)
    assert len(rows(store.db_path)) == len(tracker.events)
    data = [json.loads(row["data"]) for row in rows(store.db_path)]
    texts = [d["text"] for d in data if d["event"] == "user"]
    assert texts == [
        f"我要激活社保卡，身份证号{ID_MASKED}，手机{PHONE_MASKED}",
        "******",
        "我的银行卡密码是******，要告诉你吗",
        "my PIN is ****",
        "验证码是 ******",
        f"身份证 {ID_MASKED} 对吗",
        ORDINARY,  # ordinary text is left exactly as typed
    ]
    parse_texts = [d["parse_data"]["text"] for d in data if d["event"] == "user"]
    assert parse_texts[1] == "******" and parse_texts[3] == "my pin is ****"
    first = data[3]
    assert [e["value"] for e in first["parse_data"]["entities"]] == [ID_MASKED, PHONE_MASKED]
    assert first["metadata"]["echo"] == f"phone {PHONE_MASKED}"
    assert first["message_id"] == "2f1b3c4d5e6f40718293a4b5c6d7e8f9"  # ids are not "personal data"
    assert first["parse_data"]["intent"]["name"] == "activate_card"
    slots = [(d["name"], d["value"]) for d in data if d["event"] == "slot"]
    assert ("sms_code", "******") in slots and ("id_number_masked", ID_MASKED) in slots
    assert ("verification_token", SEALED_TOKEN) in slots  # what the next turn needs survives
    assert ("requested_slot", "sms_code") in slots
    bot_texts = [d["text"] for d in data if d["event"] == "bot"]
    assert f"验证码已发送到 {PHONE_MASKED}，请输入6位验证码。" in bot_texts

    # The tracker Rasa keeps using for the rest of the turn is untouched.
    assert [e.as_dict() for e in tracker.events] == before
    assert tracker.get_slot("verification_token") == SEALED_TOKEN
    assert tracker.latest_message.text == ORDINARY
    assert list(tracker.events)[11].text == CODE

    # What an event broker receives is redacted the same way.
    streamed = json.dumps(store.broker.published, ensure_ascii=False)
    assert_nothing_clear(streamed)
    assert len(store.broker.published) == len(tracker.events)


async def test_token_offsets_are_not_kept(store):
    """A message's token offsets (Rasa's parse adds them; nothing reads them
    back) are not stored: 2 400 emoji kept 300 KB of them per message."""
    message = user("\U0001F600" * 2400, intent="nlu_fallback")
    message.parse_data["text_tokens"] = [(i, i + 1) for i in range(2400)]
    tracker = new_tracker("conv-tokens", [message])
    await store.save(tracker)
    data = [json.loads(row["data"]) for row in rows(store.db_path)]
    [stored] = [d["parse_data"] for d in data if d["event"] == "user"]
    assert "text_tokens" not in stored
    assert stored["text"] == "\U0001F600" * 2400 and stored["intent"]["name"] == "nlu_fallback"
    assert len(tracker.latest_message.parse_data["text_tokens"]) == 2400  # the turn's own tracker keeps them
    kept = await store.retrieve("conv-tokens")
    assert "text_tokens" not in kept.latest_message.parse_data


async def test_turn_by_turn_as_rasa_saves(store):
    """Rasa retrieves the (redacted) tracker, adds a turn, saves: the code typed
    in a later turn is still recognised as a code."""
    events = conversation()
    first_turns = events[:11]  # up to the form asking for the code
    await store.save(new_tracker("conv-2", first_turns))

    tracker = await store.retrieve("conv-2")
    assert tracker is not None
    assert tracker.get_slot("requested_slot") == "sms_code"
    assert tracker.active_loop_name == "verify_identity_form"
    assert tracker.get_slot("id_number_masked") == ID_MASKED
    assert ID_NUMBER not in json.dumps([e.as_dict() for e in tracker.events])

    tracker.update(user(f"验证码 {CODE[:3]} {CODE[3:]}"))
    tracker.update(SlotSet("sms_code", f"{CODE[:3]} {CODE[3:]}"))
    tracker.update(SlotSet("verification_token", SEALED_TOKEN))
    tracker.update(SlotSet("requested_slot", None))
    await store.save(tracker)
    assert tracker.latest_message.text == f"验证码 {CODE[:3]} {CODE[3:]}"

    stored = raw_text(store.db_path)
    assert CODE[:3] + " " + CODE[3:] not in stored and CODE not in stored
    assert len(rows(store.db_path)) == len(first_turns) + 4  # only the new events were added
    again = await store.retrieve("conv-2")
    assert again.latest_message.text == "*** *** ***"  # typed at the code prompt: masked whole
    assert again.get_slot("verification_token") == SEALED_TOKEN
    assert again.get_slot("sms_code") == "*** ***"


async def test_a_secret_slot_in_clear_is_masked_whole(store):
    """A token or code that reached a secret slot unsealed is stored masked
    whole (the next turn would not accept it anyway: bot/privacy/sealed.py); the
    code slot's status word is kept."""
    events = conversation()[:11] + [
        SlotSet("verification_token", TOKEN),
        SlotSet("sms_code", "verified"),
        SlotSet("sms_code", "幺二三 456"),
    ]
    await store.save(new_tracker("conv-secret", events))
    slots = [(d["name"], d["value"]) for d in (json.loads(r["data"]) for r in rows(store.db_path))
             if d["event"] == "slot"]
    assert slots[-3:] == [("verification_token", "*" * len(TOKEN)), ("sms_code", "verified"),
                          ("sms_code", "*** ***")]


async def test_reverted_turns_and_restarts_are_replayed(store):
    from rasa.shared.core.events import Restarted, UserUtteranceReverted

    events = conversation()[:11] + [
        user("什么意思"),
        UserUtteranceReverted(),  # the two-stage fallback takes the message back
        user(CODE),  # still answering the code question
        Restarted(),
        ActionExecuted("action_listen"),
        user("我的号码 2024 年办的卡"),  # no form any more: an ordinary message
    ]
    await store.save(new_tracker("conv-3", events))
    texts = [json.loads(r["data"])["text"] for r in rows(store.db_path) if r["type_name"] == "user"]
    assert texts[-2:] == ["******", "我的号码 2024 年办的卡"]


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def test_loaded_from_the_projects_endpoints_yml(tmp_path, monkeypatch, kind):
    """endpoints.yml as it is, with TRACKER_DB_URL naming SQLite or PostgreSQL."""
    from sqlalchemy import create_engine

    from bot.core.paths import ROOT
    from tests.support.postgres import fresh_database

    with contextlib.ExitStack() as stack:
        if kind == "sqlite":
            url = f"sqlite:///{tmp_path / 'from-endpoints.db'}"
        else:
            url = stack.enter_context(fresh_database("tracker_test"))
        monkeypatch.setenv("TRACKER_DB_URL", url)
        monkeypatch.setenv("ACTION_SERVER_URL", "http://127.0.0.1:5055/webhook")
        monkeypatch.setenv("ACTION_SERVER_SECRET", "test-action-server-secret")  # endpoints.yml names it
        config = read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store")
        assert isinstance(config, EndpointConfig)
        store = create_tracker_store(config, DOMAIN)
        try:
            assert type(store) is RedactingTrackerStore  # not Rasa's silent in-memory fallback
            await store.save(new_tracker("conv-4", conversation()))
            engine = create_engine(url)
            with engine.connect() as connection:
                data = [json.loads(row.data) for row in connection.exec_driver_sql("SELECT data FROM events")]
            engine.dispose()
            assert len(data) == len(conversation())
            assert_nothing_clear(json.dumps(data, ensure_ascii=False))
            assert (await store.retrieve("conv-4")).latest_message.text == ORDINARY
            assert log_redaction.installed()  # the Rasa process gets log redaction from the store
        finally:
            store.engine.dispose()


def test_user_text_rules():
    assert redact_user_text("12 34 56", code_expected=True) == "** ** **"
    assert redact_user_text("幺二三四五六", code_expected=True) == "******"
    assert redact_user_text(f"我的手机{PHONE}", code_expected=True) == f"我的手机{PHONE_MASKED}"
    assert redact_user_text("取款密码 12-34-56") == "取款密码 **-**-**"
    assert redact_user_text("my password is hunter2") == "my password is hunter*"
    assert redact_user_text("我有2张卡") == "我有2张卡"
    assert redact_user_text("营业时间 9 点到 17 点") == "营业时间 9 点到 17 点"
    assert mentions_password("PIN码是多少") and mentions_password("密碼") and mentions_password("my pin")
    assert not mentions_password("shopping spinning pinyin") and not mentions_password("激活社保卡")


# --- logs ----------------------------------------------------------------------------------------

def test_log_lines_are_masked():
    log_redaction.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # added after install(): covered too
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(request)s %(message)s"))
    logger = logging.getLogger("tests.pii.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        logger.info("user %s typed id %s and phone %s", "张三", ID_NUMBER, PHONE, extra={"request": f"GET /x?id={ID_X}"})
        logger.info("plain %d%% done at 2026-11-24 12:00, port 5005", 100, extra={"request": "-"})
        # What Rasa logs at DEBUG while the form validates the code, and a slot event.
        logger.info("Validating extracted slots: %s", {"sms_code": CODE, "holder_name": "李*"}, extra={"request": "-"})
        logger.info("%s", SlotSet("verification_token", TOKEN), extra={"request": "-"})
        try:
            raise ValueError(f"bad id {ID_NUMBER}")
        except ValueError:
            logger.exception("failed for %s", PHONE, extra={"request": "-"})
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    for value in (ID_NUMBER, PHONE, ID_X, CODE, TOKEN):
        assert value not in out
    assert "{'sms_code': '******', 'holder_name': '李*'}" in out
    assert f"typed id {ID_MASKED} and phone {PHONE_MASKED}" in out
    assert "GET /x?id=110105********002X" in out
    assert f"ValueError: bad id {ID_MASKED}" in out
    assert "plain 100% done at 2026-11-24 12:00, port 5005" in out  # codes=False: numbers stay


def test_root_handlers_get_the_filter():
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    try:
        log_redaction.install()
        assert any(isinstance(f, log_redaction.RedactingFilter) for f in handler.filters)
        record = logging.LogRecord("x", logging.WARNING, __file__, 1, "phone %s", (PHONE,), None)
        handler.filter(record)
        assert record.getMessage() == f"phone {PHONE_MASKED}"
    finally:
        root.removeHandler(handler)
    log_redaction.uninstall()
    assert not any(isinstance(f, log_redaction.RedactingFilter) for f in handler.filters)
    assert logging.Handler.handle is not log_redaction._handle


def test_structlog_output_is_masked():
    was_installed = log_redaction.installed()  # importing `actions` installs it
    log_redaction.uninstall()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    std_logger = logging.getLogger("tests.pii.structlog")
    std_logger.addHandler(handler)
    std_logger.setLevel(logging.DEBUG)
    std_logger.propagate = False
    # Earlier tests may have configured structlog (bench.evaluation sets a WARNING
    # filter): start from its defaults, so this test sees only its own set-up.
    structlog.reset_defaults()
    structlog.configure(  # as rasa.utils.log_utils.configure_structlog does, minus the console
        processors=[structlog.processors.add_log_level, structlog.processors.JSONRenderer(ensure_ascii=False)],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    try:
        slog = structlog.get_logger("tests.pii.structlog")
        slog.debug("processor.start")  # cached before install(): must still be redacted after
        log_redaction.install()
        slog.debug(
            "processor.message.parse",
            parse_data_text=f"验证码 {CODE}",
            user_text=f"身份证{ID_NUMBER}",
            slot_values={"phone": PHONE, "n": 3},
            other=f"phone {PHONE}, at 2026-11-24",
            sms_code=CODE,
            events=[{"event": "slot", "name": "sms_code", "value": CODE}, {"sms_code": CODE}],
        )
    finally:
        std_logger.removeHandler(handler)
        log_redaction.uninstall()
        structlog.reset_defaults()
        if was_installed:
            log_redaction.install()
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["parse_data_text"] == "验证码 ******"  # a user-data key: codes masked too
    assert line["user_text"] == f"身份证{ID_MASKED}"
    assert line["slot_values"] == {"phone": PHONE_MASKED, "n": 3}
    assert line["other"] == f"phone {PHONE_MASKED}, at 2026-11-24"
    assert line["sms_code"] == "******" and line["events"][1] == {"sms_code": "******"}


async def test_a_name_typed_when_asked_is_masked_and_sealed_slots_are_kept_whole(store, monkeypatch):
    from bot.privacy import sealed

    monkeypatch.setenv("SLOT_SEAL_KEY", "dGVzdC1zbG90LXNlYWwta2V5LTMyLWJ5dGVzLWxvbmc=")
    sealed_name = sealed.seal("李四", "conv-name")
    events = [
        ActionExecuted("action_listen"),
        user("帮我激活社保卡", "activate_card"),
        ActionExecuted("verify_identity_form"),
        ActiveLoop("verify_identity_form"),
        SlotSet("requested_slot", "holder_name"),
        BotUttered("请告诉我持卡人的姓名。"),
        ActionExecuted("action_listen"),
        user("补卡要带什么材料", "faq"),  # a question at the name prompt stays as typed
        BotUttered("补办社保卡一般需要准备……"),
        ActionExecuted("action_listen"),
        user("李四"),
        ActionExecuted("verify_identity_form"),
        SlotSet("holder_name", sealed_name),
        SlotSet("requested_slot", "id_number_masked"),
        ActionExecuted("action_listen"),
        user("Li Si"),  # not asked for a name any more: a Latin word is left alone
    ]
    await store.save(new_tracker("conv-name", events))

    stored = raw_text(store.db_path)
    assert "李四" not in stored
    data = [json.loads(row["data"]) for row in rows(store.db_path)]
    assert [d["text"] for d in data if d["event"] == "user"] == ["帮我激活社保卡", "补卡要带什么材料", "李*", "Li Si"]
    assert [d["parse_data"]["text"] for d in data if d["event"] == "user"][2] == "李*"
    slots = dict((d["name"], d["value"]) for d in data if d["event"] == "slot")
    assert slots["holder_name"] == sealed_name and sealed.unseal(slots["holder_name"], "conv-name") == "李四"
    restored = await store.retrieve("conv-name")
    assert sealed.unseal(restored.get_slot("holder_name"), "conv-name") == "李四"  # the next turn can open it


async def test_a_sender_id_the_database_cannot_hold_fails_the_call_not_the_server(store):
    """Rasa's session scope exits the process on any ValueError; ours raises it."""
    with pytest.raises(ValueError):
        await store.retrieve("\udfff")
    await store.save(new_tracker("conv-after", conversation()))  # the store still works
    assert (await store.retrieve("conv-after")) is not None


async def test_a_message_typed_at_the_id_number_prompt_is_masked_whole(store):
    """Whatever is typed where the form asks for the ID number (a wrong
    number, a name with it, a number in pieces) is stored masked whole; a
    question there stays as typed."""
    typed = ["4405 241 880 010 1001", "李四 440524188001010014", "4405２４-1880 0101 0014"]
    events = [
        ActionExecuted("action_listen"),
        user("帮我激活社保卡", "activate_card"),
        ActionExecuted("verify_identity_form"),
        ActiveLoop("verify_identity_form"),
        SlotSet("requested_slot", "id_number_masked"),
        ActionExecuted("action_listen"),
        user("补卡要带什么材料", "faq"),
        ActionExecuted("action_listen"),
    ]
    for text in typed:
        events += [user(text), ActionExecuted("verify_identity_form"), ActionExecuted("action_listen")]
    await store.save(new_tracker("conv-id", events))

    data = [json.loads(row["data"]) for row in rows(store.db_path)]
    texts = [d["text"] for d in data if d["event"] == "user"]
    assert texts[:2] == ["帮我激活社保卡", "补卡要带什么材料"]
    stored = raw_text(store.db_path)
    for text in typed:
        assert not any(ch.isdigit() for ch in "".join(texts[2:])), texts
        assert "李四" not in stored and "1880" not in stored.replace("-", "").replace(" ", "")
    assert [set(t) - {" "} for t in texts[2:]] == [{"*"}] * 3


async def test_a_slash_message_that_is_no_payload_is_masked_whole_with_its_intent_name(store):
    """Rasa takes "/李四 ..." for an intent named "李四": the text and that name are masked;
    a real button payload is kept."""
    events = [ActionExecuted("action_listen"), user("/李四 好人", "李四"), ActionExecuted("action_listen"),
              user("/affirm", "affirm"), ActionExecuted("action_listen")]
    await store.save(new_tracker("conv-slash", events))

    stored = raw_text(store.db_path)
    assert "李四" not in stored and "好人" not in stored
    texts = [json.loads(r["data"])["text"] for r in rows(store.db_path) if json.loads(r["data"])["event"] == "user"]
    assert texts == ["*** **", "/affirm"]


def test_warnings_and_prints_are_masked(monkeypatch):
    """Rasa warns with the user's words for a message starting with "/"; a
    print goes to the process's output as is: both are masked."""
    from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
    from rasa.shared.nlu.training_data.message import Message

    err, out, logged = io.StringIO(), io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    monkeypatch.setattr("sys.stdout", out)
    handler = logging.StreamHandler(logged)
    logging.getLogger("py.warnings").addHandler(handler)
    log_redaction.install()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            RegexMessageHandler().process([Message(data={"text": f"/李四 {ID_NUMBER}"})],
                                          domain=Domain.from_yaml('version: "3.1"\nintents: [greet]'))
        print(f"李四的电话 {PHONE[:3]} {PHONE[3:7]} {PHONE[7:]}")
    finally:
        log_redaction.uninstall()
        logging.getLogger("py.warnings").removeHandler(handler)
    everything = err.getvalue() + out.getvalue() + logged.getvalue()
    assert "Failed to parse arguments" in logged.getvalue()
    assert "李四 " not in everything and ID_NUMBER[6:14] not in everything
    assert "0000 0002" not in everything and "138****0002" in out.getvalue()
