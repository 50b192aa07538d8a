"""`rasa test core` on tests/test_stories.yml against the trained model, with
the real action server (the fallback's actions run there)."""
import subprocess
import sys

from bot.launcher import action_server
from bot.paths import ROOT
from bot.processes import ServiceGroup
from tests.conftest import MODEL, product_environment


def test_every_test_story_passes(tmp_path):
    env = product_environment(tmp_path)
    env["ACTION_SERVER_URL"] = f"http://127.0.0.1:{env['ACTION_SERVER_PORT']}/webhook"
    env["SANIC_HOST"] = "127.0.0.1"
    group = ServiceGroup([action_server(env, tmp_path)], env)
    group.start(timeout=60)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "rasa", "test", "core", "--stories", "tests/test_stories.yml",
             "--model", str(MODEL), "--endpoints", "endpoints.yml",
             "--out", str(tmp_path / "results")],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
        )
    finally:
        group.stop()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    failed = (tmp_path / "results" / "failed_test_stories.yml").read_text()
    assert "story:" not in failed, failed
