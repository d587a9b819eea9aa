"""`xivo-certs install`: an admin's certificate, chain and key, read as CAs hand them out
(bundle), judged (validate), and put in place in one transaction."""

from . import actions, bundle, files, request, state, transaction, validate, x509
from .errors import Problem


def install(ctx, notes, cert_file, key_file=None, chain_files=(), password_file=None):
    given = bundle.read(cert_file, key_file, chain_files or (), password_file)
    requested = not given.keys  # none given: the key `xivo-certs request` kept, forgotten once installed
    if requested:
        given = given._replace(keys=[request.kept_key(ctx.paths, cert_file)])
    admin = validate.judge(given, cert_file, ctx.paths.system_ca_bundle)
    for warning in admin.warnings:
        notes.warn(warning)
    key_pem, certs_pem = x509.key_pem(admin.key), x509.certs_pem(admin.certs)

    def change(recorded):
        if _in_place(ctx.paths, key_pem, certs_pem):
            notes.say("the certificate, its chain and its key are already in place")
            return recorded
        actions.set_aside_admin_pair(ctx, notes, recorded, True, "install")
        transaction.write_pair(ctx.paths, ctx.owner, key_pem, certs_pem, state.render(recorded))
        if requested:
            request.forget(ctx.paths, admin.key)
        info = x509.describe(admin.certs[0])
        notes.say(f"installed the certificate for {info.primary_name} "
                  f"(valid until {info.not_after:%Y-%m-%d})")
        return recorded
    return actions.locked_change(ctx, notes, change, "install-cert")


def _in_place(paths, key_pem, certs_pem):
    """Whether server.key and server.crt hold these very bytes (fleet tools install on every pass:
    then nothing is backed up, written, or told to the hooks)."""
    try:
        return (files.read_input(paths.cert, follow=False) == certs_pem
                and files.read_input(paths.key, follow=False) == key_pem)
    except Problem:
        return False
