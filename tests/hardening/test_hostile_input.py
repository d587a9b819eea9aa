"""Hostile and broken input: every case is refused with exactly one line on stderr naming the file
(or the argument) and the problem, exit 1, and nothing changes anywhere under the root.

The root holds an admin's CA-signed certificate for a name that is not localhost, so the override,
its links and ca.crt are all in place and part of the before/after snapshot.
"""

import datetime
import fcntl
import os
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from hardening_lib import SECRET, AdminPair, make_ca, make_cert, make_root, new_key
from support.asserts import one_line
from support.certs import cert_pem, key_pem, now
from support.locks import blocked_or_done
from support.snapshots import diff as snapshot_diff, snapshot
from xivo_certs import state as state_module

DAY = datetime.timedelta(days=1)
STATE = "var/lib/xivo-certs/state"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A root with an admin's pair, its override and links; plus a directory of input files."""
    base = tmp_path_factory.mktemp("hostile")
    root = make_root(base / "root")
    root.run("generate", "--key-type", "ec:p256", check=0)
    ca = make_ca()
    admin = AdminPair(base / "in", "admin", ("pbx.example.com",), issuer=ca, chain=[ca.cert])
    root.run(*admin.install_args(), check=0)
    assert root.override.is_file() and all(
        (d / "010-custom-certificate.yml").is_symlink() for d in root.confd_dirs())
    return {"root": root, "ca": ca, "admin": admin, "dir": base / "in"}


# --- the cases: each returns (argv after the root, the path or word the line must name) ---------

def _files(world, name, cert=None, key=None, chain=None):
    """Write the given bytes (None: a good default) and return the install argv."""
    directory = world["dir"] / name
    directory.mkdir(exist_ok=True)
    good_key, good_cert = make_cert(names=("pbx.example.com",), issuer=world["ca"])
    paths = {}
    for role, data, default in (("cert", cert, cert_pem(good_cert)), ("key", key, key_pem(good_key)),
                                ("chain", chain, None)):
        value = data if data is not None else default
        if value is None:
            continue
        path = directory / f"{role}.pem"
        if isinstance(value, bytes):
            path.write_bytes(value)
        else:
            path = value(path)  # a callable makes a special file at `path`
        paths[role] = path
    argv = ["install", "--cert", paths["cert"], "--key", paths["key"]]
    if "chain" in paths:
        argv += ["--chain", paths["chain"]]
    return argv, paths


def pair_with(world, **kwargs):
    """A certificate (made with `kwargs`) and its own key."""
    issuer = kwargs.pop("issuer", world["ca"])
    key, cert = make_cert(issuer=issuer, **kwargs)
    return cert_pem(cert), key_pem(key)


def cert_case(make, **extra):
    """A case whose certificate file is at fault."""
    def build(world, name):
        cert, key = make(world)
        argv, paths = _files(world, name, cert=cert, key=key, **extra)
        return argv, paths["cert"]
    return build


def key_case(make):
    def build(world, name):
        cert, key = make(world)
        argv, paths = _files(world, name, cert=cert, key=key)
        return argv, paths["key"]
    return build


def chain_case(make):
    def build(world, name):
        cert, key, chain = make(world)
        argv, paths = _files(world, name, cert=cert, key=key, chain=chain)
        return argv, paths["chain"]
    return build


def san_case(*names, first_valid=True):
    """A certificate whose SAN holds a hostile name (after a valid one, so only the per-name check
    can refuse it), written without any validation."""
    listed = (("pbx.example.com",) if first_valid else ()) + names
    return cert_case(lambda w: pair_with(w, names=listed, cn="pbx.example.com", raw_names=True))


def good(world):
    return pair_with(world, names=("pbx.example.com",))


def fifo(path):
    os.mkfifo(path)
    return path


def dev_zero(path):
    os.symlink("/dev/zero", path)
    return "/dev/zero"


def to_secret(world):
    def make(path):
        os.symlink(world["root"].secret, path)
        return path
    return make


def big_file(path):
    with open(path, "wb") as stream:
        stream.write(b"-----BEGIN CERTIFICATE-----\n")
        stream.truncate(50 * 1024 * 1024)
    return path


def pkcs12(world, path, role):
    cert, key = good(world)
    (path.parent / "p12.crt").write_bytes(cert)
    (path.parent / "p12.key").write_bytes(key)
    subprocess.run(["openssl", "pkcs12", "-export", "-in", path.parent / "p12.crt", "-inkey",
                    path.parent / "p12.key", "-out", path, "-passout", "pass:hardening"], check=True)
    return path


def p12_case(role):
    def build(world, name):
        directory = world["dir"] / name
        directory.mkdir(exist_ok=True)
        p12 = pkcs12(world, directory / "bundle.p12", role)
        cert, key = good(world)
        (directory / "good.crt").write_bytes(cert)
        (directory / "good.key").write_bytes(key)
        cert_path = p12 if role == "cert" else directory / "good.crt"
        key_path = p12 if role == "key" else directory / "good.key"
        return ["install", "--cert", cert_path, "--key", key_path], p12
    return build


def special_case(role, make):
    def build(world, name):
        cert, key = good(world)
        target = make(world) if make is to_secret else make
        argv, paths = _files(world, name, **{"cert": cert, "key": key, role: target})
        return argv, paths[role]
    return build


def truncated(world):
    cert, key = good(world)
    return cert[: len(cert) // 2], key


def garbage(world):
    return os.urandom(1500), good(world)[1]


def bad_base64(world):
    cert, key = good(world)
    lines = cert.splitlines(keepends=True)
    lines[3] = b"!!!!not*base64@@@@\n"
    return b"".join(lines), key


def nul_inside(world):
    cert, key = good(world)
    return cert[:200] + b"\0" * 64 + cert[200:], key


def der_truncated(world):
    key, cert = make_cert(names=("pbx.example.com",), issuer=world["ca"])
    der = cert.public_bytes(serialization.Encoding.DER)
    return der[:-40], key_pem(key)


def der_key_as_cert(world):
    key = new_key()
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return der, key_pem(key)


def key_as_cert(world):
    cert, key = good(world)
    return key, key


def cert_as_key(world):
    cert, key = good(world)
    return cert, cert


def other_key(world):
    cert, _ = good(world)
    return cert, key_pem(new_key())


def encrypted(fmt):
    def make(world):
        key, cert = make_cert(names=("pbx.example.com",), issuer=world["ca"])
        return cert_pem(cert), key_pem(key, fmt, b"passphrase")
    return make


def ed25519_pair(world):
    key = ed25519.Ed25519PrivateKey.generate()
    key_, cert = make_cert(key=key, names=("pbx.example.com",), issuer=world["ca"])
    return cert_pem(cert), key_pem(key)


def rsa1024(world):
    return pair_with(world, key=new_key("rsa:1024"), names=("pbx.example.com",))


def chain_wrong(world):
    cert, key = good(world)
    return cert, key, cert_pem(make_ca("Some Other CA").cert)


def chain_garbage(world):
    cert, key = good(world)
    return cert, key, b"-----BEGIN CERTIFICATE-----\nAAAA\n"


def chain_expired(world):
    ca_key, ca_cert = make_cert(names=(), cn="Expired CA", ca=True, san=False,
                                not_before=now() - 800 * DAY, not_after=now() - DAY)
    key, cert = make_cert(names=("pbx.example.com",), issuer=(ca_key, ca_cert))
    return cert_pem(cert), key_pem(key), cert_pem(ca_cert)


def two_unrelated_in_cert(world):
    cert, key = good(world)
    return cert + cert_pem(make_ca("Unrelated").cert), key


LONG = ".".join(["a" * 60] * 5)  # 304 characters

CASES = {
    # broken files
    "cert-empty": cert_case(lambda w: (b"", good(w)[1])),
    "cert-truncated-pem": cert_case(truncated),
    "cert-garbage": cert_case(garbage),
    "cert-bad-base64": cert_case(bad_base64),
    "cert-nul-bytes": cert_case(nul_inside),
    "cert-der-truncated": cert_case(der_truncated),
    "cert-der-private-key": cert_case(der_key_as_cert),
    "cert-pkcs12": p12_case("cert"),
    "key-pkcs12": p12_case("key"),
    "cert-is-a-key": cert_case(key_as_cert),
    "key-is-a-cert": key_case(cert_as_key),
    "key-empty": key_case(lambda w: (good(w)[0], b"")),
    "key-garbage": key_case(lambda w: (good(w)[0], os.urandom(1200))),
    "key-truncated": key_case(lambda w: (good(w)[0], good(w)[1][:150])),
    "key-for-another-cert": key_case(other_key),
    "key-encrypted-pem-legacy": key_case(encrypted("traditional")),
    "key-encrypted-pkcs8": key_case(encrypted("pkcs8")),
    "key-ed25519-unsupported": key_case(ed25519_pair),
    # certificates a server must not use
    "cert-expired": cert_case(lambda w: pair_with(w, not_before=now() - 400 * DAY,
                                                  not_after=now() - DAY)),
    "cert-not-yet-valid": cert_case(lambda w: pair_with(w, not_before=now() + 2 * DAY,
                                                        not_after=now() + 400 * DAY)),
    "cert-ca-true-leaf": cert_case(lambda w: pair_with(w, ca=True)),
    "cert-no-san": cert_case(lambda w: pair_with(w, san=False)),
    "cert-wildcard-only": cert_case(lambda w: pair_with(w, names=("*.example.com",))),
    "cert-ip-only": cert_case(lambda w: pair_with(w, names=(), cn="192.0.2.10", ips=("192.0.2.10",))),
    "cert-sha1": cert_case(lambda w: pair_with(w, hash_name="sha1")),
    "cert-rsa-1024": cert_case(rsa1024),
    "cert-two-unrelated": cert_case(two_unrelated_in_cert),
    "chain-out-of-order": chain_case(chain_wrong),
    "chain-garbage": chain_case(chain_garbage),
    "chain-expired-ca": chain_case(chain_expired),
    # hostile names in the SAN (after a valid one)
    "san-newline": san_case("pbx.example.com\nevil: injected"),
    "san-colon": san_case("pbx.example.com:8443"),
    "san-hash": san_case("pbx#comment"),
    "san-double-quote": san_case('"pbx.example.com"'),
    "san-single-quote": san_case("pbx'.example.com"),
    "san-yaml-anchor": san_case("&a pbx"),
    "san-yaml-alias": san_case("*a"),
    "san-yaml-flow": san_case("{host: evil}"),
    "san-shell-subst": san_case("$(id)"),
    "san-semicolon": san_case("pbx;reboot"),
    "san-backquote": san_case("`id`.example.com"),
    "san-non-ascii": san_case("pbx-\u00e9.example.com"),
    "san-over-long": san_case(LONG),
    "san-long-label": san_case("a" * 64 + ".example.com"),
    "san-space": san_case("pbx example.com"),
    "san-newline-only": san_case("evil\nhost: x", first_valid=False),
    "cn-hostile-no-san": cert_case(lambda w: pair_with(w, names=(), cn="$(id)\nhost: evil",
                                                       san=False)),
    # special files and planted links as input
    "cert-50MB": special_case("cert", big_file),
    "cert-fifo": special_case("cert", fifo),
    "key-fifo": special_case("key", fifo),
    "chain-fifo": special_case("chain", fifo),
    "cert-dev-zero": special_case("cert", dev_zero),
    "key-dev-zero": special_case("key", dev_zero),
    "cert-directory": special_case("cert", lambda path: (path.mkdir(), path)[1]),
    "cert-missing": special_case("cert", lambda path: path),
    "cert-symlink-to-secret": special_case("cert", to_secret),
    "key-symlink-to-secret": special_case("key", to_secret),
}

# generate's names: refused before anything is touched
ARGUMENT_CASES = {
    "hostname-newline": ["generate", "--force", "--hostname", "pbx\nevil: x"],
    "hostname-colon": ["generate", "--force", "--hostname", "pbx:8443"],
    "hostname-hash": ["generate", "--force", "--hostname", "pbx#x"],
    "hostname-quotes": ["generate", "--force", "--hostname", "'pbx'"],
    "hostname-anchor": ["generate", "--force", "--hostname", "&a"],
    "hostname-alias": ["generate", "--force", "--hostname", "*a"],
    "hostname-shell": ["generate", "--force", "--hostname", "$(touch /tmp/pwned-xivo-certs)"],
    "hostname-semicolon": ["generate", "--force", "--hostname", "a;b"],
    "hostname-backquote": ["generate", "--force", "--hostname", "`id`"],
    "hostname-line-separator": ["generate", "--force", "--hostname", "pbx\u2028host: evil"],
    "hostname-nbsp": ["generate", "--force", "--hostname", "pbx\u00a0x.example.com"],
    "hostname-over-long": ["generate", "--force", "--hostname", LONG],
    "hostname-ip": ["generate", "--force", "--hostname", "192.0.2.1"],
    "hostname-empty-label": ["generate", "--force", "--hostname", "a..b"],
    "san-argument-shell": ["generate", "--force", "--san", "$(id)"],
    "san-argument-newline": ["generate", "--force", "--san", "x\ny"],
    "ensure-hostname-yaml": ["ensure", "--hostname", "{a: b}"],
}


def check_refused(root, argv, names, before, skip=()):
    result = root.run(*argv, timeout=60)
    assert result.returncode == 1, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    line = one_line(result.stderr)
    assert line.startswith("xivo-certs: "), line
    assert names in line, f"the line does not name {names!r}: {line}"
    assert SECRET.decode().strip() not in result.stdout + result.stderr
    assert len(line) < 600, f"line too long ({len(line)})"
    print(f"REFUSED {line}")
    after = snapshot(root.path, skip=skip)
    before = {path: entry for path, entry in before.items() if path not in skip}
    assert after == before, "changed on disk:\n" + snapshot_diff(before, after)
    return line


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_install_input_is_refused(world, case):
    root = world["root"]
    argv, at_fault = CASES[case](world, case)
    before = snapshot(root.path)
    check_refused(root, argv, str(at_fault), before)


@pytest.mark.parametrize("case", sorted(ARGUMENT_CASES))
def test_bad_name_argument_is_refused(world, case):
    root = world["root"]
    argv = ARGUMENT_CASES[case]
    before = snapshot(root.path)
    line = check_refused(root, argv, "is not a host name", before)
    assert "\n" not in line
    assert not os.path.exists("/tmp/pwned-xivo-certs")


def test_case_count():
    """The issue asks for at least 40 hostile cases made by the tests."""
    assert len(CASES) + len(ARGUMENT_CASES) + len(PLANTED) >= 40


# --- planted files in the pair's, the override's and the links' positions ----------------------

def planted(position, make, command):
    """A case: the file at `position(root)` replaced by what `make(root, path)` creates; then
    `command` must refuse, naming it."""
    def plant(root):
        path = position(root)
        os.unlink(path)
        make(root, path)
        return [command], str(path)
    return plant


def link_to_secret(root, path):
    os.symlink(root.secret, path)


def fifo(root, path):
    os.mkfifo(path)


PLANTED = {
    "server.crt-symlink-to-secret": planted(lambda r: r.cert, link_to_secret, "sync"),
    "server.key-symlink-to-secret": planted(lambda r: r.key, link_to_secret, "sync"),
    "server.crt-fifo": planted(lambda r: r.cert, fifo, "sync"),
    "override-symlink-to-secret": planted(lambda r: r.override, link_to_secret, "override"),
    "confd-link-to-secret": planted(lambda r: r.confd_dirs()[0] / "010-custom-certificate.yml",
                                    link_to_secret, "override"),
}


@pytest.mark.parametrize("case", sorted(PLANTED))
def test_planted_file_is_refused_and_never_followed(tmp_path, case):
    root = make_root(tmp_path / "root")
    root.run("generate", "--key-type", "ec:p256", check=0)
    ca = make_ca()
    admin = AdminPair(tmp_path / "in", "admin", ("pbx.example.com",), issuer=ca, chain=[ca.cert])
    root.run(*admin.install_args(), check=0)
    argv, names = PLANTED[case](root)
    before, recorded = snapshot(root.path), root.state()
    # A refused sync records the files' metadata (and only that) in the state file, so that the
    # sync after the next apt run stays a no-op; so does a refused override (override_watch: the
    # next sync converges once the planted file is gone). The state is compared key by key instead.
    check_refused(root, argv, names, before, skip={STATE} if argv in (["sync"], ["override"]) else ())
    after = root.state()
    for key in state_module.KEYS:
        if not key.endswith("_stat") and key != "override_watch":
            assert getattr(after, key) == getattr(recorded, key), f"state: {key} changed"
    assert root.secret.read_bytes() == SECRET and (os.stat(root.secret).st_mode & 0o777) == 0o600


# --- a state directory found open (0777) with a user's files in it ---------------------------------

NOBODY = 65534


def open_state_dir_with(root, name, text):
    """The state directory made 0777 (by a mistaken chmod), and `name` in it replaced by a user's file."""
    os.chmod(root.paths.state_dir, 0o777)
    path = os.path.join(root.paths.state_dir, name)
    os.unlink(path)
    with open(path, "w") as stream:
        stream.write(text)
    os.chown(path, NOBODY, NOBODY)
    return path


def check_set_aside(root, name):
    state_dir = root.paths.state_dir
    info = os.stat(state_dir)
    assert (info.st_uid, info.st_mode & 0o777) == (0, 0o700)
    assert [n for n in os.listdir(state_dir) if n.startswith(f"untrusted-{name}.")], os.listdir(state_dir)
    for entry in ("lock", "state"):
        info = os.lstat(os.path.join(state_dir, entry))
        assert (info.st_uid, info.st_mode & 0o777, info.st_nlink) == (0, 0o600, 1), entry


def test_a_users_lock_in_an_open_state_directory_hangs_nothing(tmp_path):
    """The user holds their `lock` locked: every command run after apt would wait for it forever."""
    root = make_root(tmp_path / "root")
    root.run("generate", "--key-type", "ec:p256", check=0)
    lock = open_state_dir_with(root, "lock", "")
    with open(lock) as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        process = root.popen("ensure")
        outcome = blocked_or_done(process, lock)
        if outcome == "blocked":
            process.kill()
        process.communicate()
    assert outcome == 0, f"ensure: {outcome}"
    check_set_aside(root, "lock")


def test_a_users_state_in_an_open_state_directory_is_not_believed(tmp_path):
    """A user's state naming the admin's certificate as the package's made `ensure` replace the
    admin's pair, without a backup."""
    root = make_root(tmp_path / "root")
    root.run("generate", "--key-type", "ec:p256", check=0)
    ca = make_ca()
    admin = AdminPair(tmp_path / "in", "admin", ("pbx.example.com",), issuer=ca, chain=[ca.cert])
    root.run(*admin.install_args(), check=0)
    open_state_dir_with(root, "state", f"generated_fingerprint={admin.fingerprint}\n")
    result = root.run("ensure", "--hostname", "other.example.com")
    assert result.returncode == 0, result.stderr
    assert root.cert.read_bytes() == admin.pem and root.key.read_bytes() == admin.key_bytes
    assert root.state().generated_fingerprint != admin.fingerprint
    check_set_aside(root, "state")
