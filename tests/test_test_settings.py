"""The test suite's own settings: what keeps its parallel processes apart."""

import os

import pytest
from django.conf import settings

from learnertracking.test_settings import REDIS_URL_GIVEN, _redis_of_this_test_process


def test_it_gives_each_test_process_a_redis_database_of_its_own():
    url = "redis://127.0.0.1:6379/15"
    assert _redis_of_this_test_process(url, "gw0") == "redis://127.0.0.1:6379/15"
    assert _redis_of_this_test_process(url, "gw1") == "redis://127.0.0.1:6379/14"
    assert _redis_of_this_test_process(url, "gw3") == "redis://127.0.0.1:6379/12"
    assert _redis_of_this_test_process(url, "") == url  # one process: as given
    assert _redis_of_this_test_process("", "gw1") == ""  # no Redis: none


def test_it_refuses_a_redis_database_below_zero():
    with pytest.raises(RuntimeError, match="too few Redis databases"):
        _redis_of_this_test_process("redis://127.0.0.1:6379/1", "gw2")


@pytest.mark.skipif(not os.environ.get("PYTEST_XDIST_WORKER"), reason="one test process")
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI sets it)")
def test_it_hands_this_process_s_redis_database_to_what_it_starts():
    worker = int(os.environ["PYTEST_XDIST_WORKER"].removeprefix("gw"))
    given = int(REDIS_URL_GIVEN.rpartition("/")[2])
    assert os.environ["REDIS_URL"].endswith(f"/{given - worker}")
    assert os.environ["REDIS_URL"] == settings.REDIS_URL
