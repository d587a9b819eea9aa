"""xivo_certs.pair: reading the pair in place, the package's own certificate or an admin's,
why a default certificate must be made again, and making it."""

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes

from xivo_certs import files, pair, settings as settings_module
from xivo_certs.context import Notes
from xivo_certs.state import State
from xivo_certs.errors import Problem
from support.asserts import owner_mode
from support.certs import DAY, load_key, make_cert, name, now, package_like
from support.facts import fingerprint, sha256_file, spki
from support.owners import OWNER, UID, WWW_DATA

DEFAULTS = settings_module.load("/nonexistent/xivo-certs.conf")


def test_read_a_matching_pair(root, keys):
    key = keys.get("rsa:2048")
    cert = package_like(key, "pbx.example.test")
    root.put_pair(cert, key)
    found = pair.read(root.paths)
    assert found.key_problem is None
    assert spki(found.key.public_key()) == spki(key.public_key())
    assert found.info.fingerprint == fingerprint(cert)
    assert found.pem_sha256 == sha256_file(root.cert)
    assert len(found.certs) == 1


def test_read_reports_key_problems_without_failing(root, keys):
    key, other = keys.distinct("rsa:2048", 2)
    root.put_pair(package_like(key), other)
    assert pair.read(root.paths).key_problem == \
        f"{root.key}: does not match the certificate {root.cert}"
    root.key.unlink()
    assert pair.read(root.paths).key_problem == f"{root.key}: no such file"


def test_read_refuses_a_symlinked_or_missing_certificate(root, keys, tmp_path):
    with pytest.raises(Problem, match=f"^{root.cert}: no such file$"):
        pair.read(root.paths)
    key = keys.get("rsa:2048")
    root.put_pair(package_like(key), key)
    real = tmp_path / "real.crt"
    real.write_bytes(root.cert.read_bytes())
    root.cert.unlink()
    root.cert.symlink_to(real)
    with pytest.raises(Problem, match="is a symbolic link"):
        pair.read(root.paths)


def found_for(root, cert, key):
    root.put_pair(cert, key)
    return pair.read(root.paths)


def test_is_default_follows_the_record(root, keys):
    key = keys.get("rsa:2048")
    cert = package_like(key, "pbx.example.test")
    found = found_for(root, cert, key)
    assert pair.is_default(found, State(generated_fingerprint=fingerprint(cert)))
    assert not pair.is_default(found, State(generated_fingerprint="00" * 32))


def test_before_any_record_a_self_signed_cn_localhost_is_the_default(root, keys, ca):
    key = keys.get("rsa:2048")
    legacy = make_cert(key, name("localhost"), dns=("localhost",))
    assert pair.is_default(found_for(root, legacy, key), State())
    # a record without a generated fingerprint (e.g. only sync ran) keeps the legacy rule
    assert pair.is_default(found_for(root, legacy, key), State(fingerprint=fingerprint(legacy)))
    with_org = make_cert(key, name("localhost", "ACME"), dns=("localhost",))
    assert not pair.is_default(found_for(root, with_org, key), State())
    other_name = make_cert(key, name("pbx.example.test"), dns=("pbx.example.test",))
    assert not pair.is_default(found_for(root, other_name, key), State())
    issued, issued_key = ca.leaf(("localhost",), cn="localhost")
    assert not pair.is_default(found_for(root, issued, issued_key), State())
    # once something is generated, only the record counts
    assert not pair.is_default(found_for(root, legacy, key), State(generated_fingerprint="00" * 32))


def test_before_any_record_a_certificate_shaped_as_generated_is_the_default(root, keys):
    """With the state deleted, the package's own certificate for another name is still its own:
    what make_default makes (the subject only the CN, localhost and the loopback addresses)."""
    key = keys.get("rsa:2048")
    long_name = "a" * 60 + ".example.test"
    for cert in (package_like(key, "pbx.example.test"),
                 package_like(key, long_name, cn=long_name.split(".")[0]),
                 package_like(key, "pbx.example.test", dns=("pbx.example.test", "extra.example.test",
                                                            "localhost"))):
        assert pair.is_default(found_for(root, cert, key), State())
    admins = [
        make_cert(key, name("pbx.example.test", "ACME"), dns=("pbx.example.test", "localhost"),
                  ips=("127.0.0.1", "::1")),  # an organisation in the subject
        make_cert(key, name("pbx.example.test"), dns=("pbx.example.test", "localhost")),  # no IPs
        make_cert(key, name("pbx.example.test"), dns=("pbx.example.test",), ips=("127.0.0.1", "::1")),
        make_cert(key, name("other.example.test"), dns=("pbx.example.test", "localhost"),
                  ips=("127.0.0.1", "::1")),  # the CN is not the first name
        make_cert(key, name("pbx.example.test"), ca=True, dns=("pbx.example.test", "localhost"),
                  ips=("127.0.0.1", "::1")),  # a CA (plain `openssl req -x509`)
    ]
    for cert in admins:
        assert not pair.is_default(found_for(root, cert, key), State()), cert.subject
    generated = package_like(key, "pbx.example.test")
    assert not pair.is_default(found_for(root, generated, key), State(generated_fingerprint="00" * 32))


def test_hostname_of(root, keys):
    key = keys.get("rsa:2048")
    found = found_for(root, package_like(key, "pbx.example.test"), key)
    assert pair.hostname_of(found, State(hostname="recorded.example")) == "recorded.example"
    assert pair.hostname_of(found, State()) == "pbx.example.test"
    wildcard = make_cert(key, name("x"), dns=("*.example.test",))
    assert pair.hostname_of(found_for(root, wildcard, key), State()) == "localhost"


@pytest.mark.parametrize("case, expected", [
    ("fine", []),
    ("mismatch", ["does not match the certificate"]),
    ("sha1", ["signed with SHA1"]),
    ("rsa1024", ["RSA key of 1024 bits"]),
    ("no_san", ["no subjectAltName"]),
    ("expired", ["expired on "]),
    ("in_window", ["expires in 10 days"]),
    ("edge_of_window", ["expires in 30 days"]),
    ("hostname", ["name localhost is not pbx.example.test"]),
    ("key_type", ["key rsa:2048 is not ec:p256"]),
])
def test_regeneration_reasons(root, keys, case, expected):
    key, other = keys.distinct("rsa:2048", 2)
    cert, in_place, hostname, key_type = package_like(key), key, None, None
    if case == "mismatch":
        in_place = other
    elif case == "sha1":
        cert = package_like(key, hash_alg=hashes.SHA1())
    elif case == "rsa1024":
        in_place = keys.get("rsa:1024")
        cert = package_like(in_place)
    elif case == "no_san":
        cert = package_like(key, san=False)
    elif case == "expired":
        cert = package_like(key, not_before=now() - 900 * DAY, not_after=now() - DAY)
    elif case == "in_window":
        cert = package_like(key, not_before=now() - 800 * DAY, not_after=now() + 10 * DAY + DAY / 2)
    elif case == "edge_of_window":
        cert = package_like(key, not_before=now() - 800 * DAY, not_after=now() + 30 * DAY + DAY / 2)
    elif case == "hostname":
        hostname = "pbx.example.test"
    elif case == "key_type":
        key_type = "ec:p256"
    found = found_for(root, cert, in_place)
    reasons = pair.regeneration_reasons(found, DEFAULTS, hostname, key_type)
    assert len(reasons) == len(expected), reasons
    for reason, text in zip(reasons, expected):
        assert text in reason


def test_outside_the_window_is_fine(root, keys):
    key = keys.get("rsa:2048")
    cert = package_like(key, not_before=now() - 800 * DAY, not_after=now() + 31 * DAY + DAY / 2)
    assert pair.regeneration_reasons(found_for(root, cert, key), DEFAULTS) == []


def test_adopted_state_records_the_certificate_as_generated(root, keys):
    key = keys.get("rsa:2048")
    cert = make_cert(key, name("localhost"), dns=("localhost",))
    found = found_for(root, cert, key)
    adopted = pair.adopted_state(found, State(fingerprint="old"))
    assert adopted == State(fingerprint="old", hostname="localhost", key_type="rsa:2048",
                            generated_fingerprint=fingerprint(cert),
                            generated_pem_sha256=sha256_file(root.cert))


def test_make_default_writes_the_pair_and_its_record(root):
    files.ensure_private_dir(root.paths.state_dir, OWNER)  # what the commands' lock does first
    notes = Notes()
    new = pair.make_default(root.paths, OWNER, notes, State(fingerprint="before", san=("old.example",)),
                            "pbx.example.test", "ec:p384", ("voip.example.test",), 90)
    cert = root.certs()[0]
    key = load_key(root.key)
    assert spki(cert.public_key()) == spki(key.public_key())
    assert new == State(fingerprint="before", hostname="pbx.example.test", key_type="ec:p384",
                        san=("voip.example.test",), generated_fingerprint=fingerprint(cert),
                        generated_pem_sha256=hashlib.sha256(root.cert.read_bytes()).hexdigest())
    assert root.state() == new
    assert owner_mode(root.key) == (UID, WWW_DATA, 0o640)
    assert owner_mode(root.cert) == (UID, WWW_DATA, 0o644)
    assert (cert.not_valid_after - cert.not_valid_before).days == 90
    [out] = notes.out
    assert notes.err == []
    assert out.startswith("xivo-certs: generated a self-signed certificate for pbx.example.test (ec:p384, "
                          "valid until ")
