# pgmotion build, test and release chores. `make test` needs PostgreSQL's
# server binaries installed (apt-get install postgresql); the tests start
# their own throwaway server (internal/pgtest). CI runs .ci/run.

GO ?= go
# Work of each fuzz target's short pass in `make test`: a count of inputs, not a
# duration, so that the pass never ends on a deadline mid-run (Go reports
# that as a failure) and does the same work on a loaded machine.
FUZZTIME ?= 10000x
STATICCHECK_VERSION ?= v0.8.2

.PHONY: all build test fuzz lint docs demo bench chaos clean outbox-example console

all: build

# The first build downloads the Go modules and compiles them (and the
# standard library), which takes a minute or two with no output: say so.
build:
	@echo "building bin/pgmotion (the first build downloads and compiles the dependencies: a minute or two)"
	$(GO) build -buildvcs=auto -o bin/pgmotion ./cmd/pgmotion

test:
	$(GO) vet ./...
	$(GO) test -count=1 -race=false -timeout 20m ./...
	bash scripts/fuzz.sh $(FUZZTIME)
	$(GO) build -buildvcs=auto -o bin/pgmotion ./cmd/pgmotion
	PGMOTION_BIN=$(CURDIR)/bin/pgmotion bash scripts/console-test.sh

# The web console (web/console, TypeScript and Preact) built into
# internal/console/dist, which the binary embeds. Needs Node.js and npm;
# the built files are committed, so Go builds without them.
console:
	cd web/console && npm ci --no-audit --no-fund && node build.mjs

fuzz:
	bash scripts/fuzz.sh 10m

lint:
	@echo "gofmt -l ."
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "these files are not gofmt-ed (run gofmt -w on them):"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@command -v staticcheck >/dev/null || { echo "staticcheck not found: go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) and put \$$(go env GOPATH)/bin on PATH"; exit 1; }
	staticcheck ./...

docs:
	$(GO) run ./cmd/pgmotion docs --out docs/reference --readme README.md

demo: build
	./bin/pgmotion demo

bench: build
	$(GO) run ./bench

# 100 faults (worker and broker SIGKILLs, PostgreSQL restarts, cut
# connections, a paused broker) under a steady load, at-least-once and then
# exactly-once; fails on any loss, and on any duplicate under exactly-once.
# CHAOS_FLAGS adds flags: make chaos CHAOS_FLAGS='-seed 42 -keep'.
chaos: build
	$(GO) run ./chaos -faults 100 $(CHAOS_FLAGS)

# The transactional outbox example (examples/outbox): a throwaway PostgreSQL,
# pgmotion with its embedded broker, an order service and a consumer.
outbox-example:
	$(GO) run ./examples/outbox/run

clean:
	rm -rf bin
