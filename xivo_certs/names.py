"""Host names: validation (IDNA to A-labels) and matching against certificate names."""

import re

from .errors import Problem

LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
MAX_NAME = 253


def normalize(name, what="host name"):
    """`name` as a lowercase A-label host name, or a Problem saying why it is not one."""
    if not isinstance(name, str) or not name or len(name) > 4 * MAX_NAME:
        raise Problem(f"{what} {_show(name)} is not a host name: it must be 1 to {MAX_NAME} characters")
    text = name[:-1] if name.endswith(".") else name
    try:
        labels = [_label(label) for label in text.split(".")]
    except (UnicodeError, ValueError) as error:
        raise Problem(f"{what} {_show(name)} is not a host name: {error}")
    ascii_name = ".".join(labels)
    if len(ascii_name) > MAX_NAME:
        raise Problem(f"{what} {_show(name)} is not a host name: longer than {MAX_NAME} characters")
    if labels[-1].isdigit():
        raise Problem(f"{what} {_show(name)} is not a host name: its last label is a number")
    return ascii_name


def _label(label):
    if not label:
        raise ValueError("empty label")
    if not label.isascii():
        encoded = label.encode("idna").decode("ascii")
        if not encoded.startswith("xn--"):  # nameprep mapped it to ASCII: U+212A is a "k"
            raise ValueError(f"label {label!r} is a look-alike of the ASCII label {encoded!r}")
        label = encoded
    label = label.lower()
    if not LABEL.match(label):
        raise ValueError(f"label {label!r} must be 1-63 letters, digits or inner hyphens")
    return label


def _show(name):
    """A name as it can be printed on one line, whatever it holds."""
    text = repr(name)
    return text if len(text) <= 80 else text[:77] + "...'"


def is_host_name(name):
    """Whether `name` is a host name in A-label form; case does not matter (RFC 4343), as some
    CAs keep the case a name was asked in."""
    try:
        return name.isascii() and normalize(name) == name.lower()
    except Problem:
        return False


def check_printable(text, what, path=None):
    """Refuse `text` (a name a certificate holds) when it holds a character that is not
    printable: control characters (C0, C1, DEL), line separators, bidi controls."""
    if not text.isprintable():
        raise Problem(f"the certificate's {what} {_show(text)} holds control characters", path)


def covers(pattern, host):
    """Whether the certificate name `pattern` (maybe `*.x.y`) covers `host` (RFC 6125)."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        first, _, rest = host.partition(".")
        return bool(first) and rest == pattern[2:] and "." in rest
    return pattern == host
