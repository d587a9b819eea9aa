"""xivo_certs.x509: making the default pair, reading certificates and keys, judging them."""

import datetime
import hashlib
import socket
import ssl
import subprocess
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from xivo_certs import certinfo, trust, x509 as core
from xivo_certs.errors import Problem
from support.certs import DAY, make_cert, name, now, package_like, pem
from support.facts import fingerprint, spki

REAL_NEW_KEY = core.new_key  # the suite's fixture hands out pooled keys in its place


# --- making the default pair ---------------------------------------------------------------------

@pytest.mark.parametrize("key_type, kind, size", [
    ("rsa:2048", rsa.RSAPrivateKey, 2048),
    ("ec:p256", ec.EllipticCurvePrivateKey, 256),
    ("ec:p384", ec.EllipticCurvePrivateKey, 384),
])
def test_new_key_makes_the_type_asked(key_type, kind, size):
    key = REAL_NEW_KEY(key_type)
    assert isinstance(key, kind)
    assert key.key_size == size
    if kind is rsa.RSAPrivateKey:
        assert key.private_numbers().public_numbers.e == 65537


@pytest.mark.parametrize("key_type, size", [("rsa:3072", 3072), ("rsa:4096", 4096)])
def test_new_key_asks_for_big_rsa_sizes(monkeypatch, keys, key_type, size):
    # 3072 and 4096 bits take seconds to tens of seconds here: check the request, not the maths
    asked = []

    def generate(public_exponent, key_size, backend=None):
        asked.append((public_exponent, key_size))
        return keys.get(key_type)
    monkeypatch.setattr(core.rsa, "generate_private_key", generate)
    assert REAL_NEW_KEY(key_type).key_size == size
    assert asked == [(65537, size)]


@pytest.mark.parametrize("key_type", ["rsa:1024", "rsa:8192", "ec:p521", "ed25519", "", "rsa"])
def test_new_key_refuses_other_types(key_type):
    with pytest.raises(Problem, match="is not one of rsa:2048, rsa:3072, rsa:4096, ec:p256, ec:p384"):
        REAL_NEW_KEY(key_type)


def extension(cert, kind):
    return cert.extensions.get_extension_for_class(kind)


@pytest.mark.parametrize("key_type, hash_name", [
    ("rsa:2048", "sha256"), ("ec:p256", "sha256"), ("ec:p384", "sha256")])
def test_self_signed_has_what_strict_verifiers_need(keys, key_type, hash_name):
    key = keys.get(key_type)
    before = now()
    cert = core.self_signed(key, "pbx.example.com", ("voip.example.com",), days=100)
    assert cert.version == x509.Version.v3
    assert cert.subject == cert.issuer == x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "pbx.example.com")])
    assert spki(cert.public_key()) == spki(key.public_key())
    assert cert.signature_hash_algorithm.name == hash_name
    san = extension(cert, x509.SubjectAlternativeName)
    assert san.value.get_values_for_type(x509.DNSName) == [
        "pbx.example.com", "voip.example.com", "localhost"]
    assert [str(a) for a in san.value.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    assert not san.critical
    constraints = extension(cert, x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca is False
    usage = extension(cert, x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature
    assert usage.value.key_encipherment is key_type.startswith("rsa")
    assert not usage.value.key_cert_sign
    assert extension(cert, x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.SERVER_AUTH])
    ski = extension(cert, x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    assert extension(cert, x509.AuthorityKeyIdentifier).value.key_identifier == ski.digest
    start = cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    assert before - datetime.timedelta(minutes=6) <= start <= before
    assert cert.not_valid_after - cert.not_valid_before == 100 * DAY
    assert cert.serial_number > 0


def test_self_signed_lists_each_name_once(keys):
    cert = core.self_signed(keys.get("ec:p256"), "localhost", ("localhost", "a.example", "a.example"))
    assert extension(cert, x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName) == [
        "localhost", "a.example"]


def test_a_name_longer_than_64_goes_in_the_san_only(keys):
    long_name = "pbx." + "d" * 60 + ".example.com"
    assert len(long_name) > 64
    cert = core.self_signed(keys.get("ec:p256"), long_name)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "pbx"
    assert extension(cert, x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName)[0] == long_name
    exactly_64 = "a" * 56 + ".example"
    assert len(exactly_64) == 64
    cert = core.self_signed(keys.get("ec:p256"), exactly_64)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == exactly_64


def test_openssl_x509_strict_accepts_the_generated_certificate(tmp_path, keys):
    for key_type in ("rsa:2048", "ec:p384"):
        cert_file = tmp_path / "server.crt"
        cert_file.write_bytes(pem(core.self_signed(keys.get(key_type), "pbx.example.com")))
        result = subprocess.run(["openssl", "verify", "-x509_strict", "-purpose", "sslserver",
                                 "-verify_hostname", "pbx.example.com", "-CAfile", cert_file,
                                 cert_file], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().endswith(": OK")


def handshake(cert_file, key_file, server_name):
    """A TLS handshake over a socket pair, the client as strict as Python 3.13's default context."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    client_context = ssl.create_default_context(cafile=str(cert_file))
    client_context.verify_flags |= ssl.VERIFY_X509_STRICT | getattr(ssl, "VERIFY_X509_PARTIAL_CHAIN", 0)
    server_sock, client_sock = socket.socketpair()
    errors = []

    def serve():
        try:
            with server_context.wrap_socket(server_sock, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError) as error:
            errors.append(error)
    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with client_context.wrap_socket(client_sock, server_hostname=server_name) as tls:
            peer = tls.getpeercert()
            tls.sendall(b"x")
    finally:
        thread.join(10)
    return peer


@pytest.mark.parametrize("server_name", ["localhost", "pbx.example.com", "127.0.0.1"])
def test_python_strict_tls_client_accepts_the_generated_certificate(tmp_path, keys, server_name):
    key = keys.get("rsa:2048")
    (tmp_path / "c.pem").write_bytes(pem(core.self_signed(key, "pbx.example.com")))
    (tmp_path / "k.pem").write_bytes(pem(key))
    peer = handshake(tmp_path / "c.pem", tmp_path / "k.pem", server_name)
    assert ("DNS", "pbx.example.com") in peer["subjectAltName"]


def test_the_strict_client_does_check_the_name(tmp_path, keys):
    # what the check above is worth: the same client refuses a name the certificate does not hold
    key = keys.get("rsa:2048")
    (tmp_path / "c.pem").write_bytes(pem(core.self_signed(key, "pbx.example.com")))
    (tmp_path / "k.pem").write_bytes(pem(key))
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(tmp_path / "c.pem", tmp_path / "k.pem", "other.example.com")


def test_key_pem_is_unencrypted_pkcs8(keys):
    key = keys.get("ec:p256")
    data = core.key_pem(key)
    assert data.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert spki(serialization.load_pem_private_key(data, None).public_key()) == spki(key.public_key())


# --- reading ------------------------------------------------------------------------------------------

def test_parse_certificates_keeps_pem_order_and_reads_der(ordinary_ca, issued):
    admin = issued("pbx.example.test", intermediate=True)
    leaf, [middle] = admin.cert, admin.chain
    data = pem(leaf, middle, ordinary_ca.cert)
    assert [fingerprint(c) for c in core.parse_certificates(data, "f")] == [
        fingerprint(leaf), fingerprint(middle), fingerprint(ordinary_ca.cert)]
    crlf = data.replace(b"\n", b"\r\n")
    assert len(core.parse_certificates(crlf, "f")) == 3
    der = leaf.public_bytes(serialization.Encoding.DER)
    assert [fingerprint(c) for c in core.parse_certificates(der, "f")] == [fingerprint(leaf)]
    with_text = b"subject=CN = pbx\nissuer=CN = ca\n" + pem(leaf)
    assert len(core.parse_certificates(with_text, "f")) == 1


@pytest.mark.parametrize("data, problem", [
    (b"-----BEGIN CERTIFICATE-----\nMIIB\n", "malformed PEM: no complete BEGIN/END block"),
    (b"-----BEGIN CERTIFICATE-----\nMIIBxx==\n-----END CERTIFICATE-----\n",
     "certificate 1 is not valid X.509"),
    (b"hello world\n", "not a certificate (neither PEM nor DER X.509)"),
    (b"", "not a certificate"),
    (b"\x30\x03\x02\x01\x01", "not a certificate"),
])
def test_parse_certificates_refusals(data, problem):
    with pytest.raises(Problem) as refused:
        core.parse_certificates(data, "/in/cert.pem")
    assert str(refused.value) == f"/in/cert.pem: {problem}" or \
        str(refused.value).startswith(f"/in/cert.pem: {problem}")


def test_a_key_where_a_certificate_is_expected(keys, ca):
    leaf, key = ca.leaf()
    for data in (pem(key), pem(leaf, key)):
        with pytest.raises(Problem, match=r"^/c: expected only certificates, found PRIVATE KEY$"):
            core.parse_certificates(data, "/c")


def test_the_second_bad_block_is_named(ca):
    leaf, _ = ca.leaf()
    data = pem(leaf) + b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    with pytest.raises(Problem, match="certificate 2 is not valid X.509"):
        core.parse_certificates(data, "/c")


def test_parse_private_key_formats(keys):
    key = keys.get("rsa:2048")
    traditional = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    for data in (pem(key), traditional, der):
        assert spki(core.parse_private_key(data, "k").public_key()) == spki(key.public_key())
    ec_key = keys.get("ec:p384")
    assert core.key_type_of(core.parse_private_key(pem(ec_key), "k").public_key()) == "ec:p384"


def test_parse_private_key_refusals(keys, ca):
    key = keys.get("rsa:2048")
    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"secret"))
    legacy_encrypted = key.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.TraditionalOpenSSL,
                                         serialization.BestAvailableEncryption(b"secret"))
    assert b"Proc-Type: 4,ENCRYPTED" in legacy_encrypted
    for data in (encrypted, legacy_encrypted):
        with pytest.raises(Problem, match=r"^/k: the private key is encrypted"):
            core.parse_private_key(data, "/k")
    leaf, _ = ca.leaf()
    with pytest.raises(Problem, match=r"^/k: is a certificate, not a private key$"):
        core.parse_private_key(pem(leaf), "/k")
    with pytest.raises(Problem, match=r"^/k: not a private key \(PEM or DER\)"):
        core.parse_private_key(b"junk", "/k")
    with pytest.raises(Problem, match=r"^/k: not a private key \(PEM or DER\)"):
        core.parse_private_key(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "/k")
    with pytest.raises(Problem, match=r"^/k: only RSA and EC private keys are supported$"):
        core.parse_private_key(pem(ed25519.Ed25519PrivateKey.generate()), "/k")


# --- judging ------------------------------------------------------------------------------------------

def test_describe_a_ca_issued_leaf(ca):
    leaf, _ = ca.intermediate().leaf(("pbx.example.test", "*.example.test", "b.example.test"),
                                     ips=("192.0.2.1",), key_type="ec:p384")
    info = core.describe(leaf)
    assert info.subject_cn == "pbx.example.test"
    assert info.issuer_cn == "xivo-certs Test Intermediate CA"
    assert info.names == ("pbx.example.test", "*.example.test", "b.example.test")
    assert info.ip_addresses == ("192.0.2.1",)
    assert info.self_signed is False and info.is_ca is False and info.has_san is True
    assert info.key_type == "ec:p384"
    assert info.signature_hash == "sha256"
    assert info.fingerprint == hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest()
    assert info.not_after.tzinfo is not None
    assert info.primary_name == "pbx.example.test"
    assert info.covers("a.example.test") and info.covers("b.example.test")
    assert not info.covers("localhost") and not info.covers("example.test")
    assert 363 <= info.days_left() <= 364


def test_describe_self_signed_and_legacy(keys):
    key = keys.get("rsa:1024")
    legacy = make_cert(key, name("localhost"), san=False, hash_alg=hashes.SHA1())
    info = core.describe(legacy)
    assert info.self_signed and not info.has_san and info.names == ()
    assert info.primary_name == "localhost"  # the CN, when there is no SAN
    assert info.covers("localhost")
    assert info.key_type == "rsa:1024" and info.signature_hash == "sha1"
    assert certinfo.weaknesses(info) == ["signed with SHA1", "RSA key of 1024 bits", "no subjectAltName"]


def test_the_primary_name_skips_wildcards_and_is_none_without_a_host_name(ca):
    assert core.describe(ca.leaf(("*.example.test", "pbx.example.test"))[0]).primary_name == \
        "pbx.example.test"
    assert core.describe(ca.leaf(("*.example.test",))[0]).primary_name is None
    assert core.describe(ca.leaf((), cn="pbx.example.test", ips=("192.0.2.1",))[0]).primary_name is None


def test_a_san_hides_the_cn(ca):
    leaf, _ = ca.leaf(("pbx.example.test",), cn="localhost")
    assert not core.describe(leaf).covers("localhost")


def test_not_self_signed_when_subject_equals_issuer_but_signature_does_not_match(keys):
    one, other = keys.distinct("ec:p256", 2)
    forged = make_cert(one, name("localhost"), dns=("localhost",), issuer=make_cert(other, name("localhost")),
                       issuer_key=other)
    assert forged.subject == forged.issuer
    assert core.describe(forged).self_signed is False


@pytest.mark.parametrize("key_type", ["rsa:2048", "rsa:3072", "rsa:4096", "ec:p256", "ec:p384"])
def test_key_type_of(keys, key_type):
    assert core.key_type_of(keys.get(key_type).public_key()) == key_type


def test_key_type_of_other_keys(keys):
    assert core.key_type_of(keys.get("ec:p521").public_key()) == "ec:p521"
    assert core.key_type_of(ed25519.Ed25519PrivateKey.generate().public_key()) == "ed25519"
    assert core.key_type_of(ed448.Ed448PrivateKey.generate().public_key()) == "ed448"


def test_key_matches(keys):
    one, other = keys.distinct("rsa:2048", 2)
    cert = package_like(one)
    assert core.key_matches(cert, one)
    assert not core.key_matches(cert, other)
    ec_one, ec_other = keys.distinct("ec:p256", 2)
    assert core.key_matches(package_like(ec_one), ec_one)
    assert not core.key_matches(package_like(ec_one), ec_other)


def _der_integer(value):
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return b"\x02" + _der_length(len(body)) + body


def _der_length(length):
    if length < 0x80:
        return bytes([length])
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def test_loaded_rsa_key_with_damaged_private_parts_does_not_match(keys):
    # Same modulus and exponent as the certificate, private exponents off by two: loading it
    # skips RSA_check_key, so the pairwise test is what must refuse it.
    key = keys.get("rsa:2048")
    numbers = key.private_numbers()
    fields = [0, numbers.public_numbers.n, numbers.public_numbers.e, numbers.d + 2, numbers.p,
              numbers.q, numbers.dmp1 + 2, numbers.dmq1 + 2, numbers.iqmp]
    body = b"".join(_der_integer(v) for v in fields)
    der = b"\x30" + _der_length(len(body)) + body  # PKCS#1 RSAPrivateKey
    damaged = core.parse_private_key(der, "/k")
    assert spki(damaged.public_key()) == spki(key.public_key())
    assert not core.key_matches(package_like(key), damaged)


def test_weaknesses_of_a_good_certificate_are_none(keys):
    assert certinfo.weaknesses(core.describe(package_like(keys.get("rsa:2048")))) == []


def test_validity_problem(keys):
    key = keys.get("ec:p256")
    expired = make_cert(key, name("x"), not_before=now() - 30 * DAY, not_after=now() - DAY)
    future = make_cert(key, name("x"), not_before=now() + 2 * DAY, days=30)
    fine = make_cert(key, name("x"))
    assert certinfo.validity_problem(core.describe(expired)).startswith("expired on ")
    assert certinfo.validity_problem(core.describe(future)).startswith("is not valid before ")
    assert certinfo.validity_problem(core.describe(fine)) is None


def test_issued_by_checks_signatures_not_only_names(ca):
    middle = ca.intermediate()
    leaf, _ = middle.leaf()
    assert core.issued_by(leaf, middle.cert) and core.issued_by(middle.cert, ca.cert)
    assert not core.issued_by(leaf, ca.cert)
    impostor = make_cert(ec.generate_private_key(ec.SECP256R1()), middle.cert.subject, ca=True)
    assert not core.issued_by(leaf, impostor)
    assert core.is_self_signed(ca.cert) and core.is_self_signed(impostor)
    assert not core.is_self_signed(middle.cert)


def test_name_text_is_the_cn_else_the_whole_name(ca, ordinary_ca):
    assert core.name_text(ca.cert.subject) == "xivo-certs Test Root CA"
    assert core.name_text(ordinary_ca.cert.subject) == ordinary_ca.cert.subject.rfc4514_string()
    assert "xivo-certs unit tests" in core.name_text(ordinary_ca.cert.subject)


def test_trust_check_uses_the_bundle(tmp_path, ordinary_ca, issued):
    admin = issued("pbx.example.test", intermediate=True)
    leaf, [middle] = admin.cert, admin.chain
    cert_file = tmp_path / "server.crt"
    cert_file.write_bytes(pem(leaf, middle))
    bundle = tmp_path / "ca-certificates.crt"

    def trusted():
        return trust.system_trusts(str(cert_file), str(bundle))
    assert trusted() is False  # no bundle
    bundle.write_bytes(b"")
    assert trusted() is False
    bundle.write_bytes(pem(ordinary_ca.cert))
    assert trusted() is True
    cert_file.write_bytes(pem(leaf))  # the intermediate is missing
    assert trusted() is False


def test_trust_anchor(ordinary_ca, issued, keys):
    admin = issued("pbx.example.test", intermediate=True)
    leaf, [middle] = admin.cert, admin.chain
    assert fingerprint(core.trust_anchor([leaf, middle, ordinary_ca.cert])) == fingerprint(ordinary_ca.cert)
    assert core.trust_anchor([leaf, middle]) is None
    own = package_like(keys.get("ec:p256"), "pbx.example.test", dns=("pbx.example.test",))
    assert core.trust_anchor([own]) is own


def test_subject_is_only_cn(keys, ca):
    assert core.subject_is_only_cn(package_like(keys.get("ec:p256")), "localhost")
    assert not core.subject_is_only_cn(ca.cert, "xivo-certs Test Root CA")  # O= too


@pytest.mark.parametrize("path, copy", [("/in/pbx.key", "/in/pbx-decrypted.key"),
                                        ("/in/pbx.pem", "/in/pbx-decrypted.pem"),
                                        ("/in/privkey", "/in/privkey-decrypted.key")])
def test_the_encrypted_key_advice_writes_another_file(path, copy):
    """`openssl pkey -in F -out F` truncates F before reading it: the advice names another file."""
    assert f"(openssl pkey -in {path} -out {copy})" in core.encrypted_key_advice(path)
