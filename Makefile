# xivo-certs — see README.md. Everything runs on Debian's own /usr/bin/python3.
PYTHON := /usr/bin/python3
PYTEST := $(PYTHON) -m pytest
export PYTHONDONTWRITEBYTECODE := 1

# Debian packages the tests need (installed by `make test-deps` when run as root).
TEST_DEPS := python3-cryptography python3-yaml python3-pytest python3-hypothesis python3-trustme openssl \
	debianutils

.PHONY: all test check unit hardening test-deps deb install-deb build-deps lintian bench bench-deps clean \
	package-deps package-roots scenarios piuparts autopkgtest

all: deb

# Unit tests of the core, against a temporary root.
unit: test-deps
	$(PYTEST) -q tests/unit

# Hardening: kill -9 at any instant, full and read-only disks (tmpfs and bind mounts: root),
# races, hostile input, YAML properties, trust boundaries; see docs/reliability.md.
# XIVO_CERTS_CRASH_RUNS=200 runs the whole crash loop (default 24 runs).
hardening: test-deps
	$(PYTEST) -q tests/hardening

# `make test`: the unit tests alone; `make check`: every test (the README's test command).
test: unit

check: lint unit hardening lintian scenarios systemd piuparts autopkgtest

# $(call install-missing,PACKAGES): apt-get install those of the Debian PACKAGES not installed yet
# (as root; otherwise say which are missing and fail). CI starts from a fresh machine.
define install-missing
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${db:Status-Status}\n' $$p 2>/dev/null | grep -qx installed || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
		else echo "missing Debian packages: $$missing (run as root, or apt-get install them)" >&2; exit 1; fi; \
	fi
endef

test-deps:
	$(call install-missing,$(TEST_DEPS))

clean:
	rm -rf dist .pytest_cache build
	find . -name __pycache__ -prune -exec rm -rf {} +

# --- Debian package (debian/; see docs/design.md, "Packaging") -------------------
# The version comes from debian/changelog (sed: dpkg-dev may not be installed yet).
DEB_VERSION := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
DEB := dist/xivo-certs_$(DEB_VERSION)_all.deb
DEB_BUILD_DIR := build/deb
# Debian's own tools and python3 only (not a pyenv or venv earlier in PATH).
DEB_PATH := /usr/sbin:/usr/bin:/sbin:/bin
# Build-Depends of debian/control as one dependency string, for
# dpkg-checkbuilddeps -d and apt-get satisfy.
DEB_BUILD_DEPS = $$(sed -n '/^Build-Depends:/,/^[^ \t]/{s/^Build-Depends://;/^[^ \t]/d;p;}' debian/control \
	| tr -s ' \t\n' ' ' | sed 's/^ *//;s/[ ,]*$$//')

# Install the missing build dependencies with apt when run as root.
build-deps:
	@deps="dpkg-dev, make, $(DEB_BUILD_DEPS)"; \
	if ! command -v dpkg-checkbuilddeps >/dev/null || ! dpkg-checkbuilddeps -d "$$deps" debian/control 2>/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get satisfy -y -qq "$$deps"; \
		else echo "missing build dependencies: $$deps (run as root, or apt-get satisfy them)" >&2; exit 1; fi; \
	fi

# Build source and binary packages out of tree (a copy in build/deb), so the
# checkout stays clean; the results go to dist/.
deb: build-deps
	rm -rf $(DEB_BUILD_DIR) dist/xivo-certs_*
	mkdir -p $(DEB_BUILD_DIR)/xivo-certs-$(DEB_VERSION) dist
	tar -cf - --exclude-vcs --exclude-vcs-ignores --exclude=./build --exclude=./dist \
		--exclude=__pycache__ --exclude=.pytest_cache --exclude=.hypothesis . \
		| tar -xf - -C $(DEB_BUILD_DIR)/xivo-certs-$(DEB_VERSION)
	cd $(DEB_BUILD_DIR)/xivo-certs-$(DEB_VERSION) && \
		env PATH=$(DEB_PATH) dpkg-buildpackage -us -uc --no-check-builddeps
	mv $(DEB_BUILD_DIR)/xivo-certs_$(DEB_VERSION)[._]* dist/
	rm -rf $(DEB_BUILD_DIR)
	@ls -l dist/

# Build, install with apt (pulling the dependencies), show the status (exit 1,
# "problems found", is information here; only a usage error fails).
install-deb: deb
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall ./$(DEB)
	@xivo-certs status; rc=$$?; [ $$rc -le 1 ] || exit $$rc

# No error, no warning; info and pedantic tags are shown (see docs/design.md).
lintian: deb
	$(call install-missing,lintian)
	lintian --pedantic -I --fail-on error,warning dist/*.changes dist/*.deb

# --- Package tests in real Debian roots (tests/package/, debian/tests/) -----
# Scenario suite (pytest, marker `package`), piuparts and autopkgtest on
# Debian 12 and 13. Each distribution's base root is made once with
# mmdebstrap and cached in /var/cache/xivo-certs-tests/ (see
# tests/package/debroot.py); `make package-roots` builds both at once.
PACKAGE_SUITES := bookworm trixie
PACKAGE_DEPS := mmdebstrap piuparts autopkgtest uidmap gnutls-bin curl openssl \
	python3-pytest python3-pytest-xdist python3-cryptography python3-trustme python3-yaml dpkg-dev \
	python3-debian python3-pexpect equivs apt-utils
DEBROOT := $(PYTHON) tests/package/debroot.py
# Two workers: the scenarios wait on dpkg and fsync as much as on the CPU.
SCENARIO_JOBS := 2

package-deps:
	$(call install-missing,$(PACKAGE_DEPS))
	@# autopkgtest's unshare backend maps root to a range of subordinate ids.
	@if [ "$$(id -u)" = 0 ]; then for f in /etc/subuid /etc/subgid; do \
		grep -q '^root:' $$f 2>/dev/null || echo 'root:100000:65536' >> $$f; done; fi

# The cached base tarballs of every suite, built in parallel when missing.
package-roots: package-deps deb
	@deb=$$($(DEBROOT) newest-deb dist) && start=$$(date +%s) && pids= && \
	for s in $(PACKAGE_SUITES); do $(DEBROOT) tree $$s --deb $$deb > /dev/null & pids="$$pids $$!"; done; \
	fail=0; for p in $$pids; do wait $$p || fail=1; done; \
	echo "package-roots: $(PACKAGE_SUITES) ready in $$(( $$(date +%s) - start ))s"; exit $$fail

scenarios: package-roots
	DIST=$$($(DEBROOT) newest-deb dist) XIVO_CERTS_SUITES="$(PACKAGE_SUITES)" \
		$(PYTEST) -p no:cacheprovider -n $(SCENARIO_JOBS) -q -rA --durations=15 tests/package \
		--ignore=tests/package/test_systemd.py

# The units under systemd as PID 1 (tests/package/test_systemd.py): the real .deb installed in a
# root of each suite with systemd in it, booted with systemd-nspawn; two workers (the
# systemd flavour of each base is built on first use, cached beside the plain one).
SYSTEMD_DEPS := systemd-container util-linux
.PHONY: systemd
systemd: package-deps deb
	$(call install-missing,$(SYSTEMD_DEPS))
	DIST=$$($(DEBROOT) newest-deb dist) XIVO_CERTS_SUITES="$(PACKAGE_SUITES)" \
		$(PYTEST) -p no:cacheprovider -n $(SCENARIO_JOBS) -q -rA tests/package/test_systemd.py

piuparts: package-roots
	tests/package/piuparts.sh $$($(DEBROOT) newest-deb dist) $(PACKAGE_SUITES)

autopkgtest: package-roots
	tests/package/autopkgtest.sh $$($(DEBROOT) newest-deb dist) $(PACKAGE_SUITES)

# --- Lint: flake8 and mypy, Debian's own (settings in setup.cfg) -----------
# flake8 over the code, the command, the tests and the benchmark; mypy over
# the package and the benchmark. Part of check.
LINT_DEPS := flake8 mypy
.PHONY: lint

# Both run, then lint fails if either found something.
lint:
	$(call install-missing,$(LINT_DEPS))
	@rc=0; \
	echo "$(PYTHON) -m flake8 xivo_certs bin/xivo-certs tests bench"; \
	$(PYTHON) -m flake8 xivo_certs bin/xivo-certs tests bench || rc=1; \
	echo "$(PYTHON) -m mypy xivo_certs bench"; \
	$(PYTHON) -m mypy xivo_certs bench || rc=1; \
	exit $$rc

# --- Benchmarks (bench/run.py, see docs/benchmarks.md) ----------------------
# Not part of check: a benchmark is not a test, and nothing depends on its
# timings. Prints the table, writes it to docs/benchmarks.md (with the method,
# the machine and the date), exits 1 when a target is missed. The Debian root
# of the dpkg row is an mmdebstrap tarball cached in /var/cache/xivo-certs-bench/.
# Options: make bench BENCH_ARGS="--runs 20 --only noop --only status"
BENCH_DEPS := python3-cryptography python3-yaml openssl debianutils time mmdebstrap tar e2fsprogs mount
BENCH_ARGS :=

bench-deps:
	$(call install-missing,$(BENCH_DEPS))

bench: bench-deps deb
	$(PYTHON) bench/run.py --deb $(DEB) --output docs/benchmarks.md $(BENCH_ARGS)
