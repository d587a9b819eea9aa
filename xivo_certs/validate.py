"""Checks on an admin's certificate, key and chain before `xivo-certs install` puts them in place."""

from typing import NamedTuple

from . import certinfo, chain as chain_module, names, x509
from .errors import Problem


class Admin(NamedTuple):
    """An admin's pair fit to be installed."""
    certs: list  # the leaf, then its chain in order
    key: object
    warnings: list  # lines to show the admin; none stops the install


def judge(given, cert_file, system_bundle):
    """The Admin pair of a bundle.Given: the certificate its key belongs to, and that
    certificate's chain among the others."""
    key, key_path = the_key(given, cert_file)
    candidates = [item for item in given.certs if x509.key_matches(item[0], key)]
    leaf_item = the_leaf(candidates, key_path, cert_file)
    warnings = leaf(*leaf_item)
    warnings += superseded_warnings(leaf_item, candidates)
    others = [item for item in given.certs if item not in candidates]
    ordered, left_out = chain_module.in_order(leaf_item, others)
    warnings += chain_warnings(ordered, left_out, system_bundle)
    return Admin([cert for cert, _ in ordered], key, warnings)


def the_key(given, cert_file):
    """(key, path): the one private key given (the same key twice counts once)."""
    if not given.keys:
        raise Problem("holds no private key: give it with --key", cert_file)
    key, path = given.keys[0]
    for other, other_path in given.keys[1:]:
        if other.public_key().public_numbers() != key.public_key().public_numbers():
            raise Problem("holds a second, different private key", other_path)
    return key, path


def the_leaf(candidates, key_path, cert_file):
    """(certificate, path): of the certificates the key belongs to (a renewal may keep the key),
    the one valid now, not a CA, that ends last; whatever order the files give them in."""
    if not candidates:
        if key_path == cert_file:
            raise Problem("its private key matches none of its certificates", cert_file)
        raise Problem(f"does not match the certificate in {cert_file}", key_path)
    return max(candidates, key=_preference)


def _preference(item):
    info = x509.describe(item[0])
    return certinfo.validity_problem(info) is None, not info.is_ca, info.not_after


def superseded_warnings(leaf_item, candidates):
    """A line for each other certificate of the same key, left out of server.crt."""
    chosen = x509.fingerprint(leaf_item[0])
    return [f"warning: {path}: left out another certificate for the same key "
            f"({x509.name_text(cert.subject)}, valid until {x509.describe(cert).not_after:%Y-%m-%d})"
            for cert, path in candidates if x509.fingerprint(cert) != chosen]


def leaf(cert, path):
    """The warnings about a server certificate fit to be installed; a Problem when it is not."""
    info = x509.describe(cert)
    validity = certinfo.validity_problem(info)
    if validity:
        raise Problem(f"the certificate {validity}", path)
    weak = certinfo.weaknesses(info)
    if weak:
        raise Problem(f"the certificate is too weak for today's TLS clients: {', '.join(weak)}", path)
    if info.primary_name is None:
        raise Problem("the certificate names no DNS host name the daemons can connect to "
                      "(only wildcards or IP addresses)", path)
    for what, text in (("subject CN", info.subject_cn), ("issuer CN", info.issuer_cn)):
        names.check_printable(text, what, path)
    for name in info.names:
        if not names.is_host_name(name.removeprefix("*.")):
            raise Problem(f"the certificate holds {name!r}, which is not a DNS host name", path)
    return [ca_leaf_warning(cert, info, path)] if info.is_ca else []


def ca_leaf_warning(cert, info, path):
    """A CA certificate is a server's only as plain `openssl req -x509` makes it: self-signed, and
    its own trust anchor for strict clients."""
    if not info.self_signed:
        raise Problem("is a CA certificate (basicConstraints CA:TRUE), not a server certificate", path)
    problem = chain_module.strict_self_anchor_problem(cert)
    if problem:
        raise Problem("is a self-signed CA certificate (basicConstraints CA:TRUE) that strict TLS "
                      f"clients refuse: {problem}", path)
    return (f"warning: {path}: a self-signed certificate marked as a CA (basicConstraints CA:TRUE, "
            "as plain `openssl req -x509` makes it); accepted: `openssl verify -x509_strict` "
            "takes it as its own trust anchor")


def chain_warnings(ordered, left_out, system_bundle):
    """Warnings about the chain (leaf first, (certificate, path) items) and the certificates left
    out of it; a Problem when a chain certificate is unfit or an intermediate is missing from a
    bundle that holds others."""
    for number, (cert, path) in enumerate(ordered[1:], 2):
        validity = certinfo.validity_problem(x509.describe(cert))
        if validity:
            raise Problem(f"chain certificate {number} {validity}", path)
    warnings = []
    missing = chain_module.missing_issuer([cert for cert, _ in ordered], system_bundle)
    if missing and left_out:
        top = x509.name_text(ordered[-1][0].subject)
        raise Problem(f"intermediate certificate for {missing} missing: none of the certificates "
                      f"given issued {top}", left_out[0][1])
    if missing:
        warnings.append(f"warning: {ordered[-1][1]}: intermediate certificate for {missing} "
                        "missing, unless that is your own CA's root: clients that do not trust it "
                        "cannot verify the certificate (give it with --chain)")
    for cert, path in left_out:
        warnings.append(f"warning: {path}: left out {x509.name_text(cert.subject)}, which is not "
                        "in the certificate's chain")
    return warnings
