"""Scenario 10: real TLS with the installed pair, on Debian 12 and 13, for every key type.

`openssl s_server` (the distribution's) serves /usr/share/xivo-certs/server.{crt,key} on a free
loopback port; the distribution's clients connect and verify against server.crt: curl --cacert,
openssl s_client -verify_return_error, gnutls-cli --x509cafile and python3's
ssl.create_default_context(cafile=...) (Python 3.13 on Debian 13 turns on VERIFY_X509_STRICT).
"""

import socket
import time

import pytest

import debroot
from helpers import Check, check_default_pair, check_status_ok
from support.layout import CERT, KEY

KEY_TYPES = ["rsa:2048", "rsa:3072", "rsa:4096", "ec:p256", "ec:p384"]

PY_CLIENT = r"""
import socket, ssl, sys
host, port, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(cafile=cafile)
strict = bool(ctx.verify_flags & getattr(ssl, "VERIFY_X509_STRICT", 0))
with socket.create_connection((host, port), timeout=10) as raw:
    with ctx.wrap_socket(raw, server_hostname=host) as tls:
        tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
        tls.recv(100)
        print("python", sys.version.split()[0], tls.version(), "strict" if strict else "not-strict")
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(root, proc, port, what, timeout=120):
    """Return once `proc` (a server in `root`) accepts connections on `port`; `timeout` only stops
    a server that never listens."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{root.label}: {what} exited: {proc.stdout.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{root.label}: {what} did not listen on {port}")


@pytest.fixture(scope="module", params=debroot.selected_suites())
def tls_root(request, bases, deb):
    suite = request.param
    root = debroot.Root(suite, bases.tree(suite), f"scenario 10 tls [{suite}]")
    try:
        root.apt_install(deb)
        root.write("/root/client.py", PY_CLIENT)
        yield root
    finally:
        root.close()


class Server:
    """openssl s_server on `port` (of every address, or only of `address`), serving the pair."""

    def __init__(self, root, port, cert=CERT, key=KEY, address=None):
        self.root, self.port = root, port
        accept = f"{address}:{port}" if address else port
        self.proc = root.popen(f"exec openssl s_server -accept {accept} -cert {cert} -key {key} "
                               "-www -quiet")
        wait_listening(root, self.proc, port, "openssl s_server")

    def stop(self):
        self.proc.kill()
        self.proc.wait(10)


@pytest.mark.parametrize("key_type", KEY_TYPES)
def test_s10_tls_clients(tls_root, key_type):
    root = tls_root
    check = Check(root)
    res = root.run(f"xivo-certs generate --key-type {key_type}", check=False)
    check.eq(res.rc, 0, f"`xivo-certs generate --key-type {key_type}`: {res.output[-500:]!r}")
    data = check_status_ok(root, check, key_type)
    info = check_default_pair(root, check, "localhost", key_type, data)
    check.done(f"{key_type}: the generated pair")
    assert info is not None

    res = root.run(f"openssl verify -x509_strict -CAfile {CERT} {CERT}", check=False)
    check.eq(res.rc, 0, f"openssl verify -x509_strict ({key_type}): {res.output.strip()!r}")

    port = free_port()
    server = Server(root, port)
    try:
        clients = {
            "curl https://localhost":
                f"curl -sS --fail --max-time 10 --cacert {CERT} -o /dev/null "
                f"-w '%{{http_code}}' https://localhost:{port}/",
            "curl https://127.0.0.1":
                f"curl -sS --fail --max-time 10 --cacert {CERT} -o /dev/null "
                f"-w '%{{http_code}}' https://127.0.0.1:{port}/",
            "openssl s_client":
                f"echo Q | timeout 10 openssl s_client -connect 127.0.0.1:{port} "
                f"-servername localhost -verify_hostname localhost -verify_return_error "
                f"-CAfile {CERT} -brief",
            "gnutls-cli":
                f"timeout 10 gnutls-cli --x509cafile {CERT} -p {port} localhost </dev/null",
            "python3 ssl":
                f"timeout 10 python3 /root/client.py localhost {port} {CERT}",
        }
        for name, cmd in clients.items():
            res = root.run(cmd, check=False)
            check.eq(res.rc, 0, f"{name} ({key_type}) exit code; output: {res.output.strip()[-600:]!r}")
            if name.startswith("curl"):
                check.eq(res.out.strip(), "200", f"{name} ({key_type}) HTTP status")
            if name == "python3 ssl" and res.rc == 0 and root.suite == "trixie":
                check.true("strict" in res.out.split(),
                           f"python3 on trixie should verify with VERIFY_X509_STRICT: {res.out!r}")
            if name == "gnutls-cli" and res.rc == 0:
                check.true("Handshake was completed" in res.output,
                           f"gnutls-cli ({key_type}) did not complete the handshake")
    finally:
        server.stop()
    check.done(f"{key_type}: TLS clients")
