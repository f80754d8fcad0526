# timebridge — make help lists the targets.
#
# Every target installs what it needs: `make demo` and `make test` work on a fresh
# Debian 12 machine with Go installed.

SHELL := /bin/bash
GO ?= go
BIN := bin/timebridge
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FYNE_TOOL := fyne.io/tools/cmd/fyne@v1.7.4
VERSION ?= $(shell sed -n 's/^ *Version *= *"\(.*\)"/\1/p' FyneApp.toml)
LDFLAGS := -X github.com/timebridge/timebridge/app.Version=$(VERSION)
# Packaging (make package, package-windows): pinned host tools, run with `go run`.
BUILD_NUMBER ?= $(shell sed -n 's/^ *Build *= *\([0-9]*\).*/\1/p' FyneApp.toml)
WINRES := github.com/tc-hib/go-winres@v0.3.3
LINUX_TAR = bin/timebridge-$(VERSION)-linux-amd64.tar.xz
WIN_EXE := bin/timebridge.exe
WIN_VERSION := $(VERSION).$(or $(BUILD_NUMBER),0)
# go-winres writes rsrc_windows_amd64.syso into the main package (the only place
# `go build` links a .syso from); the target removes it again (also gitignored).
WIN_SYSO := rsrc_windows_amd64.syso
WIN_ENV := CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc

# Run under a private desktop (X display, D-Bus session bus, unlocked keyring)
# unless this shell already has a display and a session bus.
ifeq ($(and $(DISPLAY),$(DBUS_SESSION_BUS_ADDRESS)),)
DESKTOP := .ci/with-desktop.sh
else
DESKTOP :=
endif

.DEFAULT_GOAL := help
.PHONY: help deps build run demo demo-headless test test-short lint bench package package-windows bench-idle tidy clean

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

test: deps lint package-windows ## all tests with the race detector (under a private desktop when needed)
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

package: deps ## Linux archive bin/timebridge-VERSION-linux-amd64.tar.xz: binary, .desktop file, icon
	@mkdir -p bin
	GOFLAGS="$(strip $(GOFLAGS) -ldflags=-X=github.com/timebridge/timebridge/app.Version=$(VERSION))" \
	  $(GO) run $(FYNE_TOOL) package --os linux --release
	mv -f timebridge.tar.xz $(LINUX_TAR)
	@tar -tvJf $(LINUX_TAR)

package-windows: ## cross-compile bin/timebridge.exe: GUI subsystem, icon, version info (MinGW-w64)
	@.ci/setup-windows-cross.sh
	@mkdir -p bin
	$(GO) run $(WINRES) simply --arch amd64 --out rsrc --manifest gui --icon assets/icon.png \
	  --product-name timebridge --file-description "timebridge: Bitrix24 <-> Time Doctor / TimeLog time sync" \
	  --original-filename timebridge.exe --product-version $(WIN_VERSION) --file-version $(WIN_VERSION)
	$(WIN_ENV) $(GO) build -ldflags "-H=windowsgui -s -w $(LDFLAGS)" -o $(WIN_EXE) . ; rc=$$?; rm -f $(WIN_SYSO); exit $$rc

bench-idle: deps build ## idle CPU and RSS: hidden timebridge vs a bare Fyne tray app (BENCHMARKS.md)
	.ci/with-desktop.sh .ci/bench-idle.sh $(BIN)

tidy: ## go mod tidy
	$(GO) mod tidy

clean: ## remove build output
	rm -rf bin
