"""tests/support/markers.py: `make test-fast` cannot start the product behind
anyone's back. A test that uses the product's (or a service's) fixture
without the marker stops the collection; one that starts the product
directly without it fails before anything starts. Run on small test modules
of their own (pytester), with this project's pytest.ini and markers plugin."""
import pytest

from bot.core.paths import ROOT

CONFTEST = '''
import pytest

pytest_plugins = ["tests.support.markers"]
STARTED = []


@pytest.fixture(scope="session")
def product():
    STARTED.append("product")
    yield "a product"


@pytest.fixture
def chat(product):  # a fixture that needs the product
    return product
'''


@pytest.fixture
def project(pytester):
    pytester.makeini((ROOT / "pytest.ini").read_text().replace("testpaths = tests\n", ""))
    pytester.makeconftest(CONFTEST)
    return pytester


def test_a_test_using_the_product_without_its_marker_stops_the_collection(project):
    project.makepyfile(test_unmarked="""
        def test_talks(chat):
            assert chat
        def test_alone():
            pass
    """)
    result = project.runpytest_inprocess("-m", "not product")  # as make test-fast runs
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*start something without its marker*",
                                 "*test_unmarked.py::test_talks: product*"])
    result.stdout.no_fnmatch_line("*passed*")


def test_marked_tests_are_collected_and_deselected_by_the_fast_set(project):
    project.makepyfile(test_marked="""
        import pytest
        pytestmark = pytest.mark.product
        def test_talks(chat):
            assert chat == "a product"
    """, test_alone="""
        def test_alone():
            pass
    """)
    result = project.runpytest_inprocess("-m", "not product")
    result.assert_outcomes(passed=1, deselected=1)
    result = project.runpytest_inprocess()
    result.assert_outcomes(passed=2)


def test_starting_the_product_directly_without_its_marker_fails_before_it_starts(project):
    project.makepyfile(test_direct="""
        from tests.support.product import start_product
        def test_starts(tmp_path):
            start_product(tmp_path)
    """)
    result = project.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*test_starts starts the product but is not marked `product`*"])


def test_a_service_without_its_marker_fails_before_it_is_used(project):
    project.makepyfile(test_services="""
        from tests.support.postgres import fresh_database
        from tests.support.redis_server import redis_url
        def test_postgres():
            with fresh_database("never"):
                pass
        def test_redis():
            redis_url()
    """)
    result = project.runpytest_inprocess()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*test_postgres uses PostgreSQL but is not marked `postgres`*",
                                 "*test_redis uses Redis but is not marked `redis`*"])
