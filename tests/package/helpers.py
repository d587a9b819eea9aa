"""Assertions shared by the scenarios. Each collects every difference it finds and fails with one
message naming the scenario, the distribution and what differed."""

import json
import os
import posixpath
import re

import yaml

from support import hooks
from support.certs import cert_pem, certs_from_pem
from support.facts import facts, fingerprint, key_matches
from support.layout import (CA, CERT, CONFD_DIRS, HOOKS_DIR, KEY, LINK_NAME, OVERRIDE, SERVICES, STATE,
                            WWW_DATA)

RECORD = "/var/tmp/hook-runs"  # the recording hook's directory, in the root
ADMIN_HOST = "xivo.example.com"
ADMIN_HOST2 = "pbx.example.org"
ORG = "xivo-certs tests"  # O= of the hand-made certificates of the scenarios

STATUS_FIELDS = ["cert_path", "key_path", "subject_cn", "names", "ip_addresses", "issuer_cn",
                 "self_signed", "default", "not_after", "days_left", "key_type",
                 "fingerprint_sha256", "key_matches", "override", "problems"]


class Check:
    """Collects differences; done() fails with all of them."""

    def __init__(self, root):
        self.root, self.diffs = root, []

    def eq(self, actual, expected, what):
        if actual != expected:
            self.diffs.append(f"{what}: got {actual!r}, expected {expected!r}")
        return actual == expected

    def true(self, cond, what):
        if not cond:
            self.diffs.append(what)
        return bool(cond)

    def done(self, context=""):
        if self.diffs:
            head = f"{self.root.label} on {self.root.suite}" + (f" ({context})" if context else "")
            diffs, self.diffs = self.diffs, []
            raise AssertionError(head + ": " + str(len(diffs)) + " difference(s)\n  - "
                                 + "\n  - ".join(diffs))


# ------------------------------------------------------------------------------------- preparation

def prepare_daemons(root, dirs=CONFD_DIRS):
    """conf.d directories of XiVO daemons, as if they were installed."""
    for d in dirs:
        root.mkdir(d)
        root.write(posixpath.join(posixpath.dirname(d), "config.yml"), "debug: false\n")


def add_record_hook(root):
    """support's recording hook, recording into RECORD in the root."""
    root.mkdir(HOOKS_DIR)
    root.write(posixpath.join(HOOKS_DIR, "50-record"), hooks.script(RECORD), mode=0o755)


def hook_runs(root):
    """[reason, fingerprint, hostname, default] of each run (the empty ones left out)."""
    return hooks.fields(root.host(RECORD), "REASON", "FINGERPRINT", "HOSTNAME", "DEFAULT")


def put_pair(root, cert_pem, key_pem, how="cp", mode=None, owner=None):
    """The seed's procedure: the admin replaces server.crt and server.key by hand.

    how="cp": copy over the existing files (they keep their owner and mode);
    how="mv": write new files beside them, set owner/mode, rename over the old ones."""
    root.write("/root/new.crt", cert_pem, mode=0o644)
    root.write("/root/new.key", key_pem, mode=0o600)
    if how == "cp":
        root.run(f"cp /root/new.crt {CERT} && cp /root/new.key {KEY} && rm /root/new.crt /root/new.key")
    else:
        uid, gid = owner or (0, WWW_DATA)
        root.run(f"mkdir -p /usr/share/xivo-certs && chown {uid}:{gid} /root/new.crt /root/new.key && "
                 f"chmod {oct(mode or 0o640)[2:]} /root/new.key && chmod 0644 /root/new.crt && "
                 f"mv /root/new.crt {CERT} && mv /root/new.key {KEY}")


def add_trusted_ca(root, ca_cert):
    root.write("/usr/local/share/ca-certificates/xivo-certs-test-ca.crt", cert_pem(ca_cert))
    root.run("update-ca-certificates >/dev/null")


# ------------------------------------------------------------------------------------------ status

def status(root):
    res = root.run("xivo-certs status --json", check=False)
    try:
        data = json.loads(res.out)
    except ValueError:
        data = None
    return res, data


def check_status_ok(root, check, what="status"):
    res, data = status(root)
    check.eq(res.rc, 0, f"`xivo-certs status --json` exit code ({what}); stderr={res.err.strip()!r}"
             f" problems={data.get('problems') if isinstance(data, dict) else None!r}")
    if not isinstance(data, dict):
        check.true(False, f"`xivo-certs status --json` printed no JSON object ({what}): {res.out[:300]!r}")
        return {}
    missing = [f for f in STATUS_FIELDS if f not in data]
    check.eq(missing, [], f"fields missing from status --json ({what})")
    check.eq(data.get("problems"), [], f"status problems ({what})")
    plain = root.run("xivo-certs status", check=False)
    check.eq(plain.rc, 0, f"`xivo-certs status` exit code ({what}): {plain.output.strip()[-300:]!r}")
    return data


# --------------------------------------------------------------------------------------- the pair

def check_pair_files(root, check):
    """Owners and modes of the pair (README's table)."""
    for path, mode in ((CERT, 0o644), (KEY, 0o640)):
        if not check.true(root.exists(path), f"{path} missing"):
            continue
        check.eq(root.owner_mode(path), (0, WWW_DATA, mode), f"{path} (uid, gid, mode)")


def check_default_pair(root, check, hostname="localhost", key_type="rsa:2048", data=None):
    """A default certificate made by the package, as the README says."""
    check_pair_files(root, check)
    if not (root.exists(CERT) and root.exists(KEY)):
        return None
    crt, key = root.read(CERT), root.read(KEY)
    i = facts(crt)
    check.eq(i["cn"], hostname if len(hostname) <= 64 else i["cn"], "certificate CN")
    check.true(hostname in i["dns"] and "localhost" in i["dns"],
               f"SAN DNS names {i['dns']} should hold {hostname!r} and 'localhost'")
    check.eq(sorted(i["ips"]), sorted(["127.0.0.1", "::1"]), "SAN IP addresses")
    check.true(i["eku_server_auth"], "EKU serverAuth missing")
    # issue 2 and README: generated certificates are signed with SHA-256, whatever the key type
    check.eq(i["sig_hash"], "sha256", "signature hash")
    check.eq(i["key_type"], key_type, "key type")
    check.true(i["self_signed"], "certificate should be self-signed")
    check.eq(i["basic_constraints_ca"] is not None, True, "basicConstraints present")
    check.true(i["has_ski"] and i["has_aki"], "subject/authority key identifiers present")
    check.true(800 <= i["days_left"] <= 826, f"validity left {i['days_left']:.1f} days, expected ~825")
    check.true(key_matches(crt, key), "server.key does not match server.crt")
    st = root.state()
    if check.true(st is not None, f"{STATE} missing"):
        check.eq(st.get("generated_fingerprint"), i["fingerprint"], "state generated_fingerprint")
        check.eq(st.get("generated_pem_sha256"), root.sha256(CERT), "state generated_pem_sha256")
        check.eq(st.get("hostname"), hostname, "state hostname")
        check.eq(root.owner_mode("/var/lib/xivo-certs")[2], 0o700, "/var/lib/xivo-certs mode")
    if data:
        check.eq(data.get("default"), True, "status default")
        check.eq(data.get("self_signed"), True, "status self_signed")
        check.eq(data.get("subject_cn"), i["cn"], "status subject_cn")
        check.eq(sorted(data.get("names") or []), sorted(i["dns"]), "status names")
        check.eq(data.get("fingerprint_sha256"), i["fingerprint"], "status fingerprint_sha256")
        check.eq(data.get("key_type"), key_type, "status key_type")
        check.eq(data.get("key_matches"), True, "status key_matches")
        ov = data.get("override") or {}
        check.eq(ov.get("needed"), False, "status override.needed")
    return i


# ---------------------------------------------------------------------------------------- override

def confd_dirs(root):
    return sorted(set(root.glob("/etc/xivo-*/conf.d")) | set(root.glob("/etc/wazo-*/conf.d")))


def check_no_override(root, check):
    check.true(not root.exists(OVERRIDE), f"{OVERRIDE} should be absent")
    for d in confd_dirs(root):
        check.true(not root.exists(posixpath.join(d, LINK_NAME)), f"{d}/{LINK_NAME} should be absent")


def resolve_in_root(root, path):
    """Resolve a symlink chain inside the root (absolute targets are the root's)."""
    for _ in range(20):
        if not os.path.islink(root.host(path)):
            return path
        target = root.readlink(path)
        path = posixpath.normpath(target if target.startswith("/")
                                  else posixpath.join(posixpath.dirname(path), target))
    return path


def check_override(root, check, host, verify, dirs=None):
    """The managed override: header, one section per service with host and verify key, links in
    every conf.d directory. verify is True or the CA file path."""
    if not check.true(root.exists(OVERRIDE), f"{OVERRIDE} missing"):
        return None
    text = root.text(OVERRIDE)
    check.true(text.startswith("# Managed by xivo-certs"),
               f"override first line {text.splitlines()[0]!r} should start '# Managed by xivo-certs'")
    check.eq(root.owner_mode(OVERRIDE), (0, 0, 0o644), f"{OVERRIDE} (uid, gid, mode)")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        check.true(False, f"override does not parse: {e}")
        return None
    if not check.true(isinstance(doc, dict) and all(isinstance(v, dict) for v in doc.values()),
                      f"override should be a mapping of mappings: {doc!r}"):
        return doc
    check.eq(sorted(doc), sorted(SERVICES), "override services")
    for svc, section in doc.items():
        vkey = "verify" if svc == "consul" else "verify_certificate"
        check.eq(section.get("host"), host, f"override {svc}.host")
        check.eq(section.get(vkey), verify, f"override {svc}.{vkey}")
        extra = set(section) - {"host", vkey}
        check.eq(sorted(extra), [], f"override {svc}: unexpected keys")
    for d in dirs if dirs is not None else confd_dirs(root):
        link = posixpath.join(d, LINK_NAME)
        if check.true(os.path.islink(root.host(link)), f"{link} should be a symlink"):
            check.eq(resolve_in_root(root, link), OVERRIDE, f"{link} target")
    return doc


def apt_package_lines(output, package="xivo-certs"):
    """Lines printed between 'Setting up PACKAGE' and the next apt/dpkg progress line."""
    lines, inside = [], False
    for line in output.splitlines():
        if line.startswith("Setting up " + package + " "):
            inside = True
            continue
        if inside and re.match(r"(Setting up|Processing triggers|Unpacking|Selecting|Preparing|"
                               r"Removing|Purging|\(Reading database)", line):
            inside = False
        if inside:
            lines.append(line)
    return lines


# ------------------------------------------------------------------------- scenario building blocks

def fresh(root, *, daemons=True, record=True):
    if daemons:
        prepare_daemons(root)
    if record:
        add_record_hook(root)


def resolvable(root, *names):
    """The override's host must resolve to this machine: the admin's /etc/hosts line."""
    root.add_hosts("127.0.1.1\t" + " ".join(names))


def install(root, deb, check, what="install"):
    res = root.apt_install(deb)
    check.eq(res.rc, 0, f"apt-get install exit code ({what})")
    return res


def install_preseeded(root, deb, check, hostname, key_type=None):
    """A fresh install with the debconf answers given first (debconf-set-selections)."""
    fresh(root)
    root.preseed(f"xivo-certs xivo-certs/hostname string {hostname}",
                 *([f"xivo-certs xivo-certs/key-type select {key_type}"] if key_type else []))
    return install(root, deb, check)


def installed_with_admin_pair(root, deb, check, pki_set, kind="private"):
    """A fresh install, then the admin's `kind` pair copied in by hand and synced: (crt, key)."""
    fresh(root)
    resolvable(root, ADMIN_HOST)
    install(root, deb, check)
    crt, key = pki_set[kind]
    put_pair(root, crt, key, how="cp")
    root.run("xivo-certs sync")
    return crt, key


def expected_verify(kind):
    return True if kind.startswith("trusted") else CA


def check_ca_file(root, check, kind, pki_set, pair_pem):
    """ca.crt: absent for a trusted chain; the private CA, or the self-signed certificate itself."""
    if kind.startswith("trusted"):
        check.true(not root.exists(CA), f"{CA} should be absent for a certificate the system trusts")
        return
    if not check.true(root.exists(CA), f"{CA} missing"):
        return
    check.eq(root.owner_mode(CA), (0, WWW_DATA, 0o644), f"{CA} (uid, gid, mode)")
    got = [fingerprint(c) for c in certs_from_pem(root.read(CA))]
    want = fingerprint(pki_set["private_ca"] if kind == "private" else pair_pem)
    check.true(want in got, f"{CA} should hold the {kind} CA certificate {want[:16]}..., holds "
               f"{[g[:16] for g in got]}")


def check_admin_installed(root, check, kind, pki_set, crt, key, what, host=ADMIN_HOST):
    """The admin's pair in place, untouched, with the override and links it needs.
    kind: trusted (verify True), private or selfsigned (verify the CA file)."""
    check.eq(root.get(CERT), crt, f"server.crt bytes ({what})")
    check.eq(root.get(KEY), key, f"server.key bytes ({what})")
    check_pair_files(root, check)
    check_override(root, check, host, expected_verify(kind))
    check_ca_file(root, check, kind, pki_set, crt)
    data = check_status_ok(root, check, what)
    if data:
        check.eq(data.get("default"), False, f"status default ({what})")
        ov = data.get("override") or {}
        check.eq(ov.get("needed"), True, f"status override.needed ({what})")
        check.eq(ov.get("state"), "managed", f"status override.state ({what})")
        links = {item.get("path"): item.get("state") for item in ov.get("links") or []}
        for d in confd_dirs(root):
            check.eq(links.get(posixpath.join(d, LINK_NAME)), "managed", f"status link state of {d}")
