"""A Rasa server with the WeChat channel alone (no REST channel in its
credentials) whose tracker database fails: the follower is told to try again
instead of being answered from an empty conversation, and once the database
is back the conversation goes on where it was (bot/rasa_ext/bootstrap.py)."""
import contextlib
import re
import sqlite3

import httpx
import pytest
import yaml

from bot.channels.wechat import rendering
from bot.core.paths import ROOT
from bot.core.settings import resolved
from bot.ops.launcher import action_server, rasa_server
from bot.ops.processes import ServiceGroup
from tests.support.product import product_environment, stored_user_texts
from tests.support.wechat_server import WeChatServer, text_xml

pytestmark = pytest.mark.product

WECHAT_CHANNEL = "bot.channels.wechat.WeChatInput"
ASK_NAME = "为了核实您的身份，请告诉我您的姓名"
ASK_ID = "请输入您的18位居民身份证号码。"
OPENID = "oWeChatAlone00000000000000001"


@pytest.fixture(scope="module")
def wechat_alone(tmp_path_factory):
    """The action server and a Rasa server started as the launcher starts them,
    with credentials.yml's WeChat channel and nothing else."""
    tmp_path = tmp_path_factory.mktemp("wechat-alone")
    # A long passive-reply window: a slow first turn on a busy machine still answers in the reply.
    env = product_environment(tmp_path, SANIC_HOST="127.0.0.1", WECHAT_REPLY_SECONDS="30")
    env.update(resolved(env))
    channel = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))[WECHAT_CHANNEL]
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(yaml.safe_dump({WECHAT_CHANNEL: {
        key: re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], str(value)) for key, value in channel.items()
    }}), encoding="utf-8")
    rasa = rasa_server(env, tmp_path)
    assert "credentials.yml" in rasa.command
    rasa.command = [str(credentials) if arg == "credentials.yml" else arg for arg in rasa.command]
    group = ServiceGroup([action_server(env, tmp_path), rasa], env)
    group.start(timeout=300)
    yield env
    group.stop()


@contextlib.contextmanager
def tracker_database_broken(path: str):
    """Every read and write of the conversation store fails (its table is gone) until the end."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("ALTER TABLE events RENAME TO events_away")
        connection.commit()
        try:
            yield
        finally:
            connection.execute("ALTER TABLE events_away RENAME TO events")
            connection.commit()


def say(env, text: str) -> str:
    """What the follower sees for one message sent in safe mode."""
    wechat = WeChatServer(env["WECHAT_TOKEN"], env["WECHAT_APP_ID"], env["WECHAT_ENCODING_AES_KEY"])
    params, body = wechat.request(text_xml(OPENID, text))
    response = httpx.post(f"http://127.0.0.1:{env['RASA_PORT']}/webhooks/wechat/webhook",
                          params=params, content=body, timeout=60)
    return wechat.read_reply(response.status_code, response.text)


def test_a_failed_database_fails_the_turn_instead_of_forgetting_the_conversation(wechat_alone):
    env = wechat_alone
    rest = httpx.post(f"http://127.0.0.1:{env['RASA_PORT']}/webhooks/rest/webhook", json={}, timeout=30)
    assert rest.status_code == 404  # no REST channel in this server
    assert ASK_NAME in say(env, "帮我查一下社保卡状态")
    with tracker_database_broken(env["TRACKER_DB"]):
        # From an empty conversation "张三" would be no answer to the form's question.
        assert say(env, "张三") == rendering.TURN_FAILED["zh"]
    assert ASK_ID in say(env, "张三")  # the form goes on where it was
    # Only the turns that were answered are stored, each once.
    assert stored_user_texts(env["TRACKER_DB_URL"], OPENID) == ["帮我查一下社保卡状态", "张*"]
