"""`make run`'s launcher keeps the product up: the Rasa server killed in the
middle of a form is started again, and the conversation resumes the form
from the tracker store (SQLite, the embedded default)."""
import json
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.support.product import start_product

pytestmark = pytest.mark.product


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    product = start_product(tmp_path_factory.mktemp("restart"))
    yield product
    product.stop()


def rasa_pid(product) -> int:
    state = json.loads((Path(product.env["RUN_DIR"]) / "processes.json").read_text())
    return next(p["pid"] for p in state if p["name"] == "rasa server")


def test_the_rasa_server_restarted_mid_form_resumes_the_form(single):
    sender = "restart-mid-form"
    texts = lambda replies: "\n".join(r.get("text") or "" for r in replies)  # noqa: E731
    assert "姓名" in texts(single.say(sender, "帮我查一下社保卡状态"))
    assert "身份证号码" in texts(single.say(sender, "张三"))

    killed = rasa_pid(single)
    os.killpg(killed, signal.SIGKILL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:  # the launcher starts it again and it loads the model
        try:
            if rasa_pid(single) != killed and httpx.get(single.rasa_url, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(1)
    assert rasa_pid(single) != killed
    assert "exited with code -9; starting it again" in single.output.read_text()

    # The same conversation, the same form, the next slot.
    sent = texts(single.say(sender, "11010519491231002X"))
    assert "验证码已发送到预留手机" in sent and "138****0001" not in sent
    done = texts(single.say(sender, single.latest_sms_code()))
    assert "身份核验成功" in done and "正常使用中" in done
