"""The code prompt shows no phone number: the backend gives no hint of the
phone on file (it answers a name and ID number no holder has the same way,
tests/backend/test_enumeration.py), so nothing can fill one in. And no slot in
domain.yml is dead: each one the actions own is given a value by them (a
`phone_masked` slot was declared, read for the prompt and cleared, never set)."""
import ast

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.forms import ActionAskSmsCode
from bot.core.paths import ROOT
from tests.test_form_validation import DOMAIN, tracker

PROMPT = {
    "zh": "如果姓名和身份证号码与登记信息一致，验证码已发送到预留手机，请输入6位验证码（5分钟内有效）。",
    "en": "If the name and ID number match our records, a code has been sent to the phone on file. "
          "Please type the 6-digit code (valid for 5 minutes).",
}


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_the_code_prompt_says_where_the_code_went_without_a_number(language):
    dispatcher = CollectingDispatcher()
    await ActionAskSmsCode().run(dispatcher, tracker("sms_code", "440305199203150043", language=language), DOMAIN)
    assert [m["text"] for m in dispatcher.messages] == [PROMPT[language]]


def _slots_given_a_value() -> set:
    """Slot names the actions set to something other than None: a key of a
    returned dict or SlotSet's first argument, as `slots.NAME` or a string."""
    from bot.privacy import slots

    def name(node):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "slots":
            return getattr(slots, node.attr, None)
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    def is_none(node):
        return isinstance(node, ast.Constant) and node.value is None

    found = set()
    for path in (ROOT / "actions").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                found |= {name(k) for k, v in zip(node.keys, node.values) if k is not None and not is_none(v)}
            elif (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "SlotSet"
                  and len(node.args) == 2 and not is_none(node.args[1])):
                found.add(name(node.args[0]))
    return found - {None}


def test_every_slot_the_actions_own_is_set_by_them():
    declared = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["slots"]
    custom = {slot for slot, spec in declared.items()
              if all(mapping.get("type") == "custom" for mapping in spec.get("mappings") or [])}
    assert custom - _slots_given_a_value() == set()

