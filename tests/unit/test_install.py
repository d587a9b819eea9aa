"""`xivo-certs install` with admins' files as CAs hand them out (issue 11, items 3 and 4): a new
chain for the same leaf is a change, the same files again are a no-op; bundles in any order, with
duplicates, over several --chain files, with the key inside, as PKCS#12 (made by real openssl);
a missing intermediate named; `openssl req -x509` certificates; advice that never destroys the
input. Run in this process (xc), keys from the session pool, chains from trustme."""

import re
import subprocess
import time

import pytest

from support.certs import (key_pem, load_key, make_cert, name, openssl_pkcs12, openssl_req_x509, pem,
                           unreadable_pair)
from support.facts import fingerprint, spki
from support.layout import CA as CA_PATH
from xc_testlib import refusal_line

HOST = "pbx.example.test"


@pytest.fixture
def admin(issued):
    """A leaf for HOST issued by the intermediate of the trustme CA."""
    return issued(HOST, "voip.example.test", intermediate=True)


@pytest.fixture
def write(tmp_path):
    """write(name, data): a file of the admin's, its path."""
    (tmp_path / "in").mkdir()

    def put(file_name, data):
        path = tmp_path / "in" / file_name
        path.write_bytes(data)
        return path
    return put


def installed_chain(root):
    return [fingerprint(cert) for cert in root.certs()]


def fingerprints(*certs):
    return [fingerprint(cert) for cert in certs]


# --- 11.3: a change of chain is a change; the same files again are not ------------------------------

def test_the_same_leaf_with_its_root_added_runs_the_hooks(root, xc, admin, ordinary_ca, write):
    root.ship_hooks()
    cert, key = write("pbx.crt", pem(admin.cert)), write("pbx.key", admin.key_pem)
    first = xc("install", "--cert", cert, "--key", key, "--chain", write("middle.pem", pem(*admin.chain)))
    assert "(give the root with `xivo-certs install --chain`)" in first.err  # what the tool advises
    runs = len(root.hook_runs())
    assert root.override_yaml()["dird"] == {"host": HOST}
    root.write_state(**{**root.state()._asdict(), "changed_at": "1"})  # as if changed long ago

    result = xc("install", "--cert", cert, "--key", key,
                "--chain", write("chain.pem", pem(*admin.chain, ordinary_ca.cert)))
    assert result.code == 0, result
    assert installed_chain(root) == fingerprints(admin.cert, *admin.chain, ordinary_ca.cert)
    assert len(root.hook_runs()) == runs + 1
    assert (root / CA_PATH).read_bytes() == ordinary_ca.pem
    assert root.override_yaml()["dird"] == {"host": HOST, "verify_certificate": CA_PATH}
    assert root.override_yaml()["consul"] == {"host": HOST, "verify": CA_PATH}
    assert root.state().pem_sha256 is not None
    assert "restart the XiVO services to use it" in result.err  # the chain nginx serves changed
    assert int(root.state().changed_at) >= int(time.time()) - 60  # status notes the restart owed


def test_a_chain_copied_by_hand_runs_the_hooks_at_sync(root, xc, admin, ordinary_ca, write):
    root.ship_hooks()
    assert xc("install", "--cert", write("pbx.pem", pem(admin.cert, *admin.chain) + admin.key_pem)).code == 1
    runs = len(root.hook_runs())
    root.cert.write_bytes(pem(admin.cert, *admin.chain, ordinary_ca.cert))
    result = xc("sync")
    assert result.code == 0, result
    assert len(root.hook_runs()) == runs + 1
    assert (root / CA_PATH).read_bytes() == ordinary_ca.pem
    assert xc("sync").code == 0 and len(root.hook_runs()) == runs + 1


def test_a_state_recorded_before_the_chain_was_is_no_change(root, xc, admin, ordinary_ca, write):
    """The upgrade from a version that recorded no pem_sha256 runs no hooks for that alone."""
    assert xc("install", "--cert", write("pbx.pem", pem(admin.cert, *admin.chain, ordinary_ca.cert)
                                         + admin.key_pem)).code == 0
    recorded = root.state()
    root.write_state(**recorded._replace(pem_sha256=None)._asdict())
    runs = root.hook_runs()
    assert xc("ensure").code == 0
    assert root.hook_runs() == runs
    assert root.state().pem_sha256 == recorded.pem_sha256


def test_installing_the_same_files_again_changes_nothing(root, xc, admin, ordinary_ca, write):
    root.ship_hooks()
    args = ("install", "--cert", write("pbx.crt", pem(admin.cert)), "--key", write("pbx.key", admin.key_pem),
            "--chain", write("chain.pem", pem(*admin.chain, ordinary_ca.cert)))
    assert xc(*args).code == 0
    runs, before = root.hook_runs(), root.snapshot()
    result = xc(*args)
    assert (result.code, result.err) == (0, ""), result
    assert result.out == "xivo-certs: the certificate, its chain and its key are already in place\n"
    assert root.backups() == []
    assert root.hook_runs() == runs
    assert root.snapshot() == before


def test_the_same_certificate_as_pkcs12_is_the_same_files(root, xc, admin, ordinary_ca, write, tmp_path):
    chain = write("chain.pem", pem(*admin.chain, ordinary_ca.cert))
    cert, key = write("pbx.crt", pem(admin.cert)), write("pbx.key", admin.key_pem)
    assert xc("install", "--cert", cert, "--key", key, "--chain", chain).code == 0
    runs = root.hook_runs()
    p12 = openssl_pkcs12(tmp_path / "in/pbx.p12", cert, key, chain)
    result = xc("install", "--cert", p12)
    assert (result.code, result.err) == (0, ""), result
    assert "already in place" in result.out
    assert root.hook_runs() == runs and root.backups() == []


# --- 11.4: admins' files as CAs hand them out ---------------------------------------------------------

def test_a_bundle_in_any_order_with_duplicates(root, xc, admin, ordinary_ca, write):
    [middle] = admin.chain
    bundle = write("bundle.pem", pem(ordinary_ca.cert, middle, admin.cert, middle, ordinary_ca.cert))
    result = xc("install", "--cert", bundle, "--key", write("pbx.key", admin.key_pem))
    assert result.code == 0, result
    assert installed_chain(root) == fingerprints(admin.cert, middle, ordinary_ca.cert)
    assert "warning" not in result.err


def test_chain_given_more_than_once_and_out_of_order(root, xc, admin, ordinary_ca, write):
    [middle] = admin.chain
    result = xc("install", "--cert", write("pbx.crt", pem(admin.cert)), "--key", write("k", admin.key_pem),
                "--chain", write("root.pem", ordinary_ca.pem), "--chain", write("middle.pem", pem(middle)),
                "--chain", write("again.pem", pem(middle)))
    assert result.code == 0, result
    assert installed_chain(root) == fingerprints(admin.cert, middle, ordinary_ca.cert)


def test_certificate_and_key_in_one_file(root, xc, admin, ordinary_ca, write):
    [middle] = admin.chain
    text = (b"Bag Attributes\n    friendlyName: pbx\n" + admin.key_pem
            + pem(middle, admin.cert, ordinary_ca.cert))
    result = xc("install", "--cert", write("pbx.pem", text))
    assert result.code == 0, result
    assert installed_chain(root) == fingerprints(admin.cert, middle, ordinary_ca.cert)
    assert spki(load_key(root.key).public_key()) == spki(admin.key.public_key())
    assert root.key.read_bytes() == key_pem(admin.key)


@pytest.mark.parametrize("password, legacy", [("s3cret pass", False), ("s3cret", True), ("", False)])
def test_pkcs12_made_by_openssl(root, xc, admin, ordinary_ca, write, tmp_path, password, legacy):
    p12 = openssl_pkcs12(tmp_path / "in/pbx.p12", write("c.pem", pem(admin.cert)),
                         write("k.pem", admin.key_pem),
                         write("chain.pem", pem(*admin.chain, ordinary_ca.cert)),
                         password, legacy)
    args = ["--password-file", write("password", password.encode() + b"\n")] if password else []
    result = xc("install", "--cert", p12, *args)
    assert result.code == 0, result
    assert installed_chain(root) == fingerprints(admin.cert, *admin.chain, ordinary_ca.cert)
    assert spki(load_key(root.key).public_key()) == spki(admin.key.public_key())


def test_a_missing_intermediate_is_named(root, xc, admin, ordinary_ca, write):
    [middle] = admin.chain
    key = write("pbx.key", admin.key_pem)
    bundle = write("bundle.pem", pem(admin.cert, ordinary_ca.cert))
    line = refusal_line(root, xc, "install", "--cert", bundle, "--key", key)
    assert line.startswith(f"xivo-certs: {bundle}: intermediate certificate for "
                           f"{middle.subject.rfc4514_string()} missing"), line


def test_a_leaf_alone_warns_that_its_issuer_is_missing(root, xc, admin, write):
    [middle] = admin.chain
    cert = write("pbx.crt", pem(admin.cert))
    result = xc("install", "--cert", cert, "--key", write("pbx.key", admin.key_pem))
    assert result.code == 0, result
    assert result.err_lines[0].startswith(
        f"xivo-certs: warning: {cert}: intermediate certificate for "
        f"{middle.subject.rfc4514_string()} missing")
    assert installed_chain(root) == fingerprints(admin.cert)


def test_a_leaf_alone_whose_ca_the_system_trusts_is_no_warning(root, xc, issued, ordinary_ca, write):
    leaf = issued(HOST)
    bundle = root / "etc/ssl/certs/ca-certificates.crt"
    bundle.parent.mkdir(parents=True)
    bundle.write_bytes(ordinary_ca.pem)
    result = xc("install", "--cert", write("pbx.crt", pem(leaf.cert)),
                "--key", write("pbx.key", leaf.key_pem))
    assert (result.code, result.err) == (0, ""), result


def test_a_stray_certificate_is_left_out_with_a_warning(root, xc, admin, ordinary_ca, issued, write):
    stray = issued("other.example.test").cert
    chain = write("chain.pem", pem(stray, *admin.chain, ordinary_ca.cert))
    result = xc("install", "--cert", write("pbx.crt", pem(admin.cert)), "--key", write("k", admin.key_pem),
                "--chain", chain)
    assert result.code == 0, result
    assert result.err_lines == [f"xivo-certs: warning: {chain}: left out other.example.test, which is "
                                "not in the certificate's chain"]
    assert installed_chain(root) == fingerprints(admin.cert, *admin.chain, ordinary_ca.cert)


def test_a_self_signed_certificate_from_openssl_req_x509(root, xc, tmp_path):
    root.ship_hooks()
    cert, key = openssl_req_x509(tmp_path, HOST)
    result = xc("install", "--cert", cert, "--key", key)
    assert result.code == 0, result
    assert result.err_lines[:1] == [
        f"xivo-certs: warning: {cert}: a self-signed certificate marked as a CA (basicConstraints "
        "CA:TRUE, as plain `openssl req -x509` makes it); accepted: `openssl verify -x509_strict` "
        "takes it as its own trust anchor"]
    assert root.cert.read_bytes() == cert.read_bytes()
    assert (root / CA_PATH).read_bytes() == cert.read_bytes()  # the daemons verify against it
    assert root.override_yaml()["dird"] == {"host": HOST, "verify_certificate": CA_PATH}


def test_a_self_signed_ca_certificate_strict_clients_refuse(root, xc, keys, write):
    key = keys.get("ec:p256")
    cert = make_cert(key, name(HOST), ca=True, dns=(HOST,), key_ids_critical=True)
    cert_file = write("pbx.crt", pem(cert))
    line = refusal_line(root, xc, "install", "--cert", cert_file, "--key", write("pbx.key", pem(key)))
    assert line == (f"xivo-certs: {cert_file}: is a self-signed CA certificate (basicConstraints "
                    "CA:TRUE) that strict TLS clients refuse: unhandled critical extension")


@pytest.mark.parametrize("kind, problem", [
    ("rsa-pss", "is signed with RSASSA-PSS, which xivo-certs does not support"),
    ("duplicate-extension", "cannot be read: Duplicate 1.3.6.1.4.1.55555.1 extension found")])
@pytest.mark.parametrize("container", ["pem", "p12"])
def test_a_certificate_that_loads_but_cannot_be_judged_is_one_line(
        root, xc, write, tmp_path, kind, problem, container):
    """cryptography reads the extensions and the signature algorithm only when asked."""
    cert_bytes, key_bytes = unreadable_pair(tmp_path, kind)
    cert, key = write("pbx.crt", cert_bytes), write("pbx.key", key_bytes)
    args = ["--cert", cert, "--key", key]
    if container == "p12":
        args = ["--cert", openssl_pkcs12(tmp_path / "in/pbx.p12", cert, key)]
    line = refusal_line(root, xc, "install", *args)
    assert line.startswith(f"xivo-certs: {args[1]}: certificate 1 "), line
    assert problem in line


def test_the_encrypted_key_advice_keeps_the_key(root, xc, admin, write):
    encrypted = key_pem(admin.key, password=b"pw")
    key = write("pbx.key", encrypted)
    cert = write("pbx.crt", pem(admin.cert, *admin.chain))
    line = refusal_line(root, xc, "install", "--cert", cert, "--key", key)
    command = re.search(r"\((openssl pkey -in \S+ -out \S+)\)", line)
    assert command, line
    argv = command.group(1).split()
    assert argv[3] == str(key) and argv[5] != str(key)
    subprocess.run([*argv, "-passin", "pass:pw"], check=True, capture_output=True)
    assert key.read_bytes() == encrypted
    assert xc("install", "--cert", cert, "--key", argv[5]).code == 0
    assert root.key.read_bytes() == key_pem(admin.key)


def test_an_encrypted_key_with_its_password_file(root, xc, admin, write):
    encrypted = key_pem(admin.key, "traditional", password=b"pw")
    result = xc("install", "--cert", write("pbx.crt", pem(admin.cert, *admin.chain)),
                "--key", write("pbx.key", encrypted), "--password-file", write("pw.txt", b"pw\r\n"))
    assert result.code == 0, result
    assert root.key.read_bytes() == key_pem(admin.key)


# --- every bad file: one line naming it, exit 1, nothing changed --------------------------------------

def bad_files(case, admin, ordinary_ca, keys, write, tmp_path):
    """(install arguments, the file the line must name, the text it must hold)"""
    chain = write("chain.pem", pem(*admin.chain, ordinary_ca.cert))
    cert, key = write("pbx.crt", pem(admin.cert)), write("pbx.key", admin.key_pem)
    if case.startswith("p12"):
        p12 = openssl_pkcs12(tmp_path / "in/pbx.p12", cert, key, chain, "right")
        password = {"p12 without password": [], "p12 wrong password": [write("pw", b"wrong\n")]}[case]
        text = ("a PKCS#12 file protected by a password: give it with --password-file" if not password
                else f"the password in {password[0]} does not open this PKCS#12 file")
        return ["--cert", p12, *(["--password-file", *password] if password else [])], p12, text
    other = pem(keys.get("ec:p256"))
    cases = {
        "no key anywhere": (["--cert", cert], cert, "holds no private key, and `xivo-certs request` kept "
                            f"none ({tmp_path / 'root/var/lib/xivo-certs/request.key'}): give it with --key"),
        "two keys": (["--cert", write("both.pem", pem(admin.cert) + admin.key_pem + other)],
                     tmp_path / "in/both.pem", "holds a second, different private key"),
        "key matching no certificate": (["--cert", write("wrong.pem", pem(admin.cert) + other)],
                                        tmp_path / "in/wrong.pem",
                                        "its private key matches none of its certificates"),
        "wrong password for the key": (
            ["--cert", cert, "--key", write("enc.key", key_pem(admin.key, password=b"pw")),
             "--password-file", write("pw", b"wrong\n")],
            tmp_path / "in/enc.key",
            f"the password in {tmp_path / 'in/pw'} does not decrypt the private key"),
        "missing password file": (["--cert", cert, "--key", key, "--password-file", tmp_path / "nowhere"],
                                  tmp_path / "nowhere", "no such file"),
        "certificate request": (["--cert", write("req.pem", b"-----BEGIN CERTIFICATE REQUEST-----\nAA==\n"
                                                 b"-----END CERTIFICATE REQUEST-----\n"), "--key", key],
                                tmp_path / "in/req.pem",
                                "expected certificates and a private key, found CERTIFICATE REQUEST"),
        "neither PEM, DER nor PKCS#12": (["--cert", write("junk.bin", b"\x30\x82junk"), "--key", key],
                                         tmp_path / "in/junk.bin",
                                         "not a certificate (neither PEM nor DER X.509, nor PKCS#12)"),
    }
    return cases[case]


@pytest.mark.parametrize("case", ["p12 without password", "p12 wrong password", "no key anywhere",
                                  "two keys", "key matching no certificate", "wrong password for the key",
                                  "missing password file",
                                  "certificate request", "neither PEM, DER nor PKCS#12"])
def test_bad_files_one_line_naming_the_file(root, xc, admin, ordinary_ca, keys, write, tmp_path, case):
    assert xc("generate").code == 0
    args, at_fault, text = bad_files(case, admin, ordinary_ca, keys, write, tmp_path)
    line = refusal_line(root, xc, "install", *args)
    assert line == f"xivo-certs: {at_fault}: {text}", line
