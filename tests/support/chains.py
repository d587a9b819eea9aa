"""Ordinary chains from python3-trustme (0.9): a CA, an intermediate under it, leaves they issue;
as cryptography objects, so they mix with support.certs (PEM out, hand-made leaves signed by a
trustme CA). trustme 0.9 makes RSA 2048 keys, valid from 2000 to 2038, leaves with a SAN of the
given names and serverAuth."""

import trustme
from cryptography import x509

from .certs import cert_pem, key_from_pem, key_pem


class CA:
    """A trustme CA: `cert` and `key` (cryptography objects); under `parent` when given."""

    def __init__(self, name=None, parent=None):
        self.parent = parent
        self.trustme = trustme.CA(parent_cert=parent.trustme if parent else None,
                                  organization_unit_name=name)
        self.cert = x509.load_pem_x509_certificate(self.trustme.cert_pem.bytes())
        self.key = key_from_pem(self.trustme.private_key_pem.bytes())

    def intermediate(self, name=None):
        return CA(name, parent=self)

    def issue(self, *names, cn=None, not_after=None):
        """A leaf for `names` (DNS names or IP addresses; CN `cn`, default the first name)."""
        return Leaf(self.trustme.issue_cert(*names, common_name=cn or names[0], not_after=not_after))

    @property
    def pem(self):
        return cert_pem(self.cert)


class Leaf:
    """A leaf certificate: `cert`, `key`, and `chain` (the CAs between it and the root)."""

    def __init__(self, issued):
        self.cert, *self.chain = [x509.load_pem_x509_certificate(blob.bytes())
                                  for blob in issued.cert_chain_pems]
        self.key = key_from_pem(issued.private_key_pem.bytes())

    @property
    def pem(self):
        """The leaf, then its chain: what goes in server.crt."""
        return cert_pem(self.cert, *self.chain)

    @property
    def pair(self):
        """(certificate, key)"""
        return self.cert, self.key

    @property
    def key_pem(self):
        return key_pem(self.key)
