# DICOM Inbox: build, run and test. GNU make; works as root on a fresh Debian 12
# with Go installed (missing system packages are installed by tools/deps.sh).
#
#   make run          build and open the window
#   make test         everything CI runs (.ci/run): vet, gofmt, import boundary,
#                     race tests, then a short fuzz run of every fuzz target
#   make lint | fuzz | bench | screenshot | conformance | icon | clean
#
# The first cgo build of Fyne takes ~5 minutes on 2 cores; later ones hit the Go cache.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build
# Steps run in the order written (go parallelises inside each step).
.NOTPARALLEL:

GO ?= go
GOFMT ?= $(shell $(GO) env GOROOT)/bin/gofmt
TAGS := migrated_fynedo
BIN := build/dicominbox

TEST_TIMEOUT ?= 20m

# The shared test corpus (../shared/corpus beside the checkout, else the
# workstation's /work/shared/corpus); tests fail, never skip, without it.
DICOMINBOX_CORPUS ?= $(firstword $(wildcard $(abspath $(CURDIR)/../shared/corpus) /work/shared/corpus) $(abspath $(CURDIR)/../shared/corpus))
export DICOMINBOX_CORPUS
TEST_FUZZTIME ?= 10s
# staticcheck for make lint, installed through the Go module proxy when missing.
STATICCHECK_VERSION := v0.8.2
FUZZTIME ?= 2m

# Debian packages. libc6-dev and xauth are only Recommends of gcc and xvfb, which
# --no-install-recommends skips, yet cgo needs the C headers and xvfb-run needs xauth.
RUN_PKGS := gcc libc6-dev pkg-config libgl1-mesa-dev xorg-dev libxkbcommon-dev
TEST_PKGS := $(RUN_PKGS) dcmtk xvfb xauth sqlite3 python3-pydicom python3-numpy imagemagick time procps xdotool fonts-wqy-microhei
# tools/bench.sh also runs Orthanc, the durable peer (docs/benchmarks.md); make test does not need it.
BENCH_PKGS := $(TEST_PKGS) orthanc

# tools/deps.sh runs apt-get update at most once per make invocation: it leaves this
# stamp, named after this make process, the first time it updates.
APT_STAMP := build/.apt-updated.$(shell echo $$PPID)
DEPS := APT_UPDATE_STAMP=$(APT_STAMP) tools/deps.sh

.PHONY: all deps-run deps-test deps-bench build run test vet fmt-check boundary-check lint \
	fuzz bench screenshot conformance icon clean

all: build

deps-run:
	@$(DEPS) $(RUN_PKGS)

deps-test:
	@$(DEPS) $(TEST_PKGS)

deps-bench:
	@$(DEPS) $(BENCH_PKGS)

build: deps-run
	$(GO) build -tags $(TAGS) -o $(BIN) .

run: deps-run build
	./$(BIN)

test: deps-test vet fmt-check boundary-check
	$(GO) test -race -tags $(TAGS) -timeout $(TEST_TIMEOUT) ./...
	GO=$(GO) GO_TAGS=$(TAGS) tools/fuzz.sh $(TEST_FUZZTIME)

vet: deps-run
	$(GO) vet -tags $(TAGS) ./...

# Lists every file gofmt would change (test data and build output excluded).
fmt-check:
	@files=$$(find . \( -path ./.git -o -path ./build -o -name testdata -o -name vendor \) -prune \
		-o -name '*.go' -print | xargs -r $(GOFMT) -l); \
	if [ -n "$$files" ]; then echo "gofmt -w needed on:"; echo "$$files"; exit 1; fi

# scp/ and store/ must never pull in Fyne: only ui/, assets/ and main may.
boundary-check:
	@deps=$$($(GO) list -tags $(TAGS) -deps ./scp/... ./store/...); \
	bad=$$(grep '^fyne.io/' <<<"$$deps" || true); \
	if [ -n "$$bad" ]; then echo "scp/ and store/ must not import Fyne, but they depend on:"; echo "$$bad"; exit 1; fi

lint: vet fmt-check boundary-check
	@sc=$$(command -v staticcheck || ls "$$($(GO) env GOPATH)/bin/staticcheck" 2>/dev/null || true); \
	if [ -z "$$sc" ]; then \
		$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) && sc="$$($(GO) env GOPATH)/bin/staticcheck"; \
	fi; \
	"$$sc" -tags $(TAGS) ./...

fuzz: deps-run
	GO=$(GO) GO_TAGS=$(TAGS) tools/fuzz.sh $(FUZZTIME)

bench: deps-bench build
	$(GO) test -tags $(TAGS) -run='^$$' -bench=. -benchmem ./scp/... ./store/...
	BENCH_BIN=$(BIN) tools/bench.sh

screenshot: deps-test build
	tools/screenshot.sh build/screenshots/main.png

# Regenerates docs/conformance-statement.md from the code (a test checks it is current).
conformance:
	$(GO) run ./tools/conformance -o docs/conformance-statement.md

# Regenerates the app icon (deterministic; commit the PNG).
icon:
	$(GO) run ./tools/mkicon -o assets/icon.png

clean:
	rm -rf build
