"""The writing commands. Each changes things under the lock, records the state (settle), and
returns what the hooks need; the command line runs them once the lock is released (the shipped
hook calls `xivo-certs override`). What they have to say goes to `notes`."""

import os

from . import files, names, override as override_module, pair, settings as settings_module, state
from . import transaction, validate, x509
from .context import refuse_early
from .errors import Problem
from .settle import settle


def _locked_change(ctx, notes, change, reason, admin_pair_problems_warn=False):
    """Run `change(recorded)` under the lock and settle; a Settled if the hooks must run.

    With `admin_pair_problems_warn` (ensure, run by postinst), a pair that cannot be used once
    `change` is done — necessarily an admin's, which ensure never touches — is a warning."""
    refuse_early(ctx)
    with files.locked(ctx.paths, ctx.owner):
        transaction.recover(ctx.paths)
        recorded = change(state.read(ctx.paths.state))
        try:
            return settle(ctx, recorded, reason)
        except Problem as problem:
            if not admin_pair_problems_warn:
                raise
            notes.warn(f"warning: {problem}; the admin's certificate is left as it is")
            return None


def ensure(ctx, notes, hostname=None, key_type=None, reason="install"):
    hostname = names.normalize(hostname) if hostname else None
    _check_key_type(key_type)

    def change(recorded):
        try:
            found = pair.read(ctx.paths)
        except Problem:
            if os.path.lexists(ctx.paths.cert):
                return recorded  # an admin's file we cannot read: settle says what is wrong
            return _new_default(ctx, notes, recorded, hostname, key_type, None)
        if not pair.is_default(found, recorded):
            _say_left_alone(notes, found, recorded, hostname, reason)
            return _remember_answers(recorded, hostname, key_type)
        reasons = pair.regeneration_reasons(found, ctx.settings, hostname, key_type)
        if not reasons:
            return recorded if recorded.generated_fingerprint else pair.adopted_state(found, recorded)
        return _new_default(ctx, notes, recorded, hostname or pair.hostname_of(found, recorded),
                            key_type or recorded.key_type or found.info.key_type,
                            "; ".join(reasons), key_is_spare=bool(found.key_problem))
    return _locked_change(ctx, notes, change, reason, admin_pair_problems_warn=True)


def _say_left_alone(notes, found, recorded, hostname, reason):
    name = found.info.primary_name or found.info.subject_cn
    recorded_name = hostname if recorded.hostname is None else recorded.hostname
    if reason == "reconfigure" or (hostname and hostname != recorded_name):
        notes.say(f"an admin's certificate for {name} is in place and left as it is"
                  + (f"; the name {hostname} applies when the default certificate comes back"
                     " (xivo-certs revert)" if hostname and hostname != name else ""))


def _remember_answers(recorded, hostname, key_type):
    """debconf's answers, kept for the default certificate to come (the config script reads them)."""
    return recorded._replace(hostname=hostname or recorded.hostname,
                             key_type=key_type or recorded.key_type)


def _check_key_type(key_type):
    if key_type and key_type not in settings_module.KEY_TYPES:
        raise Problem(f"key type {key_type!r} is not one of {', '.join(settings_module.KEY_TYPES)}")


def _new_default(ctx, notes, recorded, hostname, key_type, reason, extra_names=None, days=None,
                 key_is_spare=False):
    """Make the default pair; a key that belongs to no certificate in place is backed up first."""
    key_type = key_type or recorded.key_type
    if key_type not in settings_module.KEY_TYPES:  # none recorded, or a legacy one's (rsa:1024)
        key_type = settings_module.DEFAULT_KEY_TYPE
    if os.path.lexists(ctx.paths.key) and (key_is_spare or not os.path.lexists(ctx.paths.cert)):
        where = files.backup(ctx.paths, ctx.owner, [ctx.paths.key], "spare-key")
        notes.say(f"backed up {ctx.paths.key} (it matches no certificate in place) to {where}")
    if reason:
        notes.say(f"making a new default certificate: {reason}")
    return pair.make_default(
        ctx.paths, ctx.owner, notes, recorded, hostname or recorded.hostname or "localhost",
        key_type, recorded.san if extra_names is None else extra_names, days or ctx.settings.days)


def generate(ctx, notes, hostname=None, extra_names=None, key_type=None, days=None, force=False):
    hostname = names.normalize(hostname) if hostname else None
    if extra_names is not None:
        extra_names = tuple(names.normalize(n, "subjectAltName") for n in extra_names)
    _check_key_type(key_type)

    def change(recorded):
        _set_aside_admin_pair(ctx, notes, recorded, force, "generate --force")
        return _new_default(ctx, notes, recorded, hostname, key_type, None, extra_names, days)
    return _locked_change(ctx, notes, change, "generate")


def _set_aside_admin_pair(ctx, notes, recorded, force, command):
    """Back up a pair the package did not generate; refuse unless forced."""
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
    where = files.backup(ctx.paths, ctx.owner, [ctx.paths.cert, ctx.paths.key], "admin")
    notes.say(f"backed up the admin's certificate and key to {where}")


def install(ctx, notes, cert_file, key_file, chain_file=None):
    certs, key = validate.admin_pair(cert_file, key_file, chain_file)

    def change(recorded):
        _set_aside_admin_pair(ctx, notes, recorded, True, "install")
        transaction.write_pair(ctx.paths, ctx.owner, x509.key_pem(key), x509.certs_pem(certs),
                               state.render(recorded))
        info = x509.describe(certs[0])
        notes.say(f"installed the certificate for {info.primary_name} "
                  f"(valid until {info.not_after:%Y-%m-%d})")
        return recorded
    return _locked_change(ctx, notes, change, "install-cert")


def revert(ctx, notes):
    def change(recorded):
        try:
            found = pair.read(ctx.paths)
            if pair.is_default(found, recorded) and not found.key_problem:
                notes.say("the default certificate is already in place")
                return recorded
            spare_key = bool(found.key_problem)
        except Problem:
            spare_key = False
        _set_aside_admin_pair(ctx, notes, recorded, True, "revert")
        return _new_default(ctx, notes, recorded, None, None, "revert", key_is_spare=spare_key)
    return _locked_change(ctx, notes, change, "revert")


def renew(ctx, notes):
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
        return _new_default(ctx, notes, recorded, pair.hostname_of(found, recorded),
                            recorded.key_type or found.info.key_type, "; ".join(reasons),
                            key_is_spare=bool(found.key_problem))
    return _locked_change(ctx, notes, change, "renew")


def override(ctx, notes, adopt=False):
    """Bring the override in line with the certificate; the problems left. What it left is
    recorded (override_watch), so that `sync` runs the hooks again once it changes."""
    refuse_early(ctx)
    with files.locked(ctx.paths, ctx.owner):
        transaction.recover(ctx.paths)
        if not ctx.settings.manage_override:
            _record_watch(ctx, ())
            notes.say("manage_override = no: the override, its links, ca.crt and the hosts block "
                      "are left as they are")
            return []
        found = pair.read(ctx.paths)
        wanted = override_module.plan(ctx.paths, ctx.settings, found.certs)
        problems = override_module.apply(ctx.paths, ctx.settings, ctx.owner, wanted, notes, adopt)
        converged = not wanted.needed and not problems  # then there is nothing to keep an eye on
        _record_watch(ctx, () if converged else override_module.watch(ctx.paths, ctx.settings))
    if wanted.needed and wanted.host:
        for line in override_module.advice(ctx.paths, ctx.settings, wanted.host):
            notes.say(line)
    return problems


def _record_watch(ctx, watched):
    recorded = state.read(ctx.paths.state)
    if recorded.override_watch != watched:
        state.write(ctx.paths, ctx.owner, recorded._replace(override_watch=watched))
