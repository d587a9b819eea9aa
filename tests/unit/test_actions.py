"""The commands' work (xivo_certs.actions through xivo_certs.cli, in this process, keys from the
session pool): ensure, generate, install, revert, renew, sync — files, modes, parsed certificates,
state, backups, hook runs and their environment, and nothing changed on each refusal."""

import datetime
import os
import re

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from support.asserts import owner_mode
from support.certs import DAY, load_key, now, package_like, pem, unreadable_pair
from support.facts import dns_names, fingerprint, sha256_file, spki
from support.layout import CA as CA_PATH, HOOK_VARIABLES, OVERRIDE as OVERRIDE_PATH
from support.owners import GID, UID, WWW_DATA
from xc_testlib import ALL_LINKED, CONFD_DIRS, NO_LINKS, assert_quiet_no_op, refusal_line


def common_name(cert):
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def assert_pair_in_place(root, key_type=None):
    """The pair matches, has the table's owners and modes; the parsed leaf."""
    cert = root.certs()[0]
    key = load_key(root.key)
    assert spki(cert.public_key()) == spki(key.public_key())
    assert owner_mode(root.cert) == (UID, WWW_DATA, 0o644)
    assert owner_mode(root.key) == (UID, WWW_DATA, 0o640)
    assert owner_mode(root.paths.state_dir) == (UID, GID, 0o700)
    assert sorted(os.listdir(root.cert.parent)) in (["server.crt", "server.key"],
                                                    ["ca.crt", "server.crt", "server.key"])
    if key_type:
        from xivo_certs.x509 import key_type_of
        assert key_type_of(cert.public_key()) == key_type
    return cert


def assert_hook_env(run, root, cert, reason, previous="", default="yes", self_signed="yes",
                    previous_pem=""):
    """`previous`, `previous_pem`: the fingerprint and the server.crt sha256 the hooks last ran for."""
    assert sorted(run) == sorted(HOOK_VARIABLES)
    names = dns_names(cert)
    assert run == {
        "XIVO_CERTS_ROOT": str(root), "XIVO_CERTS_CERT": str(root.cert), "XIVO_CERTS_KEY": str(root.key),
        "XIVO_CERTS_HOSTNAME": names[0], "XIVO_CERTS_NAMES": " ".join(names),
        "XIVO_CERTS_SELF_SIGNED": self_signed, "XIVO_CERTS_DEFAULT": default,
        "XIVO_CERTS_FINGERPRINT": fingerprint(cert), "XIVO_CERTS_PREVIOUS_FINGERPRINT": previous,
        "XIVO_CERTS_PEM_SHA256": sha256_file(root.cert),
        "XIVO_CERTS_PREVIOUS_PEM_SHA256": previous_pem,
        "XIVO_CERTS_NOT_AFTER": cert.not_valid_after.replace(tzinfo=datetime.timezone.utc).isoformat(),
        "XIVO_CERTS_REASON": reason, "XIVO_CERTS_RESTART_SERVICES": "no",
    }


# --- ensure -----------------------------------------------------------------------------------------------

def test_ensure_on_a_fresh_root_makes_the_default_pair_and_runs_the_hooks_once(root, xc):
    result = xc("ensure")
    assert result.code == 0, result
    assert re.fullmatch(r"xivo-certs: generated a self-signed certificate for localhost \(rsa:2048, "
                        r"valid until \d{4}-\d\d-\d\d\)\n", result.out)
    cert = assert_pair_in_place(root, "rsa:2048")
    assert common_name(cert) == "localhost" and cert.issuer == cert.subject
    assert dns_names(cert) == ["localhost"]
    assert (cert.not_valid_after - cert.not_valid_before).days == 825
    [run] = root.hook_runs()
    assert_hook_env(run, root, cert, "install")
    assert root.state().generated_fingerprint == fingerprint(cert)
    assert not os.path.lexists(root / OVERRIDE_PATH)


def test_ensure_twice_is_a_no_op_without_hooks(root, xc):
    assert xc("ensure").code == 0
    assert_quiet_no_op(root, xc, "ensure", "--reason", "upgrade")
    assert len(root.hook_runs()) == 1


def test_ensure_adopts_the_legacy_certificate_of_older_packages(root, xc, keys):
    key = keys.get("rsa:2048")
    legacy = package_like(key)  # self-signed CN=localhost, SAN localhost: what upstream made
    root.put_pair(legacy, key)
    cert_bytes, key_bytes = root.cert.read_bytes(), root.key.read_bytes()
    result = xc("ensure", "--reason", "upgrade")
    assert result.code == 0, result
    assert (root.cert.read_bytes(), root.key.read_bytes()) == (cert_bytes, key_bytes)
    recorded = root.state()
    assert recorded.generated_fingerprint == fingerprint(legacy)
    assert recorded.generated_pem_sha256 == sha256_file(root.cert)
    assert recorded.hostname == "localhost" and recorded.key_type == "rsa:2048"
    [run] = root.hook_runs()
    assert_hook_env(run, root, legacy, "upgrade")
    assert xc("status", "--json").code == 0


REGENERATION = ["key mismatch", "SHA-1", "RSA 1024", "no SAN", "expired", "in renew window",
                "other hostname", "other key type"]


@pytest.mark.parametrize("case, recorded", [
    pytest.param(case, recorded, id=f"{case}-{'recorded' if recorded else 'legacy'}")
    for case in REGENERATION for recorded in (True, False)
    if recorded or case != "other key type"])  # see the test after this one
def test_ensure_regenerates_the_default_certificate(root, xc, keys, case, recorded):
    key, other = keys.distinct("rsa:2048", 2)
    options, expected_reason, cert, in_place = [], None, None, key
    if case == "key mismatch":
        cert, in_place, expected_reason = package_like(key), other, "does not match the certificate"
    elif case == "SHA-1":
        cert, expected_reason = package_like(key, hash_alg=hashes.SHA1()), "signed with SHA1"
    elif case == "RSA 1024":
        in_place = keys.get("rsa:1024")
        cert, expected_reason = package_like(in_place), "RSA key of 1024 bits"
    elif case == "no SAN":
        cert, expected_reason = package_like(key, san=False), "no subjectAltName"
    elif case == "expired":
        cert = package_like(key, not_before=now() - 900 * DAY, not_after=now() - DAY)
        expected_reason = "expired on "
    elif case == "in renew window":
        cert = package_like(key, not_before=now() - 800 * DAY, not_after=now() + 12 * DAY + DAY / 2)
        expected_reason = "expires in 12 days"
    elif case == "other hostname":
        cert, options = package_like(key), ["--hostname", "pbx.example.com"]
        expected_reason = "name localhost is not pbx.example.com"
    elif case == "other key type":
        cert, options = package_like(key), ["--key-type", "ec:p256"]
        expected_reason = "key rsa:2048 is not ec:p256"
    root.put_pair(cert, in_place)
    if recorded:
        root.write_state(hostname="localhost", key_type="rsa:2048", fingerprint=fingerprint(cert),
                         generated_fingerprint=fingerprint(cert),
                         generated_pem_sha256=sha256_file(root.cert))
    old_bytes = root.cert.read_bytes(), root.key.read_bytes()
    result = xc("ensure", "--reason", "upgrade", *options)
    assert result.code == 0, result
    assert "xivo-certs: making a new default certificate: " in result.out
    assert expected_reason in result.out
    new = assert_pair_in_place(root, "ec:p256" if case == "other key type" else "rsa:2048")
    assert fingerprint(new) != fingerprint(cert)
    assert dns_names(new)[0] == ("pbx.example.com" if case == "other hostname" else "localhost")
    assert new.signature_hash_algorithm.name == "sha256"
    assert root.state().generated_fingerprint == fingerprint(new)
    runs = root.hook_runs()
    assert len(runs) == 1
    assert_hook_env(runs[0], root, new, "upgrade", previous=fingerprint(cert) if recorded else "")
    if not recorded:  # a pair recognised by its shape alone is backed up before it is replaced
        [backup] = root.backups()
        assert backup.name.endswith("-unrecorded")
        assert ((backup / "server.crt").read_bytes(), (backup / "server.key").read_bytes()) == old_bytes
        assert f"backed up the certificate and key in place, never recorded, to {backup}" in result.out
    elif case == "key mismatch":  # the key that matched no certificate is kept
        [backup] = root.backups()
        assert (backup / "server.key").read_bytes() == old_bytes[1]
    else:
        assert root.backups() == []


@pytest.mark.parametrize("key_type", ["rsa:4096", "ec:p256"])
def test_the_upgrade_keeps_a_strong_legacy_certificate_of_another_key_type(root, xc, keys, key_type):
    """The packages before the record offered no key type: the debconf default (rsa:2048) is no
    reason to replace theirs. The record then holds the key type in place, which debian/config
    shows as the answer (it differs from the one applied)."""
    key = keys.get(key_type)
    legacy = package_like(key)
    root.put_pair(legacy, key)
    before = root.cert.read_bytes(), root.key.read_bytes()
    result = xc("ensure", "--reason", "upgrade", "--hostname", "localhost", "--key-type", "rsa:2048")
    assert result.code == 0, result
    assert (root.cert.read_bytes(), root.key.read_bytes()) == before
    assert root.backups() == []
    recorded = root.state()
    assert recorded.generated_fingerprint == fingerprint(legacy)
    assert (recorded.key_type, recorded.answered_key_type) == (key_type, "rsa:2048")


def test_ensure_records_the_answers_it_applies_and_generate_leaves_them(root, xc):
    """debian/config compares the name and key type in place with the answers last applied."""
    assert xc("ensure", "--hostname", "PBX.example.com.", "--key-type", "ec:p256").code == 0
    recorded = root.state()
    assert (recorded.hostname, recorded.answered_hostname) == ("pbx.example.com", "pbx.example.com")
    assert (recorded.key_type, recorded.answered_key_type) == ("ec:p256", "ec:p256")
    assert xc("generate", "--hostname", "voip.example.com", "--key-type", "ec:p384").code == 0
    recorded = root.state()
    assert (recorded.hostname, recorded.answered_hostname) == ("voip.example.com", "pbx.example.com")
    assert (recorded.key_type, recorded.answered_key_type) == ("ec:p384", "ec:p256")
    assert xc("ensure").code == 0  # without answers (by hand): the last ones stay
    assert (root.state().answered_hostname, root.state().answered_key_type) == ("pbx.example.com", "ec:p256")


def test_with_the_state_deleted_the_default_pair_is_still_the_packages(root, xc):
    assert xc("ensure", "--hostname", "pbx.example.com", "--key-type", "ec:p256").code == 0
    before = root.cert.read_bytes(), root.key.read_bytes()
    for name in os.listdir(root.paths.state_dir):
        os.unlink(os.path.join(root.paths.state_dir, name))
    os.rmdir(root.paths.state_dir)
    status = xc("status", "--json")
    assert status.code == 0, status
    assert '"default": true' in status.out
    assert xc("ensure", "--hostname", "pbx.example.com", "--key-type", "ec:p256").code == 0
    assert (root.cert.read_bytes(), root.key.read_bytes()) == before
    assert root.state().generated_fingerprint == fingerprint(root.certs()[0])
    assert root.backups() == []
    os.unlink(root.paths.state)
    result = xc("generate", "--hostname", "voip.example.com")  # no --force: it is the package's
    assert result.code == 0, result
    assert dns_names(root.certs()[0])[0] == "voip.example.com"


def test_the_first_install_after_a_purge_says_where_the_purged_pair_is(root, xc, keys):
    older, newer = (root.paths.backups + "/purged-20260101-000000",
                    root.paths.backups + "/purged-20260202-000000")
    for directory in (older, newer):
        os.makedirs(directory)
    result = xc("ensure", "--reason", "install")
    assert result.code == 0, result
    assert (f"xivo-certs: the certificate and key found at the last purge are in {newer}/; "
            f"`xivo-certs install --cert {newer}/server.crt --key {newer}/server.key` puts them back"
            ) in result.out.splitlines()
    assert older not in result.out
    os.unlink(root.cert)
    os.unlink(root.key)
    assert "purge" not in xc("ensure").out  # installed since: no longer news


def test_ensure_leaves_an_admin_certificate_byte_for_byte_and_says_so(root, xc, ordinary_ca, issued):
    leaf, key = issued("pbx.example.test").pair
    root.put_pair(leaf, key, chain=[ordinary_ca.cert])
    root.write_state(hostname="localhost", key_type="rsa:2048", generated_fingerprint="00" * 32)
    before = (root.cert.read_bytes(), root.key.read_bytes())
    result = xc("ensure", "--hostname", "voip.example.com", "--key-type", "ec:p384",
                "--reason", "reconfigure")
    assert result.code == 0, result
    assert (root.cert.read_bytes(), root.key.read_bytes()) == before
    assert "an admin's certificate for pbx.example.test is in place and left as it is" in result.out
    assert "the name voip.example.com applies when the default certificate comes back" in result.out
    # debconf's answers are kept for the default certificate to come
    assert root.state().hostname == "voip.example.com"
    assert root.state().key_type == "ec:p384"
    assert xc("revert").code == 0
    cert = root.certs()[0]
    assert dns_names(cert)[0] == "voip.example.com"
    assert root.state().key_type == "ec:p384"


def test_ensure_leaves_an_expired_admin_certificate_alone(root, xc, ca):
    leaf, key = ca.leaf(not_before=now() - 400 * DAY, not_after=now() - DAY)
    root.put_pair(leaf, key)
    before = (root.cert.read_bytes(), root.key.read_bytes())
    assert xc("ensure", "--reason", "upgrade").code == 0
    assert (root.cert.read_bytes(), root.key.read_bytes()) == before


@pytest.mark.parametrize("hostname, cn, first_san", [
    ("Bücher.Example", "xn--bcher-kva.example", "xn--bcher-kva.example"),
    ("pbx." + "d" * 60 + ".example.com", "pbx", "pbx." + "d" * 60 + ".example.com"),
])
def test_ensure_names_idn_and_long_names(root, xc, hostname, cn, first_san):
    assert xc("ensure", "--hostname", hostname).code == 0
    cert = root.certs()[0]
    assert common_name(cert) == cn
    assert dns_names(cert) == [first_san, "localhost"]
    assert root.state().hostname == first_san
    assert root.hook_runs()[0]["XIVO_CERTS_HOSTNAME"] == first_san


@pytest.mark.parametrize("args, message", [
    (["ensure", "--hostname", "pbx_1.example.com"],
     "host name 'pbx_1.example.com' is not a host name: label 'pbx_1' must be 1-63 letters"),
    (["ensure", "--hostname", "192.168.1.10"], "is not a host name: its last label is a number"),
    (["generate", "--hostname=-bad.example"], "is not a host name"),
    (["generate", "--san", "ok.example", "--san", "bad name"],
     "subjectAltName 'bad name' is not a host name"),
])
def test_bad_names_and_values_are_refused_and_change_nothing(root, xc, args, message):
    assert xc("ensure").code == 0
    before = root.snapshot()
    result = xc(*args)
    assert result.code == 1
    assert len(result.err_lines) == 1 and result.err_lines[0].startswith("xivo-certs: ")
    assert message in result.err_lines[0]
    assert root.snapshot() == before


@pytest.mark.parametrize("args", [["generate", "--days", "ten"], ["ensure", "--reason", "whim"],
                                  ["frobnicate"], [], ["install", "--key", "k.pem"]])
def test_usage_errors_exit_2(root, xc, args):
    before = root.snapshot()
    assert xc(*args).code == 2
    assert root.snapshot() == before


# --- generate ---------------------------------------------------------------------------------------------

def test_generate_replaces_the_default_without_a_backup(root, xc):
    assert xc("ensure").code == 0
    first = root.certs()[0]
    result = xc("generate", "--hostname", "pbx.example.com", "--san", "voip.example.com",
                "--san", "sip.example.com", "--days", "90")
    assert result.code == 0, result
    cert = assert_pair_in_place(root)
    assert dns_names(cert) == ["pbx.example.com", "voip.example.com", "sip.example.com", "localhost"]
    assert (cert.not_valid_after - cert.not_valid_before).days == 90
    assert root.backups() == []
    runs = root.hook_runs()
    assert len(runs) == 2
    assert_hook_env(runs[1], root, cert, "generate", previous=fingerprint(first),
                    previous_pem=runs[0]["XIVO_CERTS_PEM_SHA256"])
    # generate without options keeps the recorded name and extra names
    assert xc("generate").code == 0
    assert dns_names(root.certs()[0]) == ["pbx.example.com", "voip.example.com", "sip.example.com",
                                          "localhost"]


@pytest.mark.parametrize("key_type, hash_name", [
    ("rsa:2048", "sha256"), ("rsa:3072", "sha256"), ("rsa:4096", "sha256"), ("ec:p256", "sha256"),
    ("ec:p384", "sha256")])
def test_generate_every_key_type(root, xc, key_type, hash_name, pooled_new_key):
    assert xc("generate", "--key-type", key_type).code == 0
    cert = assert_pair_in_place(root, key_type)
    assert cert.signature_hash_algorithm.name == hash_name
    assert root.state().key_type == key_type
    assert pooled_new_key == [key_type]


def test_generate_refuses_to_replace_an_admin_certificate_without_force(root, xc, issued):
    leaf, key = issued("pbx.example.test").pair
    root.put_pair(leaf, key)
    root.lock_ready()
    assert refusal_line(root, xc, "generate") == (
        f"xivo-certs: {root.cert}: an admin's certificate is in place; "
        "`xivo-certs generate --force` replaces it (after backing it up)")
    assert root.hook_runs() == []


def test_generate_force_backs_up_the_admin_pair(root, xc, ordinary_ca, issued):
    leaf, key = issued("pbx.example.test").pair
    root.put_pair(leaf, key, chain=[ordinary_ca.cert])
    cert_bytes, key_bytes = root.cert.read_bytes(), root.key.read_bytes()
    result = xc("generate", "--force")
    assert result.code == 0, result
    [backup] = root.backups()
    assert backup.parent == root / "var/backups/xivo-certs"
    assert re.fullmatch(r"\d{8}-\d{6}(-\w+)?(\.\d+)?", backup.name)
    assert (backup / "server.crt").read_bytes() == cert_bytes
    assert (backup / "server.key").read_bytes() == key_bytes
    assert owner_mode(backup) == (UID, GID, 0o700)
    assert owner_mode(backup / "server.key") == (UID, GID, 0o600)
    assert f"backed up the admin's certificate and key to {backup}" in result.out
    cert = assert_pair_in_place(root)
    assert dns_names(cert) == ["localhost"]
    [run] = root.hook_runs()
    assert_hook_env(run, root, cert, "generate")


# --- install ----------------------------------------------------------------------------------------------

@pytest.fixture
def admin_files(tmp_path, ordinary_ca, issued):
    """cert, key and chain files of a leaf issued by an intermediate of the private CA."""
    admin = issued("pbx.example.test", "voip.example.test", intermediate=True)
    leaf, key = admin.pair
    [middle] = admin.chain
    (tmp_path / "in").mkdir()
    paths = {"cert": tmp_path / "in/pbx.crt", "key": tmp_path / "in/pbx.key",
             "chain": tmp_path / "in/chain.pem"}
    paths["cert"].write_bytes(pem(leaf))
    paths["key"].write_bytes(pem(key))
    paths["chain"].write_bytes(pem(middle, ordinary_ca.cert))
    return {"leaf": leaf, "leaf_key": key, "middle": middle, "root": ordinary_ca.cert, **paths}


def test_install_a_private_ca_certificate(root, xc, admin_files):
    root.ship_hooks()
    assert xc("ensure").code == 0
    default = root.certs()[0]
    result = xc("install", "--cert", admin_files["cert"], "--key", admin_files["key"],
                "--chain", admin_files["chain"])
    assert result.code == 0, result
    assert "installed the certificate for pbx.example.test (valid until " in result.out
    assert root.cert.read_bytes() == pem(admin_files["leaf"], admin_files["middle"], admin_files["root"])
    cert = assert_pair_in_place(root)
    assert spki(load_key(root.key).public_key()) == spki(admin_files["leaf_key"].public_key())
    assert root.override_yaml()["consul"] == {"host": "pbx.example.test", "verify": CA_PATH}
    assert root.override_yaml()["dird"] == {"host": "pbx.example.test", "verify_certificate": CA_PATH}
    assert (root / CA_PATH).read_bytes() == pem(admin_files["root"])
    assert root.links() == ALL_LINKED
    runs = root.hook_runs()
    assert len(runs) == 2
    assert_hook_env(runs[1], root, cert, "install-cert", previous=fingerprint(default), default="no",
                    self_signed="no", previous_pem=runs[0]["XIVO_CERTS_PEM_SHA256"])
    assert root.state().generated_fingerprint == fingerprint(default)  # still the package's own
    assert root.backups() == []  # the default pair is the package's: not backed up
    assert "restart the XiVO services to use it" in result.err  # 90-restart-services


def test_install_a_system_trusted_certificate(root, xc, admin_files):
    root.ship_hooks()
    bundle = root / "etc/ssl/certs/ca-certificates.crt"
    bundle.parent.mkdir(parents=True)
    bundle.write_bytes(pem(admin_files["root"]))
    chain = admin_files["chain"]
    chain.write_bytes(pem(admin_files["middle"]))  # the root stays with the system
    assert xc("install", "--cert", admin_files["cert"], "--key", admin_files["key"],
              "--chain", chain).code == 0
    yaml_ = root.override_yaml()
    assert yaml_["consul"] == {"host": "pbx.example.test", "verify": True}
    assert all(v == {"host": "pbx.example.test", "verify_certificate": True}
               for k, v in yaml_.items() if k != "consul")
    assert not os.path.lexists(root / CA_PATH)


def test_install_over_an_admin_pair_backs_it_up(root, xc, admin_files, issued):
    old, old_key = issued("old.example.test").pair
    root.put_pair(old, old_key)
    cert_bytes = root.cert.read_bytes()
    assert xc("install", "--cert", admin_files["cert"], "--key", admin_files["key"],
              "--chain", admin_files["chain"]).code == 0
    [backup] = root.backups()
    assert (backup / "server.crt").read_bytes() == cert_bytes


INSTALL_REFUSALS = {
    "malformed PEM": ("cert", b"-----BEGIN CERTIFICATE-----\nMIIB\n", "malformed PEM"),
    "key as cert": ("cert", "KEY", "holds a private key but no certificate"),
    "cert as key": ("key", "LEAF", "is a certificate, not a private key"),
    "encrypted key": ("key", "ENCRYPTED", "the private key is encrypted"),
    "mismatch": ("key", "OTHER KEY", "does not match the certificate in"),
    "missing cert": ("cert", None, "no such file"),
    "missing key": ("key", None, "no such file"),
    "missing chain": ("chain", None, "no such file"),
    "directory as key": ("key", "DIR", "not a regular file"),
}


@pytest.mark.parametrize("case", sorted(INSTALL_REFUSALS))
def test_install_refusals_change_nothing(root, xc, admin_files, keys, case):
    from cryptography.hazmat.primitives import serialization
    assert xc("ensure").code == 0
    at_fault, content, message = INSTALL_REFUSALS[case]
    path = admin_files[at_fault]
    if content is None:
        path.unlink()
    elif content == "DIR":
        path.unlink()
        path.mkdir()
    else:
        data = {"KEY": pem(admin_files["leaf_key"]), "LEAF": pem(admin_files["leaf"]),
                "ENCRYPTED": admin_files["leaf_key"].private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                    serialization.BestAvailableEncryption(b"pw")),
                "OTHER KEY": pem(keys.get("ec:p256"))}.get(content, content)
        path.write_bytes(data)
    before = root.snapshot()
    runs = len(root.hook_runs())
    result = xc("install", "--cert", admin_files["cert"], "--key", admin_files["key"],
                "--chain", admin_files["chain"])
    assert result.code == 1
    assert len(result.err_lines) == 1, result
    assert result.err_lines[0].startswith(f"xivo-certs: {path}: ")
    assert message in result.err_lines[0]
    assert root.snapshot() == before
    assert len(root.hook_runs()) == runs


@pytest.mark.parametrize("case", ["expired", "not yet valid", "CA:TRUE", "wildcard only", "no SAN",
                                  "SHA-1", "RSA 1024"])
def test_install_refuses_unfit_certificates(root, xc, ca, keys, tmp_path, case):
    key = keys.get("rsa:1024" if case == "RSA 1024" else "rsa:2048")
    options = {"expired": dict(not_before=now() - 400 * DAY, not_after=now() - DAY),
               "not yet valid": dict(not_before=now() + DAY),
               "CA:TRUE": dict(ca=True), "wildcard only": dict(dns=("*.example.test",)),
               "no SAN": dict(san=False), "SHA-1": dict(hash_alg=hashes.SHA1()), "RSA 1024": {}}[case]
    leaf, _ = ca.leaf(**dict({"key": key}, **options))
    (tmp_path / "c.pem").write_bytes(pem(leaf))
    (tmp_path / "k.pem").write_bytes(pem(key))
    assert xc("ensure").code == 0
    before = root.snapshot()
    result = xc("install", "--cert", tmp_path / "c.pem", "--key", tmp_path / "k.pem")
    assert result.code == 1
    assert len(result.err_lines) == 1
    assert result.err_lines[0].startswith(f"xivo-certs: {tmp_path / 'c.pem'}: ")
    assert root.snapshot() == before


# --- revert -----------------------------------------------------------------------------------------------

def test_revert_backs_up_the_admin_pair_and_removes_the_override(root, xc, admin_files):
    root.ship_hooks()
    assert xc("ensure", "--hostname", "pbx.example.test").code == 0
    assert xc("install", "--cert", admin_files["cert"], "--key", admin_files["key"],
              "--chain", admin_files["chain"]).code == 0
    assert root.links() == ALL_LINKED
    admin_cert, admin_key = root.cert.read_bytes(), root.key.read_bytes()
    admin_fingerprint = fingerprint(root.certs()[0])
    result = xc("revert")
    assert result.code == 0, result
    [backup] = root.backups()
    assert (backup / "server.crt").read_bytes() == admin_cert
    assert (backup / "server.key").read_bytes() == admin_key
    cert = assert_pair_in_place(root)
    assert dns_names(cert) == ["pbx.example.test", "localhost"]  # the recorded name
    assert root.state().generated_fingerprint == fingerprint(cert)
    assert not os.path.lexists(root / OVERRIDE_PATH)
    assert not os.path.lexists(root / CA_PATH)
    assert root.links() == NO_LINKS
    runs = root.hook_runs()
    assert_hook_env(runs[-1], root, cert, "revert", previous=admin_fingerprint,
                    previous_pem=runs[-2]["XIVO_CERTS_PEM_SHA256"])


def test_revert_with_the_default_in_place_does_nothing(root, xc):
    assert xc("ensure").code == 0
    before = root.snapshot()
    result = xc("revert")
    assert result.code == 0
    assert "the default certificate is already in place" in result.out
    assert root.snapshot() == before
    assert len(root.hook_runs()) == 1


# --- renew ------------------------------------------------------------------------------------------------

def test_renew_outside_the_window_does_nothing(root, xc):
    assert xc("ensure").code == 0
    assert_quiet_no_op(root, xc, "renew")
    assert len(root.hook_runs()) == 1


def test_renew_inside_the_window_makes_a_new_default(root, xc, keys):
    key = keys.get("ec:p256")
    old = package_like(key, "pbx.example.test", not_before=now() - 800 * DAY, not_after=now() + 20 * DAY)
    root.put_default(old, key, hostname="pbx.example.test", key_type="ec:p256", fingerprint=fingerprint(old))
    result = xc("renew")
    assert result.code == 0, result
    assert "expires in 19 days" in result.out or "expires in 20 days" in result.out
    cert = assert_pair_in_place(root, "ec:p256")
    assert dns_names(cert) == ["pbx.example.test", "localhost"]
    assert (cert.not_valid_after - cert.not_valid_before).days == 825
    [run] = root.hook_runs()
    assert_hook_env(run, root, cert, "renew", previous=fingerprint(old))


def test_renew_refuses_an_admin_certificate_inside_the_window(root, xc, ca):
    leaf, key = ca.leaf(not_before=now() - 300 * DAY, not_after=now() + 5 * DAY)
    root.put_pair(leaf, key)
    root.lock_ready()
    before = root.snapshot()
    result = xc("renew")
    assert result.code == 1
    assert len(result.err_lines) == 2  # the expiry alert's warning (test_expiry), then the refusal
    assert result.err_lines[1].startswith(f"xivo-certs: {root.cert}: an admin's certificate, expiring in ")
    assert "install it with `xivo-certs install`" in result.err_lines[1]
    after = root.snapshot()
    assert after.pop("var/lib/xivo-certs/expiry-alert")  # the alert's record, nothing else
    assert after == before


def test_renew_leaves_an_admin_certificate_outside_the_window(root, xc, issued):
    leaf, key = issued("pbx.example.test").pair
    root.put_pair(leaf, key)
    before = (root.cert.read_bytes(), root.key.read_bytes())
    assert xc("renew").code == 0
    assert (root.cert.read_bytes(), root.key.read_bytes()) == before


# --- sync -------------------------------------------------------------------------------------------------

def test_sync_with_nothing_to_do_changes_nothing_and_runs_no_hook(root, xc):
    assert xc("ensure").code == 0
    assert_quiet_no_op(root, xc, "sync")
    assert len(root.hook_runs()) == 1


def test_sync_notices_a_pair_copied_by_hand_and_fixes_its_modes(root, xc, ordinary_ca, issued):
    assert xc("ensure").code == 0
    default = root.certs()[0]
    leaf, key = issued("pbx.example.test").pair
    root.put_pair(leaf, key, chain=[ordinary_ca.cert], key_mode=0o644, cert_mode=0o600, gid=GID)
    result = xc("sync")
    assert result.code == 0, result
    assert owner_mode(root.key) == (UID, WWW_DATA, 0o640)
    assert owner_mode(root.cert) == (UID, WWW_DATA, 0o644)
    runs = root.hook_runs()
    assert len(runs) == 2
    assert_hook_env(runs[1], root, leaf, "sync", previous=fingerprint(default), default="no",
                    self_signed="no", previous_pem=runs[0]["XIVO_CERTS_PEM_SHA256"])
    before = root.snapshot()
    assert xc("sync").code == 0
    assert root.snapshot() == before and len(root.hook_runs()) == 2


def test_sync_runs_the_hooks_once_for_a_new_conf_d_directory(root, xc, ordinary_ca, issued):
    root.ship_hooks()
    leaf, key = issued("pbx.example.test").pair
    root.put_pair(leaf, key, chain=[ordinary_ca.cert])
    assert xc("sync").code == 0
    assert root.links() == ALL_LINKED
    (root / "etc/wazo-newd/conf.d").mkdir(parents=True)
    assert xc("sync").code == 0
    assert os.readlink(root / "etc/wazo-newd/conf.d/010-custom-certificate.yml") == OVERRIDE_PATH
    runs = root.hook_runs()
    assert len(runs) == 2
    assert runs[1]["XIVO_CERTS_PREVIOUS_FINGERPRINT"] == runs[1]["XIVO_CERTS_FINGERPRINT"]
    assert str(root / "etc/wazo-newd/conf.d") in root.state().confd_dir
    assert xc("sync").code == 0
    assert len(root.hook_runs()) == 2


def test_sync_runs_the_hooks_when_the_settings_change(root, xc):
    assert xc("ensure").code == 0
    (root / "etc/xivo-certs/xivo-certs.conf").write_text("restart_services = yes\n")
    assert xc("sync").code == 0
    runs = root.hook_runs()
    assert len(runs) == 2 and runs[1]["XIVO_CERTS_RESTART_SERVICES"] == "yes"


def test_sync_refuses_a_mismatched_pair_without_running_hooks(root, xc, keys):
    assert xc("ensure").code == 0
    cert_bytes = root.cert.read_bytes()
    other = keys.get("ec:p256")
    root.key.write_bytes(pem(other))  # half of a hand copy
    result = xc("sync")
    assert result.code == 1
    assert result.err_lines == [f"xivo-certs: {root.key}: does not match the certificate {root.cert}"]
    assert root.cert.read_bytes() == cert_bytes and root.key.read_bytes() == pem(other)
    assert len(root.hook_runs()) == 1


def test_sync_without_a_certificate_is_a_problem(root, xc):
    result = xc("sync")
    assert result.code == 1
    assert result.err_lines == [f"xivo-certs: {root.cert}: no such file"]
    assert root.hook_runs() == []


# --- more edges --------------------------------------------------------------------------------------------

def test_install_der_files_are_stored_as_pem(root, xc, admin_files):
    from cryptography.hazmat.primitives import serialization
    admin_files["cert"].write_bytes(admin_files["leaf"].public_bytes(serialization.Encoding.DER))
    admin_files["key"].write_bytes(admin_files["leaf_key"].private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))
    assert xc("install", "--cert", admin_files["cert"], "--key", admin_files["key"],
              "--chain", admin_files["chain"]).code == 0
    assert root.cert.read_bytes() == pem(admin_files["leaf"], admin_files["middle"], admin_files["root"])
    assert root.key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert_pair_in_place(root)


@pytest.mark.parametrize("hostname, cn", [("pbx." + "x" * 62 + ".example.org", "pbx"),
                                          ("ñandú.example", "xn--and-6ma2c.example")])
def test_generate_long_and_idn_names(root, xc, hostname, cn):
    assert xc("generate", "--hostname", hostname).code == 0
    cert = root.certs()[0]
    assert common_name(cert) == cn
    assert len(common_name(cert)) <= 64
    assert dns_names(cert)[0] == hostname.encode("idna").decode() and dns_names(cert)[-1] == "localhost"


def test_ensure_keeps_an_orphan_key_before_generating(root, xc, keys):
    root.cert.parent.mkdir(parents=True)
    root.key.write_bytes(pem(keys.get("ec:p256")))
    orphan = root.key.read_bytes()
    assert xc("ensure").code == 0
    [backup] = root.backups()
    assert (backup / "server.key").read_bytes() == orphan
    assert_pair_in_place(root)


def test_a_symlinked_admin_pair_is_left_as_it_is(root, xc, ordinary_ca, issued, tmp_path):
    leaf, key = issued("pbx.example.test").pair
    (tmp_path / "le").mkdir()
    (tmp_path / "le/cert.pem").write_bytes(pem(leaf, ordinary_ca.cert))
    (tmp_path / "le/key.pem").write_bytes(pem(key))
    root.cert.parent.mkdir(parents=True)
    root.cert.symlink_to(tmp_path / "le/cert.pem")
    root.key.symlink_to(tmp_path / "le/key.pem")
    before = snapshot_of(tmp_path / "le")
    result = xc("ensure", "--reason", "upgrade", "--hooks-nonfatal")
    assert "is a symbolic link; xivo-certs manages regular files only" in result.err
    assert "left as it is" in result.err
    for args in (["sync"], ["renew"], ["status"]):
        result = xc(*args)
        assert result.code == 1
        assert "is a symbolic link" in result.out + result.err
    assert os.readlink(root.cert) == str(tmp_path / "le/cert.pem")
    assert os.readlink(root.key) == str(tmp_path / "le/key.pem")
    assert snapshot_of(tmp_path / "le") == before
    assert root.hook_runs() == []


def snapshot_of(directory):
    from support.snapshots import snapshot
    return snapshot(directory, inodes=False)


def test_a_failed_sync_is_reported_once_then_sync_compares_metadata_only(root, xc, keys):
    """README: with nothing to do, sync only compares file metadata with the recorded state; the
    problem stays visible in `status`."""
    assert xc("ensure").code == 0
    root.key.write_bytes(pem(keys.get("ec:p256")))
    assert xc("sync").code == 1
    second = xc("sync")
    assert (second.code, second.err) == (0, "")
    assert xc("status").code == 1
    assert len(root.hook_runs()) == 1


def test_a_removed_conf_d_directory_is_recorded_without_hooks(root, xc):
    assert xc("ensure").code == 0
    (root / CONFD_DIRS[0]).rmdir()
    assert xc("sync").code == 0
    assert str(root / CONFD_DIRS[0]) not in root.state().confd_dir
    assert len(root.hook_runs()) == 1
    before = root.snapshot()
    assert xc("sync").code == 0
    assert root.snapshot() == before


@pytest.mark.parametrize("damage", ["cert is a symlink", "cert is garbage", "key is missing",
                                    "rsa-pss", "duplicate-extension"])
def test_ensure_warns_once_about_an_admins_unusable_pair_and_exits_0(root, xc, issued, tmp_path, damage):
    """postinst runs ensure: an admin's broken pair must not fail the install, nor be touched."""
    cert, key = issued("pbx.example.test").pair
    root.put_pair(cert, key)
    root.write_state(hostname="localhost", generated_fingerprint="0" * 64)
    if damage == "cert is a symlink":
        target = tmp_path / "elsewhere.pem"
        target.write_bytes(root.cert.read_bytes())
        root.cert.unlink()
        root.cert.symlink_to(target)
    elif damage == "cert is garbage":
        root.cert.write_bytes(b"not a certificate\n")
    elif damage == "key is missing":
        root.key.unlink()
    else:
        cert_bytes, key_bytes = unreadable_pair(tmp_path, damage)
        root.cert.write_bytes(cert_bytes)
        root.key.write_bytes(key_bytes)
    before = root.snapshot()
    result = xc("ensure", "--reason", "upgrade", "--hooks-nonfatal")
    assert result.code == 0
    assert len(result.err_lines) == 1
    assert result.err_lines[0].startswith("xivo-certs: warning: ")
    assert result.err_lines[0].endswith("; the admin's certificate is left as it is")
    after = root.snapshot()
    assert {p: v for p, v in after.items() if "var/lib/xivo-certs" not in p} == \
        {p: v for p, v in before.items() if "var/lib/xivo-certs" not in p}
    assert root.hook_runs() == []
