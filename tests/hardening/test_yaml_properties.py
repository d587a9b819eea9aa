"""Property tests (hypothesis): whatever the host name and the certificate hold, the override YAML
loads (yaml.safe_load) to exactly the expected mapping: one section per service with `host` and
the verify key, no injected key, no injected value, no YAML tag, anchor or alias taking effect.

Driven three ways: xivo_certs.override.render (any valid host name, any service list), plan() on
certificates with arbitrary CN and SAN contents, and the real `xivo-certs install` / `generate`
commands on a temporary root (fewer examples: each one runs the command and its hooks).

XIVO_CERTS_HYPOTHESIS sets the examples of the in-process properties (default 100); the real
command ones run a twentieth of that (at least 5).
"""

import ipaddress
import os
import re
from unittest import mock

import yaml
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from hardening_lib import AdminPair, check_consistent, make_ca, make_cert, make_root, new_key
from support.certs import cert_pem
from xivo_certs import names, override, settings as settings_module, trust, x509
from xivo_certs.paths import CA, Paths

EXAMPLES = int(os.environ.get("XIVO_CERTS_HYPOTHESIS", "100"))
COMMAND_EXAMPLES = max(5, EXAMPLES // 20)
FAST = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SLOW = settings(max_examples=COMMAND_EXAMPLES, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))

# An independent definition of a host name (RFC 1123, lowercase A-labels, not all-numeric TLD).
HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
# words YAML 1.1 reads as something else than a string when they are not quoted
YAML_WORDS = ["yes", "no", "on", "off", "y", "n", "true", "false", "null", "nan", "inf", "0x1f",
              "0b101", "0o17", "017", "1e3", "0e-5", "1-0", "12", "x", "localhost"]


def is_host(name):
    return bool(HOST.match(name)) and not name.rsplit(".", 1)[-1].isdigit()


labels = st.one_of(st.sampled_from(YAML_WORDS),
                   st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?\Z"),
                   st.from_regex(r"\A[a-z0-9]{1,63}\Z"))
host_names = st.lists(labels, min_size=1, max_size=5).map(".".join).filter(is_host)
unicode_hosts = st.text(st.characters(min_codepoint=0xa1, max_codepoint=0x24f,
                                      blacklist_categories=("Cs", "Zs", "Cc")),
                        min_size=1, max_size=15).map(lambda t: f"{t}.example.com")
identifiers = st.from_regex(r"\A[a-z][a-z0-9_]{0,15}\Z").filter(lambda w: w != "host") | \
    st.sampled_from([w for w in YAML_WORDS if w[0].isalpha()])
verifies = st.sampled_from([True, None, CA])


def expected(services, host, verify):
    return {service: ({"host": host} if verify is None else {"host": host, key: verify})
            for service, key in services}


def loads_exactly(text, wanted):
    text = text.decode() if isinstance(text, bytes) else text
    loaded = yaml.safe_load(text)
    assert loaded == wanted, f"\n{text}"
    assert all(type(v["host"]) is str for v in loaded.values())
    # the same through the plain line structure: one `service:` line, then indented keys only
    body = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert sum(not line.startswith(" ") for line in body) == len(wanted), text


# --- render ---------------------------------------------------------------------------------

@FAST
@given(host=host_names, verify=verifies,
       services=st.lists(st.tuples(identifiers, identifiers), min_size=1, max_size=12,
                         unique_by=lambda s: s[0]))
def test_render_loads_to_exactly_the_mapping(host, verify, services):
    services = [(name, key if key != "host" else "verify") for name, key in services]
    settings_ = settings_module.Settings(825, 30, tuple(services), (), False)
    loads_exactly(override.render(settings_, host, verify), expected(services, host, verify))


@FAST
@given(host=unicode_hosts, verify=verifies)
def test_render_of_any_idna_name(host, verify):
    try:
        ascii_host = names.normalize(host)
    except Exception:
        assume(False)
    assert is_host(ascii_host), ascii_host
    services = settings_module.load("/nonexistent").services
    loads_exactly(override.render(settings_module.load("/nonexistent"), ascii_host, verify),
                  expected(services, ascii_host, verify))


# --- plan() on certificates with arbitrary contents ----------------------------------------------

PROPERTY_CA = make_ca("Property CA")
LEAF_KEY = new_key()
raw_names = st.text(st.characters(max_codepoint=127, blacklist_categories=("Cs",)), min_size=1,
                    max_size=40)
common_names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=64)


def expected_host(dns_names):
    """The first SAN that is a host name, as written (case does not matter: RFC 4343)."""
    for name in dns_names:
        if not name.startswith("*") and is_host(name.lower()):
            return name
    return None


@FAST
@given(dns=st.lists(st.one_of(raw_names, host_names, st.sampled_from(
    ["*.example.com", "host: evil", "&a", "*a", "!!python/object:os.system", "a\nb: c",
     "{x: y}", "[1, 2]", "'q'", '"q"', "x # c", "- item", "? key", "|", ">", "%TAG"])),
    min_size=0, max_size=6),
    cn=common_names, ips=st.lists(st.sampled_from(["192.0.2.1", "::1", "10.0.0.1"]), max_size=2))
def test_plan_for_any_certificate_contents(dns, cn, ips):
    _, cert = make_cert(key=LEAF_KEY, names=tuple(dns), cn=cn, issuer=PROPERTY_CA, ips=ips,
                        raw_names=True, san=bool(dns or ips))
    settings_ = settings_module.load("/nonexistent")
    paths = Paths("/nonexistent-root")
    with mock.patch.object(trust, "system_trusts", return_value=False):
        plan = override.plan(paths, settings_, [cert, PROPERTY_CA.cert])
    covers_localhost = any(n.lower().rstrip(".") == "localhost" for n in dns) if (dns or ips) else \
        cn.lower().rstrip(".") == "localhost"
    if covers_localhost:
        assert not plan.needed and plan.text is None
        return
    host = expected_host(dns) if (dns or ips) else (cn.lower() if is_host(cn.lower()) else None)
    assert plan.host == host
    if host is None:
        assert plan.text is None and plan.problems
        return
    loads_exactly(plan.text, expected(settings_.services, host, CA))
    assert plan.ca_pem == cert_pem(PROPERTY_CA.cert)


# --- the real command --------------------------------------------------------------------------

@SLOW
# (install refuses a CN holding control characters: issue 12)
@given(host=host_names, extra=st.lists(host_names, max_size=3), cn=common_names.filter(str.isprintable))
def test_install_writes_exactly_the_mapping(tmp_path_factory, host, extra, cn):
    assume(host != "localhost" and "localhost" not in extra)
    base = tmp_path_factory.mktemp("prop")
    root = make_root(base / "root", record=False, confd=("etc/xivo-auth/conf.d",))
    # a CN is free text: put the drawn one in (it must not reach the YAML)
    admin = AdminPair(base / "in", "p", pair=make_cert(names=(host, *extra), cn=cn, issuer=PROPERTY_CA),
                      chain=[PROPERTY_CA.cert])
    result = root.run(*admin.install_args())
    assert result.returncode == 0, result.stderr
    settings_ = settings_module.load(root.paths.settings)
    loads_exactly(root.override.read_bytes(), expected(settings_.services, host, CA))
    check_consistent(root)


@SLOW
@given(host=host_names.filter(lambda h: h != "localhost"), extra=st.lists(host_names, max_size=3))
def test_generate_records_exactly_the_names(tmp_path_factory, host, extra):
    base = tmp_path_factory.mktemp("gen")
    root = make_root(base / "root", hooks=False)
    args = ["generate", "--key-type", "ec:p256", "--hostname", host]
    for name in extra:
        args += ["--san", name]
    result = root.run(*args)
    assert result.returncode == 0, result.stderr
    recorded = root.state()
    assert recorded.hostname == host
    lines = root.paths.state and open(root.paths.state).read().splitlines()
    keys = {line.partition("=")[0] for line in lines}
    assert keys <= {"hostname", "key_type", "san", "generated_fingerprint", "generated_pem_sha256",
                    "fingerprint", "cert_stat", "key_stat", "settings_stat", "confd_dir",
                    "changed_at", "pem_sha256"}, keys
    info = x509.describe(x509.parse_certificates(root.cert.read_bytes(), "c")[0])
    assert info.primary_name == host
    assert set(info.names) == {host, *extra, "localhost"}
    assert {ipaddress.ip_address(a) for a in info.ip_addresses} == \
        {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
