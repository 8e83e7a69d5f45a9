# Atrium's developer and operator commands. Run `make help` for the list.

GO        ?= go
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
# The race detector needs cgo and a C compiler; without one, tests run without it.
RACE      ?= $(shell $(GO) env CGO_ENABLED | grep -q 1 && command -v $$($(GO) env CC) >/dev/null 2>&1 && echo -race)

# go test's own default of 10 minutes a package is too short for the
# packages that build copies of the repository or run the browser on a
# shared 2-core machine; a package still running after this is stuck.
TEST_TIMEOUT ?= 45m

.DEFAULT_GOAL := help
.PHONY: help dev build generate lint typecheck test test-short bench bench-micro migrate seed package image backup fuzz screenshots scaffold rename clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

# The templ files newer than their committed *_templ.go: `make dev` runs
# templ generate (which first builds templ itself) only when there are some.
STALE_TEMPL = $(shell for f in $$(find web -name '*.templ'); do g="$${f%.templ}_templ.go"; \
	if [ ! -e "$$g" ] || [ "$$f" -nt "$$g" ]; then echo "$$f"; fi; done)

dev: ## run the app on SQLite (reads .env when present; mail stub, billing off by default); regenerates templ output only when a .templ changed
	@$(if $(STALE_TEMPL),echo 'templ files changed ($(STALE_TEMPL)): regenerating' && $(GO) tool templ generate,true)
	@echo 'compiling (the first run takes a few minutes)…'
	CGO_ENABLED=0 $(GO) run ./cmd/atrium serve

build: generate ## build bin/atrium and run the secret guard
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/atrium ./cmd/atrium
	@./bin/atrium check-config --guard || { rm -f bin/atrium; exit 1; }

generate: ## regenerate templ components
	$(GO) tool templ generate

lint: ## gofmt check, go vet and staticcheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

typecheck: ## compile everything and check that templ generate leaves no diff
	$(GO) build ./...
	$(GO) vet -tests ./... >/dev/null
	@scripts/templ-drift.sh

test: ## the full suite: vet, templ drift, unit, store, HTTP and browser tests (race detector when available), then failures, skips with reasons and totals (TEST_TIMEOUT per package, default 45m)
	$(GO) vet ./...
	@scripts/templ-drift.sh
	$(GO) run ./scripts/testsum -- $(GO) test $(RACE) -count=1 -timeout $(TEST_TIMEOUT) -json ./...

test-short: ## quick tests only (no browser)
	$(GO) test -short ./...

bench: build ## load test over HTTP on the large data set vs a bare net/http server (BENCH_DB, BENCH_SECONDS); VS=old-binary: A/B
	$(GO) run ./scripts/bench -bin bin/atrium $(if $(VS),-vs $(VS))

bench-micro: ## in-process benchmarks: every signed-in page against a bare handler, as ratios
	scripts/bench.sh

fuzz: ## fuzz email and next-path parsing, the outgoing-URL check, and every form through the server, for 30s each
	$(GO) test -run '^$$' -fuzz FuzzNormalizeEmail -fuzztime 30s ./internal/app/
	$(GO) test -run '^$$' -fuzz FuzzSafeNext -fuzztime 30s ./internal/app/
	$(GO) test -run '^$$' -fuzz FuzzCheckURL -fuzztime 30s ./internal/outbound/
	$(GO) test -run '^$$' -fuzz FuzzForms -fuzztime 30s -parallel 1 ./internal/server/

migrate: ## apply pending migrations to DATABASE_URL
	$(GO) run ./cmd/atrium migrate up

seed: ## load the demo data into DATABASE_URL (idempotent; refused when APP_ENV=production); VOLUME=small|large adds a generated data set
	$(GO) run ./cmd/atrium seed $(if $(VOLUME),--volume '$(VOLUME)')

package: ## build the reproducible dist/atrium-VERSION-OS-ARCH.zip and its .sha256
	VERSION='$(VERSION)' GO='$(GO)' scripts/package.sh

image: ## build the OCI image dist/atrium-VERSION.oci.tar (linux/amd64 and linux/arm64, no daemon, no base image); PLATFORMS=linux/amd64 for one
	VERSION='$(VERSION)' REVISION='$(shell git rev-parse HEAD 2>/dev/null)' SOURCE_DATE_EPOCH='$(shell git log -1 --format=%ct 2>/dev/null)' \
		$(GO) run ./scripts/image $(if $(PLATFORMS),-platforms '$(PLATFORMS)') $(if $(SOURCE_URL),-source '$(SOURCE_URL)')

backup: ## checked backup of DATABASE_URL and its .sha256 (OUT=file to name it)
	$(GO) run ./cmd/atrium backup $(if $(OUT),--out '$(OUT)')

screenshots: ## PNGs of the main pages (desktop and phone, light and dark) in web/screenshots, from a seeded temporary database
	$(GO) run ./scripts/screenshots -out web/screenshots

scaffold: ## generate a workspace resource: NAME=Project FIELDS="title:string due:date done:bool notes:text", or a background job: JOB=WeeklyDigest [EVERY=168h] (DRY_RUN=1 lists the files); ends with the next steps
	@test -n '$(NAME)$(JOB)' || { echo 'usage: make scaffold NAME=Project FIELDS="title:string due:date done:bool notes:text" | make scaffold JOB=WeeklyDigest [EVERY=168h]'; exit 2; }
	$(GO) run ./scripts/scaffold $(if $(JOB),-job '$(JOB)' $(if $(EVERY),-every '$(EVERY)'),-name '$(NAME)' -fields '$(FIELDS)' $(if $(PLURAL),-plural '$(PLURAL)')) $(if $(DRY_RUN),-dry-run)
	$(if $(DRY_RUN),,@$(GO) tool templ generate -log-level error)

rename: ## make the fork your product: MODULE=github.com/acme/app NAME=Acme (module path, imports, cmd/<binary>, package, app name, and every other mention of the old name)
	@test -n '$(MODULE)' -a -n '$(NAME)' || { echo 'usage: make rename MODULE=github.com/acme/app NAME=Acme'; exit 2; }
	$(GO) run ./scripts/rename -module '$(MODULE)' -name '$(NAME)' $(if $(BINARY),-binary '$(BINARY)')

clean: ## remove build output
	rm -rf bin dist
