"""Whether the system's CAs (ca-certificates) make a TLS client trust the certificate in place."""

import subprocess

from . import tools
from .errors import Problem


def system_trusts(cert_path, bundle_path):
    """Whether `openssl verify` accepts the chain in `cert_path` for a server, against the CAs in
    `bundle_path` (the file's later certificates may serve as intermediates)."""
    try:
        command = [tools.find("openssl", "openssl"), "verify", "-purpose", "sslserver",
                   "-CAfile", bundle_path, "-untrusted", cert_path, cert_path]
        result = subprocess.run(command, env=tools.environment(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30,
                                check=False)
    except (Problem, OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0
