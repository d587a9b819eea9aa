"""xivo-certs: the HTTPS certificate of a XiVO PBX, managed for the admin."""
