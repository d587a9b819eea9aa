"""`xivo-certs status`: what is in place, and what is wrong with it."""

import json
import os
import stat
import time

from . import certbot, certinfo, expiry, override, pair, probe, state
from .errors import Problem

KEY_MODE_MASK = 0o037  # group write/execute, anything for others


def report(ctx):
    """The status object (for --json): fields of the pair, the override, `problems` and `information`."""
    paths = ctx.paths
    result = {"cert_path": paths.cert, "key_path": paths.key, "problems": [], "information": [],
              "unreadable": _unreadable_here(ctx)}
    recorded = state.State() if paths.state_dir in result["unreadable"] else state.read(paths.state)
    result["problems"] += certbot.status_problems(ctx, recorded)
    try:
        found = pair.read(paths)
    except Problem as problem:
        result["problems"].append(str(problem))
        return result
    if paths.key in result["unreadable"]:
        found = found._replace(key_problem=None)
    result.update(_describe(found, recorded))
    if paths.key in result["unreadable"]:
        result["key_matches"] = None
    result["problems"] += _pair_problems(ctx, found, result["default"])
    wanted = override.plan(paths, ctx.settings, found.certs)
    result["override"], override_problems = override.inspect(paths, ctx.settings, ctx.owner, wanted)
    result["problems"] += override_problems
    restart_known = _served(ctx, found, result)
    result["information"] += _information(ctx, found, recorded, result["default"], wanted, restart_known)
    result["information"] += expiry.status_notes(ctx.paths, found)
    return result


def _served(ctx, found, result):
    """The `served` field, with its problems and notes; whether any endpoint answered."""
    result["served"] = probe.served(ctx, found)
    problems, information = probe.judged(result["served"], ctx.paths.cert)
    result["problems"] += problems
    result["information"] += information
    return probe.answered(result["served"])


def _unreadable_here(ctx):
    """What only root may read (the key, the state), when status runs as another user: it says
    what it can without them (the package's own certificate then told by its shape)."""
    if os.geteuid() == ctx.owner.uid:
        return []
    paths = ctx.paths
    unreadable = []
    if os.path.lexists(paths.key) and not os.access(paths.key, os.R_OK):
        unreadable.append(paths.key)
    if os.path.isdir(paths.state_dir) and not os.access(paths.state_dir, os.R_OK | os.X_OK):
        unreadable.append(paths.state_dir)
    return unreadable


def _describe(found, recorded):
    info = found.info
    return {
        "subject_cn": info.subject_cn, "names": list(info.names),
        "ip_addresses": list(info.ip_addresses), "issuer_cn": info.issuer_cn, "issuer": info.issuer,
        "self_signed": info.self_signed, "default": pair.is_default(found, recorded),
        "not_after": info.not_after.isoformat(), "days_left": info.days_left(),
        "key_type": info.key_type, "fingerprint_sha256": info.fingerprint,
        "key_matches": found.key_problem is None, "chain_length": len(found.certs),
    }


def _pair_problems(ctx, found, default):
    problems = [found.key_problem] if found.key_problem else []
    validity = certinfo.validity_problem(found.info)
    if validity:
        problems.append(f"{ctx.paths.cert}: {validity}")
    elif found.info.days_left() <= ctx.settings.renew_days and not default:
        problems.append(f"{ctx.paths.cert}: expires in {found.info.days_left()} days")
    problems += [f"{ctx.paths.cert}: {weakness}" for weakness in certinfo.weaknesses(found.info)]
    problems += _mode_problems(ctx.paths, ctx.owner)
    problems += _link_problems(ctx.paths)
    problems += _directory_problems(ctx.paths, ctx.owner)
    return problems


def _mode_problems(paths, owner):
    try:
        info = os.lstat(paths.key)
    except FileNotFoundError:
        return []
    if info.st_uid != owner.uid or info.st_mode & KEY_MODE_MASK \
            or info.st_gid not in (owner.gid, owner.www_data_gid):
        return [f"{paths.key}: readable beyond root:www-data (mode {stat.S_IMODE(info.st_mode):04o}, "
                f"uid {info.st_uid}, gid {info.st_gid}); `xivo-certs sync` fixes it"]
    return []


def _link_problems(paths):
    """A file of the pair with other hard links: fixing its mode would change theirs too."""
    problems = []
    for path in (paths.key, paths.cert):
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            continue
        if stat.S_ISREG(info.st_mode) and info.st_nlink != 1:
            problems.append(f"{path}: has {info.st_nlink} hard links; xivo-certs fixes no mode "
                            "through it: replace it by a copy")
    return problems


def _directory_problems(paths, owner):
    """The directories from the root down to the pair: root's, writable by root alone (whoever
    can write one can swap the key), and open to www-data (the daemons read the key as it)."""
    problems = []
    for directory in _pair_directories(paths):
        info = os.stat(directory)
        mode = stat.S_IMODE(info.st_mode)
        if info.st_uid != owner.uid or mode & 0o022:
            problems.append(f"{directory}: writable by others than root (mode {mode:04o}, uid "
                            f"{info.st_uid}); whoever can write it can replace the key")
        if not (mode & 0o001 or (mode & 0o010 and info.st_gid == owner.www_data_gid)):
            problems.append(f"{directory}: www-data cannot go through it to the key (mode "
                            f"{mode:04o}); the daemons cannot read the pair: chmod 0755 it")
    return problems


def _pair_directories(paths):
    """The pair's directory and its parents, up to (not including) the root."""
    directory = os.path.dirname(paths.key)
    while len(directory) > len(paths.root) and directory.startswith(paths.root):
        yield directory
        directory = os.path.dirname(directory)


def _information(ctx, found, recorded, default, wanted, restart_known=False):
    """Notes; the restart owed is guessed from the boot time unless the endpoints said (probe)."""
    notes = []
    if default and found.info.days_left() <= ctx.settings.renew_days:
        notes.append(f"the default certificate expires in {found.info.days_left()} days; "
                     "the daily timer (xivo-certs renew) will renew it")
    changed_at = int(recorded.changed_at or 0)
    if changed_at > _boot_time() and not ctx.settings.restart_services and not restart_known:
        when = time.strftime('%Y-%m-%d %H:%M', time.localtime(changed_at))
        notes.append(f"the certificate changed on {when}"
                     " and the XiVO services were not restarted by xivo-certs: "
                     "run `xivo-service restart all` when it suits you (it drops live calls)")
    if wanted.needed and wanted.host and ctx.settings.manage_override:
        notes += override.advice(ctx.paths, ctx.settings, wanted.host)[-1:]
    return notes


def _boot_time():
    try:
        with open("/proc/stat", encoding="ascii") as proc:
            for line in proc:
                if line.startswith("btime "):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def text_lines(result):
    lines = [f"certificate  {result['cert_path']}"]
    if "fingerprint_sha256" in result:
        origin = "generated by xivo-certs" if result["default"] else "an admin's"
        signer = "self-signed" if result["self_signed"] else f"issued by {result['issuer']}"
        lines += [
            f"  subject    CN={result['subject_cn']} ({signer}, {origin})",
            f"  names      {', '.join(result['names'] + result['ip_addresses']) or '(none)'}",
            f"  expires    {result['not_after'][:10]} ({result['days_left']} days left)",
            f"  key        {result['key_type']}, "
            + {True: "matches", False: "DOES NOT MATCH", None: "not checked"}[result["key_matches"]]
            + f" ({result['key_path']})",
            f"  sha256     {result['fingerprint_sha256']}",
        ]
        lines += _override_text(result["override"])
    lines += ["problems     " + ("none" if not result["problems"] else "")]
    lines += [f"  - {p}" for p in result["problems"]]
    lines += [f"note         {n}" for n in result["information"]]
    return lines


def _override_text(ov):
    if not ov["managed"]:
        return ["override     not managed (manage_override = no)"]
    if not ov["needed"]:
        return [f"override     not needed (the certificate covers localhost); file {ov['state']}"]
    verify = {True: "system CAs", None: "unknown"}.get(ov["verify"], ov["verify"])
    managed = sum(link["state"] == "managed" for link in ov["links"])
    return [f"override     host {ov['host']}, verify with {verify}; {ov['path']} {ov['state']}",
            f"  links      {managed} of {len(ov['links'])} in place"]


def show(ctx, as_json, notes):
    """The lines of the status as text or JSON, and whether it found problems or could not check
    everything (`notes` then says why, in one line)."""
    result = report(ctx)
    if result["unreadable"]:
        notes.warn(f"cannot read {' and '.join(result['unreadable'])} as this user: "
                   "run `xivo-certs status` as root for a full check")
    lines = json.dumps(result, indent=2).split("\n") if as_json else text_lines(result)
    return lines, bool(result["problems"] or result["unreadable"])
