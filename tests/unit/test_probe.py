"""What the services actually serve (`status`, field `served`): real TLS servers on 127.0.0.1
(Python's ssl, one thread each) serving the certificate in place or an older one, on free ports
named by the `probe` setting."""

import json
import socket
import ssl
import threading

import pytest

from xivo_certs import probe, settings
from xivo_certs.context import Context
from xivo_certs.errors import Problem
from xivo_certs.paths import Paths
from support.certs import load_key, pem
from support.facts import fingerprint


class Server:
    """A listening socket on 127.0.0.1 (a free port), answering each connection in a thread: a TLS
    handshake with `cert` and `key`, or (without them) a line of plain text."""

    def __init__(self, tmp_path, cert=None, key=None):
        self.context = None
        if cert is not None:
            (tmp_path / "served.pem").write_bytes(pem(cert) + pem(key))
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(tmp_path / "served.pem")
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed
                return
            with conn:
                try:
                    if self.context is None:
                        conn.sendall(b"HTTP/1.0 400 plain text here\r\n\r\n")
                    else:
                        self.context.wrap_socket(conn, server_side=True).close()
                except (OSError, ssl.SSLError):
                    pass

    def close(self):
        self.sock.close()


@pytest.fixture
def serve(tmp_path):
    """serve(cert, key) or serve(): a Server, closed after the test."""
    started = []

    def start(cert=None, key=None):
        directory = tmp_path / f"server-{len(started)}"
        directory.mkdir()
        started.append(Server(directory, cert, key))
        return started[-1]
    yield start
    for server in started:
        server.close()


def free_port():
    """A port nothing listens on (bound, then released)."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def configure(root, probe_value):
    (root / "etc/xivo-certs").mkdir(parents=True, exist_ok=True)
    (root / "etc/xivo-certs/xivo-certs.conf").write_text(f"probe = {probe_value}\n")


def status(xc):
    result = xc("status", "--json")
    assert result.err == ""
    return result.code, json.loads(result.out)


def changed_pair(root, xc):
    """The pair in place after a change (the state's changed_at is now), and the one before it."""
    assert xc("ensure").code == 0
    before = root.certs()[0], load_key(root.key)
    assert xc("generate").code == 0
    return (root.certs()[0], load_key(root.key)), before


RESTART_GUESS = "were not restarted by xivo-certs"


def test_an_endpoint_serving_the_old_certificate_needs_a_restart(root, xc, serve):
    (current, key), (old, old_key) = changed_pair(root, xc)
    fresh, stale, closed = serve(current, key), serve(old, old_key), free_port()
    configure(root, f"nginx:{fresh.port} auth:{stale.port} {closed}")
    code, found = status(xc)
    assert code == 1
    assert found["served"] == [
        {"name": "nginx", "port": fresh.port, "state": "current", "fingerprint": fingerprint(current),
         "error": None},
        {"name": "auth", "port": stale.port, "state": "restart needed", "fingerprint": fingerprint(old),
         "error": None},
        {"name": None, "port": closed, "state": "not listening", "fingerprint": None,
         "error": "Connection refused"},
    ]
    assert found["problems"] == [
        f"localhost:{stale.port} (auth) serves another certificate (sha256 {fingerprint(old)}) than "
        f"{root.cert}: restart needed (`xivo-service restart all`, which drops live calls)"]
    assert f"localhost:{closed} not listening" in found["information"]
    assert not any(RESTART_GUESS in note for note in found["information"])  # a fact, not a guess


def test_the_endpoints_not_listening_are_one_note(root, xc):
    """A PBX being installed has most of its daemons not listening yet: one line, not one each."""
    changed_pair(root, xc)
    first, second = free_port(), free_port()
    configure(root, f"nginx:{first} auth:{second}")
    code, found = status(xc)
    assert code == 0
    assert [note for note in found["information"] if "not listening" in note] == [
        f"localhost:{first} (nginx), localhost:{second} (auth) not listening"]


def test_endpoints_serving_the_certificate_in_place_are_no_problem(root, xc, serve):
    (current, key), _ = changed_pair(root, xc)
    servers = [serve(current, key), serve(current, key)]
    configure(root, " ".join(f"confd:{server.port}" for server in servers))
    code, found = status(xc)
    assert (code, found["problems"]) == (0, [])
    assert [entry["state"] for entry in found["served"]] == ["current", "current"]
    assert not any(RESTART_GUESS in note for note in found["information"])
    assert "problems     none" in xc("status").out.splitlines()


def test_a_listener_without_tls_is_information(root, xc, serve):
    changed_pair(root, xc)
    plain = serve()
    configure(root, f"amid:{plain.port}")
    code, found = status(xc)
    assert (code, found["problems"]) == (0, [])
    [entry] = found["served"]
    assert (entry["state"], entry["fingerprint"]) == ("no TLS", None)
    assert any(note.startswith(f"localhost:{plain.port} (amid) no TLS (") for note in found["information"])
    # nothing answered with a certificate: the restart owed is still the guess from the boot time
    assert any(RESTART_GUESS in note for note in found["information"])


def context(tmp_path, root_dir, text):
    conf = tmp_path / "xivo-certs.conf"
    conf.write_text(text)
    ctx = Context(Paths(root_dir), None)
    ctx.__dict__["settings"] = settings.load(str(conf))  # the cached property, from this file
    return ctx


def test_auto_probes_nginx_and_the_known_ports_of_the_services(tmp_path):
    ctx = context(tmp_path, "/", "services = consul:verify auth calld ctid_ng mine dird\n")
    assert probe.endpoints(ctx) == (("nginx", 443), ("consul", 8500), ("auth", 9497),
                                    ("calld", 9500), ("dird", 9489))
    default = context(tmp_path, "/", "")
    assert [name for name, _ in probe.endpoints(default)] == [
        "nginx", "consul", "agentd", "ajam", "amid", "auth", "calld", "confd", "dird", "webhookd",
        "websocketd"]
    # under another --root, the daemons listening here are not that system's
    assert probe.endpoints(context(tmp_path, str(tmp_path), "")) == ()
    assert probe.endpoints(context(tmp_path, str(tmp_path), "probe = 8443\n")) == ((None, 8443),)
    assert probe.endpoints(context(tmp_path, "/", "probe = none\n")) == ()


@pytest.mark.parametrize("value", ["0", "65536", "auth:", "Auth:443", "auth:https", "9lives:443"])
def test_bad_probe_settings_are_refused(tmp_path, value):
    conf = tmp_path / "xivo-certs.conf"
    conf.write_text(f"probe = {value}\n")
    with pytest.raises(Problem) as refused:
        settings.load(str(conf))
    assert str(refused.value) == (f"{conf}: probe: {value!r} is not `port` or `name:port` "
                                  "(or auto, none)")


def test_an_endpoint_that_never_answers_is_given_up(root, xc, monkeypatch):
    """A listener that accepts connections (the kernel's backlog) but never speaks: the handshake
    times out (HANDSHAKE_TIMEOUT, shortened here) and status goes on."""
    changed_pair(root, xc)
    monkeypatch.setattr(probe, "HANDSHAKE_TIMEOUT", 0.2)
    with socket.create_server(("127.0.0.1", 0)) as mute:
        configure(root, f"websocketd:{mute.getsockname()[1]}")
        code, found = status(xc)
    [entry] = found["served"]
    assert (code, entry["state"], entry["fingerprint"]) == (0, "no TLS", None)
    assert "timed out" in entry["error"]
