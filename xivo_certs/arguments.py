"""The command line's grammar: commands, options, and usage errors in one line (argparse)."""

import argparse
import sys

from .cli import printable
from .settings import KEY_TYPES

REASONS = ("install", "upgrade", "reconfigure")


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, like every other refusal; an argument may hold controls
        print(printable(f"xivo-certs: usage error: {message} (see `{self.prog} --help`)"), file=sys.stderr)
        sys.exit(2)


def parser():
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
    install.add_argument("--cert", required=True, metavar="FILE",
                         help="the certificate (PEM, DER or PKCS#12); it may hold the chain and the key")
    install.add_argument("--key", metavar="FILE",
                         help="the private key, unless --cert holds it (else: the key `request` kept)")
    install.add_argument("--chain", metavar="FILE", action="append",
                         help="intermediate and root certificates, in any order (repeatable)")
    install.add_argument("--password-file", metavar="FILE",
                         help="its first line opens a PKCS#12 --cert or an encrypted key")
    request = command("request", "make a key and a certificate signing request for a CA")
    request.add_argument("--hostname", required=True)
    request.add_argument("--san", action="append", metavar="NAME")
    request.add_argument("--key-type", choices=KEY_TYPES)
    request.add_argument("--out", metavar="FILE", help="write the request there (default: stdout)")
    command("revert", "go back to a default self-signed certificate")
    command("renew", "renew the default certificate if it expires soon")
    command("sync", "notice changes made by hand and run the hooks").add_argument(
        "--quiet", action="store_true")
    command("override", "write or remove the hostname override").add_argument("--adopt", action="store_true")
    certbot_command(command("certbot", "install what certbot obtains for one lineage: enable NAME, "
                            "disable, deploy (certbot's deploy hook)"), common)
    return main


def certbot_command(certbot, common):
    """`certbot enable NAME | disable | deploy [--lineage DIR]`: each action takes its own
    arguments only (args.name and args.lineage are None where they do not apply)."""
    actions = certbot.add_subparsers(dest="action", metavar="ACTION", required=True)

    def action(name, text):
        return actions.add_parser(name, parents=[common], help=text, description=text)

    enable = action("enable", "install what certbot obtains for the certificate name NAME")
    enable.add_argument("name", metavar="NAME", help="the certificate name (certbot's live/NAME)")
    enable.set_defaults(lineage=None)
    action("disable", "stop installing what certbot obtains").set_defaults(name=None, lineage=None)
    deploy = action("deploy", "install the enabled lineage (certbot's deploy hook)")
    deploy.add_argument("--lineage", metavar="DIR",
                        help="certbot's live/NAME directory (default $RENEWED_LINEAGE)")
    deploy.set_defaults(name=None)


def days(text):
    if not text.isdigit() or not 1 <= int(text) <= 3650:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 3650, not {text!r}")
    return int(text)
