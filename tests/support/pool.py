"""Keys made once per session, handed out round-robin, and a private CA (hand-made, its keys from
the pool) issuing leaves with chosen dates, hashes, keys and extensions. RSA is slow here (0.4 s
for 2048 bits, seconds to tens of seconds for 3072 and 4096), so the big keys come from test-only
files in data/. For ordinary chains whose keys and extensions do not matter, see support.chains."""

import itertools
from pathlib import Path

from .certs import key_from_pem, make_cert, name, new_key

DATA = Path(__file__).resolve().parent / "data"


class KeyPool:
    """Keys by type ("rsa:BITS", "ec:p256", ...), handed out round-robin."""

    COUNTS = {"rsa:2048": 4, "rsa:1024": 2}

    def __init__(self):
        self._keys = {}
        self._cycles = {}

    def _make(self, key_type):
        kind, _, size = key_type.partition(":")
        if key_type in ("rsa:3072", "rsa:4096"):
            return [key_from_pem((DATA / f"test-only-rsa{size}.key").read_bytes())]
        count = self.COUNTS.get(key_type, 1) if kind == "rsa" else 4
        return [new_key(key_type) for _ in range(count)]

    def get(self, key_type="rsa:2048"):
        if key_type not in self._keys:
            self._keys[key_type] = self._make(key_type)
            self._cycles[key_type] = itertools.cycle(self._keys[key_type])
        return next(self._cycles[key_type])

    def distinct(self, key_type, count):
        """`count` different keys of one type."""
        keys = []
        while len(keys) < count:
            key = self.get(key_type)
            if all(key is not other for other in keys):
                keys.append(key)
        return keys


POOL = KeyPool()


class PrivateCA:
    """A private CA (O=Test, EC P-256 keys from `pool`; under `parent` when given) issuing leaves
    with chosen properties."""

    def __init__(self, pool=POOL, cn="xivo-certs Test Root CA", parent=None, key=None):
        self.key = key or pool.get("ec:p256")
        self.pool = pool
        self.parent = parent
        issuer = {"issuer": parent.cert, "issuer_key": parent.key} if parent else {}
        self.cert = make_cert(self.key, name(cn, "Test"), ca=True, days=1825 if parent else 3650,
                              **issuer)

    def intermediate(self, cn="xivo-certs Test Intermediate CA"):
        return PrivateCA(self.pool, cn, parent=self, key=self.pool.get("ec:p256"))

    def leaf(self, dns=("pbx.example.test",), cn=None, key=None, key_type="rsa:2048", **options):
        """(certificate, key) of a leaf for the DNS names `dns` (CN `cn`, default the first name);
        `options`: those of support.certs.make_cert."""
        key = key or self.pool.get(key_type)
        cert = make_cert(key, name(cn if cn is not None else (dns[0] if dns else "leaf")), dns=dns,
                         issuer=self.cert, issuer_key=self.key, **options)
        return cert, key

    def chain(self):
        """This CA and its parents, nearest first (what goes after the leaf)."""
        result, ca = [], self
        while ca is not None:
            result.append(ca.cert)
            ca = ca.parent
        return result
