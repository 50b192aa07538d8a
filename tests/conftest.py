"""Fixtures every package may use: the whole product as `make run` starts it.
Helpers live in tests/support/; the markers plugin keeps `make test-fast` fast."""
import pytest

pytest.register_assert_rewrite("tests.support")  # before the first import of it: helpers' asserts explain themselves
from bot.privacy import log_redaction  # noqa: E402
from tests.support.product import start_product  # noqa: E402

pytest_plugins = ["tests.support.markers", "tests.support.personal_values", "pytester"]


@pytest.fixture(autouse=True)
def log_redaction_as_found():
    """A test that creates one of our Rasa plug-ins (or imports `actions`) turns log redaction on
    for the process, wrapping sys.stdout/stderr as pytest captures them for that one test: off
    again afterwards, so later tests of the worker start as they would alone."""
    was_installed = log_redaction.installed()
    yield
    if not was_installed:
        log_redaction.uninstall()


@pytest.fixture(scope="session")
def shared_product(tmp_path_factory):
    running = start_product(tmp_path_factory.mktemp("product"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def product(request, tmp_path_factory):
    """The product, shared by the session's modules; a module marked `own_product`
    (its tests change the product's data: demo cards activated, identities
    locked) gets one of its own, so the others never see those changes."""
    if request.node.get_closest_marker("own_product") is None:
        yield request.getfixturevalue("shared_product")
        return
    running = start_product(tmp_path_factory.mktemp(f"product-{request.module.__name__.rsplit('.', 1)[-1]}"))
    yield running
    running.stop()


# --- which worker runs what (make test: pytest -n <cores> --dist loadfile) ----------------------------

# Files whose tests must share one worker: the cluster package's files all use one cluster (a
# package fixture) and its Redis database; a second worker starting a second cluster flushed it
# under the first one's feet (staff logged out, hand-overs gone: a CI run failed so).
_ONE_WORKER = ("tests/cluster/",)


def pytest_xdist_make_scheduler(config, log):
    """--dist loadfile, with each of _ONE_WORKER's folders one unit of work."""
    if config.getoption("dist", None) != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class FolderOrFileScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            folder = next((f for f in _ONE_WORKER if nodeid.startswith(f)), None)
            return folder or super()._split_scope(nodeid)

    return FolderOrFileScheduling(config, log)
