# shortfuse — local development and CI entry points.
#
#   make dev     run the whole stack on local emulators (see internal/dev/cmd/devstack)
#   make test    all tests, race detector on, emulators started by the tests
#   make lint    gofmt, go vet, staticcheck; cfn-lint on both templates and docs/snippets when installed
#   make bench   benchmarks of the packages that have some, then one table of figures and goals
#   make fuzz    each fuzz target for FUZZTIME (seed corpora already run in make test)
#   make web     build the browser SDK (clients/web) and run its unit tests in Node
#   make test-browser  the demo and SDK in real Chromium (Debian's chromium; no browser download)

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
# Optional: CloudFormation's own linter, run by make lint when installed.
CFN_LINT            ?= cfn-lint

# Go sources outside node_modules and dot-directories.
GO_FILES = $(shell find . -name '*.go' -not -path './node_modules/*' -not -path './.*' -print)
# Packages with at least one benchmark.
BENCH_PKGS = $(sort $(patsubst %/,%,$(dir $(shell grep -rl --include='*_test.go' -e '^func Benchmark' . --exclude-dir=node_modules --exclude-dir='.?*' 2>/dev/null))))

.PHONY: node_modules dev dev-stop test lint bench fuzz build clean web web-build test-browser

# npm ci again whenever the lockfile is newer than the last install.
node_modules: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# Built, then run, rather than `go run`: go run exits 1 whenever it is
# interrupted, whatever the program's status, so Ctrl-C would end in a make
# error; the stack itself exits 0 once it has stopped cleanly.
dev: node_modules web-build
	$(GO) build -o $(BIN)/devstack ./internal/dev/cmd/devstack
	$(BIN)/devstack $(DEVSTACK_FLAGS)

# Stops a stack started elsewhere (same as Ctrl-C in its terminal) and waits
# for it. A pid file left by a stack that did not stop cleanly, or naming a
# process that is not a dev stack (a reused pid), is removed instead.
DEVSTACK_DIR ?= .devstack
dev-stop:
	@pidfile='$(DEVSTACK_DIR)/devstack.pid'; \
	if [[ ! -f "$$pidfile" ]]; then echo "no dev stack running"; exit 0; fi; \
	pid="$$(tr -dc 0-9 < "$$pidfile")"; \
	if [[ -n "$$pid" ]] && kill -0 "$$pid" 2>/dev/null && [[ "$$(ps -o comm= -p "$$pid")" == devstack* ]]; then \
	  kill -INT "$$pid" && echo "sent SIGINT to $$pid"; \
	  for _ in $$(seq 1 100); do kill -0 "$$pid" 2>/dev/null || exit 0; sleep 0.2; done; \
	  echo "dev stack $$pid still running after 20 s"; exit 1; \
	fi; \
	rm -f "$$pidfile"; echo "no dev stack running (removed the stale pid file $$pidfile)"

test: node_modules web
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...
	@if [[ -z "$(CHROMIUM)" && -z "$${CI:-}" ]]; then \
	  echo "test-browser: SKIPPED: no Chromium found (set CHROMIUM, or apt-get install chromium); CI would fail here"; \
	else $(MAKE) --no-print-directory test-browser; fi

# ---------------------------------------------------------------- browser SDK and demo
WEB      := clients/web
# Debian's chromium package; Playwright's own browser downloads are never used.
CHROMIUM ?= $(firstword $(wildcard /usr/bin/chromium /usr/bin/chromium-browser) $(shell command -v chromium 2>/dev/null))

$(WEB)/node_modules/.package-lock.json: $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund
	@touch $@

web-build: $(WEB)/node_modules/.package-lock.json
	cd $(WEB) && npm run --silent build

web: web-build
	cd $(WEB) && npm test --silent

# Starts its own stack (devstack on free ports) and stops it; see clients/web/README.md.
test-browser: node_modules web-build
	@if [[ -z "$(CHROMIUM)" ]]; then echo "test-browser: no Chromium found; install Debian's chromium (apt-get install -y chromium) or set CHROMIUM" >&2; exit 1; fi
	CHROMIUM="$(CHROMIUM)" node --test --test-concurrency=1 $(WEB)/test/browser/*.test.mjs

lint: $(STATICCHECK)
	@out="$$(gofmt -l $(GO_FILES))"; if [[ -n "$$out" ]]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	@if command -v $(CFN_LINT) >/dev/null 2>&1; then \
	  if [[ ! -f $(DIST)/template.yaml || template.yaml -nt $(DIST)/template.yaml ]]; then $(MAKE) --no-print-directory package; fi; \
	  echo "$(CFN_LINT) template.yaml $(DIST)/template.yaml docs/snippets/*.yaml"; $(CFN_LINT) template.yaml $(DIST)/template.yaml docs/snippets/*.yaml; \
	else echo "cfn-lint not installed: CloudFormation lint skipped (pip install cfn-lint)"; fi

$(STATICCHECK):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@mv $(BIN)/staticcheck $@

bench: node_modules
	@if [[ -z "$(BENCH_PKGS)" ]]; then echo "no benchmarks"; exit 0; fi
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count=1 $(BENCH_PKGS) 2>&1 | $(GO) run ./internal/dev/cmd/benchtable

fuzz: node_modules
	@for pkg in $$($(GO) list ./...); do \
	  for fz in $$($(GO) test -list '^Fuzz' "$$pkg" | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$fz"; \
	    $(GO) test -run '^$$' -fuzz "^$$fz\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
	  done; \
	done

# ---------------------------------------------------------------- Lambda packaging
#   make build     every function as a static linux/arm64 bootstrap in dist/<cmd>/, zipped to dist/<cmd>.zip
#   make package   make build, plus dist/template.yaml pointing at the zips (deployable without sam build)
#   make deploy    sam build && sam deploy (--guided until samconfig.toml exists); see docs/deploy.md
#
# LogicalId=cmd for every function of template.yaml. sam build (Metadata
# BuildMethod: makefile) runs the build-<LogicalId> targets below.
LAMBDAS := PreSignUpFunction=presignup CustomMessageFunction=custommessage \
	DefineAuthChallengeFunction=defineauth CreateAuthChallengeFunction=createauth \
	VerifyAuthChallengeFunction=verifyauth TokenServiceFunction=tokensvc AuthorizerFunction=authorizer \
	CognitoEventsFunction=cognitoevents
LAMBDA_CMDS    := $(foreach l,$(LAMBDAS),$(lastword $(subst =, ,$(l))))
LAMBDA_PRESENT  = $(foreach c,$(LAMBDA_CMDS),$(if $(wildcard cmd/$(c)/main.go),$(c)))
LAMBDA_MISSING  = $(filter-out $(LAMBDA_PRESENT),$(LAMBDA_CMDS))
DIST           ?= dist
SAM            ?= sam
SAM_BUILD_FLAGS  ?=
SAM_DEPLOY_FLAGS ?= $(if $(wildcard samconfig.toml),,--guided)

# lambda-build,<cmd>,<dir>: ./cmd/<cmd> as <dir>/bootstrap for provided.al2023 on arm64:
# static (no cgo), no RPC shim (lambda.norpc), reproducible (-trimpath, no build id), stripped.
lambda-build = mkdir -p $(2) && CGO_ENABLED=0 GOOS=linux GOARCH=arm64 \
	$(GO) build -tags lambda.norpc -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o $(2)/bootstrap ./cmd/$(1)

.PHONY: package deploy $(LAMBDA_CMDS:%=lambda-%) $(foreach l,$(LAMBDAS),build-$(firstword $(subst =, ,$(l))))

# Fails naming the functions that have no main package.
check-missing = @if [[ -n "$(strip $(LAMBDA_MISSING))" ]]; then \
	  echo "$(1): no main package for $(LAMBDA_MISSING:%=cmd/%); built only: $(or $(LAMBDA_PRESENT),nothing)" >&2; exit 1; fi

# Builds and zips every function whose main package exists, then fails naming the missing ones.
build: $(LAMBDA_CMDS:%=lambda-%)
	$(if $(LAMBDA_PRESENT),$(GO) run ./internal/dev/lambdazip -dist $(DIST) $(LAMBDA_PRESENT))
	$(call check-missing,build)

$(LAMBDA_CMDS:%=lambda-%): lambda-%:
	@if [[ -f cmd/$*/main.go ]]; then $(call lambda-build,$*,$(DIST)/$*); else echo "skip cmd/$* (missing)"; fi

# Builds every function, then zips them and writes the template in one step (one size table).
package: $(LAMBDA_CMDS:%=lambda-%)
	$(call check-missing,package)
	$(GO) run ./internal/dev/lambdazip -dist $(DIST) -template template.yaml $(LAMBDAS)

deploy:
	$(SAM) build $(SAM_BUILD_FLAGS)
	$(SAM) deploy $(SAM_DEPLOY_FLAGS)

# sam build targets: ARTIFACTS_DIR is set by SAM.
build-PreSignUpFunction:           ; $(call lambda-build,presignup,$(ARTIFACTS_DIR))
build-CustomMessageFunction:       ; $(call lambda-build,custommessage,$(ARTIFACTS_DIR))
build-DefineAuthChallengeFunction: ; $(call lambda-build,defineauth,$(ARTIFACTS_DIR))
build-CreateAuthChallengeFunction: ; $(call lambda-build,createauth,$(ARTIFACTS_DIR))
build-VerifyAuthChallengeFunction: ; $(call lambda-build,verifyauth,$(ARTIFACTS_DIR))
build-TokenServiceFunction:        ; $(call lambda-build,tokensvc,$(ARTIFACTS_DIR))
build-AuthorizerFunction:          ; $(call lambda-build,authorizer,$(ARTIFACTS_DIR))
build-CognitoEventsFunction:       ; $(call lambda-build,cognitoevents,$(ARTIFACTS_DIR))

clean:
	rm -rf $(BIN) dist
	@if [[ -f .devstack/devstack.pid ]] && kill -0 "$$(cat .devstack/devstack.pid)" 2>/dev/null; then \
	  echo "dev stack running: kept .devstack/"; else rm -rf .devstack; fi
