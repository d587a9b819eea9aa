"""xivo_certs.validate: the checks on an admin's certificate, key and chain before `install`."""

import pytest
from cryptography.hazmat.primitives import hashes, serialization

from xivo_certs import bundle, paths, validate
from xivo_certs.errors import Problem
from support.certs import DAY, make_cert, name, now, pem
from support.facts import fingerprint, spki


def admin_pair(cert_file, key_file=None, chain_files=()):
    """What `install` makes of these files: bundle.read, then validate.judge."""
    return validate.judge(bundle.read(cert_file, key_file, chain_files), cert_file, paths.SYSTEM_CA_BUNDLE)


@pytest.fixture
def files_of(tmp_path):
    """Write named byte strings to files; their paths."""
    def write(**contents):
        paths = {}
        for label, data in contents.items():
            path = tmp_path / f"{label}.pem"
            path.write_bytes(data)
            paths[label] = str(path)
        return paths
    return write


def test_leaf_and_chain_files_in_order(ordinary_ca, issued, files_of):
    admin = issued("pbx.example.test", "voip.example.test", intermediate=True)
    (leaf, key), [middle] = admin.pair, admin.chain
    f = files_of(cert=pem(leaf), key=pem(key), chain=pem(middle, ordinary_ca.cert))
    certs, got_key, _ = admin_pair(f["cert"], f["key"], [f["chain"]])
    assert [fingerprint(c) for c in certs] == [fingerprint(leaf), fingerprint(middle),
                                               fingerprint(ordinary_ca.cert)]
    assert spki(got_key.public_key()) == spki(key.public_key())


def test_the_chain_may_follow_the_leaf_in_the_certificate_file(issued, files_of):
    admin = issued("pbx.example.test", intermediate=True)
    f = files_of(cert=pem(admin.cert, *admin.chain), key=pem(admin.key))
    certs, _, _ = admin_pair(f["cert"], f["key"])
    assert len(certs) == 2


def test_der_certificate_and_key_traditional_and_ec_keys(ca, files_of, keys):
    leaf, key = ca.leaf()
    der_cert = leaf.public_bytes(serialization.Encoding.DER)
    der_key = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    f = files_of(cert=der_cert, key=der_key)
    assert fingerprint(admin_pair(f["cert"], f["key"])[0][0]) == fingerprint(leaf)
    traditional = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
    f = files_of(cert=pem(leaf), key=traditional)
    admin_pair(f["cert"], f["key"])
    ec_leaf, ec_key = ca.leaf(key_type="ec:p384")
    f = files_of(cert=pem(ec_leaf), key=pem(ec_key))
    admin_pair(f["cert"], f["key"])


def test_a_self_signed_admin_certificate_is_accepted(keys, files_of):
    key = keys.get("ec:p256")
    cert = make_cert(key, name("pbx.example.test"), dns=("pbx.example.test",))
    f = files_of(cert=pem(cert), key=pem(key))
    assert len(admin_pair(f["cert"], f["key"])[0]) == 1


def test_a_wildcard_beside_a_host_name_is_accepted(issued, files_of):
    leaf, key = issued("*.example.test", "pbx.example.test").pair
    f = files_of(cert=pem(leaf), key=pem(key))
    admin_pair(f["cert"], f["key"])


def test_upper_case_dns_names_are_host_names(ca, files_of):
    """DNS names compare without case (RFC 5280 7.2): some CAs keep the case they were asked."""
    leaf, key = ca.leaf(("PBX.Example.test",))
    f = files_of(cert=pem(leaf), key=pem(key))
    certs, _, _ = admin_pair(f["cert"], f["key"])
    assert fingerprint(certs[0]) == fingerprint(leaf)


def refusal(ca, keys, case):
    """(cert bytes, key bytes, chain bytes or None, file at fault, text of the problem)"""
    leaf, key = ca.leaf()
    middle = ca.intermediate()
    mid_leaf, mid_key = middle.leaf()
    other_key = keys.distinct("rsa:2048", 2)[1] if keys.get("rsa:2048") is key else keys.get("rsa:2048")
    rsa_key, rsa1024_key = keys.get("rsa:2048"), keys.get("rsa:1024")
    cases = {
        "malformed PEM": (b"-----BEGIN CERTIFICATE-----\nMIIB\n", pem(key), None, "cert",
                          "malformed PEM"),
        "garbage": (b"not a certificate at all", pem(key), None, "cert", "neither PEM nor DER"),
        "key where cert expected": (pem(key), pem(key), None, "cert",
                                    "holds a private key but no certificate"),
        "cert where key expected": (pem(leaf), pem(leaf), None, "key", "is a certificate, not a private key"),
        "encrypted key": (pem(leaf), key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pw")), None, "key", "the private key is encrypted"),
        "mismatch": (pem(leaf), pem(other_key), None, "key", "does not match the certificate in"),
        "expired": (pem(ca.leaf(not_before=now() - 400 * DAY, not_after=now() - DAY, key=rsa_key)[0]),
                    pem(rsa_key), None, "cert", "the certificate expired on"),
        "not yet valid": (pem(ca.leaf(not_before=now() + 3 * DAY, key=rsa_key)[0]), pem(rsa_key), None,
                          "cert", "the certificate is not valid before"),
        "CA:TRUE leaf": (pem(ca.leaf(ca=True, key=rsa_key)[0]), pem(rsa_key), None, "cert",
                         "is a CA certificate (basicConstraints CA:TRUE)"),
        "intermediate missing": (pem(mid_leaf), pem(mid_key), pem(ca.cert), "chain",
                                 "intermediate certificate for xivo-certs Test Intermediate CA missing"),
        "intermediate missing in cert file": (pem(mid_leaf, ca.cert), pem(mid_key), None, "cert",
                                              "intermediate certificate for xivo-certs Test "
                                              "Intermediate CA missing"),
        "wildcard only": (pem(ca.leaf(("*.example.test",), key=rsa_key)[0]), pem(rsa_key), None,
                          "cert", "names no DNS host name"),
        "IP only": (pem(ca.leaf((), cn="pbx.example.test", ips=("192.0.2.7",), key=rsa_key)[0]),
                    pem(rsa_key), None, "cert", "names no DNS host name"),
        "no SAN": (pem(ca.leaf(("pbx.example.test",), san=False, key=rsa_key)[0]), pem(rsa_key), None,
                   "cert", "no subjectAltName"),
        "SHA-1": (pem(ca.leaf(hash_alg=hashes.SHA1(), key=rsa_key)[0]), pem(rsa_key), None, "cert",
                  "signed with SHA1"),
        "RSA 1024": (pem(ca.leaf(key=rsa1024_key)[0]), pem(rsa1024_key), None, "cert",
                     "RSA key of 1024 bits"),
        "bad SAN name": (pem(ca.leaf(("pbx.example.test", "under_score.example.test"), key=rsa_key)[0]),
                         pem(rsa_key), None, "cert",
                         "'under_score.example.test', which is not a DNS host name"),
    }
    return cases[case]


CASES = ["malformed PEM", "garbage", "key where cert expected", "cert where key expected",
         "encrypted key", "mismatch", "expired", "not yet valid", "CA:TRUE leaf", "intermediate missing",
         "intermediate missing in cert file", "wildcard only", "IP only", "no SAN", "SHA-1", "RSA 1024",
         "bad SAN name"]


@pytest.mark.parametrize("case", CASES)
def test_refusals_name_the_file_and_the_problem(ca, keys, files_of, case):
    cert, key, chain, at_fault, text = refusal(ca, keys, case)
    contents = {"cert": cert, "key": key}
    if chain is not None:
        contents["chain"] = chain
    f = files_of(**contents)
    with pytest.raises(Problem) as refused:
        admin_pair(f["cert"], f["key"], [f["chain"]] if "chain" in f else ())
    assert refused.value.path == f[at_fault]
    assert str(refused.value).startswith(f"{f[at_fault]}: ")
    assert text in str(refused.value)
    assert "\n" not in str(refused.value)


def test_an_expired_chain_certificate_is_refused(ca, keys, files_of):
    old_ca_key = keys.get("ec:p256")
    old_ca = make_cert(old_ca_key, name("Old CA"), ca=True, not_before=now() - 900 * DAY,
                       not_after=now() - DAY)
    leaf_key = keys.get("rsa:2048")
    leaf = make_cert(leaf_key, name("pbx.example.test"), dns=("pbx.example.test",), issuer=old_ca,
                     issuer_key=old_ca_key, not_before=now() - 10 * DAY, days=100)
    f = files_of(cert=pem(leaf), key=pem(leaf_key), chain=pem(old_ca))
    with pytest.raises(Problem, match=f"^{f['chain']}: chain certificate 2 expired on "):
        admin_pair(f["cert"], f["key"], [f["chain"]])


@pytest.mark.parametrize("missing", ["cert", "key", "chain"])
def test_missing_files_are_named(ca, files_of, tmp_path, missing):
    leaf, key = ca.leaf()
    f = files_of(cert=pem(leaf), key=pem(key), chain=pem(ca.cert))
    f[missing] = str(tmp_path / "nowhere" / f"{missing}.pem")
    with pytest.raises(Problem, match=f"^{f[missing]}: no such file$"):
        admin_pair(f["cert"], f["key"], [f["chain"]])


def test_unreadable_files_are_named(ca, files_of, tmp_path):
    leaf, key = ca.leaf()
    f = files_of(cert=pem(leaf))
    a_dir = tmp_path / "key-dir"
    a_dir.mkdir()
    with pytest.raises(Problem, match=f"^{a_dir}: not a regular file$"):
        admin_pair(f["cert"], str(a_dir))


@pytest.mark.parametrize("order", ["renewed first", "expired first"])
def test_of_two_certificates_for_the_key_the_one_valid_now_is_the_leaf(ca, files_of, order):
    """A renewal that kept the key (certbot --reuse-key), both in one bundle in either order."""
    renewed, key = ca.leaf()
    expired, _ = ca.leaf(key=key, not_before=now() - 400 * DAY, days=90)
    bundle = [renewed, expired] if order == "renewed first" else [expired, renewed]
    f = files_of(cert=pem(*bundle, ca.cert), key=pem(key))
    certs, _, warnings = admin_pair(f["cert"], f["key"])
    assert [fingerprint(c) for c in certs] == [fingerprint(renewed), fingerprint(ca.cert)]
    assert warnings == [f"warning: {f['cert']}: left out another certificate for the same key "
                        f"(pbx.example.test, valid until {(now() - 310 * DAY):%Y-%m-%d})"]


def test_a_key_file_holding_two_different_keys_is_refused_in_either_order(ca, files_of, keys):
    leaf, key = ca.leaf()
    other = keys.get("ec:p256")
    for label, blocks in (("ours_first", (key, other)), ("ours_last", (other, key))):
        f = files_of(cert=pem(leaf), **{label: pem(*blocks)})
        with pytest.raises(Problem) as refused:
            admin_pair(f["cert"], f[label])
        assert refused.value.path == f[label]
        assert "holds a second, different private key" in str(refused.value)
