"""One product (`python -m bot run`) for the whole fuzz package, with the pids it started with."""
import json
from pathlib import Path

import httpx
import pytest

from tests.conftest import start_product
from tests.web.conftest import login


@pytest.fixture(scope="package")
def product(tmp_path_factory):
    running = start_product(tmp_path_factory.mktemp("fuzz-product"))
    running.pids_at_start = processes(running)
    yield running
    running.stop()


def processes(product) -> dict:
    """name -> pid, from RUN_DIR/processes.json."""
    state = json.loads((Path(product.env["RUN_DIR"]) / "processes.json").read_text())
    return {entry["name"]: entry["pid"] for entry in state}


@pytest.fixture(scope="package")
def staff_cookies(product):
    """A staff login taken before any login fuzzing can throttle this address."""
    with httpx.Client(base_url=product.web_url, timeout=30) as client:
        assert login(client).status_code == 200
        return dict(client.cookies)
