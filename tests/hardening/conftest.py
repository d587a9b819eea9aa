"""Fixtures of the hardening tests; their tools are in hardening_lib.py and tests/support.

Knobs (environment):
  XIVO_CERTS_CRASH_RUNS   kill -9 runs of the crash test (default 24; 200 or more for the full run)
  XIVO_CERTS_HYPOTHESIS   examples per in-process property test (default 100; the ones running
                          the real command get a twentieth, at least 5)
"""

import pytest

from hardening_lib import make_root


def pytest_configure(config):
    config.addinivalue_line("markers", "mounts: needs root and mount(2) (tmpfs, bind mounts)")


@pytest.fixture
def root(tmp_path):
    return make_root(tmp_path / "root")


@pytest.fixture
def default_root(tmp_path):
    """A root with a generated default pair (EC, fast) in place and its hooks run."""
    made = make_root(tmp_path / "root")
    made.run("generate", "--key-type", "ec:p256", check=0)
    return made
