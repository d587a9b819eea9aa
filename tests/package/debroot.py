"""Throwaway Debian roots for the package tests.

One base root per distribution is made with mmdebstrap (``--variant=apt``, with the package's
dependencies, apt-utils and the TLS clients already installed), kept as a tarball in a cache directory
outside the repository and unpacked once into a read-only tree.  Every scenario then gets its own
overlayfs mount on top of that tree: making a root costs a few milliseconds and throwing it away
removes everything the scenario did.  Commands run inside with ``chroot`` in a private mount and PID
namespace (``unshare --mount --pid --fork --mount-proc``), so /proc is never left mounted on the
host; the overlay itself is unmounted by ``Root.close()`` (and stale ones from a killed run are
unmounted by ``cleanup_stale()``).  Debian's tools do the rest: python3-debian reads the .deb's fields
and compares versions, equivs builds the stand-in packages, apt-ftparchive indexes the local
repository and pexpect gives dpkg-reconfigure its terminal.

Also a small command line, used by the Makefile for piuparts and autopkgtest:

    debroot.py tarball SUITE... [--deb X.deb] [--gz] print the cached base tarball (building it if needed)
    debroot.py tree SUITE... [--deb X.deb]           unpack it once (the scenarios' lower layer)
    debroot.py standins DIR                          build the stand-in packages into DIR (equivs)
    debroot.py repo DIR DEB...                       a flat apt repository DIR of the DEBs (apt-ftparchive)
    debroot.py newest-deb [DISTDIR]                  the highest-versioned dist/xivo-certs_*_all.deb
"""

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

import pexpect
from debian.deb822 import Deb822, Packages
from debian.debfile import DebFile
from debian.debian_support import Version

SUITES = ("bookworm", "trixie")


def selected_suites():
    """$XIVO_CERTS_SUITES (space separated), default both."""
    return tuple(os.environ.get("XIVO_CERTS_SUITES", " ".join(SUITES)).split())


# Installed in every base root: what the package depends on, what autopkgtest's unshare backend
# needs (apt-utils) and the TLS clients of scenario 10.  The .deb's own Depends are added to this.
BASE_PACKAGES = (
    "python3", "python3-cryptography", "python3-yaml", "openssl", "debconf", "ca-certificates",
    "apt-utils", "curl", "gnutls-bin",
)

MIRROR = os.environ.get("XIVO_CERTS_TEST_MIRROR", "http://deb.debian.org/debian")
CACHE = os.environ.get("XIVO_CERTS_TEST_CACHE", "/var/cache/xivo-certs-tests")
WORK = os.environ.get("XIVO_CERTS_TEST_WORK", "/var/tmp/xivo-certs-tests")
RECIPE = "2"  # bump to rebuild every cached base

# What a Debian machine's /etc/hosts says (the installer writes it; bookworm's apt variant has none,
# trixie's mmdebstrap copies the host's): loopback names only, the same on both.
HOSTS_HOOK = ('printf "127.0.0.1\\tlocalhost\\n::1\\t\\tlocalhost ip6-localhost ip6-loopback\\n'
              'ff02::1\\t\\tip6-allnodes\\nff02::2\\t\\tip6-allrouters\\n" > "$1/etc/hosts"')

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def log(msg):
    print(f"[debroot] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------- .deb files

def deb_depends(deb):
    """Package names of the .deb's Pre-Depends and Depends (first alternative of each)."""
    if not deb:
        return []
    relations = Packages(DebFile(deb).debcontrol()).relations
    return [alts[0]["name"] for field in ("pre-depends", "depends") for alts in relations[field]]


def base_packages(deb=None):
    return sorted(set(BASE_PACKAGES) | set(deb_depends(deb)))


# ------------------------------------------------------------------------------------- base cache

@contextlib.contextmanager
def _locked(name):
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, f".{name}.lock"), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def base_key(suite, packages):
    blob = json.dumps([RECIPE, suite, MIRROR, sorted(packages)]).encode()
    return f"{suite}-{hashlib.sha256(blob).hexdigest()[:12]}"


def base_tarball(suite, deb=None, packages=None, flavour=""):
    """Path of the cached mmdebstrap tarball of SUITE, built when missing.  A FLAVOUR (another
    package list, e.g. ".systemd") is cached beside the plain base, never pruned in its place."""
    packages = packages or base_packages(deb)
    key = base_key(suite + flavour, packages)
    tarball = os.path.join(CACHE, f"{key}.tar")
    with _locked(key):
        if os.path.exists(tarball):
            return tarball
        _prune(suite + flavour, keep=key)
        tmp = os.path.join(CACHE, f"{key}.tmp.tar")
        cmd = ["mmdebstrap", "--variant=apt", "--mode=root", "--include=" + ",".join(packages),
               "--aptopt=Acquire::Retries \"3\";", "--dpkgopt=force-unsafe-io",
               "--customize-hook=" + HOSTS_HOOK, suite, tmp, MIRROR]
        log(f"building {tarball} ({' '.join(packages)})")
        t0 = time.monotonic()
        res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if res.returncode:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise RuntimeError(f"mmdebstrap {suite} failed ({res.returncode}):\n{res.stdout[-4000:]}")
        os.rename(tmp, tarball)
        log(f"built {tarball} in {time.monotonic() - t0:.1f}s")
    return tarball


def base_targz(suite, deb=None):
    """The same base as a .tar.gz (piuparts --basetgz unpacks with tar -z)."""
    tarball = base_tarball(suite, deb)
    targz = tarball + ".gz"
    with _locked(os.path.basename(tarball)):
        if not os.path.exists(targz):
            tmp = targz + ".tmp"
            with open(tmp, "wb") as out:
                subprocess.run(["gzip", "-1", "-c", tarball], stdout=out, check=True)
            os.rename(tmp, targz)
    return targz


def base_tree(suite, deb=None, packages=None, flavour=""):
    """Unpacked, read-only base tree of SUITE (the lower layer of every overlay)."""
    tarball = base_tarball(suite, deb, packages, flavour)
    key = os.path.basename(tarball)[:-len(".tar")]
    tree = os.path.join(CACHE, key + ".tree")
    done = os.path.join(CACHE, key + ".tree.ok")
    with _locked(key + ".tree"):
        if os.path.exists(done):
            return tree
        if os.path.exists(tree):
            _rmtree(tree)
        os.makedirs(tree)
        t0 = time.monotonic()
        subprocess.run(["tar", "-C", tree, "-xf", tarball], check=True)
        open(done, "w").close()
        log(f"unpacked {tree} in {time.monotonic() - t0:.1f}s")
    return tree


def _prune(suite, keep):
    """Drop cached bases of SUITE made from another package list or recipe."""
    for name in os.listdir(CACHE):
        if name.startswith(suite + "-") and not name.startswith(keep) and not name.startswith("."):
            path = os.path.join(CACHE, name)
            log(f"removing outdated {path}")
            if os.path.isdir(path) and not os.path.islink(path):
                _rmtree(path)
            else:
                os.unlink(path)


def _rmtree(path):
    subprocess.run(["rm", "-rf", "--one-file-system", path], check=True)


def cleanup_stale():
    """Unmount overlays left by a killed run and remove their directories."""
    if not os.path.isdir(WORK):
        return
    with open("/proc/self/mountinfo") as fh:
        mounts = [line.split()[4] for line in fh]
    for mnt in sorted((m for m in mounts if m.startswith(WORK + "/")), reverse=True):
        pid = mnt[len(WORK) + 1:].split("/")[0].split("-")[0]
        if pid.isdigit() and os.path.exists(f"/proc/{pid}") and int(pid) != os.getpid():
            continue  # another live run
        subprocess.run(["umount", "-l", mnt], check=False)
    for name in os.listdir(WORK):
        pid = name.split("-")[0]
        if pid.isdigit() and (not os.path.exists(f"/proc/{pid}") or int(pid) == os.getpid()):
            if not _is_mounted_below(os.path.join(WORK, name)):
                _rmtree(os.path.join(WORK, name))


def _is_mounted_below(path):
    with open("/proc/self/mountinfo") as fh:
        return any(line.split()[4].startswith(path + "/") or line.split()[4] == path for line in fh)


# ------------------------------------------------------------------------------------------- roots

class CommandFailed(AssertionError):
    pass


class Result:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err

    @property
    def output(self):
        return self.out + self.err


class Root:
    """A fresh overlay root on top of a base tree; commands run inside with chroot."""

    def __init__(self, suite, lower, label):
        self.suite, self.label, self.lower = suite, label, lower
        os.makedirs(WORK, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix=f"{os.getpid()}-{suite}-", dir=WORK)
        self.upper = os.path.join(self.dir, "upper")
        self.merged = os.path.join(self.dir, "root")
        work = os.path.join(self.dir, "work")
        for d in (self.upper, self.merged, work):
            os.mkdir(d)
        opts = f"lowerdir={lower},upperdir={self.upper},workdir={work}"
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o", opts, self.merged], check=True)
        self.mounted = True

    # -- lifetime
    def close(self):
        if self.mounted:
            for _ in range(20):
                if subprocess.run(["umount", self.merged], capture_output=True).returncode == 0:
                    break
                time.sleep(0.2)
            else:
                subprocess.run(["umount", "-l", self.merged], check=False)
            self.mounted = False
        if not _is_mounted_below(self.dir):
            _rmtree(self.dir)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- commands
    def command(self, script, env=None):
        envs = {"PATH": PATH, "HOME": "/root", "LC_ALL": "C.UTF-8", "TERM": "dumb",
                "DEBIAN_FRONTEND": "noninteractive", "DEBCONF_NONINTERACTIVE_SEEN": "true"}
        envs.update(env or {})
        return (["unshare", "--mount", "--pid", "--fork", "--kill-child",
                 f"--mount-proc={self.merged}/proc", "chroot", self.merged, "/usr/bin/env", "-i"]
                + [f"{k}={v}" for k, v in envs.items()] + ["/bin/sh", "-c", script])

    def run(self, script, check=True, input=None, env=None, timeout=None, tty_input=None):
        """Run a shell script inside the root; check=True fails the test on a non-zero exit.

        tty_input: the script runs on a terminal (pexpect's pty, 200x200, no echo) with these
        lines typed ahead, for debconf's teletype frontend, which refuses a stdin that is not a
        tty; stdout and stderr are that terminal too, so .out holds both."""
        if timeout is None:
            # A question asked again waits on the terminal for ever: fail sooner.
            timeout = 600 if tty_input is None else 120
        try:
            if tty_input is None:
                p = subprocess.run(self.command(script, env), input=input, capture_output=True,
                                   text=True, timeout=timeout)
            else:
                p = self._run_tty(script, env, tty_input, timeout)
        except subprocess.TimeoutExpired as e:
            raise CommandFailed(f"{self.label}: `{script}` timed out after {timeout}s\n"
                                f"{e.stdout}\n{e.stderr}") from None
        if check and p.returncode != 0:
            raise CommandFailed(f"{self.label}: `{script}` exited {p.returncode}\n"
                                f"--- stdout\n{p.stdout[-6000:]}\n--- stderr\n{p.stderr[-6000:]}")
        return Result(p.returncode, p.stdout, p.stderr)

    def _run_tty(self, script, env, tty_input, timeout):
        cmd = self.command(script, env)
        child = pexpect.spawn(cmd[0], cmd[1:], timeout=timeout, echo=False, dimensions=(200, 200),
                              encoding="utf-8", codec_errors="replace")
        child.send(tty_input)
        try:
            child.expect(pexpect.EOF)
        except pexpect.TIMEOUT:
            child.close(force=True)
            raise subprocess.TimeoutExpired(cmd, timeout, child.before, "") from None
        child.close()
        rc = child.exitstatus if child.signalstatus is None else -child.signalstatus
        return subprocess.CompletedProcess(cmd, rc, child.before.replace("\r\n", "\n"), "")

    def popen(self, script, env=None):
        return subprocess.Popen(self.command(script, env), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    # -- files (host view of the root)
    def host(self, path):
        return os.path.join(self.merged, path.lstrip("/"))

    def exists(self, path):
        return os.path.lexists(self.host(path))

    def read(self, path):
        with open(self.host(path), "rb") as fh:
            return fh.read()

    def get(self, path):
        """Bytes of PATH, None when it is missing (for comparisons that should report, not crash)."""
        try:
            return self.read(path)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def text(self, path):
        return self.read(path).decode()

    def write(self, path, data, mode=0o644, uid=0, gid=0):
        host = self.host(path)
        os.makedirs(os.path.dirname(host), exist_ok=True)
        if isinstance(data, str):
            data = data.encode()
        with open(host, "wb") as fh:
            fh.write(data)
        os.chown(host, uid, gid)
        os.chmod(host, mode)

    def append(self, path, data):
        with open(self.host(path), "a") as fh:
            fh.write(data)

    def mkdir(self, path, mode=0o755):
        os.makedirs(self.host(path), mode=mode, exist_ok=True)

    def lstat(self, path):
        return os.lstat(self.host(path))

    def owner_mode(self, path):
        st = self.lstat(path)
        return (st.st_uid, st.st_gid, st.st_mode & 0o7777)

    def readlink(self, path):
        return os.readlink(self.host(path))

    def sha256(self, path):
        return hashlib.sha256(self.read(path)).hexdigest()

    def glob(self, pattern):
        n = len(self.merged)
        return sorted(p[n:] for p in glob.glob(self.host(pattern)))

    def copy_in(self, src, path, mode=0o644):
        self.write(path, open(src, "rb").read(), mode=mode)

    # -- package helpers
    def apt_install(self, *debs, extra="", env=None, check=True):
        """apt-get install the given .deb files (copied into /tmp/debs of the root)."""
        names = []
        for deb in debs:
            name = os.path.basename(deb)
            self.copy_in(deb, f"/tmp/debs/{name}")
            names.append(f"/tmp/debs/{name}")
        res = self.run("apt-get install -y --no-install-recommends -o Dpkg::Use-Pty=0 "
                       f"{extra} " + " ".join(shlex.quote(n) for n in names), env=env, check=check)
        self.run("rm -rf /tmp/debs")
        return res

    def preseed(self, *lines):
        self.run("debconf-set-selections", input="".join(line + "\n" for line in lines))

    def add_hosts(self, line):
        self.append("/etc/hosts", line.rstrip("\n") + "\n")

    def state(self, path="/var/lib/xivo-certs/state"):
        values = {}
        if not self.exists(path):
            return None
        for line in self.text(path).splitlines():
            if "=" in line and not line.startswith("#"):
                k, _, v = line.partition("=")
                values.setdefault(k.strip(), v.strip())
        return values

    # -- whole-tree views (for purge checks)
    def file_list(self, exclude=()):
        """Relative paths of everything in the root, minus /proc and the excluded prefixes."""
        found = set()
        for top, dirs, files in os.walk(self.merged):
            rel = os.path.relpath(top, self.merged)
            rel = "/" if rel == "." else "/" + rel
            if rel == "/proc":
                dirs[:] = []
                continue
            for name in dirs + files:
                p = os.path.join(rel, name)
                if not any(p == e or p.startswith(e.rstrip("/") + "/") for e in exclude):
                    found.add(p)
        return found

    def changed_paths(self):
        """Paths the overlay's upper layer holds: everything created, changed or deleted."""
        out = set()
        for top, dirs, files in os.walk(self.upper):
            rel = os.path.relpath(top, self.upper)
            for name in dirs + files:
                out.add("/" + os.path.normpath(os.path.join(rel, name)))
        return out

    def describe(self, path, top=None):
        """(type, uid, gid, mode, content digest or link target) of PATH in the root (or in the
        tree TOP, e.g. self.lower: the root as it was before anything ran), None if absent."""
        host = os.path.join(top or self.merged, path.lstrip("/"))
        try:
            st = os.lstat(host)
        except FileNotFoundError:
            return None
        if stat.S_ISLNK(st.st_mode):
            kind, what = "link", os.readlink(host)
        elif stat.S_ISDIR(st.st_mode):
            kind, what = "dir", ""
        elif stat.S_ISREG(st.st_mode):
            with open(host, "rb") as fh:
                kind, what = "file", hashlib.sha256(fh.read()).hexdigest()
        elif stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
            return None  # an overlay whiteout: deleted
        else:
            kind, what = "other", ""
        return (kind, st.st_uid, st.st_gid, oct(st.st_mode & 0o7777), what)


# ------------------------------------------------------------------------------ systemd as PID 1

# The systemd flavour of the base: the same packages and systemd, booted by systemd-nspawn.
SYSTEMD_FLAVOUR = ".systemd"
BOOT_TIMEOUT = 300  # a hang guard only: the boot is awaited on systemd's own READY=1


def systemd_tree(suite, deb=None):
    """The read-only base tree of SUITE with systemd installed (a lower layer, as base_tree)."""
    return base_tree(suite, deb, base_packages(deb) + ["systemd"], SYSTEMD_FLAVOUR)


class Machine:
    """A Root booted with systemd as PID 1 (systemd-nspawn --boot); commands run inside it with
    nsenter.  The boot is over when the container's systemd says READY=1: nspawn passes it on to
    our notify socket (--notify-ready), with the container's PID 1 as X_NSPAWN_LEADER_PID.  The
    socket is closed then: nspawn blocks on a full one (every daemon-reload sends more)."""

    def __init__(self, root):
        self.root, self.pid = root, None
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(os.path.join(root.dir, "notify"))
        self.console = open(os.path.join(root.dir, "console.log"), "w")
        cmd = ["systemd-nspawn", "--quiet", "--directory", root.merged, "--boot", "--register=no",
               "--keep-unit", "--console=passive", "--notify-ready=yes", "--machine=xivo-certs-test"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.console,
                                     stderr=subprocess.STDOUT,
                                     env=dict(os.environ, NOTIFY_SOCKET=self.notify.getsockname()))
        self._await_ready()
        self.notify.close()

    def _await_ready(self):
        deadline = time.monotonic() + BOOT_TIMEOUT
        self.notify.settimeout(1)
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                message = self.notify.recv(4096).decode()
            except socket.timeout:
                continue
            fields = dict(line.partition("=")[::2] for line in message.splitlines())
            self.pid = int(fields.get("X_NSPAWN_LEADER_PID", self.pid or 0)) or None
            if fields.get("READY") == "1" and self.pid:
                return
        self.close()
        raise CommandFailed(f"{self.root.label}: systemd did not boot:\n{self.console_log()[-4000:]}")

    def console_log(self):
        with open(self.console.name) as fh:
            return fh.read()

    def run(self, script, check=True, timeout=600):
        """Run a shell script inside the booted machine (all its namespaces)."""
        cmd = (["nsenter", "--target", str(self.pid), "--all", "/usr/bin/env", "-i", f"PATH={PATH}",
                "LC_ALL=C.UTF-8", "DEBIAN_FRONTEND=noninteractive", "SYSTEMD_PAGER=", "/bin/sh", "-c",
                script])
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise CommandFailed(f"{self.root.label} (booted): `{script}` exited {p.returncode}\n"
                                f"--- stdout\n{p.stdout[-6000:]}\n--- stderr\n{p.stderr[-6000:]}")
        return Result(p.returncode, p.stdout, p.stderr)

    def show(self, unit, prop):
        """`systemctl show -p PROP --value UNIT`."""
        return self.run(f"systemctl show -p {prop} --value {shlex.quote(unit)}").out.strip()

    def close(self):
        """Pull the plug (no test needs a clean poweroff): SIGKILL to the container's PID 1 ends
        its whole PID namespace, and then nspawn."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                if self.pid:
                    os.kill(self.pid, signal.SIGKILL)
                else:
                    self.proc.kill()
            try:
                self.proc.wait(BOOT_TIMEOUT)
            except subprocess.TimeoutExpired:  # a hang guard, as the boot's
                self.proc.kill()
                self.proc.wait()
        self.notify.close()
        self.console.close()


# ------------------------------------------------------------------------------- stand-in packages

# equivs control files of the two packages the scenarios need besides the real one.  equivs ships
# no empty directory: a README in each directory the package must own.
STANDINS = {
    # What XiVO shipped before 15.12: no certificate management, only /usr/share/xivo-certs/.
    "old": """Package: xivo-certs
Version: 15.11
Section: admin
Maintainer: xivo-certs tests <tests@example.invalid>
File: /usr/share/xivo-certs/README
 xivo-certs 15.11 stand-in: manages no certificate.
Description: XiVO certificates (15.11 stand-in)
 test stand-in built by tests/package/debroot.py with equivs
""",
    # A XiVO daemon installed later, shipping its conf.d directories.
    "newd": """Package: xivo-newd
Version: 1.0
Section: admin
Maintainer: xivo-certs tests <tests@example.invalid>
File: /etc/xivo-newd/config.yml
 rest_api:
   https:
     listen: 127.0.0.1
File: /etc/xivo-newd/conf.d/README
 stand-in XiVO daemon
File: /etc/wazo-newd/conf.d/README
 stand-in XiVO daemon
Description: XiVO new daemon (stand-in)
 test stand-in built by tests/package/debroot.py with equivs
""",
}


def build_standins(outdir):
    """Build the stand-ins with equivs-build into OUTDIR: {"old": path, "newd": path}."""
    os.makedirs(outdir, exist_ok=True)
    debs = {}
    for key, control in STANDINS.items():
        with open(os.path.join(outdir, key + ".control"), "w") as fh:
            fh.write(control)
        res = subprocess.run(["equivs-build", key + ".control"], cwd=outdir, capture_output=True, text=True)
        if res.returncode:
            raise RuntimeError(f"equivs-build {key} failed:\n{res.stdout[-3000:]}{res.stderr[-3000:]}")
        fields = Deb822(control)
        debs[key] = os.path.join(outdir, f"{fields['Package']}_{fields['Version']}_all.deb")
    return debs


def make_repo(repodir, debs):
    """A flat apt repository ('deb [trusted=yes] file:DIR ./') holding DEBS, indexed by apt-ftparchive."""
    os.makedirs(repodir, exist_ok=True)
    for deb in debs:
        with contextlib.suppress(shutil.SameFileError):
            shutil.copy(deb, repodir)
    for index in ("Packages", "Release"):
        out = subprocess.run(["apt-ftparchive", index.lower(), "."], cwd=repodir, check=True,
                             capture_output=True).stdout
        with open(os.path.join(repodir, index), "wb") as fh:
            fh.write(out)
    return repodir


def newest_deb(distdir):
    """The highest-versioned DISTDIR/xivo-certs_*_all.deb."""
    debs = glob.glob(os.path.join(distdir, "xivo-certs_*_all.deb"))
    return max(debs, key=lambda deb: Version(os.path.basename(deb).split("_")[1]), default=None)


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    deb = None
    if "--deb" in args:
        i = args.index("--deb")
        deb = args[i + 1] or None
        del args[i:i + 2]
    if cmd == "tarball":
        gz = "--gz" in args
        for suite in (a for a in args if a != "--gz"):
            print(base_targz(suite, deb) if gz else base_tarball(suite, deb))
        return 0
    if cmd == "tree":
        for suite in args:
            print(base_tree(suite, deb))
        return 0
    if cmd == "standins":
        for path in build_standins(args[0]).values():
            print(path)
        return 0
    if cmd == "repo":
        print(make_repo(args[0], args[1:]))
        return 0
    if cmd == "newest-deb":
        deb = newest_deb(args[0] if args else "dist")
        if not deb:
            print("no dist/xivo-certs_*_all.deb", file=sys.stderr)
            return 1
        print(deb)
        return 0
    print(f"unknown command {cmd}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
