"""Where things are: the checkout, the command, and the paths, names and values xivo-certs uses on
a system (absolute; inside a temporary root, `root / PATH`)."""

from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"
COMMAND = CHECKOUT / "bin" / "xivo-certs"
SHIPPED_HOOKS = CHECKOUT / "bin" / "hooks.d"

WWW_DATA = 33  # static gid from base-passwd
CERT = "/usr/share/xivo-certs/server.crt"
KEY = "/usr/share/xivo-certs/server.key"
CA = "/usr/share/xivo-certs/ca.crt"
OVERRIDE = "/etc/xivo/custom/custom-certificate.yml"
LINK_NAME = "010-custom-certificate.yml"
STATE = "/var/lib/xivo-certs/state"
SETTINGS = "/etc/xivo-certs/xivo-certs.conf"
HOOKS_DIR = "/etc/xivo-certs/hooks.d"
APT_HOOK = "/etc/apt/apt.conf.d/05xivo-certs"
PROM = "/var/lib/prometheus/node-exporter/xivo_certs.prom"
CLI_INI = "/etc/letsencrypt/cli.ini"
HOSTS_BEGIN = "# BEGIN xivo-certs: the certificate's name, for the XiVO daemons (they listen on 127.0.0.1)"
HOSTS_END = "# END xivo-certs"


# The conf.d directories of XiVO daemons a test root pretends are installed.
CONFD_DIRS = ("/etc/xivo-auth/conf.d", "/etc/xivo-dird/conf.d", "/etc/xivo-confd/conf.d",
              "/etc/wazo-webhookd/conf.d", "/etc/wazo-calld/conf.d")
# The services of the override, one section each.
SERVICES = ("consul", "agentd", "ajam", "amid", "auth", "calld", "confd", "ctid_ng", "dird",
            "webhookd", "websocketd")
# What a hook finds in its environment.
HOOK_VARIABLES = ("XIVO_CERTS_ROOT", "XIVO_CERTS_CERT", "XIVO_CERTS_KEY", "XIVO_CERTS_HOSTNAME",
                  "XIVO_CERTS_NAMES", "XIVO_CERTS_SELF_SIGNED", "XIVO_CERTS_DEFAULT",
                  "XIVO_CERTS_FINGERPRINT", "XIVO_CERTS_PREVIOUS_FINGERPRINT",
                  "XIVO_CERTS_PEM_SHA256", "XIVO_CERTS_PREVIOUS_PEM_SHA256",
                  "XIVO_CERTS_NOT_AFTER", "XIVO_CERTS_REASON", "XIVO_CERTS_RESTART_SERVICES")


def hosts_block(host):
    """The managed block of the hosts files naming `host`."""
    return f"{HOSTS_BEGIN}\n127.0.0.1\t{host}\n{HOSTS_END}\n"
