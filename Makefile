# ExoCal — `make demo` runs the app against the built-in emulated tenant,
# `make test` runs the whole test suite. Both install the Debian packages
# they need when run as root, and otherwise print the one apt-get line.

SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
# LANG=C.UTF-8 makes Fyne log "Error parsing user locale C" at every start.
export LANG := C

GOTAGS  := -tags migrated_fynedo
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
BIN     := $(CURDIR)/bin/exocal

.PHONY: all build install uninstall screenshots demo test test-reset test-unit test-race test-integration bench deps-build deps-test fmt vet clean

all: build

deps-build:
	@bash .ci/deps.sh build

deps-test:
	@bash .ci/deps.sh test

build: deps-build
	go build $(GOTAGS) -ldflags "$(LDFLAGS)" -o $(BIN) .

## install: the binary into $(PREFIX)/bin and ExoCal into the application
## menu under $(PREFIX)/share (per user by default; no root needed; for a
## package, DESTDIR=stage PREFIX=/usr). `exocal desktop autostart on` or the
## settings window's "Start at login" adds the login entry.
PREFIX ?= $(HOME)/.local
install: build
	install -D -m 0755 "$(BIN)" "$(DESTDIR)$(PREFIX)/bin/exocal"
	"$(DESTDIR)$(PREFIX)/bin/exocal" desktop install --exec "$(PREFIX)/bin/exocal" --data-home "$(DESTDIR)$(PREFIX)/share"

uninstall:
	-"$(DESTDIR)$(PREFIX)/bin/exocal" desktop uninstall --data-home "$(DESTDIR)$(PREFIX)/share"
	rm -f "$(DESTDIR)$(PREFIX)/bin/exocal"

## screenshots: refresh the README's pictures (docs/settings.png,
## docs/status.png) from the real windows under Xvfb; `make test` saves the
## same pictures in bin/.
screenshots: build
	SCREENSHOT=$(CURDIR)/docs/settings.png STATUS_SCREENSHOT=$(CURDIR)/docs/status.png .ci/gui-test.sh $(BIN)

## demo: the tray app against the in-process emulated Exchange Online tenant.
demo: build
	$(BIN) demo

## test: vet, unit tests, race tests, and the integration tests against real
## parts (gnome-keyring, Xvfb + D-Bus tray, exchangelib, icalendar, ical.js).
test: deps-test build vet test-reset test-unit test-race test-integration
	@$(REPORT) -total $(COUNTS)

# Each go test run goes through testreport: package lines, failures in full,
# skipped tests with their reason, and counts summed into the closing line.
# EXOCAL_VALIDATE_ALL=1: the emulator tests validate every captured SOAP
# message against the schemas, not one per distinct shape.
COUNTS := $(CURDIR)/bin/test-counts
REPORT := $(CURDIR)/bin/testreport
GOTEST := set -o pipefail; EXOCAL_BIN=$(BIN) EXOCAL_REQUIRE_TOOLS=1 EXOCAL_VALIDATE_ALL=1 go test -json $(GOTAGS) -count=1

test-reset:
	@mkdir -p bin && rm -f $(COUNTS)
	go build -o $(REPORT) ./internal/testreport

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet $(GOTAGS) ./...

# Everything outside app/ and sync/ (those run under -race below).
test-unit: build test-reset
	$(GOTEST) $$(go list $(GOTAGS) ./... | grep -v -e /app -e /sync/) | $(REPORT) -add $(COUNTS)

test-race: build test-reset test/ics/node_modules
	$(GOTEST) -race -timeout 20m ./app/... ./sync/... | $(REPORT) -add $(COUNTS)

test/ics/node_modules: test/ics/package-lock.json
	cd test/ics && npm ci --no-audit --no-fund --loglevel=error

test-integration: build test-reset
	.ci/keyring-session.sh env EXOCAL_REAL_KEYRING=1 bash -c "$(GOTEST) -run 'RealKeyring' . ./app/secrets ./ui/settings | $(REPORT) -add $(COUNTS)"
	SCREENSHOT=$(CURDIR)/bin/settings.png STATUS_SCREENSHOT=$(CURDIR)/bin/status.png .ci/gui-test.sh $(BIN) && echo "1 0 0" >> $(COUNTS)

## bench: the benchmarks behind docs/PERFORMANCE.md.
bench: build
	EXOCAL_BIN=$(BIN) go test -run '^$$' -bench . -benchmem -timeout 30m ./sync/...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
