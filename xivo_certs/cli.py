"""The `xivo-certs` command line. Exit 0 ok, 1 problem found or refused, 2 usage error. The only
module that prints: the commands return what they have to say (context.Notes)."""

import os
import sys
from types import SimpleNamespace

from . import sync
from .context import Context, Notes, process_owner
from .errors import Problem
from .paths import Paths


def main(argv=None, owner=None):
    """Run the command line `argv`; its exit status. `owner`: see context.Owner (tests)."""
    argv = sys.argv[1:] if argv is None else argv
    args = plain_sync(argv) or parse(argv)
    paths = Paths(getattr(args, "root", "/"))
    ctx = Context(paths, owner or process_owner(paths))
    notes = Notes()
    try:
        code = run(ctx, args, notes)
    except (Problem, OSError) as problem:
        notes.warn(one_line(problem))
        code = 1
    show(notes)
    return 1 if notes.output_lost else code


def one_line(problem):
    """What a Problem or an OSError says, as the one line of a refusal."""
    if isinstance(problem, Problem):
        return str(problem)
    where = f"{problem.filename}: " if problem.filename else ""
    return f"{where}{problem.strerror or problem}"


def detach_stdout():
    """Point stdout at /dev/null, so that the interpreter's flush at exit fails no more (the
    Python documentation's way out of BrokenPipeError)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def plain_sync(argv):
    """The arguments of `[--root DIR] sync [--quiet]`, what the apt hook and the path unit run
    after every apt run, else None. Read without argparse: importing it and building the parser
    cost more than the whole no-op sync may take (make bench: at most 2x `python3 -c pass`)."""
    root = "/"
    if argv[:1] == ["--root"] and len(argv) > 1:
        root, argv = argv[1], argv[2:]
    if argv not in (["sync"], ["sync", "--quiet"]):
        return None
    return SimpleNamespace(command="sync", root=root, quiet=len(argv) == 2)


def parse(argv):
    from . import arguments  # lazy: argparse stays off the no-op sync path (see plain_sync)
    return arguments.parser().parse_args(argv)


def show(notes):
    """Print what the command had to say, and forget it. Output stdout cannot take (closed, or on
    a full disk) is lost: stderr says so, stdout is detached and the command will exit 1."""
    out, err = [printable(line) for line in notes.out], [printable(line) for line in notes.err]
    notes.out.clear()
    notes.err.clear()
    try:
        for line in out:
            print(line)
        sys.stdout.flush()
    except OSError as error:
        detach_stdout()
        err.insert(0, f"xivo-certs: cannot write the output: {error.strerror}")
        notes.output_lost = True
    for line in err:
        print(line, file=sys.stderr)


def printable(line):
    """`line` with what a terminal would obey escaped (C0 and C1 controls, newlines included, DEL,
    line separators, bidi controls): a name in a certificate or a file name is anyone's choice,
    and must not make a line of its own."""
    if line.isprintable():
        return line
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in line)


def run(ctx, args, notes):
    # The imports below are lazy: cryptography and yaml stay off the no-op sync path, and each
    # command loads the module of its own work (status, request, install, certbot, override_command,
    # actions for the default certificate's).
    if args.command == "status":
        from . import status
        lines, problems = status.show(ctx, args.json, notes)
        notes.out.extend(lines)
        return 1 if problems else 0
    if args.command == "request":
        from . import request
        request.request(ctx, notes, args.hostname, args.san, args.key_type, args.out)
        return 0
    if args.command == "sync":
        settled = sync.sync(ctx)
        if settled is None:
            return 0
    elif args.command == "override":
        from . import override_command
        problems = override_command.override(ctx, notes, args.adopt)
        for problem in problems:
            notes.warn(problem)
        return 1 if problems else 0
    else:
        settled = change(ctx, args, notes)
    from .settle import run_hooks
    show(notes)  # before the hooks, which write to stderr too
    nonfatal = args.command == "ensure" and args.hooks_nonfatal
    quiet = args.command == "sync" and args.quiet
    try:
        return run_hooks(ctx, settled, notes, nonfatal, quiet)
    finally:
        if settled is not None:  # any change, even one whose hooks could not run
            from . import metrics
            metrics.refresh(ctx, notes)


def change(ctx, args, notes):
    """Run a writing command; a settle.Settled when the hooks must run."""
    if args.command == "install":
        from . import install
        return install.install(ctx, notes, args.cert, args.key, args.chain, args.password_file)
    if args.command == "certbot":
        from . import certbot
        return certbot.command(ctx, notes, args.action, args.name, args.lineage)
    from . import actions
    if args.command == "ensure":
        return actions.ensure(ctx, notes, args.hostname, args.key_type, args.reason)
    if args.command == "generate":
        return actions.generate(ctx, notes, args.hostname, args.san, args.key_type, args.days,
                                args.force)
    if args.command == "revert":
        return actions.revert(ctx, notes)
    return actions.renew(ctx, notes)
