# xivo-certs — see README.md. Everything runs on Debian's own /usr/bin/python3.
PYTHON := /usr/bin/python3
PYTEST := $(PYTHON) -m pytest
export PYTHONDONTWRITEBYTECODE := 1

# Debian packages the tests need (installed by `make test-deps` when run as root).
TEST_DEPS := python3-cryptography python3-yaml python3-pytest python3-hypothesis openssl debianutils

.PHONY: all test check unit test-deps deb install-deb bench clean

all: deb

# Unit tests of the core, against a temporary root.
unit: test-deps
	$(PYTEST) -q tests/unit

check: unit

test-deps:
	@missing=$$(for p in $(TEST_DEPS); do dpkg-query -W -f='$${db:Status-Status}\n' $$p 2>/dev/null | grep -qx installed || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else echo "missing Debian packages: $$missing (run as root, or apt-get install them)" >&2; exit 1; fi; \
	fi

clean:
	rm -rf dist .pytest_cache build
	find . -name __pycache__ -prune -exec rm -rf {} +
