"""Whether the system's CAs (ca-certificates) make a TLS client trust the certificate in place."""

import subprocess

from . import tools
from .errors import Problem


def system_trusts(cert_path, bundle_path):
    """Whether `openssl verify` accepts the chain in `cert_path` for a server, against the CAs in
    `bundle_path` (the file's later certificates may serve as intermediates)."""
    result = openssl_verify("-purpose", "sslserver", "-CAfile", bundle_path, "-untrusted", cert_path,
                            cert_path)
    return result is not None and result.returncode == 0


def openssl_verify(*arguments):
    """`openssl verify ARGUMENTS` run (Debian's openssl, the fixed environment), its output as
    text; None when it could not run."""
    try:
        return subprocess.run([tools.find("openssl", "openssl"), "verify", *arguments],
                              env=tools.environment(), stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, errors="replace", timeout=30, check=False)
    except (Problem, OSError, subprocess.TimeoutExpired):
        return None
