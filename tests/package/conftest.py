"""Fixtures of the package scenario suite (marker `package`): the real .deb, the stand-in packages,
the cached base root of each distribution and a fresh overlay root per test.

Environment:
  DIST=path/to/xivo-certs_V_all.deb   test this .deb instead of running `make deb`
  XIVO_CERTS_SUITES="bookworm trixie" distributions to run on (default both)
  XIVO_CERTS_TEST_CACHE, XIVO_CERTS_TEST_WORK, XIVO_CERTS_TEST_MIRROR  see debroot.py
"""

import fcntl
import os
import re
import shutil
import subprocess

import pytest
from debian.debfile import DebFile

import debroot
from helpers import ADMIN_HOST, ADMIN_HOST2, ORG
from support import certs, chains

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

SUITES = debroot.selected_suites()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "package: scenario tests that install the real .deb into throwaway Debian roots "
                   "(root, mmdebstrap, network for the first base build)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if str(item.fspath).startswith(HERE + os.sep):
            item.add_marker(pytest.mark.package)


def pytest_sessionstart(session):
    if os.geteuid() != 0:
        raise pytest.UsageError("the package scenarios need root (mount, chroot, unshare)")
    missing = [t for t in ("mmdebstrap", "unshare", "chroot", "dpkg-deb", "openssl", "equivs-build")
               if shutil.which(t) is None]
    if missing:
        raise pytest.UsageError(f"missing tools: {' '.join(missing)} (run `make package-deps`)")
    debroot.cleanup_stale()


# ---------------------------------------------------------------------------------------- the .deb

@pytest.fixture(scope="session")
def deb(tmp_path_factory):
    """The real package: $DIST, or the newest dist/xivo-certs_*_all.deb after `make deb` -- run
    once per session, also with several xdist workers (the first one builds, under a lock)."""
    path = os.environ.get("DIST")
    if path:
        if not os.path.isfile(path):
            pytest.fail(f"DIST={path}: no such .deb")
        return os.path.abspath(path)
    shared = tmp_path_factory.getbasetemp().parent  # common to the workers of one session
    with open(shared / "deb.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / "deb.path"
        if done.exists():
            return done.read_text()
        res = subprocess.run(["make", "-C", REPO, "deb"], capture_output=True, text=True)
        if res.returncode:
            pytest.fail(f"`make deb` failed ({res.returncode}):\n{res.stdout[-3000:]}\n"
                        f"{res.stderr[-3000:]}")
        path = debroot.newest_deb(os.path.join(REPO, "dist"))
        if not path:
            pytest.fail("`make deb` made no dist/xivo-certs_*_all.deb")
        done.write_text(path)
        return path


@pytest.fixture(scope="session")
def deb_version(deb):
    return DebFile(deb).debcontrol()["Version"]


@pytest.fixture(scope="session")
def deb_next(deb, deb_version, tmp_path_factory):
    """The real .deb repacked as version V+t1: an upgrade of the package over itself."""
    tmp = tmp_path_factory.mktemp("next")
    tree = tmp / "tree"
    subprocess.run(["dpkg-deb", "-R", deb, str(tree)], check=True)
    control = (tree / "DEBIAN" / "control").read_text()
    version = deb_version + "+t1"
    control = re.sub(r"(?m)^Version: .*$", f"Version: {version}", control)
    (tree / "DEBIAN" / "control").write_text(control)
    out = tmp / f"xivo-certs_{version}_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-b", str(tree), str(out)],
                   check=True, capture_output=True)
    return str(out)


@pytest.fixture(scope="session")
def standins(tmp_path_factory):
    return debroot.build_standins(str(tmp_path_factory.mktemp("standins")))


# ------------------------------------------------------------------------------------------- roots

class Bases:
    def __init__(self, deb):
        self.deb, self.trees = deb, {}

    def tree(self, suite):
        if suite not in self.trees:
            self.trees[suite] = debroot.base_tree(suite, self.deb)
        return self.trees[suite]


@pytest.fixture(scope="session")
def bases(deb):
    return Bases(deb)


@pytest.fixture(params=SUITES)
def suite(request):
    return request.param


def scenario_label(node):
    m = re.match(r"test_s(\d+)_(\w+?)(\[(.*)\])?$", node.name)
    if m:
        return f"scenario {int(m.group(1))} {m.group(2)} [{m.group(4) or ''}]"
    return node.name


@pytest.fixture
def make_root(request, bases):
    """make_root(suite) -> a fresh debroot.Root; all are unmounted and removed at teardown."""
    roots = []

    def make(suite, label=None):
        root = debroot.Root(suite, bases.tree(suite), label or scenario_label(request.node))
        roots.append(root)
        return root

    yield make
    for root in roots:
        root.close()


@pytest.fixture
def root(make_root, suite):
    return make_root(suite)


# ------------------------------------------------------------------------------ admin certificates

@pytest.fixture(scope="session")
def pki_set():
    """Admin certificates for xivo.example.com: issued (python3-trustme chains) by a CA the test
    adds to the system trust store (directly, or through an intermediate sent in server.crt) or by
    a private CA (chain in server.crt); and self-signed ones (hand-made, one of them EC)."""
    trusted_ca = chains.CA("xivo-certs tests trusted root CA")
    private_ca = chains.CA("xivo-certs tests private CA")
    out = {"trusted_ca": trusted_ca.cert, "private_ca": private_ca.cert}
    leaf = trusted_ca.issue(ADMIN_HOST)
    out["trusted"] = (leaf.pem, leaf.key_pem)
    # The usual public CA layout: leaf + intermediate in server.crt, the root only in the
    # system trust store.
    leaf = trusted_ca.intermediate("xivo-certs tests intermediate CA").issue(ADMIN_HOST)
    out["trusted-intermediate"] = (leaf.pem, leaf.key_pem)
    leaf = private_ca.issue(ADMIN_HOST)
    out["private"] = (leaf.pem + private_ca.pem, leaf.key_pem)
    for name, host, key_type in (("selfsigned", ADMIN_HOST, "rsa:2048"),
                                 ("selfsigned2", ADMIN_HOST2, "ec:p256")):
        key, cert = certs.self_signed([host], key_type, org=ORG)
        out[name] = (certs.cert_pem(cert), certs.key_pem(key))
    return out
