"""The commands' work. Each writing command changes things under the lock, records the state,
then runs the hooks once the lock is released (the shipped hook calls `xivo-certs override`)."""

import os
import sys
import time

from . import files, settings as settings_module, state
from .errors import Problem

ROOT_ONLY = "must be run as root (it writes the private key)"


class Context:
    def __init__(self, paths):
        self.paths = paths
        self._settings = None
        self.hooks_claim = None  # a lock on `hooks-due` held while this process runs the hooks

    @property
    def settings(self):
        if self._settings is None:
            self._settings = settings_module.load(self.paths.settings)
        return self._settings


def _refuse_early(ctx):
    """Refuse before anything is touched: not root, or bad settings (read before the lock,
    whose directory would otherwise be created)."""
    if os.geteuid() != 0:
        raise Problem(ROOT_ONLY)
    ctx.settings  # noqa: B018 -- loading them is the check


def _locked_change(ctx, change, reason, admin_pair_problems_warn=False):
    """Run `change(recorded)` under the lock and settle; the hook environment if anything changed.

    With `admin_pair_problems_warn` (ensure, run by postinst), a pair that cannot be used once
    `change` is done — necessarily an admin's, which ensure never touches — is a warning."""
    _refuse_early(ctx)
    with files.locked(ctx.paths):
        files.recover(ctx.paths)
        recorded = change(state.read(ctx.paths.state))
        try:
            return settle(ctx, recorded, reason)
        except Problem as problem:
            if not admin_pair_problems_warn:
                raise
            print(f"xivo-certs: warning: {problem}; the admin's certificate is left as it is",
                  file=sys.stderr)
            return None


# --- settling: what every command ends with, and all that sync does ------------------------

def current_signatures(ctx):
    return {"cert_stat": files.signature(ctx.paths.cert), "key_stat": files.signature(ctx.paths.key),
            "settings_stat": files.signature(ctx.paths.settings),
            "confd_dir": tuple(ctx.paths.confd_dirs(ctx.settings.confd_globs))}


def unchanged(ctx, recorded):
    """The no-op test of `sync`: file metadata against the record, no certificate parsing."""
    if not recorded.get("fingerprint") or os.path.exists(ctx.paths.hooks_due):
        return False
    return all(recorded.get(key, "") == value for key, value in current_signatures(ctx).items())


def settle(ctx, recorded, reason):
    """Fix hand-copied modes, record what is in place; the hook environment when hooks must run."""
    from . import hooks, pair
    files.normalize_modes(ctx.paths)
    # The metadata is taken before the contents are read: a file replaced meanwhile then differs
    # from the record, and the next sync reads it (taken after, it would hide the new file).
    signatures = current_signatures(ctx)
    try:
        found = pair.read(ctx.paths)
        if found.key_problem:
            raise Problem(found.key_problem)
    except Problem:
        state.write(ctx.paths, dict(recorded, **_without_dirs(signatures)))
        raise
    try:
        pair.remember(ctx.paths, found, signatures)  # for `status`; only a cache
    except OSError:
        pass
    previous = recorded.get("fingerprint", "")
    new_dirs = set(signatures["confd_dir"]) - set(recorded.get("confd_dir", ()))
    owed = hooks.owed(ctx.paths)
    changed = (found.info.fingerprint != previous or bool(new_dirs) or owed is not None
               or signatures["settings_stat"] != recorded.get("settings_stat", ""))
    new = dict(recorded, fingerprint=found.info.fingerprint, **signatures)
    if previous and found.info.fingerprint != previous:
        new["changed_at"] = str(int(time.time()))
    if changed:  # before the state: a crash from here on leaves the hooks owed, not forgotten
        previous = owed if owed is not None else previous
        ctx.hooks_claim = hooks.claim(ctx.paths, found.info.fingerprint, previous)
    state.write(ctx.paths, new)
    if not changed:
        return None
    return hook_environment(ctx, found, pair.is_default(found, new), previous, reason)


def _without_dirs(signatures):
    return {k: v for k, v in signatures.items() if k != "confd_dir"}


def hook_environment(ctx, found, default, previous, reason):
    info = found.info
    yes_no = {True: "yes", False: "no"}
    return {
        "XIVO_CERTS_ROOT": ctx.paths.root, "XIVO_CERTS_CERT": ctx.paths.cert,
        "XIVO_CERTS_KEY": ctx.paths.key, "XIVO_CERTS_HOSTNAME": info.primary_name or "",
        "XIVO_CERTS_NAMES": " ".join(info.names), "XIVO_CERTS_SELF_SIGNED": yes_no[info.self_signed],
        "XIVO_CERTS_DEFAULT": yes_no[default], "XIVO_CERTS_FINGERPRINT": info.fingerprint,
        "XIVO_CERTS_PREVIOUS_FINGERPRINT": previous,
        "XIVO_CERTS_NOT_AFTER": info.not_after.isoformat(), "XIVO_CERTS_REASON": reason,
        "XIVO_CERTS_RESTART_SERVICES": yes_no[ctx.settings.restart_services],
    }


def run_hooks(ctx, hook_env, nonfatal=False, quiet=False):
    """Exit status after running the hooks (none to run is success); `quiet` drops their stdout."""
    if hook_env is None:
        return 0
    from . import hooks
    try:
        failures = hooks.run(ctx.paths, hook_env, quiet)
    except Problem as problem:  # untrusted hooks or no run-parts: they stay owed
        if not nonfatal:
            raise
        print(f"xivo-certs: warning: {problem}", file=sys.stderr)
        return 0
    if ctx.hooks_claim is not None:
        hooks.done(ctx.paths, ctx.hooks_claim, hook_env["XIVO_CERTS_FINGERPRINT"])
        ctx.hooks_claim = None
    for failure in failures:
        print(f"xivo-certs: {'warning: ' if nonfatal else ''}hook {failure} failed", file=sys.stderr)
    return 1 if failures and not nonfatal else 0


# --- commands ---------------------------------------------------------------------------------

def ensure(ctx, hostname=None, key_type=None, reason="install"):
    from . import names, pair
    hostname = names.normalize(hostname) if hostname else None
    _check_key_type(key_type)

    def change(recorded):
        try:
            found = pair.read(ctx.paths)
        except Problem:
            if os.path.lexists(ctx.paths.cert):
                return recorded  # an admin's file we cannot read: settle says what is wrong
            return _new_default(ctx, recorded, hostname, key_type, None)
        if not pair.is_default(found, recorded):
            _say_left_alone(found, recorded, hostname, reason)
            return _remember_answers(recorded, hostname, key_type)
        reasons = pair.regeneration_reasons(found, ctx.settings, hostname, key_type)
        if not reasons:
            return recorded if recorded.get("generated_fingerprint") \
                else pair.adopted_state(found, recorded)
        return _new_default(ctx, recorded, hostname or pair.hostname_of(found, recorded),
                            key_type or recorded.get("key_type") or found.info.key_type,
                            "; ".join(reasons), key_is_spare=bool(found.key_problem))
    return _locked_change(ctx, change, reason, admin_pair_problems_warn=True)


def _say_left_alone(found, recorded, hostname, reason):
    name = found.info.primary_name or found.info.subject_cn
    if reason == "reconfigure" or (hostname and hostname != recorded.get("hostname", hostname)):
        print(f"xivo-certs: an admin's certificate for {name} is in place and left as it is"
              + (f"; the name {hostname} applies when the default certificate comes back"
                 " (xivo-certs revert)" if hostname and hostname != name else ""))


def _remember_answers(recorded, hostname, key_type):
    """debconf's answers, kept for the default certificate to come (the config script reads them)."""
    answers = {k: v for k, v in (("hostname", hostname), ("key_type", key_type)) if v}
    return dict(recorded, **answers)


def _check_key_type(key_type):
    if key_type and key_type not in settings_module.KEY_TYPES:
        raise Problem(f"key type {key_type!r} is not one of {', '.join(settings_module.KEY_TYPES)}")


def _new_default(ctx, recorded, hostname, key_type, reason, extra_names=None, days=None,
                 key_is_spare=False):
    """Make the default pair; a key that belongs to no certificate in place is backed up first."""
    from . import pair
    key_type = key_type or recorded.get("key_type")
    if key_type not in settings_module.KEY_TYPES:  # none recorded, or a legacy one's (rsa:1024)
        key_type = settings_module.DEFAULT_KEY_TYPE
    if os.path.lexists(ctx.paths.key) and (key_is_spare or not os.path.lexists(ctx.paths.cert)):
        print(f"xivo-certs: backed up {ctx.paths.key} (it matches no certificate in place) to "
              f"{files.backup(ctx.paths, [ctx.paths.key], 'spare-key')}")
    if reason:
        print(f"xivo-certs: making a new default certificate: {reason}")
    return pair.make_default(
        ctx.paths, recorded, hostname or recorded.get("hostname") or "localhost",
        key_type,
        recorded.get("san", ()) if extra_names is None else extra_names,
        days or ctx.settings.days)


def generate(ctx, hostname=None, extra_names=None, key_type=None, days=None, force=False):
    from . import names
    hostname = names.normalize(hostname) if hostname else None
    if extra_names is not None:
        extra_names = tuple(names.normalize(n, "subjectAltName") for n in extra_names)
    _check_key_type(key_type)

    def change(recorded):
        _set_aside_admin_pair(ctx, recorded, force, "generate --force")
        return _new_default(ctx, recorded, hostname, key_type, None, extra_names, days)
    return _locked_change(ctx, change, "generate")


def _set_aside_admin_pair(ctx, recorded, force, command):
    """Back up a pair the package did not generate; refuse unless forced."""
    from . import pair
    if not os.path.lexists(ctx.paths.cert):
        return
    try:
        default = pair.is_default(pair.read(ctx.paths), recorded)
    except Problem:
        default = False
    if default:
        return
    if not force:
        raise Problem(f"an admin's certificate is in place; `xivo-certs {command}` replaces it "
                      "(after backing it up)", ctx.paths.cert)
    where = files.backup(ctx.paths, [ctx.paths.cert, ctx.paths.key], "admin")
    print(f"xivo-certs: backed up the admin's certificate and key to {where}")


def install(ctx, cert_file, key_file, chain_file=None):
    from . import validate, x509
    certs, key = validate.admin_pair(cert_file, key_file, chain_file)

    def change(recorded):
        _set_aside_admin_pair(ctx, recorded, True, "install")
        files.write_pair(ctx.paths, x509.key_pem(key), x509.certs_pem(certs), state.render(recorded))
        info = x509.describe(certs[0])
        print(f"xivo-certs: installed the certificate for {info.primary_name} "
              f"(valid until {info.not_after:%Y-%m-%d})")
        return recorded
    return _locked_change(ctx, change, "install-cert")


def revert(ctx):
    from . import pair

    def change(recorded):
        try:
            found = pair.read(ctx.paths)
            if pair.is_default(found, recorded) and not found.key_problem:
                print("xivo-certs: the default certificate is already in place")
                return recorded
            spare_key = bool(found.key_problem)
        except Problem:
            spare_key = False
        _set_aside_admin_pair(ctx, recorded, True, "revert")
        return _new_default(ctx, recorded, None, None, "revert", key_is_spare=spare_key)
    return _locked_change(ctx, change, "revert")


def renew(ctx):
    from . import pair

    def change(recorded):
        found = pair.read(ctx.paths)
        if not pair.is_default(found, recorded):
            days = found.info.days_left()
            if days <= ctx.settings.renew_days:
                raise Problem(f"an admin's certificate, expiring in {days} days: renew it yourself "
                              "and install it with `xivo-certs install`", ctx.paths.cert)
            return recorded
        reasons = pair.regeneration_reasons(found, ctx.settings)
        if not reasons:
            return recorded
        return _new_default(ctx, recorded, pair.hostname_of(found, recorded),
                            recorded.get("key_type") or found.info.key_type, "; ".join(reasons),
                            key_is_spare=bool(found.key_problem))
    return _locked_change(ctx, change, "renew")


def sync(ctx):
    """None when nothing changed (decided from metadata alone), else the hook environment."""
    _refuse_early(ctx)
    with files.locked(ctx.paths):
        pending = files.recover(ctx.paths)
        recorded = state.read(ctx.paths.state)
        if not pending and unchanged(ctx, recorded):
            return None
        return settle(ctx, recorded, "sync")


def override(ctx, adopt=False):
    """Bring the override in line with the certificate; the problems left."""
    from . import override as override_module, pair
    _refuse_early(ctx)
    with files.locked(ctx.paths):
        files.recover(ctx.paths)
        # The hook runs this right after settle recorded the pair: no cryptography then.
        found = pair.read_described(ctx.paths) or pair.read(ctx.paths)
        wanted = override_module.plan_for(ctx.paths, ctx.settings, found.info, found.anchor_pem)
        problems = override_module.apply(ctx.paths, ctx.settings, wanted, adopt)
    if wanted.needed and wanted.host:
        for line in override_module.advice(wanted.host):
            print(f"xivo-certs: {line}")
    return problems
