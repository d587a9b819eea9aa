"""Fixtures of the unit suite: a temporary root per test, keys made once per session, private
test CAs, and the `xivo-certs` command run in-process (`xc`) or as a subprocess (`cmd`).

Run with Debian's interpreter only: /usr/bin/python3 -m pytest tests/unit (python3-cryptography 38),
as root or not: without root, xivo-certs gives its files the test user's ids (support.owners).
The unit suite's own helpers are in xc_testlib.py, the shared ones in tests/support.
"""

import functools
import os
import sys

import pytest

# Hypothesis keeps its caches with pytest's (ignored by git), not in .hypothesis/ of the checkout.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    ".pytest_cache", "hypothesis"))

from hypothesis import settings as hypothesis_settings  # noqa: E402

from support import chains  # noqa: E402
from support.command import LAUNCHER  # noqa: E402
from support.layout import CHECKOUT  # noqa: E402
from support.owners import INJECTED_OWNER, OWNER_ENV  # noqa: E402
from support.pool import POOL, PrivateCA  # noqa: E402
from xc_testlib import Result, Root, run_command  # noqa: E402
from xivo_certs import cli, x509 as core_x509  # noqa: E402

REAL_NEW_KEY = core_x509.new_key


# No example database in the checkout (.hypothesis/): every run starts clean.
hypothesis_settings.register_profile("xivo-certs-unit", database=None, deadline=None)
hypothesis_settings.load_profile("xivo-certs-unit")


def pytest_configure(config):
    # the suite makes SHA-1 certificates on purpose (weak ones must be refused or replaced)
    config.addinivalue_line("filterwarnings", "ignore:SHA1 signatures are deprecated")


def pytest_sessionstart(session):
    if not sys.executable.startswith("/usr/bin/python3"):
        raise pytest.UsageError(f"run the unit tests with Debian's /usr/bin/python3, not {sys.executable}")


@pytest.fixture(scope="session")
def keys():
    return POOL


@pytest.fixture(autouse=True)
def pooled_new_key(monkeypatch):
    """In-process, new keys come from the pool (unknown types still go to the real function,
    which refuses them); the key types asked for are recorded. test_x509 keeps the real one."""
    calls = []

    def new_key(key_type):
        calls.append(key_type)
        if key_type not in core_x509.KEY_TYPES:
            return REAL_NEW_KEY(key_type)
        return POOL.get(key_type)
    monkeypatch.setattr(core_x509, "new_key", new_key)
    return calls


@pytest.fixture(scope="session")
def ca():
    """A private CA (hand-made, EC keys from the pool): for leaves with chosen dates, hashes, keys,
    extensions or names."""
    return PrivateCA(POOL)


@pytest.fixture(scope="session")
def ordinary_ca():
    """A private CA from trustme (support.chains): for ordinary chains, CA or intermediate to leaf."""
    return chains.CA("xivo-certs unit tests")


@pytest.fixture(scope="session")
def issued(ordinary_ca):
    """issued(*names, intermediate=False): a leaf for `names` (a support.chains.Leaf; its `chain` is
    the intermediate, if any), issued by ordinary_ca or by its one intermediate. trustme makes a new
    RSA key for each, which is slow: the same arguments give the same leaf for the whole session."""
    middle = functools.cache(ordinary_ca.intermediate)

    @functools.cache
    def issue(*names, intermediate=False):
        return (middle() if intermediate else ordinary_ca).issue(*names)
    return issue


@pytest.fixture
def root(tmp_path, monkeypatch):
    """A fresh temporary root; hooks run by hand find the checkout's `xivo-certs` first on PATH."""
    monkeypatch.setenv("PATH", f"{LAUNCHER.parent}:/usr/sbin:/usr/bin:/sbin:/bin")
    monkeypatch.setenv("PYTHONPATH", str(CHECKOUT))
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    for variable in [v for v in os.environ if v.startswith("XIVO_CERTS_")]:
        monkeypatch.delenv(variable)
    for variable, value in OWNER_ENV.items():  # for the hooks' `xivo-certs override`
        monkeypatch.setenv(variable, value)
    return Root(tmp_path)


@pytest.fixture
def xc(root, capfd):
    """`xivo-certs --root ROOT ARGS` run in this process (pooled keys): a Result."""
    def run(*args, root_dir=None):
        capfd.readouterr()
        try:
            code = cli.main(["--root", str(root_dir or root), *map(str, args)], owner=INJECTED_OWNER)
        except SystemExit as exit_:
            code = exit_.code
        out, err = capfd.readouterr()
        return Result(code, out, err)
    return run


@pytest.fixture
def cmd(root):
    """`/usr/bin/python3 bin/xivo-certs --root ROOT ARGS` as a subprocess: a Result."""
    def run(*args, **options):
        return run_command(root.path, *args, **options)
    return run
