"""bot/privacy/slots.py against domain.yml: every name is a slot, and every
slot that holds a person's data is in PERSONAL_SLOTS -- decided by what the
identity form asks for and by what its validation, run for a whole
verification on the real action server and card backend, puts in the slots."""
import re
import warnings

import httpx
import pytest
import yaml

from bot.core.paths import ROOT
from bot.core.settings import resolved
from bot.ops.launcher import action_server, backend
from bot.ops.processes import ServiceGroup
from bot.privacy import pii, sealed, slots
from tests.support.product import ACTION_HEADERS, product_environment

DOMAIN_FILE = ROOT / "domain.yml"
NAMES = {name: value for name, value in vars(slots).items() if name.isupper() and isinstance(value, str)}
# The demo holder the development backend seeds (bot/backend/seed.py).
NAME, ID_NUMBER, PHONE = "李四", "440524188001010014", "13800000002"
SENDER = "slot-names"


def domain_slots() -> set:
    return set(yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))["slots"])


def test_every_name_is_a_slot_and_every_slot_has_a_name():
    from rasa.shared.core.domain import Domain

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rasas_own = {slot.name for slot in Domain.load(str(DOMAIN_FILE)).slots} - domain_slots()
    assert slots.REQUESTED_SLOT in rasas_own  # Rasa adds it for the forms
    in_domain = domain_slots() | {slots.REQUESTED_SLOT}
    assert set(NAMES.values()) == in_domain
    for group in (slots.PERSONAL_SLOTS, slots.SECRET_SLOTS, slots.SECRET_PROMPTS, slots.IDENTITY_FORM,
                  slots.CALLBACK_FORM, slots.YES_NO_SLOTS):
        assert set(group) <= in_domain
    assert not slots.SECRET_FIELDS & in_domain  # a secret that became a slot belongs in SECRET_SLOTS
    assert slots.SECRET_SLOTS <= slots.PERSONAL_SLOTS and slots.SECRET_PROMPTS <= slots.PERSONAL_SLOTS
    assert not slots.YES_NO_SLOTS & slots.PERSONAL_SLOTS


def test_every_slot_a_form_asks_the_user_for_is_personal():
    """...but a yes or a no (the consent to a call back), which says nothing about the person."""
    domain = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))
    forms = domain["forms"]
    assert tuple(forms["verify_identity_form"]["required_slots"]) == slots.IDENTITY_FORM
    assert tuple(forms["callback_form"]["required_slots"]) == slots.CALLBACK_FORM
    for name, form in forms.items():
        assert set(form["required_slots"]) <= slots.PERSONAL_SLOTS | slots.YES_NO_SLOTS, name
    for name in slots.YES_NO_SLOTS:
        assert domain["slots"][name]["type"] == "bool", name


# --- a whole verification on the real action server and backend ---------------------------------

@pytest.fixture(scope="module")
def services(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("slot-names")
    env = product_environment(tmp_path, SANIC_HOST="127.0.0.1")
    env.update(resolved(env))  # BACKEND_URL and the other derived settings, as the launcher does
    group = ServiceGroup([backend(env, tmp_path), action_server(env, tmp_path)], env)
    group.start(timeout=120)
    yield env
    group.stop()


def validate(env, slot_values: dict, text: str, requested: str) -> dict:
    """The slots validate_verify_identity_form sets for `text` typed at the `requested` prompt."""
    domain = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))
    tracker = {
        "sender_id": SENDER,
        "slots": {**{name: None for name in domain["slots"]}, **slot_values, slots.REQUESTED_SLOT: requested},
        "latest_message": {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.4},
                           "entities": [], "message_id": f"m-{requested}"},
        "latest_event_time": 0, "followup_action": None, "paused": False, "events": [],
        "latest_input_channel": "rest", "active_loop": {"name": "verify_identity_form"},
        "latest_action": {"action_name": "action_listen"}, "latest_action_name": "action_listen",
    }
    response = httpx.post(
        f"http://127.0.0.1:{env['ACTION_SERVER_PORT']}/webhook", timeout=30, headers=ACTION_HEADERS,
        json={"next_action": "validate_verify_identity_form", "sender_id": SENDER, "tracker": tracker,
              "domain": domain, "version": "3.6.21"},
    )
    response.raise_for_status()
    return {event["name"]: event["value"] for event in response.json()["events"] if event["event"] == "slot"}


def latest_code(env) -> str:
    response = httpx.get(f"{env['BACKEND_URL']}/dev/outbox", params={"limit": 1}, timeout=10,
                         headers={"Authorization": f"Bearer {env['BACKEND_SERVICE_TOKEN']}"})
    response.raise_for_status()
    return re.search(r"\d{6}", response.json()["messages"][0]["text"]).group(0)


def test_every_slot_the_verification_fills_with_personal_data_is_personal(services):
    env = services
    filled = {}  # slot -> every value the validation set
    state = {}
    for requested, typed in ((slots.HOLDER_NAME, NAME), (slots.ID_NUMBER_MASKED, ID_NUMBER),
                             (slots.SMS_CODE, None)):
        set_now = validate(env, state, typed or latest_code(env), requested)
        for name, value in set_now.items():
            filled.setdefault(name, []).append(value)
        state.update(set_now)
    assert state[slots.SMS_CODE] == "verified", state  # the verification went through
    with pytest.MonkeyPatch.context() as patch:  # open the sealed values with the action server's key
        patch.setenv("SLOT_SEAL_KEY", env["SLOT_SEAL_KEY"])
        token = sealed.unseal(state[slots.VERIFICATION_TOKEN], SENDER)
    assert token
    personal = {NAME, pii.mask_name(NAME), ID_NUMBER, pii.mask_id_number(ID_NUMBER), PHONE, pii.mask_phone(PHONE),
                token}

    def holds_personal_data(value) -> bool:
        return sealed.is_sealed(value) or any(part in str(value) for part in personal)

    holding = {name for name, values in filled.items() if any(holds_personal_data(v) for v in values)}
    assert {slots.HOLDER_NAME, slots.ID_NUMBER_MASKED, slots.VERIFICATION_TOKEN} <= holding  # the test sees them
    assert holding <= slots.PERSONAL_SLOTS
    # ...and what the form puts in them is masked, sealed or a status, never the value typed.
    for name in holding | (set(filled) & slots.PERSONAL_SLOTS):
        for value in filled[name]:
            assert value is None or sealed.is_sealed(value) or "*" in value or value in ("verified", "failed", "-"), \
                (name, value)
