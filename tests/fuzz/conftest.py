"""One product (`python -m bot run`) for the whole fuzz package. Every test
leaves it as it found it: no process restarted (checked after each test) and
every server answering a real question normally (checked after each module)."""
import httpx
import pytest

from tests.fuzz.hostile import answers_normally
from tests.support.product import start_product
from tests.support.web import login
from tests.support.wechat_server import WeChatServer


@pytest.fixture(scope="package")
def product(tmp_path_factory):
    running = start_product(tmp_path_factory.mktemp("fuzz-product"))
    yield running
    running.stop()


@pytest.fixture(scope="package")
def wechat(product):
    """WeChat's side of the product's account."""
    return WeChatServer.of(product.env)


@pytest.fixture(autouse=True)
def no_process_restarted(product):
    before = product.processes()
    yield
    assert product.processes() == before, "a process of the product was restarted during this test"
    launcher = product.output.read_text(errors="replace")
    assert "starting it again" not in launcher, launcher[-2000:]


@pytest.fixture(scope="module", autouse=True)
def servers_answer_afterwards(product, wechat):
    yield
    answers_normally(product, wechat)


@pytest.fixture(scope="package")
def staff_cookies(product):
    """A staff login for the tests of the search."""
    with httpx.Client(base_url=product.web_url, timeout=30) as client:
        assert login(client).status_code == 200
        return dict(client.cookies)
