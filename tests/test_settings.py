from bot.core import settings
from bot.core.paths import ROOT


def test_defaults_and_expansion():
    env = settings.resolved({"ACTION_SERVER_PORT": "6000", "HELPDESK_HOST": "127.0.0.2"})
    assert env["RASA_PORT"] == "5005"
    assert env["ACTION_SERVER_URL"] == "http://127.0.0.2:6000/webhook"
    assert settings.resolved({"ACTION_SERVER_URL": "http://x/webhook"})["ACTION_SERVER_URL"] == "http://x/webhook"


def test_every_variable_rasa_reads_is_a_setting():
    import re

    names = {s.name for s in settings.SETTINGS}
    for path in ("endpoints.yml", "credentials.yml"):
        lines = [l for l in (ROOT / path).read_text().splitlines() if not l.lstrip().startswith("#")]
        for variable in re.findall(r"\$\{(\w+)\}", "\n".join(lines)):
            assert variable in names, (path, variable)


def test_readme_shows_the_current_settings_table():
    assert settings.markdown_table() in (ROOT / "README.md").read_text(encoding="utf-8")
