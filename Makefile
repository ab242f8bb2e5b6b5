# sshwarden. `make demo` and `make test` work on a fresh Debian machine as
# root with Go installed: `make deps` installs what the tests run for real.

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS  := -s -w -X main.version=$(VERSION)
BIN      := bin/sshwarden
FUZZTIME ?= 30s
DEMO     := testdata/hosts/ubuntu-cloud-init
DEMO_POLICY := testdata/hosts/site-policy.conf
DEMO_OPENSSH := 8.9-debian
STATICCHECK := $(GO) tool -modfile=tools/go.mod staticcheck
NFPM     := $(GO) tool -modfile=tools/go.mod nfpm
ARCHES   ?= amd64 arm64
PKG_VERSION = $(shell packaging/pkgversion '$(VERSION)')
BUILD    ?= build
DIST     ?= dist

.PHONY: all build test test-system roots openssh openssh-ci test-openssh deps lint fuzz bench bench-lint demo soak package clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/sshwarden

# The tests compare sshwarden with the real sshd (sshd -T in a private mount
# namespace), so they need root, openssh-server and util-linux's unshare; the
# agent's tests read their audit records back from a real journald (a
# namespace of their own), from the systemd package; the package tests run
# lintian, dpkg, rpm, man and systemd-analyze on what `make package` builds.
# The fleet tests run the Ansible role with ansible-playbook, ship audit
# records with systemd-journal-upload/-remote, run the pre-commit hook with
# pre-commit, check the example workflow with actionlint (tools/go.mod) and
# shellcheck, and the alert rules with promtool: Debian's prometheus package
# provides it, and is unpacked into bin/ rather than installed, so that no
# Prometheus server starts on this machine.
DEPS_PKGS := openssh-server openssh-client util-linux patch dbus-daemon iproute2 procps systemd lintian rpm man-db groff-base debootstrap systemd-container perl
DEPS_CMDS := /usr/sbin/sshd ssh-keygen unshare setpriv patch dbus-daemon ss ps journalctl lintian rpm man dpkg-deb debootstrap systemd-nspawn perl
FLEET_PKGS := git ansible-core python3-apt systemd-journal-remote pre-commit shellcheck chromium
FLEET_CMDS := git ansible-playbook /lib/systemd/systemd-journal-remote /lib/systemd/systemd-journal-upload pre-commit shellcheck chromium
PROMTOOL := bin/promtool
deps:
	@missing=; for c in $(DEPS_CMDS); do command -v $$c >/dev/null || missing="$$missing $$c"; done; \
	[ -x /lib/systemd/systemd-journald ] || missing="$$missing systemd-journald"; \
	fleet=; for c in $(FLEET_CMDS); do command -v $$c >/dev/null || fleet="$$fleet $$c"; done; \
	[ ! -x /usr/bin/python3 ] || /usr/bin/python3 -c 'import apt' 2>/dev/null || fleet="$$fleet python3-apt"; \
	if [ -n "$$missing$$fleet" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing $(DEPS_PKGS) $(FLEET_PKGS) (missing:$$missing$$fleet)"; \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEPS_PKGS) >/dev/null && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(FLEET_PKGS) >/dev/null; \
		else \
			echo "need$$missing$$fleet: install $(DEPS_PKGS) $(FLEET_PKGS) (or run make deps as root)"; exit 1; \
		fi; \
	fi
	@install -d -m 0755 /run/sshd 2>/dev/null || true
	@command -v promtool >/dev/null || [ -x $(PROMTOOL) ] || { \
		echo "unpacking promtool from Debian's prometheus package into $(PROMTOOL)"; \
		tmp=$$(mktemp -d) && chmod 755 $$tmp && (cd $$tmp && apt-get download -qq -o APT::Sandbox::User=root prometheus) && \
		dpkg-deb -x $$tmp/prometheus_*.deb $$tmp/x && install -D -m 0755 $$tmp/x/usr/bin/promtool $(PROMTOOL); \
		rc=$$?; rm -rf $$tmp; exit $$rc; }

# The package tests install the packages on this host (/usr/sbin/sshwarden,
# /etc/sshwarden/policy.conf), which other tests would see: they run alone,
# after the others. Then the system test (test-system).
test: deps build roots openssh-ci
	SSHWARDEN_OPENSSH=$(ROOTS_DIR)/openssh SSHWARDEN_OPENSSH_SRC=$(OPENSSH_SRC) \
	$(GO) test -count=1 -timeout 30m $$($(GO) list ./... | grep -v -e '/packaging$$' -e '/test/system$$')
	SSHWARDEN_PACKAGE_TEST=1 $(GO) test -count=1 ./packaging
	$(MAKE) test-system

# The Debian roots the tests run real sshd releases from, built once each
# with debootstrap (about a minute each on a quiet machine; they need the
# Debian mirror) and cached under /var/cache/sshwarden-test:
#   roots/trixie, roots/forky  OpenSSH 10.0p1 and 10.6p1, whose sshd the live
#                              tests run chrooted on 127.0.0.1 (internal/sshdtest)
#   lab/bookworm, lab/trixie   Debian 12 and 13 with systemd, booted by the
#                              system test (test/system/lab.sh)
# The four are built at once; a root that is there already takes no time.
ROOTS_DIR ?= /var/cache/sshwarden-test
roots:
	@install -d -m 0755 $(ROOTS_DIR)/roots $(ROOTS_DIR)/lab
	@pids=; \
	for s in trixie forky; do \
		bash test/lab/debian-root.sh $$s $(ROOTS_DIR)/roots/$$s >$(ROOTS_DIR)/roots/.$$s.log 2>&1 & pids="$$pids $$!"; \
	done; \
	for s in bookworm trixie; do \
		LAB_CACHE=$(ROOTS_DIR)/lab bash test/system/lab.sh root $$s >$(ROOTS_DIR)/lab/.$$s.log 2>&1 & pids="$$pids $$!"; \
	done; \
	rc=0; for p in $$pids; do wait $$p || rc=1; done; \
	if [ $$rc != 0 ]; then tail -n 20 $(ROOTS_DIR)/roots/.*.log $(ROOTS_DIR)/lab/.*.log; exit 1; fi; \
	echo "roots ready in $(ROOTS_DIR)"

# The real sshd of every OpenSSH release a fleet runs, for the oracle tests
# (internal/oracle.Release), built once into $(ROOTS_DIR):
#   openssh/VER                upstream VER, from the tarballs beside the
#                              repository ($(OPENSSH_SRC)/src) with its
#                              build.sh: 1-2 minutes each on 2 quiet
#                              cores, 3-11 under load from other jobs
#   roots/trixie, roots/forky  Debian's 10.0p1 and 10.6p1: the roots above
# A release already built takes no time. RELEASES selects upstream releases:
#   make openssh RELEASES="8.7p1 9.6p1"
# See test/openssh.sh.
MAKEDIR     := $(dir $(abspath $(lastword $(MAKEFILE_LIST))))
OPENSSH_SRC ?= $(abspath $(MAKEDIR)../shared/openssh)
RELEASES    ?= 8.0p1 8.2p1 8.4p1 8.7p1 8.9p1 9.6p1 9.9p2 10.2p1 10.5p1
openssh:
	bash test/openssh.sh $(ROOTS_DIR) $(OPENSSH_SRC) $(RELEASES)

# The upstream releases every `make test` runs, besides the host's 9.2 and
# the Debian roots: the oracles of internal/oracle.CIReleases (RHEL 9's
# 8.7p1, Ubuntu 24.04's 9.6p1, the newest tag), and 8.0p1 and 8.2p1, whose
# live sshd measures the ClientAliveCountMax 0 claim on both sides of its
# change (internal/sshdtest).
CI_RELEASES ?= 8.0p1 8.2p1 8.7p1 9.6p1 10.5p1
openssh-ci:
	ROOTS= bash test/openssh.sh $(ROOTS_DIR) $(OPENSSH_SRC) $(CI_RELEASES)

# The oracle tests over every release (make openssh first): each release's
# sshd -T on its own stock sshd_config is the one ../shared/openssh/verify
# recorded, so the oracle is that release. CI=true fails on a release that
# is not built.
test-openssh: openssh
	SSHWARDEN_OPENSSH_TEST=1 SSHWARDEN_OPENSSH_RELEASES=all SSHWARDEN_OPENSSH_SRC=$(OPENSSH_SRC) \
	SSHWARDEN_OPENSSH=$(ROOTS_DIR)/openssh SSHWARDEN_ROOTS=$(ROOTS_DIR)/roots \
	$(GO) test -count=1 -timeout 60m -run 'Release' ./internal/oracle ./sshdconf/...

# Boots Debian 12 and 13 (systemd as PID 1, their own sshd on their own
# port 22, a private network) with the .deb that `make package` builds, and
# checks the service as an admin would: see test/system/doc.go. About 4-5
# minutes with the roots built.
test-system: package roots
	SSHWARDEN_SYSTEM_TEST=1 $(GO) test -count=1 -v -timeout 40m ./test/system

# dist/sshwarden_VERSION_ARCH.deb and .rpm for each of ARCHES: a static
# binary (version from the git tag), the hardened unit, the policy as a
# config file, man pages, the journald catalog. nfpm is pinned in
# tools/go.mod; nfpm.yaml says what goes where.
package:
	@pv='$(PKG_VERSION)'; [ -n "$$pv" ] || exit 1; \
	rm -rf '$(BUILD)' && mkdir -p '$(BUILD)/man' '$(DIST)' && \
	gzip -9n < packaging/sshwarden.8 > '$(BUILD)/man/sshwarden.8.gz' && \
	gzip -9n < packaging/sshwarden-policy.5 > '$(BUILD)/man/sshwarden-policy.5.gz' && \
	for a in $(ARCHES); do \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$a $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o '$(BUILD)'/$$a/sshwarden ./cmd/sshwarden || exit 1; \
		for f in deb rpm; do \
			BUILD='$(BUILD)' ARCH=$$a PKG_VERSION=$$pv $(NFPM) package -f nfpm.yaml -p $$f -t '$(DIST)'/sshwarden_$${pv}_$$a.$$f >/dev/null || exit 1; \
			echo '$(DIST)'/sshwarden_$${pv}_$$a.$$f; \
		done; \
	done

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-ed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

fuzz:
	$(GO) test ./sshdconf -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./sshdconf -run '^$$' -fuzz '^FuzzLoadEffective$$' -fuzztime $(FUZZTIME)
	$(GO) test ./sshdconf -run '^$$' -fuzz '^FuzzLoadBudget$$' -fuzztime $(FUZZTIME)
	$(GO) test ./sshdconf -run '^$$' -fuzz '^FuzzGlobMatchesReference$$' -fuzztime $(FUZZTIME)
	$(GO) test ./sshdconf/lint -run '^$$' -fuzz '^FuzzLint$$' -fuzztime $(FUZZTIME)
	$(GO) test ./policy -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./watcher -run '^$$' -fuzz '^FuzzParsers$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/decimal -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./audit -run '^$$' -fuzz '^FuzzClean$$' -fuzztime $(FUZZTIME)
	$(GO) test ./enforcer -run '^$$' -fuzz '^FuzzActorWarnText$$' -fuzztime $(FUZZTIME)

# The agent for SOAK (default 10m) against a real sshd on 127.0.0.1: 25 idle
# sessions (replaced as they are closed) and 25 typing at random intervals;
# prints wrong and missed closes, close latency, the agent's CPU and memory.
# Then 100 idle sessions: the agent's steady-state CPU. Needs root.
SOAK ?= 10m
soak: deps build
	SSHWARDEN_SOAK=$(SOAK) $(GO) test -count=1 -v -timeout 60m -run 'TestAgentSoak|TestAgentIdleCPU' ./cmd/sshwarden | grep -E 'soak_test|^(---|ok|FAIL)'

bench:
	$(GO) test ./sshdconf ./sshdconf/lint ./sshdconf/fix ./watcher -run '^$$' -bench . -benchmem

# Lints 300 generated trees in one process and runs sshd -T on each of the
# same trees; prints both times and the ratio (needs root and sshd).
bench-lint: deps build
	$(GO) run ./internal/benchlint -sshwarden $(BIN)

# The trap sshwarden exists for: a cloud-init drop-in, read first because
# Debian and Ubuntu include sshd_config.d at the top of sshd_config, beats
# the admin's "PasswordAuthentication no" further down the main file.
demo: build
	@echo '$$ grep -n "PasswordAuthentication\|ClientAliveInterval\|^Include" $(DEMO)/etc/ssh/sshd_config $(DEMO)/etc/ssh/sshd_config.d/*.conf'
	@grep -n "^PasswordAuthentication\|^ClientAliveInterval\|^Include" $(DEMO)/etc/ssh/sshd_config $(DEMO)/etc/ssh/sshd_config.d/*.conf
	@echo
	@echo '$$ $(BIN) effective --root $(DEMO) --openssh $(DEMO_OPENSSH) --explain passwordauthentication clientaliveinterval clientalivecountmax permitrootlogin'
	@$(BIN) effective --root $(DEMO) --openssh $(DEMO_OPENSSH) --explain passwordauthentication clientaliveinterval clientalivecountmax permitrootlogin
	@echo
	@echo
	@echo '$$ $(BIN) lint --root $(DEMO) --openssh $(DEMO_OPENSSH) --policy none'
	@$(BIN) lint --root $(DEMO) --openssh $(DEMO_OPENSSH) --policy none || true
	@echo
	@echo '$$ cat $(DEMO_POLICY)'
	@grep -v '^#' $(DEMO_POLICY)
	@echo '$$ $(BIN) fix --root $(DEMO) --openssh $(DEMO_OPENSSH) --policy $(DEMO_POLICY)'
	@$(BIN) fix --root $(DEMO) --openssh $(DEMO_OPENSSH) --policy $(DEMO_POLICY) || true
	@echo
	@tmp=$$(mktemp -d) && cp -a $(DEMO)/. $$tmp && \
	echo "\$$ $(BIN) fix --root COPY --openssh $(DEMO_OPENSSH) -w --policy $(DEMO_POLICY)    # on a copy in $$tmp" && \
	{ $(BIN) fix --root $$tmp --openssh $(DEMO_OPENSSH) -w --policy $(DEMO_POLICY); echo "exit status $$?"; } && \
	echo "\$$ $(BIN) effective --root COPY --openssh $(DEMO_OPENSSH) --explain passwordauthentication" && \
	$(BIN) effective --root $$tmp --openssh $(DEMO_OPENSSH) --explain passwordauthentication | sed "s|$$tmp|COPY|" && \
	rm -rf $$tmp
	@echo
	@if [ "$$(id -u)" = 0 ]; then ./demo/agent.sh $(BIN); \
	else echo "(the agent demo needs root: it starts an sshd and a journald of its own; run make demo as root)"; fi

clean:
	rm -rf $(BUILD) $(DIST)
	rm -rf bin
