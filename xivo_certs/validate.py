"""Checks on an admin's certificate, key and chain before `xivo-certs install` puts them in place."""

from . import certinfo, files, names, x509
from .errors import Problem


def admin_pair(cert_file, key_file, chain_file=None):
    """The certificates (leaf first) and key to install, or a Problem naming the file at fault."""
    certs = x509.parse_certificates(files.read_input(cert_file), cert_file)
    if chain_file:
        certs += x509.parse_certificates(files.read_input(chain_file), chain_file)
    leaf(certs[0], cert_file)
    problem = x509.chain_problem(certs)
    if problem:
        raise Problem(problem, chain_file or cert_file)
    for number, cert in enumerate(certs[1:], 2):
        validity = certinfo.validity_problem(x509.describe(cert))
        if validity:
            raise Problem(f"chain certificate {number} {validity}", chain_file or cert_file)
    key = x509.parse_private_key(files.read_input(key_file), key_file)
    if not x509.key_matches(certs[0], key):
        raise Problem(f"does not match the certificate in {cert_file}", key_file)
    return certs, key


def leaf(cert, path):
    info = x509.describe(cert)
    if info.is_ca:
        raise Problem("is a CA certificate (basicConstraints CA:TRUE), not a server certificate", path)
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
    return info
