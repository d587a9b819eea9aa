#!/usr/bin/python3
"""Benchmarks of xivo-certs against floors measured in the same run (issue 10); `make bench` runs it.

Every figure is measured in the same run as its floor, interleaved run by run (in alternating
order), so that the ratios hold on a machine that is busy with something else. A floor is what the
same work costs without xivo-certs: `python3 -c pass` for the no-op sync; for `status` and
`generate`, the median of `python3 -c "import cryptography.x509, yaml"` (what any Python program doing
the job must load) plus the median of the openssl command doing the same work. Each command runs
under /usr/bin/time, which reports its own peak RSS (the highest of the command and of the
processes it waited for: hooks, run-parts, the `xivo-certs override` a hook runs); wall time is
taken around it here. Exit 0 when every target is met, 1 when one is missed, 2 on a setup error.
With --output FILE, the table, the method, the machine and the date are also written to FILE (Markdown;
`make bench` writes docs/benchmarks.md).

Python commands run with the bytecode cached (in a temporary PYTHONPYCACHEPREFIX, filled by the
warm-up), as on an installed system where py3compile has compiled the package; --no-bytecode runs
them without. Fixtures (roots, certificates, packages) are made in a temporary directory; the
Debian root for the dpkg row is an mmdebstrap tarball cached in /var/cache/xivo-certs-bench/.

Run it with Debian's /usr/bin/python3 (python3-cryptography and python3-yaml, Debian's openssl,
hyperfine is not needed): /usr/bin/python3 bench/run.py [--runs N] [--only ROW ...].
"""

import argparse
import contextlib
import datetime
import importlib.metadata
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CHECKOUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = "/usr/bin/python3"
XIVO_CERTS = [PYTHON, os.path.join(CHECKOUT, "bin", "xivo-certs")]
LAUNCHER = os.path.join(CHECKOUT, "tests", "support", "bin", "xivo-certs")  # see run_checkout_command
TIME = "/usr/bin/time"
CACHE = "/var/cache/xivo-certs-bench"
SUITE = "bookworm"
ROOT_PACKAGES = "python3,python3-cryptography,python3-yaml,openssl,debconf"
ROWS = ("noop", "confd", "generate", "status", "dpkg")
KEY_TYPES = ("rsa:2048", "rsa:4096", "ec:p256")
OPENSSL_NEWKEY = {"rsa:2048": ["rsa:2048"], "rsa:3072": ["rsa:3072"], "rsa:4096": ["rsa:4096"],
                  "ec:p256": ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
                  "ec:p384": ["ec", "-pkeyopt", "ec_paramgen_curve:P-384"]}
RSS_LIMIT_KIB = 40 * 1024
IMPORTS = "import cryptography.x509, yaml"  # what a Python program parsing certificates must load
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
OVERRIDE = "/etc/xivo/custom/custom-certificate.yml"
LINK_NAME = "010-custom-certificate.yml"


class SetupError(Exception):
    pass


# --- measuring ----------------------------------------------------------------------------------

class Command:
    """One command line measured many times: wall ms, CPU ms (user + system), peak RSS KiB."""

    def __init__(self, label, argv, env, setup=None, check=None, xivo=False):
        self.label, self.argv, self.env, self.setup, self.check = label, argv, env, setup, check
        self.xivo = xivo  # an xivo-certs command: its RSS counts for the RSS target
        self.wall, self.cpu, self.rss = [], [], []

    def run(self, scratch, record=True):
        if self.setup:
            self.setup()
        # Write back what the setup (or anything before) left dirty, so that the first fsync of
        # the measured command does not pay for it.
        os.sync()
        rss_file = os.path.join(scratch, "rss")
        err_file = os.path.join(scratch, "stderr")
        with open(err_file, "wb") as err:
            start = time.perf_counter()
            process = subprocess.Popen([TIME, "-f", "%M", "-o", rss_file, "--"] + self.argv,
                                       env=self.env, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=err)
            _, status, usage = os.wait4(process.pid, 0)
            elapsed = time.perf_counter() - start
        process.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:
            with open(err_file, encoding="utf-8", errors="replace") as err:
                raise SetupError(f"{self.label}: exit {code}: {' '.join(self.argv)}\n{err.read()[-2000:]}")
        with open(rss_file, encoding="ascii") as stream:
            rss = int(stream.read().split()[-1])
        if self.check:
            self.check()  # that the command did the work measured
        if record:
            self.wall.append(elapsed * 1000)
            self.cpu.append((usage.ru_utime + usage.ru_stime) * 1000)
            self.rss.append(rss)

    @property
    def median(self):
        return statistics.median(self.wall)


def interleaved(commands, runs, warmup, scratch, progress):
    """Warm up, then run each command `runs` times, alternating their order from run to run."""
    for _ in range(warmup):
        for command in commands:
            command.run(scratch, record=False)
    for number in range(runs):
        for command in (commands if number % 2 == 0 else commands[::-1]):
            command.run(scratch)
        progress(f"{number + 1}/{runs}")


# --- fixtures -----------------------------------------------------------------------------------

def check_call(argv, **kwargs):
    result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, check=False, **kwargs)
    if result.returncode != 0:
        raise SetupError(f"exit {result.returncode}: {' '.join(argv)}\n"
                         f"{result.stdout.decode(errors='replace')[-3000:]}")
    return result.stdout.decode(errors="replace")


class Ext4Scratch:
    """A fresh ext4 file system with default options (mkfs.ext4 on a sparse image file, mounted
    through a loop device) holding every fixture, root and chroot of the run.

    This VM's root file system is an ext4 with options of its own (resv_strict among them) where
    creating one symbolic link costs 0.25 to 0.6 ms of kernel CPU, growing from run to run; a
    freshly made ext4 on the same disk takes ~30 µs, as a Debian install does. --scratch-fs tmpdir
    measures in $TMPDIR instead."""

    SIZE = "8G"  # sparse: the image takes only what the run writes (two chroots at most)

    def __init__(self, parent):
        self.parent = parent
        self.image = os.path.join(parent, "ext4.img")
        self.path = os.path.join(parent, "fs")

    def __enter__(self):
        os.makedirs(self.path)
        check_call(["truncate", "-s", self.SIZE, self.image])
        check_call(["mkfs.ext4", "-q", "-F", self.image])
        check_call(["mount", "-o", "loop", self.image, self.path])
        return self.path

    def __exit__(self, *exc_info):
        subprocess.run(["umount", self.path], check=False)


def command_env(scratch, bytecode):
    """The environment of every measured command: the checkout first, Debian's tools, C locale."""
    env = {"PATH": os.path.join(CHECKOUT, "bin") + ":/usr/sbin:/usr/bin:/sbin:/bin",
           "PYTHONPATH": CHECKOUT, "LANG": "C.UTF-8", "HOME": scratch, "TMPDIR": scratch}
    if bytecode:
        env["PYTHONPYCACHEPREFIX"] = os.path.join(scratch, "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def xivo(env, root, *words, setup=None, check=None, label=None):
    return Command(label or " ".join(("xivo-certs",) + words), XIVO_CERTS + ["--root", root, *words],
                   env, setup=setup, check=check, xivo=True)


def run_checkout_command(hook):
    """Make a shipped hook run the checkout's command: hooks get a fixed PATH and no PYTHONPATH
    (xivo-certs(8), HOOKS), so through the test kit's launcher, which runs it as installed."""
    with open(hook, "rb") as stream:
        text = stream.read()
    with open(hook, "wb") as stream:
        stream.write(text.replace(b"exec xivo-certs ", f"exec {LAUNCHER} ".encode()))


def new_root(scratch, name, env, key_type="rsa:2048"):
    """A root with a default certificate made by `ensure`, and synced."""
    root = os.path.join(scratch, name)
    os.makedirs(root)
    check_call(XIVO_CERTS + ["--root", root, "ensure", "--key-type", key_type], env=env)
    check_call(XIVO_CERTS + ["--root", root, "sync", "--quiet"], env=env)
    return root


def admin_pair(scratch):
    """An admin's pair for pbx.example.com (not localhost), issued by a private CA: (chain PEM, key PEM)."""
    where = os.path.join(scratch, "admin")
    os.makedirs(where)
    p = lambda name: os.path.join(where, name)  # noqa: E731
    check_call(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
                "-subj", "/CN=xivo-certs bench private CA", "-keyout", p("ca.key"), "-out", p("ca.crt"),
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    check_call(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=pbx.example.com",
                "-keyout", p("leaf.key"), "-out", p("leaf.csr")])
    with open(p("leaf.ext"), "w", encoding="ascii") as ext:
        ext.write("subjectAltName = DNS:pbx.example.com\nbasicConstraints = critical,CA:FALSE\n"
                  "keyUsage = critical,digitalSignature,keyEncipherment\n"
                  "extendedKeyUsage = serverAuth\n")
    check_call(["openssl", "x509", "-req", "-in", p("leaf.csr"),
                "-CA", p("ca.crt"), "-CAkey", p("ca.key"), "-CAcreateserial", "-days", "825", "-sha256",
                "-extfile", p("leaf.ext"), "-out", p("leaf.crt")])
    return read(p("leaf.crt")) + read(p("ca.crt")), read(p("leaf.key"))


def read(path):
    with open(path, "rb") as stream:
        return stream.read()


def write(path, data, mode):
    with open(path + ".bench-new", "wb") as stream:
        stream.write(data)
    os.chmod(path + ".bench-new", mode)
    os.rename(path + ".bench-new", path)


def copy_tree(source, target):
    """A copy keeping modes, owners and symbolic links (the snapshot restored before each run)."""
    def copy(src, dst):
        shutil.copy2(src, dst)
        info = os.lstat(src)
        os.chown(dst, info.st_uid, info.st_gid)
    shutil.copytree(source, target, symlinks=True, copy_function=copy)


# --- the rows -----------------------------------------------------------------------------------

class Row:
    """One figure: a command against its floor. `floor` is a list of commands whose medians add up
    to the floor (one or two); `ok` is None for a figure reported without a target."""

    def __init__(self, figure, command, floor, target, ok, ratio=None):
        self.figure, self.command, self.floor = figure, command, floor
        self.target, self.ok, self.ratio = target, ok, ratio
        self.note = ""
        self.floor_label = ""  # before the floor's figure, for a row whose floor is only a reference
        self.extra = []


def floor_median(commands):
    return sum(command.median for command in commands)


def import_floor(env):
    return Command(f'python3 -c "{IMPORTS}"', [PYTHON, "-c", IMPORTS], env)


def row_noop(scratch, env, runs, progress):
    root = new_root(scratch, "noop", env)
    sync = xivo(env, root, "sync", "--quiet", label="xivo-certs sync --quiet (nothing changed)")
    base = Command("python3 -c pass", [PYTHON, "-c", "pass"], env)
    interleaved([sync, base], runs, 3, scratch, progress)
    ratio = sync.median / base.median
    return [Row("no-op `sync`", sync, [base], "≤ 2× floor", ratio <= 2, ratio)]


def row_confd(scratch, env, runs, progress, sizes=(10, 500, 1000)):
    """`sync` after an admin's certificate for another name is copied by hand: the hooks write
    the override and one link per conf.d directory. Each run starts from the same snapshot."""
    chain, key = admin_pair(scratch)
    commands = []
    for size in sizes:
        snapshot = os.path.join(scratch, f"confd-{size}-snapshot")
        root = os.path.join(scratch, f"confd-{size}")
        os.makedirs(snapshot)
        for number in range(size):  # as many xivo-* as wazo-* directories
            prefix = ("xivo", "wazo")[number % 2]
            os.makedirs(os.path.join(snapshot, "etc", f"{prefix}-svc{number:04d}", "conf.d"))
        hooks = os.path.join(snapshot, "etc", "xivo-certs", "hooks.d")
        shutil.copytree(os.path.join(CHECKOUT, "bin", "hooks.d"), hooks)
        for name in os.listdir(hooks):  # as the package installs them, whatever the checkout's modes
            os.chmod(os.path.join(hooks, name), 0o644 if name == "README" else 0o755)
            run_checkout_command(os.path.join(hooks, name))
        os.chmod(hooks, 0o755)
        # The system's CA bundle, as on a real host: `openssl verify` reads it (the private CA
        # is not in it, so the override points at ca.crt).
        os.makedirs(os.path.join(snapshot, "etc", "ssl", "certs"))
        shutil.copy(SYSTEM_CA_BUNDLE, os.path.join(snapshot, SYSTEM_CA_BUNDLE.lstrip("/")))
        check_call(XIVO_CERTS + ["--root", snapshot, "ensure"], env=env)
        check_call(XIVO_CERTS + ["--root", snapshot, "sync", "--quiet"], env=env)

        def restore(snapshot=snapshot, root=root):
            if os.path.exists(root):
                shutil.rmtree(root)
            copy_tree(snapshot, root)
            share = os.path.join(root, "usr", "share", "xivo-certs")
            write(os.path.join(share, "server.key"), key, 0o600)
            write(os.path.join(share, "server.crt"), chain, 0o644)

        def written(root=root, size=size):
            etc = os.path.join(root, "etc")
            links = [d for d in os.listdir(etc) if d.startswith(("xivo-svc", "wazo-svc"))
                     and os.path.islink(os.path.join(etc, d, "conf.d", LINK_NAME))]
            if len(links) != size or not os.path.isfile(os.path.join(root, OVERRIDE.lstrip("/"))):
                raise SetupError(f"sync with {size} conf.d: override or links not written "
                                 f"({len(links)} links)")
        commands.append(xivo(env, root, "sync", "--quiet", setup=restore, check=written,
                             label=f"xivo-certs sync --quiet, new certificate, {size} conf.d"))
    # What the file system alone costs: the same links made by a bare loop, from the same state.
    floor = Command(f"reference: python3, {sizes[-1]} × os.symlink() alone",
                    [PYTHON, "-c", SYMLINK_LOOP, os.path.join(root, "etc"), LINK_NAME, OVERRIDE], env,
                    setup=commands[-1].setup)
    interleaved(commands + [floor], runs, 1, scratch, progress)
    small, middle, large = commands
    # Linear: the second half of the directories costs about what the first half did.
    first = (middle.median - small.median) / (sizes[1] - sizes[0])
    second = (large.median - middle.median) / (sizes[2] - sizes[1])
    linear = second <= 2 * first + 0.02  # ms per directory; 0.02 ms (20 ms per 1,000) for noise
    ratio = large.median / small.median
    rows = [Row(f"`sync`, new certificate, {sizes[2]} conf.d", large, [small],
                "≤ 0.5 s, linear", large.median <= 500 and linear, ratio)]
    rows[0].note = (f"{sizes[0]}→{sizes[1]}: {first:.3f} ms/dir, "
                    f"{sizes[1]}→{sizes[2]}: {second:.3f} ms/dir ({'linear' if linear else 'NOT linear'})")
    rows[0].floor_label = f"{sizes[0]} conf.d: "  # a reference, not a floor: the target is absolute
    rows[0].extra = [middle, floor]
    return rows


SYMLINK_LOOP = """import os, sys
etc, name, target = sys.argv[1:]
for entry in os.listdir(etc):
    if entry.startswith(("xivo-svc", "wazo-svc")):
        os.symlink(target, os.path.join(etc, entry, "conf.d", name))
"""


def row_generate(scratch, env, runs, progress, key_types=KEY_TYPES):
    rows = []
    for key_type in key_types:
        root = new_root(scratch, "generate-" + key_type.replace(":", "-"), env, key_type)
        out = os.path.join(scratch, "openssl-" + key_type.replace(":", "-"))
        os.makedirs(out)
        ours = xivo(env, root, "generate", "--force", "--key-type", key_type)
        base = Command(f"openssl req -x509 -newkey {key_type}",
                       ["openssl", "req", "-x509", "-newkey", *OPENSSL_NEWKEY[key_type], "-nodes",
                        "-subj", "/CN=localhost", "-keyout", os.path.join(out, "k"), "-out",
                        os.path.join(out, "c")], env)
        imports = import_floor(env)
        # RSA key generation time varies a lot from key to key (searching primes): more runs.
        count = runs * {"rsa:2048": 4, "rsa:4096": 4}.get(key_type, 1)
        interleaved([ours, imports, base], count, 1, scratch, lambda p, k=key_type: progress(f"{k} {p}"))
        ratio = ours.median / floor_median([imports, base])
        rows.append(Row(f"`generate --force` {key_type}", ours, [imports, base], "≤ 1.3× floor",
                        ratio <= 1.3, ratio))
    return rows


def row_status(scratch, env, runs, progress):
    root = new_root(scratch, "status", env)
    ours = xivo(env, root, "status")
    imports = import_floor(env)
    cert = os.path.join(root, "usr/share/xivo-certs/server.crt")
    base = Command("openssl x509 -noout -text", ["openssl", "x509", "-noout", "-text", "-in", cert], env)
    interleaved([ours, imports, base], runs, 3, scratch, progress)
    ratio = ours.median / floor_median([imports, base])
    return [Row("`status`", ours, [imports, base], "≤ 1.3× floor", ratio <= 1.3, ratio)]


# --- dpkg -i in a throwaway root -----------------------------------------------------------------

def debian_root_tarball(progress):
    """The cached mmdebstrap tarball of a minimal Debian root with the package's dependencies."""
    tarball = os.path.join(CACHE, f"{SUITE}-{ROOT_PACKAGES.replace(',', '_')}.tar")
    if not os.path.exists(tarball):
        progress(f"mmdebstrap {SUITE} (once; cached in {CACHE})")
        os.makedirs(CACHE, exist_ok=True)
        # mmdebstrap infers the output format from the name: it must end in .tar (a name ending in
        # .tmp makes a directory).
        partial = tarball[:-len(".tar")] + ".tmp.tar"
        check_call(["mmdebstrap", "--variant=apt", f"--include={ROOT_PACKAGES}", SUITE, partial])
        os.rename(partial, tarball)
    return tarball


def baseline_deb(scratch, key_type):
    """A package whose postinst makes the same key and certificate with `openssl req`."""
    tree = os.path.join(scratch, "baseline-deb")
    os.makedirs(os.path.join(tree, "DEBIAN"))
    with open(os.path.join(tree, "DEBIAN", "control"), "w", encoding="ascii") as control:
        control.write("Package: openssl-req-baseline\nVersion: 1.0\nArchitecture: all\n"
                      "Maintainer: bench <bench@example.invalid>\nDepends: openssl\n"
                      "Description: baseline of the xivo-certs benchmark\n"
                      " Its postinst runs openssl req, nothing else.\n")
    newkey = " ".join(OPENSSL_NEWKEY[key_type])
    postinst = os.path.join(tree, "DEBIAN", "postinst")
    with open(postinst, "w", encoding="ascii") as script:
        script.write("#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then\n"
                     "\tmkdir -p /usr/share/openssl-req-baseline\n"
                     f"\topenssl req -x509 -newkey {newkey} -nodes -subj /CN=localhost "
                     "-keyout /usr/share/openssl-req-baseline/server.key "
                     "-out /usr/share/openssl-req-baseline/server.crt 2>/dev/null\nfi\n")
    os.chmod(postinst, 0o755)
    deb = os.path.join(scratch, "openssl-req-baseline_1.0_all.deb")
    check_call(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", tree, deb])
    return deb


def real_deb(progress, deb_path):
    if deb_path:
        return os.path.abspath(deb_path)
    progress("make deb")
    check_call(["make", "-C", CHECKOUT, "deb"])
    found = sorted(f for f in os.listdir(os.path.join(CHECKOUT, "dist")) if f.endswith("_all.deb"))
    if not found:
        raise SetupError("make deb made no dist/*_all.deb")
    return os.path.join(CHECKOUT, "dist", found[-1])


class Chroot:
    """A fresh root from the tarball before each run; the package copied to its /tmp."""

    def __init__(self, scratch, tarball, name):
        self.tarball, self.root = tarball, os.path.join(scratch, "chroot-" + name)

    def fresh(self, deb):
        if os.path.exists(self.root):
            shutil.rmtree(self.root)
        os.makedirs(self.root)
        check_call(["tar", "-C", self.root, "-xpf", self.tarball])
        shutil.copy(deb, os.path.join(self.root, "tmp", "x.deb"))

    def command(self, label, deb, xivo):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
               "DEBIAN_FRONTEND": "noninteractive"}
        return Command(label, ["chroot", self.root, "dpkg", "-i", "/tmp/x.deb"], env,
                       setup=lambda: self.fresh(deb), xivo=xivo)


def row_dpkg(scratch, env, runs, progress, deb_path=None, key_type="rsa:2048"):
    tarball = debian_root_tarball(progress)
    ours_deb = real_deb(progress, deb_path)
    base_deb = baseline_deb(scratch, key_type)
    ours = Chroot(scratch, tarball, "xivo-certs").command(
        "dpkg -i xivo-certs (fresh install)", ours_deb, True)
    base = Chroot(scratch, tarball, "baseline").command(
        f"dpkg -i baseline (postinst: openssl req {key_type})", base_deb, False)
    # RSA key generation varies from key to key: twice the runs, as for `generate`.
    interleaved([ours, base], runs * 2 if key_type.startswith("rsa") else runs, 1, scratch, progress)
    ratio = ours.median / base.median
    return [Row("`dpkg -i` fresh install", ours, [base], "reported, no target", None, ratio)]


# --- the table ----------------------------------------------------------------------------------

METHOD = """\
- Every figure is measured with its floor in the same run, interleaved run by run (order alternating),
  after a warm-up: at least 10 runs (40 for `generate` rsa:2048 and rsa:4096, 20 for `dpkg -i`: RSA
  key generation time varies ten-fold from key to key). Median, min and max are wall time; CPU is
  user + system of the command and what it waited for.
- Floors. No-op `sync`: `python3 -c pass` (Debian's /usr/bin/python3), target ≤ 2×. `status` and
  `generate --force`: the *sum of two medians*, `python3 -c "import cryptography.x509, yaml"` (the
  least a Python program parsing certificates and writing the override loads) and the openssl command
  doing the same work (`openssl x509 -noout -text -in server.crt`; `openssl req -x509 -newkey <same
  key type> -nodes -subj /CN=localhost`), target ≤ 1.3×. The two medians are taken separately, not as
  one shell command, so that no shell start is counted in the floor.
- `sync` after a new certificate: an admin's pair for pbx.example.com from a private CA (chain with
  its root, the system CA bundle in the root) copied over the default pair by hand, the shipped hooks
  in hooks.d, so that the hook writes the override, ca.crt and one link per conf.d directory; each run
  starts from the same snapshot and is checked to have written every link. Target: ≤ 0.5 s with
  1,000 directories, and linear (the ms per directory from 500 to 1,000 at most twice those from 10
  to 500, plus 0.02 ms). The reference row makes the same 1,000 links with a bare `os.symlink` loop.
- Peak RSS is per command: each runs under `/usr/bin/time -f %M`, which reports the largest of the
  command and what it waited for (run-parts, the hooks, the `xivo-certs override` they run, dpkg's
  maintainer scripts). Target: ≤ 40 MiB for every xivo-certs command (dpkg -i of the package included).
- `dpkg -i` is reported, with no target: the .deb of `make deb` and a package whose postinst runs
  `openssl req` for the same rsa:2048 key, each installed in a fresh root extracted from a cached
  mmdebstrap tarball (bookworm, `--variant=apt`, with python3, python3-cryptography, python3-yaml,
  openssl, debconf; cached in /var/cache/xivo-certs-bench/); only `chroot ROOT dpkg -i` is timed.
- Python runs with its bytecode cached (as installed, where py3compile compiles the package), in a
  temporary PYTHONPYCACHEPREFIX filled by the warm-up; `--no-bytecode` measures without. Before each
  run: the untimed setup, then sync(2), so that the command's own fsyncs do not write back the setup's
  files.
- Fixtures, roots and chroots live on a fresh ext4 made with mkfs.ext4's defaults in a sparse image
  on a loop device (`--scratch-fs tmpdir`: in $TMPDIR instead). The build VM's own root file system
  (ext4 with options of its own) spent 0.25 to 0.6 ms of kernel CPU per symbolic link created, growing
  from run to run, against ~30 µs on a fresh ext4 on the same disk.
"""


def ms(value):
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"


def line(command):
    return (f"| {command.label} | {len(command.wall)} | {ms(command.median)} | {ms(min(command.wall))} | "
            f"{ms(max(command.wall))} | {ms(statistics.median(command.cpu))} | "
            f"{max(command.rss) / 1024:.1f} MiB |")


def verdict(ok):
    return "reported" if ok is None else "ok" if ok else "MISSED"


def commands_table(rows):
    out = ["| command | runs | median | min | max | CPU median | peak RSS |",
           "|---|---|---|---|---|---|---|"]
    for row in rows:
        for command in [row.command] + row.extra + row.floor:
            out.append(line(command))
    return out


def figures_table(rows, measured):
    """The figures against their targets; appends the peak RSS figure to rows."""
    out = ["| figure | measured | floor | ratio | target | result |", "|---|---|---|---|---|---|"]
    for row in rows:
        floor = row.floor_label + " + ".join(ms(command.median) for command in row.floor)
        if len(row.floor) > 1:
            floor += f" = {ms(floor_median(row.floor))}"
        ratio = f"{row.ratio:.2f}×" + (f"; {row.note}" if row.note else "")
        out.append(f"| {row.figure} | {ms(row.command.median)} | {floor} | {ratio} | {row.target} | "
                   f"{verdict(row.ok)} |")
    xivo_commands = [c for c in measured if c.xivo and c.rss]
    if xivo_commands:
        peak = max(xivo_commands, key=lambda c: max(c.rss))
        ok = max(peak.rss) <= RSS_LIMIT_KIB
        rows.append(Row("peak RSS", peak, [], "≤ 40 MiB", ok))
        out.append(f"| peak RSS of any xivo-certs command | {max(peak.rss) / 1024:.1f} MiB ({peak.label}) "
                   f"| | | ≤ 40 MiB | {verdict(ok)} |")
    return out


def machine():
    cpu = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for text in info:
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    with open("/etc/debian_version", encoding="ascii") as version:
        debian = version.read().strip()
    openssl = check_call(["openssl", "version"]).strip()
    return (f"Debian {debian}, {os.cpu_count()} cores ({cpu}), kernel {platform.release()}; "
            f"Python {platform.python_version()} (/usr/bin/python3), "
            f"cryptography {importlib.metadata.version('cryptography')}, "
            f"PyYAML {importlib.metadata.version('PyYAML')}, {openssl}")


def load_text(load):
    return " ".join(f"{value:.2f}" for value in load)


def write_page(path, figures, commands, facts, missed, partial):
    lines = ["# Benchmarks", "",
             "Written by `make bench` (bench/run.py); do not edit by hand. Run `make bench` again to",
             "update it. Targets: issue 10.", ""]
    lines += [f"- {fact}" for fact in facts]
    if partial:
        lines.append(f"- Partial run: {partial}.")
    lines.append("- Result: " + (f"target missed: {', '.join(missed)}." if missed else "every target met."))
    lines += ["", "## Figures", ""] + figures + ["", "## Commands", ""] + commands
    lines += ["", "## Method", "", METHOD.rstrip("\n")]
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with open(path + ".new", "w", encoding="utf-8") as page:
        page.write("\n".join(lines) + "\n")
    os.rename(path + ".new", path)


def main():
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs per command after the warm-up (≥ 10)")
    parser.add_argument("--only", action="append", choices=ROWS, help="only these rows (repeatable)")
    parser.add_argument("--deb", help="the xivo-certs .deb to install (default: build it with make deb)")
    parser.add_argument("--no-bytecode", action="store_true", help="run Python without cached bytecode")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--scratch-fs", choices=("ext4", "tmpdir"), default="ext4",
                        help="where fixtures live: a fresh ext4 (default, see Ext4Scratch) or $TMPDIR")
    parser.add_argument("--output", help="also write the results to this Markdown file (docs/benchmarks.md)")
    args = parser.parse_args()
    if os.path.realpath(sys.executable) != os.path.realpath(PYTHON):
        print(f"bench: run it with {PYTHON}, not {sys.executable}", file=sys.stderr)
        return 2
    if os.geteuid() != 0:
        print("bench: run it as root (xivo-certs writes keys; dpkg -i runs in a chroot)", file=sys.stderr)
        return 2
    for tool in (TIME, "/usr/bin/openssl"):
        if not os.access(tool, os.X_OK):
            print(f"bench: {tool} is missing (make bench installs it)", file=sys.stderr)
            return 2
    selected = args.only or ROWS
    top = tempfile.mkdtemp(prefix="xivo-certs-bench.")

    def progress(text):
        print(f"bench: {text}", file=sys.stderr, flush=True)

    started = datetime.datetime.now(datetime.timezone.utc)
    load_start = os.getloadavg()
    rows: list = []
    measured: list = []
    failed: list = []
    scratch_context: contextlib.AbstractContextManager[str]
    if args.scratch_fs == "ext4":
        scratch_context = Ext4Scratch(top)
    else:
        scratch_context = contextlib.nullcontext(top)
    try:
        with scratch_context as scratch:
            measure(selected, scratch, args, progress, rows, measured, failed)
    except SetupError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            progress(f"kept {top}")
        else:
            shutil.rmtree(top, ignore_errors=True)
    ended = datetime.datetime.now(datetime.timezone.utc)
    if rows:
        commands = commands_table(rows)
        figures = figures_table(rows, measured)
        missed = [row.figure for row in rows if row.ok is False]
        where = "a fresh ext4 (loop device)" if args.scratch_fs == "ext4" else "$TMPDIR"
        minutes, seconds = divmod(int((ended - started).total_seconds()), 60)
        facts = [f"Date: {ended:%Y-%m-%d %H:%M} UTC ({minutes} min {seconds:02d} s).",
                 f"Machine: {machine()}.",
                 f"Load average (1, 5, 15 min): {load_text(load_start)} at the start, "
                 f"{load_text(os.getloadavg())} at the end.",
                 f"Scratch file system (fixtures, roots, chroots): {where}; bytecode "
                 f"{'not ' if args.no_bytecode else ''}cached."]
        print("\n".join(figures + [""] + commands))
        print("\n" + "\n".join(facts))
        partial = []
        if args.only:
            partial.append("rows " + ", ".join(args.only))
        if args.runs < 10:
            partial.append(f"only {args.runs} runs per command, a trial rather than a result (10 or more)")
            print(f"\n(only {args.runs} runs per command: a trial, not a result; "
                  "the issue asks for 10 or more)")
        if failed:
            partial.append("not measured (setup error): " + ", ".join(failed))
        if args.output:
            write_page(args.output, figures, commands, facts, missed, "; ".join(partial))
            progress(f"wrote {args.output}")
    else:
        missed = []
    if missed:
        print(f"\nbench: target missed: {', '.join(missed)}", file=sys.stderr)
    if failed:
        print(f"bench: not measured (setup error): {', '.join(failed)}", file=sys.stderr)
        return 2
    return 1 if missed else 0


def measure(selected, scratch, args, progress, rows, measured, failed):
    env = command_env(scratch, not args.no_bytecode)
    for name in selected:
        progress(f"{name} ...")
        runner = globals()["row_" + name]
        try:
            new = runner(scratch, env, args.runs, progress, args.deb) if name == "dpkg" \
                else runner(scratch, env, args.runs, progress)
        except SetupError as error:  # report it, measure the other rows
            print(f"bench: {name}: {error}", file=sys.stderr)
            failed.append(name)
            continue
        rows += new
        for row in new:
            measured += [row.command] + row.extra + row.floor


if __name__ == "__main__":
    sys.exit(main())
