"""`xivo-certs request` (a CSR for a commercial CA, its key kept in the state directory) and
`install` without --key (the kept key, forgotten once installed). The CA is openssl itself:
`openssl x509 -req` signs the request as a CA would."""

import json
import os
import subprocess

import pytest
from cryptography import x509

from support.asserts import owner_mode
from support.certs import load_key, pem
from support.facts import dns_names, spki
from support.owners import GID, UID
from support.snapshots import snapshot
from xc_testlib import refusal_line, run_without_root


def kept_key(root):
    return root / "var/lib/xivo-certs/request.key"


def parse_csr(data):
    csr = x509.load_pem_x509_csr(data)
    assert csr.is_signature_valid
    return csr


def sign(csr_path, ca, tmp_path):
    """The certificate openssl, as the CA `ca`, issues for the request (its subjectAltName copied)."""
    (tmp_path / "ca.crt").write_bytes(pem(ca.cert))
    (tmp_path / "ca.key").write_bytes(pem(ca.key))
    signed = tmp_path / "signed.crt"
    subprocess.run(["openssl", "x509", "-req", "-in", str(csr_path), "-CA", str(tmp_path / "ca.crt"),
                    "-CAkey", str(tmp_path / "ca.key"), "-CAcreateserial", "-days", "90", "-sha256",
                    "-copy_extensions", "copy", "-out", str(signed)], check=True, capture_output=True)
    return signed


def test_request_to_stdout_keeps_the_key_root_only(root, xc):
    result = xc("request", "--hostname", "pbx.example.test", "--san", "voip.example.test",
                "--san", "*.example.test", "--key-type", "ec:p256")
    assert result.code == 0, result
    csr = parse_csr(result.out.encode())
    assert csr.subject.rfc4514_string() == "CN=pbx.example.test"
    assert dns_names(csr) == ["pbx.example.test", "voip.example.test", "*.example.test"]
    assert owner_mode(kept_key(root)) == (UID, GID, 0o600)
    key = load_key(kept_key(root))
    assert spki(key.public_key()) == spki(csr.public_key())
    assert key.curve.name == "secp256r1"
    assert result.err_lines == [f"xivo-certs: the key stays in {kept_key(root)} until `xivo-certs install "
                                "--cert FILE [--chain FILE]` (without --key) installs the signed certificate"]
    assert not os.path.lexists(root.cert)  # nothing else changes


def test_request_to_a_file_then_install_without_key(root, xc, ca, tmp_path):
    out = tmp_path / "pbx.csr"
    result = xc("request", "--hostname", "pbx.example.test", "--out", out)
    assert result.code == 0, result
    assert result.out.startswith(f"xivo-certs: wrote the request for pbx.example.test (rsa:2048) to {out}")
    assert owner_mode(out) == (UID, GID, 0o644)
    csr = parse_csr(out.read_bytes())
    signed = sign(out, ca, tmp_path)
    result = xc("install", "--cert", signed, "--chain", tmp_path / "ca.crt")
    assert result.code == 0, result
    leaf = root.certs()[0]
    assert spki(leaf.public_key()) == spki(csr.public_key())
    assert spki(load_key(root.key).public_key()) == spki(csr.public_key())
    assert owner_mode(root.key)[2] == 0o640
    assert not os.path.lexists(kept_key(root))  # forgotten once installed
    assert json.loads(xc("status", "--json").out)["key_matches"] is True


def test_a_second_request_replaces_the_kept_key(root, xc, ca, tmp_path):
    first, second = tmp_path / "1.csr", tmp_path / "2.csr"
    assert xc("request", "--hostname", "pbx.example.test", "--out", first).code == 0
    first_key = kept_key(root).read_bytes()
    result = xc("request", "--hostname", "pbx.example.test", "--out", second)
    assert result.code == 0
    assert spki(load_key(kept_key(root)).public_key()) == spki(parse_csr(second.read_bytes()).public_key())
    # the first key is not lost: its certificate may still come back from the CA
    [backup] = (root / "var/backups/xivo-certs").glob("*-request-key")
    assert result.err_lines[0] == f"xivo-certs: the key of the previous request was backed up to {backup}"
    assert (backup / "request.key").read_bytes() == first_key
    line = refusal_line(root, xc, "install", "--cert", sign(first, ca, tmp_path))
    signed = tmp_path / "signed.crt"
    assert line == f"xivo-certs: {kept_key(root)}: does not match the certificate in {signed}"


def test_install_without_key_and_no_request_is_refused(root, xc, issued, tmp_path):
    cert = tmp_path / "pbx.crt"
    cert.write_bytes(pem(issued("pbx.example.test").cert))
    root.lock_ready()
    line = refusal_line(root, xc, "install", "--cert", cert)
    assert line == (f"xivo-certs: {cert}: holds no private key, and `xivo-certs request` kept none "
                    f"({kept_key(root)}): give it with --key")


def test_install_with_key_leaves_the_kept_key(root, xc, issued, tmp_path):
    assert xc("request", "--hostname", "pbx.example.test", "--out", tmp_path / "r.csr").code == 0
    before = kept_key(root).read_bytes()
    leaf, key = issued("pbx.example.test").pair
    (tmp_path / "pbx.crt").write_bytes(pem(leaf))
    (tmp_path / "pbx.key").write_bytes(pem(key))
    assert xc("install", "--cert", tmp_path / "pbx.crt", "--key", tmp_path / "pbx.key").code == 0
    assert kept_key(root).read_bytes() == before


@pytest.mark.parametrize("args, problem", [
    (["--hostname", "pbx..example"], "host name 'pbx..example' is not a host name: empty label"),
    (["--hostname", "pbx.example.test", "--san", "a b"], "subjectAltName 'a b' is not a host name"),
    (["--hostname", "pbx.example.test", "--out", "/nonexistent/dir/pbx.csr"],
     "/nonexistent/dir/pbx.csr: cannot write the request: No such file or directory"),
    (["--hostname", "pbx.example.test", "--out", "{root}/usr/share/xivo-certs/server.crt"],
     "{root}/usr/share/xivo-certs/server.crt: is a file xivo-certs manages: write the request elsewhere"),
    (["--hostname", "pbx.example.test", "--out", "{root}/var/lib/xivo-certs/state"],
     "{root}/var/lib/xivo-certs/state: is a file xivo-certs manages"),
])
def test_bad_requests_change_nothing(root, xc, args, problem):
    assert xc("ensure").code == 0
    args = [arg.format(root=root) for arg in args]
    assert problem.format(root=root) in refusal_line(root, xc, "request", *args)


def test_request_needs_a_hostname(root, xc):
    result = xc("request")
    assert result.code == 2
    assert result.err_lines[0].startswith("xivo-certs: usage error: the following arguments are required: "
                                          "--hostname")


def test_request_and_renew_need_root(tmp_path):
    """Without root (and without the suite's XIVO_CERTS_TEST_OWNER): the one refusal line, no key
    written, no alert sent, no textfile."""
    elsewhere = tmp_path / "open-root"
    (elsewhere / "var/lib/prometheus/node-exporter").mkdir(parents=True)
    for directory in (elsewhere, *elsewhere.glob("var/**")):
        directory.chmod(0o777)
    before = snapshot(elsewhere)
    for args in (["request", "--hostname", "pbx.example.test"], ["renew"]):
        result = run_without_root(elsewhere, *args)
        assert (result.returncode, result.stdout) == (1, ""), (args, result.stderr)
        assert result.stderr == "xivo-certs: must be run as root (it writes the private key)\n"
    assert snapshot(elsewhere) == before
