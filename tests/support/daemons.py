"""A stand-in for the XiVO daemons, as far as the certificate goes: each daemon's configuration
loaded the way xivo-lib-python's read_config_file_hierarchy does it, and its HTTPS clients, which
python3-requests makes (`verify=` the merged `verify_certificate`, consul's `verify`).

Run inside a Debian root with that root's python3 (python3-yaml and python3-requests):

    python3 daemons.py /etc/xivo-dird /etc/wazo-calld ...

prints one JSON object: {daemon directory: {service: "ok" or the error}} for every service section
with a `port`. Only the standard library and yaml are imported at module level, so that the test
kit can use `read_config_file_hierarchy` on the host too."""

import json
import os
import sys

import yaml


def read_config_file_hierarchy(directory):
    """config.yml of `directory`, under every `conf.d/*.yml` (dotfiles skipped) in sorted order:
    the first value of a key wins, nested mappings are merged key by key. A file that does not
    parse is skipped with a message on stderr, as the daemons do."""
    extra = os.path.join(directory, "conf.d")
    names = sorted(name for name in os.listdir(extra)
                   if name.endswith(".yml") and not name.startswith(".")) if os.path.isdir(extra) else []
    sources = [_load(os.path.join(extra, name)) for name in names]
    return merge(sources + [_load(os.path.join(directory, "config.yml"))])


def merge(sources):
    """ChainMap-like: the first source holding a key gives its value; mappings are merged."""
    result: dict = {}
    for source in sources:
        for key, value in source.items():
            if key not in result:
                result[key] = value
            elif isinstance(result[key], dict) and isinstance(value, dict):
                result[key] = merge([result[key], value])
    return result


def _load(path):
    try:
        with open(path, encoding="utf-8") as stream:
            return yaml.safe_load(stream) or {}
    except (OSError, yaml.YAMLError) as error:
        print(f"{path}: skipped: {error}", file=sys.stderr)
        return {}


def verify_key(service):
    return "verify" if service == "consul" else "verify_certificate"


def connect_all(directory):
    """{service: "ok" or what went wrong} for each service section of the daemon's configuration."""
    import requests  # only inside the root
    outcome = {}
    for service, section in read_config_file_hierarchy(directory).items():
        if not isinstance(section, dict) or "port" not in section:
            continue
        url = f"https://{section.get('host', 'localhost')}:{section['port']}/"
        try:
            requests.get(url, verify=section.get(verify_key(service), True), timeout=10)
            outcome[service] = "ok"
        except requests.RequestException as error:
            outcome[service] = f"{url}: {type(error).__name__}: {error}"
    return outcome


if __name__ == "__main__":
    print(json.dumps({directory: connect_all(directory) for directory in sys.argv[1:]}))
