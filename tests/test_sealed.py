"""bot/privacy/sealed.py: slot values only the action server can read."""
import base64

import pytest

from bot.privacy import sealed

KEY = base64.urlsafe_b64encode(b"k" * 32).decode()
OTHER_KEY = base64.urlsafe_b64encode(b"o" * 32).decode()


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("SLOT_SEAL_KEY", KEY)


SENDER = "conversation-a"


def test_round_trip_and_no_clear_text():
    value = sealed.seal("张三", SENDER)
    assert value.startswith(sealed.PREFIX) and "张三" not in value and sealed.is_sealed(value)
    assert SENDER not in value
    assert sealed.unseal(value, SENDER) == "张三"
    assert sealed.seal("张三", SENDER) != value  # a fresh IV each time: equal names do not show


def test_a_sealed_value_opens_only_in_its_own_conversation():
    """A value lifted from one conversation (e.g. from the tracker store) is worthless in another."""
    value = sealed.seal("verification-token", SENDER)
    for other in ("conversation-b", SENDER + " ", SENDER.upper(), ""):
        assert sealed.unseal(value, other) is None
    assert sealed.unseal(value, SENDER) == "verification-token"


def test_anything_not_sealed_by_us_opens_to_none(monkeypatch):
    value = sealed.seal("token-abc", SENDER)
    assert sealed.unseal("token-abc", SENDER) is None and sealed.unseal(None, SENDER) is None
    assert sealed.unseal(42, SENDER) is None
    tampered = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    assert sealed.unseal(tampered, SENDER) is None
    assert sealed.unseal(sealed.PREFIX + "not base64!", SENDER) is None
    monkeypatch.setenv("SLOT_SEAL_KEY", OTHER_KEY)
    assert sealed.unseal(value, SENDER) is None


def test_an_empty_setting_uses_a_key_kept_in_var_secrets(monkeypatch, tmp_path):
    from bot.core import local_secrets

    monkeypatch.setenv("SLOT_SEAL_KEY", "")
    monkeypatch.setattr(local_secrets, "SECRETS_DIR", tmp_path / "secrets")
    value = sealed.seal("王小明", SENDER)
    kept = (tmp_path / "secrets" / "slot_seal_key")
    assert kept.stat().st_mode & 0o777 == 0o600
    assert sealed.unseal(value, SENDER) == "王小明"
    monkeypatch.setenv("SLOT_SEAL_KEY", kept.read_text().strip())
    assert sealed.unseal(value, SENDER) == "王小明"
