"""Let's Encrypt in a package-test root: Debian's pebble (the test ACME server) and certbot, both
installed in the root with apt and run inside it.

pebble serves its ACME directory over TLS with a pair made here by python3-trustme (for 127.0.0.1);
certbot trusts it through REQUESTS_CA_BUNDLE. With PEBBLE_VA_ALWAYS_VALID=1 every challenge is
valid, so any authenticator works without a reachable port 80; PEBBLE_VA_NOSLEEP=1 and
PEBBLE_WFE_NONCEREJECT=0 take out pebble's random delays and refused nonces. The ports are free
ones (the roots share the host's network, and two suites may run at once).
"""

import json
import ssl
import threading
import urllib.request

from cryptography import x509

from support import chains
from test_tls import free_port, wait_listening

PACKAGES = "certbot pebble"
DIR = "/root/pebble"
CA_BUNDLE = f"{DIR}/tls-ca.pem"  # the CA of pebble's own TLS pair, for certbot
LIVE = "/etc/letsencrypt/live"
PEBBLE_ENV = "PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0"


def install_tools(root):
    """Debian's certbot and pebble, in the root (the base root has no package lists)."""
    root.run("apt-get update -qq && apt-get install -y -qq --no-install-recommends "
             f"-o Dpkg::Use-Pty=0 {PACKAGES} >/dev/null")


class Pebble:
    """pebble running in `root`: `server` is the directory URL certbot is given."""

    def __init__(self, root):
        self.root = root
        self.port, self.management = free_port(), free_port()
        self.server = f"https://127.0.0.1:{self.port}/dir"
        self.tls_ca = chains.CA("xivo-certs tests pebble TLS CA")
        tls = self.tls_ca.issue("localhost", "127.0.0.1")
        root.write(f"{DIR}/cert.pem", tls.pem)
        root.write(f"{DIR}/key.pem", tls.key_pem, mode=0o600)
        root.write(CA_BUNDLE, self.tls_ca.pem)
        root.write(f"{DIR}/config.json", json.dumps({"pebble": {
            "listenAddress": f"127.0.0.1:{self.port}",
            "managementListenAddress": f"127.0.0.1:{self.management}",
            "certificate": f"{DIR}/cert.pem", "privateKey": f"{DIR}/key.pem",
            "httpPort": free_port(), "tlsPort": free_port(),
            "ocspResponderURL": "", "externalAccountBindingRequired": False}}))
        self.proc = root.popen(f"exec env {PEBBLE_ENV} pebble -config {DIR}/config.json")
        self.log, self.started = [], threading.Event()
        threading.Thread(target=self._read_log, daemon=True).start()  # a full pipe would stop it
        try:
            self._wait_started()
        except BaseException:
            self.stop()
            raise

    def _wait_started(self):
        if not self.started.wait(120) or self.proc.poll() is not None:
            raise AssertionError(f"{self.root.label}: pebble did not start:\n{''.join(self.log)}")
        for port in (self.port, self.management):
            wait_listening(self.root, self.proc, port, "pebble")

    def _read_log(self):
        """Keep pebble's log; `started` once it says it serves (just before it listens), or exited."""
        for line in self.proc.stdout:
            self.log.append(line)
            if "ACME directory available at" in line:
                self.started.set()
        self.started.set()

    def root_ca(self):
        """The root CA pebble issues under (its management interface's /roots/0)."""
        context = ssl.create_default_context(cadata=self.tls_ca.pem.decode())
        url = f"https://127.0.0.1:{self.management}/roots/0"
        with urllib.request.urlopen(url, context=context, timeout=30) as answer:
            return x509.load_pem_x509_certificate(answer.read())

    def stop(self):
        self.proc.kill()
        self.proc.wait(30)


def certbot(root, pebble, arguments, check=True):
    """Run `certbot ARGUMENTS` non-interactively against pebble; the debroot.Result."""
    return root.run(f"certbot -n --agree-tos --register-unsafely-without-email "
                    f"--server {pebble.server} {arguments}",
                    env={"REQUESTS_CA_BUNDLE": CA_BUNDLE}, check=check)


def certonly_manual(root, pebble, name, check=True):
    """`certbot certonly --manual` for NAME (the always-valid VA needs no answer to the challenge)."""
    return certbot(root, pebble, "certonly --manual --preferred-challenges http "
                   f"--manual-auth-hook /bin/true -d {name}", check=check)


def certonly_standalone(root, pebble, name, check=True):
    """`certbot certonly --standalone` for NAME, its http-01 server on a free port."""
    return certbot(root, pebble, f"certonly --standalone --preferred-challenges http "
                   f"--http-01-port {free_port()} -d {name}", check=check)


def lineage(root, name):
    """The bytes of live/NAME/fullchain.pem and privkey.pem (links into archive/, followed)."""
    return root.get(f"{LIVE}/{name}/fullchain.pem"), root.get(f"{LIVE}/{name}/privkey.pem")


def renew(root, pebble, name=None, check=True):
    """`certbot renew --force-renewal` of every lineage, or of NAME's; without certbot's random
    delay of up to 8 minutes (it adds one when not run on a terminal)."""
    only = f" --cert-name {name}" if name else ""
    return certbot(root, pebble, f"renew --force-renewal --no-random-sleep-on-renew{only}",
                   check=check)
