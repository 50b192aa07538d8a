"""The markers that say what a test starts (pytest.ini registers and describes
them), and two checks that keep them true, so that `make test-fast`
(the Makefile's FAST: none of product, browser, postgres, redis, cluster,
model, fuzz) can never start the product, a browser or a service behind a
newcomer's back. A pytest plugin: tests/conftest.py loads it.

- At collection: a test that uses a fixture of FIXTURE_MARKERS without its
  markers stops the run (a usage error naming the tests), whatever `-m` says.
- At run time: what starts something calls `require(marker)` first, so a test
  that starts it without a fixture (a direct `start_product(...)`) fails at
  once, before anything is started, if it lacks the marker.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Tuple

import pytest

# fixture name -> the markers every test using it (directly or through another fixture) must carry.
FIXTURE_MARKERS: Dict[str, Tuple[str, ...]] = {
    "product": ("product",),  # tests/conftest.py, and the packages' and modules' own products
    "shared_product": ("product",),
    "cluster": ("cluster", "product", "postgres", "redis"),
    "browser": ("browser",),
    "open_page": ("browser",),
    "redis_prefix": ("redis",),
    "redis_url": ("redis",),
}

_current: Optional[pytest.Item] = None  # the test being set up, run or torn down


def missing_markers(fixturenames: Iterable[str], markers: Iterable[str]) -> List[str]:
    """Markers the fixtures in `fixturenames` need that `markers` lacks, sorted."""
    have = set(markers)
    need = {marker for name in fixturenames for marker in FIXTURE_MARKERS.get(name, ())}
    return sorted(need - have)


def require(marker: str, what: str) -> None:
    """Fail the current test (before `what` starts) unless it carries `marker`."""
    if _current is not None and _current.get_closest_marker(marker) is None:
        pytest.fail(f"{_current.nodeid} {what} but is not marked `{marker}` "
                    f"(pytestmark = pytest.mark.{marker}; see pytest.ini)", pytrace=False)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects anything
def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    unmarked = []
    for item in items:
        missing = missing_markers(getattr(item, "fixturenames", ()), (m.name for m in item.iter_markers()))
        if missing:
            unmarked.append(f"  {item.nodeid}: {', '.join(missing)}")
    if unmarked:
        raise pytest.UsageError("tests that start something without its marker (pytest.ini lists them):\n"
                                + "\n".join(unmarked))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    global _current
    _current = item
