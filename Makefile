# Steward: `make run` starts the demo, `make test` runs every test.
GO ?= go

.PHONY: run test deps vet build eval drill bench bench-short bench-check

run:
	$(GO) run ./cmd/steward serve --demo

build:
	$(GO) build -ldflags "-X github.com/steward-cs/steward/internal/cli.Version=$$(git describe --tags --always --dirty 2>/dev/null || echo dev)" -o bin/steward ./cmd/steward

deps:
	./scripts/deps.sh

vet:
	$(GO) vet ./...

# Every test, with the race detector, against real SQLite, a throwaway
# PostgreSQL cluster and headless Chromium (installed by `make deps`).
# Then every fault-injection drill against a real server (docs/crisis.md):
# each must meet its targets or the run fails. Then the short benchmark,
# which fails only on a crash, an error or a tenfold regression. The
# slowest package, internal/httpapi (over a hundred servers over the demo
# knowledge base), took 17 to 23.5 minutes on a 2-core machine on
# 2026-11-22 while each server trained its own model, 16 minutes once they
# shared one (nlu.Memo in internal/testutil): the per-package timeout
# leaves room above that.
test: deps vet
	CGO_ENABLED=1 STEWARD_REQUIRE_POSTGRES=1 $(GO) test -race -count=1 -timeout 45m ./...
	$(MAKE) drill
	$(MAKE) bench-check

drill: build
	bin/steward drill all --json --log bin/drill.log > bin/drill-report.json 2> bin/drill.err || (tail -50 bin/drill.log; cat bin/drill-report.json; cat bin/drill.err; exit 1)
	cat bin/drill-report.json

# NLU quality on the validation splits of the shared data sets
# (docs/quality.md): one JSON report a line.
DATA ?= ../shared/data
eval: build
	bin/steward eval intent --json --oos-label oos --train $(DATA)/clinc150/train.jsonl --val $(DATA)/clinc150/val.jsonl --test $(DATA)/clinc150/val.jsonl
	bin/steward eval intent --json --oos-label oos --train $(DATA)/clinc150/train.jsonl --test $(DATA)/clinc150/val.jsonl
	bin/steward eval intent --json --train $(DATA)/banking77/train.jsonl --holdout 0.2
	bin/steward eval intent --json --train $(DATA)/smp2017_ecdt_task1/train.jsonl --test $(DATA)/smp2017_ecdt_task1/val.jsonl
	bin/steward eval sentiment --json --train $(DATA)/chnsenticorp/train.jsonl --test $(DATA)/chnsenticorp/val.jsonl
	bin/steward eval sentiment --json --train $(DATA)/waimai_10k/train.jsonl --holdout 0.2

# Performance (issue 9): every scenario against a fresh Steward on loopback,
# each figure beside its target and the turn rate as a ratio to a bare
# net/http echo server measured in the same run (about 4 minutes); bench-short
# is the small version (about a minute, most of it training the 1,000-entry
# knowledge base) that bench-check runs for CI. ARGS=--json prints one JSON
# object.
bench:
	$(GO) run ./cmd/steward-bench all $(ARGS)

bench-short:
	$(GO) run ./cmd/steward-bench all --short $(ARGS)

# The short benchmark as a test (make test runs it): it fails on a crash,
# any error or lost message, or a figure ten times worse than its floor in
# internal/bench/floor.go, and never on a merely busy machine.
bench-check:
	$(GO) run ./cmd/steward-bench all --short --check $(ARGS)
