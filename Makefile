# shortfuse — local development and CI entry points.
#
#   make dev     run the whole stack on local emulators (see cmd/devstack)
#   make test    all tests, race detector on, emulators started by the tests
#   make lint    gofmt, go vet, staticcheck
#   make bench   benchmarks of the packages that have some
#   make fuzz    each fuzz target for FUZZTIME (seed corpora already run in make test)

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

GO           ?= go
BIN          := $(CURDIR)/.bin
TEST_TIMEOUT ?= 20m
FUZZTIME     ?= 10s
BENCHTIME    ?= 1s
# staticcheck 2026.2.2, the first line that understands Go 1.26.
STATICCHECK_VERSION := v0.8.2
STATICCHECK         := $(BIN)/staticcheck-$(STATICCHECK_VERSION)

# Go sources outside node_modules and dot-directories.
GO_FILES = $(shell find . -name '*.go' -not -path './node_modules/*' -not -path './.*' -print)
# Packages with at least one benchmark.
BENCH_PKGS = $(sort $(patsubst %/,%,$(dir $(shell grep -rl --include='*_test.go' -e '^func Benchmark' . --exclude-dir=node_modules --exclude-dir='.?*' 2>/dev/null))))

.PHONY: node_modules dev dev-stop test lint bench fuzz build clean

# npm ci again whenever the lockfile is newer than the last install.
node_modules: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

dev: node_modules
	$(GO) run ./cmd/devstack $(DEVSTACK_FLAGS)

# Stops a stack started elsewhere (same as Ctrl-C in its terminal).
dev-stop:
	@if [[ -f .devstack/devstack.pid ]]; then kill -INT "$$(cat .devstack/devstack.pid)" && echo "sent SIGINT to $$(cat .devstack/devstack.pid)"; else echo "no dev stack running"; fi

test: node_modules
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

lint: $(STATICCHECK)
	@out="$$(gofmt -l $(GO_FILES))"; if [[ -n "$$out" ]]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

$(STATICCHECK):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@mv $(BIN)/staticcheck $@

bench: node_modules
	@if [[ -z "$(BENCH_PKGS)" ]]; then echo "no benchmarks"; exit 0; fi
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count=1 $(BENCH_PKGS)

fuzz: node_modules
	@for pkg in $$($(GO) list ./...); do \
	  for fz in $$($(GO) test -list '^Fuzz' "$$pkg" | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$fz"; \
	    $(GO) test -run '^$$' -fuzz "^$$fz\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
	  done; \
	done

# Placeholder until the deployment packaging lands: checks that everything builds.
build:
	$(GO) build ./...

clean:
	rm -rf $(BIN) dist
	@if [[ -f .devstack/devstack.pid ]] && kill -0 "$$(cat .devstack/devstack.pid)" 2>/dev/null; then \
	  echo "dev stack running: kept .devstack/"; else rm -rf .devstack; fi
