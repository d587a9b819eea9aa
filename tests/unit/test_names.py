"""xivo_certs.names: host-name validation (IDNA to A-labels) and certificate-name matching."""

import pytest
from hypothesis import given, settings, strategies as st

from xivo_certs import names
from xivo_certs.errors import Problem


@pytest.mark.parametrize("given_name, expected", [
    ("localhost", "localhost"),
    ("PBX.Example.COM", "pbx.example.com"),
    ("pbx.example.com.", "pbx.example.com"),
    ("bücher.example", "xn--bcher-kva.example"),
    ("ÉCOLE.example", "xn--cole-9oa.example"),
    ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ("a-b.c-d.example", "a-b.c-d.example"),
    ("1pbx.example", "1pbx.example"),
    ("a" * 63 + ".example", "a" * 63 + ".example"),
    (".".join(["a" * 63] * 3) + "." + "b" * 61, ".".join(["a" * 63] * 3) + "." + "b" * 61),  # 253
])
def test_normalize_gives_lowercase_a_labels(given_name, expected):
    assert names.normalize(given_name) == expected
    assert names.is_host_name(expected)


@pytest.mark.parametrize("bad, why", [
    ("", "1 to 253 characters"),
    ("pbx..example", "empty label"),
    (".pbx.example", "empty label"),
    ("-pbx.example", "inner hyphens"),
    ("pbx-.example", "inner hyphens"),
    ("pbx_1.example", "inner hyphens"),
    ("pbx example", "inner hyphens"),
    ("*.example.com", "inner hyphens"),
    ("a" * 64 + ".example", "label"),
    (".".join(["a" * 63] * 4), "longer than 253"),
    ("10.0.0.1", "last label is a number"),
    ("pbx.123", "last label is a number"),
    ("pbx.example/evil", "inner hyphens"),
    ("pbx\nexample", "inner hyphens"),
])
def test_normalize_refuses_what_is_not_a_host_name(bad, why):
    with pytest.raises(Problem) as refused:
        names.normalize(bad)
    message = str(refused.value)
    assert "is not a host name" in message
    assert why in message
    assert "\n" not in message  # one line, whatever the input holds


def test_normalize_names_what_it_checks():
    with pytest.raises(Problem, match=r"^subjectAltName 'a_b' is not a host name"):
        names.normalize("a_b", "subjectAltName")


def test_a_huge_name_is_shown_shortened():
    with pytest.raises(Problem) as refused:
        names.normalize("x" * 5000)
    assert len(str(refused.value)) < 200


def test_non_strings_are_refused():
    with pytest.raises(Problem):
        names.normalize(None)


def test_is_host_name_wants_a_labels_in_any_case():
    assert names.is_host_name("pbx.example.com")
    assert names.is_host_name("PBX.Example.com")
    assert not names.is_host_name("pbx.example.com.")
    assert not names.is_host_name("bücher.example")
    assert not names.is_host_name("*.example.com")
    assert not names.is_host_name("127.0.0.1")


@pytest.mark.parametrize("pattern, host, covered", [
    ("localhost", "localhost", True),
    ("LOCALHOST", "localhost", True),
    ("pbx.example.com.", "PBX.example.com", True),
    ("pbx.example.com", "example.com", False),
    ("*.example.com", "pbx.example.com", True),
    ("*.example.com", "a.b.example.com", False),
    ("*.example.com", "example.com", False),
    ("*.com", "example.com", False),
    ("*.example.com", "localhost", False),
    ("pbx*.example.com", "pbx1.example.com", False),
])
def test_covers_follows_rfc_6125(pattern, host, covered):
    assert names.covers(pattern, host) is covered


LABEL = st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?\Z")


@settings(max_examples=100, deadline=None)
@given(st.lists(LABEL, min_size=1, max_size=5), st.sampled_from(["com", "example", "test", "xn--p1ai"]))
def test_valid_names_are_fixed_points(labels, tld):
    host = ".".join(labels + [tld])
    assert names.normalize(host) == host
    assert names.normalize(host.upper()) == host
    assert names.normalize(host + ".") == host
    assert names.is_host_name(host)
    assert names.covers(host, host.upper())


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=80))
def test_any_text_is_a_host_name_or_a_problem(text):
    try:
        result = names.normalize(text)
    except Problem as problem:
        assert "\n" not in str(problem)
    else:
        assert names.is_host_name(result)
        assert names.normalize(result) == result


@pytest.mark.parametrize("look_alike", [
    "\u212aelvin.example",      # KELVIN SIGN, which IDNA 2003 maps to "k"
    "pbx.ex\uff41mple.com",  # FULLWIDTH SMALL LETTER A
    "\uff50\uff42\uff58.example",  # fullwidth "pbx"
])
def test_labels_that_idna_maps_to_plain_ascii_are_look_alikes(look_alike):
    with pytest.raises(Problem, match="is a look-alike of the ASCII label"):
        names.normalize(look_alike)
    assert not names.is_host_name(look_alike)


def test_a_certificate_name_must_be_ascii_whatever_its_case():
    """str.lower() maps U+212A to "k": the name once passed as its own lowercase A-label form."""
    assert not names.is_host_name("\u212a.example")
    assert not names.is_host_name("pbx.\u212a.example")
    assert names.is_host_name("k.example")


@pytest.mark.parametrize("text", ["evil\x1b[2J", "bell\x07", "nul\x00", "del\x7f", "c1\x9b31m",
                                  "bidi\u202egpj.exe", "line\u2028sep"])
def test_check_printable_refuses_control_characters(text):
    with pytest.raises(Problem) as refused:
        names.check_printable(text, "subject CN", "/in/c.pem")
    message = str(refused.value)
    assert message.startswith("/in/c.pem: the certificate's subject CN '") and \
        message.endswith("' holds control characters")
    assert message.isprintable()  # shown escaped


def test_check_printable_lets_printable_names_through():
    names.check_printable("Überall CA (Test) – Ünïcödé", "issuer CN")
