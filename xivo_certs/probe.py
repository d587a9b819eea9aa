"""What the services actually serve: connect to the local TLS endpoints (the `probe` setting)
and compare the certificate each presents with the one in place. A daemon reads the pair only
when it starts, so one serving another certificate needs a restart."""

import hashlib
import socket
import ssl

HOST = "localhost"
CONNECT_TIMEOUT = 1.0  # seconds; on the loopback a closed port is refused at once
HANDSHAKE_TIMEOUT = 3.0
NGINX = ("nginx", 443)
# The HTTPS ports XiVO/Wazo daemons listen on by default (Wazo's "Network" page of its
# contributors' documentation): for `probe = auto`, the services of the `services` setting.
# ctid_ng became calld, on the same port; ajam is Asterisk's HTTPS server.
KNOWN_PORTS = {"consul": 8500, "agentd": 9493, "ajam": 5040, "amid": 9491, "auth": 9497,
               "calld": 9500, "confd": 9486, "ctid_ng": 9500, "dird": 9489, "webhookd": 9300,
               "websocketd": 9502}
CURRENT, RESTART, NOT_LISTENING, NO_TLS = "current", "restart needed", "not listening", "no TLS"


def endpoints(ctx):
    """(name, port) of the endpoints to probe. `auto`: nginx and the services' known ports, on
    the running system only (under another --root, the daemons listening here are not its own)."""
    if ctx.settings.probe is not None:
        return ctx.settings.probe
    if ctx.paths.root != "/":
        return ()
    found = {NGINX[1]: NGINX[0]}
    for service, _ in ctx.settings.services:
        if service in KNOWN_PORTS:
            found.setdefault(KNOWN_PORTS[service], service)
    return tuple((name, port) for port, name in found.items())


def served(ctx, found):
    """For each endpoint: name, port, state (current, restart needed, not listening, no TLS),
    the sha256 of the certificate it serves (None when none) and, when it failed, why."""
    result = []
    for name, port in endpoints(ctx):
        fingerprint, error = presented(port, found.info.primary_name)
        if fingerprint:
            state = CURRENT if fingerprint == found.info.fingerprint else RESTART
        else:
            state = NOT_LISTENING if isinstance(error, ConnectionRefusedError) else NO_TLS
        result.append({"name": name, "port": port, "state": state, "fingerprint": fingerprint,
                       "error": None if fingerprint else _reason(error)})
    return result


def presented(port, server_name):
    """(sha256 of the certificate the endpoint presents, None), or (None, the error)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # we read the certificate, we do not trust it
    try:
        with socket.create_connection((HOST, port), timeout=CONNECT_TIMEOUT) as raw:
            raw.settimeout(HANDSHAKE_TIMEOUT)
            with context.wrap_socket(raw, server_hostname=server_name or HOST) as tls:
                der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as error:  # refused, timed out, reset, not TLS
        return None, error
    if not der:
        return None, ssl.SSLError("no certificate presented")
    return hashlib.sha256(der).hexdigest(), None


def _reason(error):
    return getattr(error, "reason", None) or getattr(error, "strerror", None) or str(error) \
        or type(error).__name__


def judged(served_endpoints, cert_path):
    """(problems, information) of what the endpoints serve; those not listening in one line (on
    a PBX being installed, that is most of them)."""
    problems, information, silent = [], [], []
    for endpoint in served_endpoints:
        where = f"{HOST}:{endpoint['port']}" + (f" ({endpoint['name']})" if endpoint["name"] else "")
        if endpoint["state"] == RESTART:
            problems.append(f"{where} serves another certificate (sha256 {endpoint['fingerprint']}) "
                            f"than {cert_path}: restart needed (`xivo-service restart all`, which "
                            "drops live calls)")
        elif endpoint["state"] == NOT_LISTENING:
            silent.append(where)
        elif endpoint["state"] == NO_TLS:
            information.append(f"{where} {NO_TLS} ({endpoint['error']})")
    if silent:
        information.append(f"{', '.join(silent)} {NOT_LISTENING}")
    return problems, information


def answered(served_endpoints):
    """Whether any endpoint presented a certificate: then a restart owed is a fact, not a guess."""
    return any(endpoint["fingerprint"] for endpoint in served_endpoints)
