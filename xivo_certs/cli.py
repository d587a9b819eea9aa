"""The `xivo-certs` command line. Exit 0 ok, 1 problem found or refused, 2 usage error."""

import sys

from . import actions
from .errors import Problem
from .paths import Paths
from .settings import KEY_TYPES

REASONS = ("install", "upgrade", "reconfigure")


def parser():
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message):  # one line, like every other refusal
            print(f"xivo-certs: usage error: {message} (see `{self.prog} --help`)", file=sys.stderr)
            sys.exit(2)

    common = Parser(add_help=False)
    common.add_argument("--root", default=argparse.SUPPRESS, metavar="DIR",
                        help="resolve every path under DIR (default /)")
    main = Parser(prog="xivo-certs", parents=[common],
                                   description="Manage the HTTPS certificate of a XiVO PBX.")
    commands = main.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name, text):
        return commands.add_parser(name, parents=[common], help=text, description=text)

    command("status", "show the certificate and its problems").add_argument("--json", action="store_true")
    ensure = command("ensure", "generate or repair the default certificate (postinst)")
    ensure.add_argument("--hostname")
    ensure.add_argument("--key-type", choices=KEY_TYPES)
    ensure.add_argument("--reason", choices=REASONS, default="install")
    ensure.add_argument("--hooks-nonfatal", action="store_true",
                        help="report failing hooks as warnings, exit 0")
    generate = command("generate", "make a new default self-signed pair")
    generate.add_argument("--hostname")
    generate.add_argument("--san", action="append", metavar="NAME")
    generate.add_argument("--key-type", choices=KEY_TYPES)
    generate.add_argument("--days", type=days, metavar="N")
    generate.add_argument("--force", action="store_true", help="replace an admin's certificate")
    install = command("install", "put an admin's certificate and key in place")
    install.add_argument("--cert", required=True, metavar="FILE")
    install.add_argument("--key", required=True, metavar="FILE")
    install.add_argument("--chain", metavar="FILE")
    command("revert", "go back to a default self-signed certificate")
    command("renew", "renew the default certificate if it expires soon")
    command("sync", "notice changes made by hand and run the hooks").add_argument("--quiet", action="store_true")
    command("override", "write or remove the hostname override").add_argument("--adopt", action="store_true")
    return main


def days(text):
    import argparse
    if not text.isdigit() or not 1 <= int(text) <= 3650:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 3650, not {text!r}")
    return int(text)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    quick = quick_sync(argv)
    if quick is not None:  # the no-op sync after every apt run: skip argparse's import
        ctx = actions.Context(Paths(quick[0]))
        return guarded(lambda: actions.run_hooks(ctx, actions.sync(ctx), quiet=quick[1]))
    quick = quick_command(argv)
    if quick is not None:  # `override` (what the hook runs) and `status`: skip argparse too
        ctx = actions.Context(Paths(quick[0]))
        return guarded(lambda: run(ctx, QuickArgs(quick[1], quick[2])))
    args = parser().parse_args(argv)
    ctx = actions.Context(Paths(getattr(args, "root", "/")))
    return guarded(lambda: run(ctx, args))


def quick_sync(argv):
    """(root, quiet) of a plain `[--root DIR] sync [--quiet]` command line, else None."""
    quick = quick_command(argv, {"sync": "--quiet"})
    return (quick[0], quick[2]) if quick else None


QUICK_COMMANDS = {"status": "--json", "override": "--adopt"}


def quick_command(argv, commands=QUICK_COMMANDS):
    """(root, command, flag given) of a plain `[--root DIR] COMMAND [FLAG]` command line, where
    COMMAND takes the one option FLAG (`commands`), else None: argparse is for everything else."""
    words = list(argv)
    root = "/"
    if len(words) >= 2 and words[0] == "--root":
        root, words = words[1], words[2:]
    if not words or words[0] not in commands or words[1:] not in ([], [commands[words[0]]]):
        return None
    return root, words[0], len(words) == 2


class QuickArgs:
    """What `run` reads of argparse's result, for a command line `quick_command` recognised."""

    def __init__(self, command, flag):
        self.command = command
        self.json = self.adopt = flag


def guarded(command):
    """Run `command`; a Problem or an OS error becomes one line on stderr and exit 1."""
    try:
        return command()
    except Problem as problem:
        return fail(str(problem))
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        return fail(f"{where}{error.strerror or error}")


def fail(message):
    print(f"xivo-certs: {message}", file=sys.stderr)
    return 1


def run(ctx, args):
    if args.command == "status":
        return status(ctx, args.json)
    if args.command == "override":
        problems = actions.override(ctx, args.adopt)
        for problem in problems:
            print(f"xivo-certs: {problem}", file=sys.stderr)
        return 1 if problems else 0
    nonfatal = args.command == "ensure" and args.hooks_nonfatal
    quiet = args.command == "sync" and args.quiet
    return actions.run_hooks(ctx, change(ctx, args), nonfatal, quiet)


def change(ctx, args):
    """Run a writing command; the hook environment when the hooks must run."""
    if args.command == "ensure":
        return actions.ensure(ctx, args.hostname, args.key_type, args.reason)
    if args.command == "generate":
        return actions.generate(ctx, args.hostname, args.san, args.key_type, args.days, args.force)
    if args.command == "install":
        return actions.install(ctx, args.cert, args.key, args.chain)
    return {"revert": actions.revert, "renew": actions.renew, "sync": actions.sync}[args.command](ctx)


def status(ctx, as_json):
    import json
    from . import status as status_module
    result = status_module.report(ctx)
    print(json.dumps(result, indent=2) if as_json else status_module.render_text(result))
    return 1 if result["problems"] else 0
