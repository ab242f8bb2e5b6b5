# sshwarden. `make demo` and `make test` work on a fresh Debian machine as
# root with Go installed: `make deps` installs what the tests run for real.

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS  := -s -w -X main.version=$(VERSION)
BIN      := bin/sshwarden
FUZZTIME ?= 30s
DEMO     := testdata/hosts/ubuntu-cloud-init
STATICCHECK := $(GO) tool -modfile=tools/go.mod staticcheck

.PHONY: all build test deps lint fuzz bench bench-lint demo clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/sshwarden

# The tests compare sshwarden with the real sshd (sshd -T in a private mount
# namespace), so they need root, openssh-server and util-linux's unshare.
deps:
	@if ! command -v /usr/sbin/sshd >/dev/null || ! command -v ssh-keygen >/dev/null || ! command -v unshare >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing openssh-server openssh-client util-linux"; \
			DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client util-linux >/dev/null; \
		else \
			echo "need openssh-server, openssh-client and util-linux (run as root, or install them)"; exit 1; \
		fi; \
	fi
	@install -d -m 0755 /run/sshd 2>/dev/null || true

test: deps build
	$(GO) test -count=1 ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt-ed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

fuzz:
	$(GO) test ./sshdconf -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./sshdconf -run '^$$' -fuzz '^FuzzLoadEffective$$' -fuzztime $(FUZZTIME)
	$(GO) test ./sshdconf/lint -run '^$$' -fuzz '^FuzzLint$$' -fuzztime $(FUZZTIME)
	$(GO) test ./enforcer -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)

bench:
	$(GO) test ./sshdconf ./sshdconf/lint -run '^$$' -bench . -benchmem

# Lints 300 generated trees in one process and runs sshd -T on each of the
# same trees; prints both times and the ratio (needs root and sshd).
bench-lint: deps
	$(GO) run ./internal/benchlint

# The trap sshwarden exists for: a cloud-init drop-in, read first because
# Debian and Ubuntu include sshd_config.d at the top of sshd_config, beats
# the admin's "PasswordAuthentication no" further down the main file.
demo: build
	@echo '$$ grep -n "PasswordAuthentication\|ClientAliveInterval\|^Include" $(DEMO)/etc/ssh/sshd_config $(DEMO)/etc/ssh/sshd_config.d/*.conf'
	@grep -n "^PasswordAuthentication\|^ClientAliveInterval\|^Include" $(DEMO)/etc/ssh/sshd_config $(DEMO)/etc/ssh/sshd_config.d/*.conf
	@echo
	@echo '$$ $(BIN) effective --root $(DEMO) --explain passwordauthentication clientaliveinterval clientalivecountmax permitrootlogin'
	@$(BIN) effective --root $(DEMO) --explain passwordauthentication clientaliveinterval clientalivecountmax permitrootlogin
	@echo
	@echo
	@echo '$$ $(BIN) lint --root $(DEMO) --policy none'
	@$(BIN) lint --root $(DEMO) --policy none || true

clean:
	rm -rf bin dist
