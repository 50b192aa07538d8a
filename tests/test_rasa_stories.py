"""The conversations of tests/test_stories.yml, end to end: every story typed
through the REST channel of a product started as `make run` starts it (NLU,
language detection, policies, action server, card backend), and checked
against the Rasa server's tracker and what the user saw (tests/e2e_stories.py)."""
import httpx
import pytest

from tests.e2e_stories import Conversation, load, play
from tests.support.product import start_product

pytestmark = pytest.mark.product
STORIES = load()


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    """A product of its own: the stories lock two demo holders out, activate one
    card and report two lost, and ask for more codes than the backend's SMS quotas allow."""
    running = start_product(tmp_path_factory.mktemp("stories"),
                            SMS_CODES_PER_IDENTITY_HOUR="1000", SMS_CODES_PER_PHONE_DAY="10000")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def conversation(product):
    def events(sender):
        response = httpx.get(f"{product.rasa_url}/conversations/{sender}/tracker",
                             params={"token": product.env["RASA_AUTH_TOKEN"]}, timeout=30)
        response.raise_for_status()
        return response.json()["events"]

    return Conversation(say=product.say, events=events, sms_code=product.latest_sms_code)


@pytest.mark.parametrize("number", range(len(STORIES)), ids=[story.name for story in STORIES])
def test_story(conversation, number):
    play(STORIES[number], conversation, sender=f"story-{number}")
