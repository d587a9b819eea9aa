"""Whether the system's CAs (ca-certificates) make a TLS client trust the certificate in place."""

import subprocess


def system_trusts(cert_path, bundle_path):
    """Whether `openssl verify` accepts the chain in `cert_path` for a server, against the CAs in
    `bundle_path` (the file's later certificates may serve as intermediates)."""
    command = ["openssl", "verify", "-purpose", "sslserver", "-CAfile", bundle_path,
               "-untrusted", cert_path, cert_path]
    try:
        result = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0
