# timebridge — make help lists the targets.
#
# Every target installs what it needs: `make demo` and `make test` work on a fresh
# Debian 12 machine with Go installed.

SHELL := /bin/bash
GO ?= go
BIN := bin/timebridge
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FYNE_TOOL := fyne.io/tools/cmd/fyne@v1.7.4
VERSION ?= $(shell sed -n 's/^Version *= *"\(.*\)"/\1/p' FyneApp.toml)
LDFLAGS := -X github.com/timebridge/timebridge/app.Version=$(VERSION)

# Run under a private desktop (X display, D-Bus session bus, unlocked keyring)
# unless this shell already has a display and a session bus.
ifeq ($(and $(DISPLAY),$(DBUS_SESSION_BUS_ADDRESS)),)
DESKTOP := .ci/with-desktop.sh
else
DESKTOP :=
endif

.DEFAULT_GOAL := help
.PHONY: help deps build run demo demo-headless test test-short lint bench package package-windows tidy clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## install the Debian packages needed to build and test (idempotent)
	@.ci/setup-debian.sh

build: deps ## build bin/timebridge
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

run: build ## run the app (tray + window) with your real settings
	./$(BIN)

demo: build ## the app against built-in emulators with sample data (window if a display exists)
	@if [ -n "$$DISPLAY" ] || [ -n "$$WAYLAND_DISPLAY" ]; then ./$(BIN) demo; else ./$(BIN) demo --headless --cycles 3; fi

demo-headless: build ## the demo without a window: three sync cycles, printed
	./$(BIN) demo --headless --cycles 3

test: deps lint ## all tests with the race detector (under a private desktop when needed)
	$(DESKTOP) $(GO) test -race -count=1 ./...

test-short: ## the tests without the lint step or the desktop wrapper
	$(GO) test -race ./...

lint: ## gofmt check, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

bench: deps ## benchmarks (requests per cycle, mirror time); see BENCHMARKS.md
	$(DESKTOP) $(GO) test -run '^$$' -bench . -benchmem ./...

package: deps ## Linux archive with binary, .desktop file and icons (fyne package)
	$(GO) run $(FYNE_TOOL) package --os linux --release

package-windows: ## cross-compile bin/timebridge.exe (needs gcc-mingw-w64-x86-64)
	CGO_ENABLED=1 GOOS=windows CC=x86_64-w64-mingw32-gcc $(GO) build -ldflags "-H=windowsgui $(LDFLAGS)" -o bin/timebridge.exe .

tidy: ## go mod tidy
	$(GO) mod tidy

clean: ## remove build output
	rm -rf bin
