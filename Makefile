# Steward: `make run` starts the demo, `make test` runs every test.
GO ?= go

.PHONY: run test deps vet build

run:
	$(GO) run ./cmd/steward serve --demo

build:
	$(GO) build -o bin/steward ./cmd/steward

deps:
	./scripts/deps.sh

vet:
	$(GO) vet ./...

# Every test, with the race detector, against real SQLite, a throwaway
# PostgreSQL cluster and headless Chromium (installed by `make deps`).
test: deps vet
	STEWARD_REQUIRE_POSTGRES=1 $(GO) test -race -count=1 -timeout 20m ./...
