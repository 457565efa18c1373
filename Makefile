# The two commands of the README's quickstart:
#   make run    serve the task tracker example on the embedded store (./atoll-data)
#   make test   everything CI checks (format, vet, staticcheck, tests)

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS := -X github.com/atollhq/atoll/internal/version.Version=$(VERSION) \
           -X github.com/atollhq/atoll/internal/version.Commit=$(COMMIT)

.PHONY: run test build bench

build:
	go build -ldflags "$(LDFLAGS)" -o bin/atoll ./cmd/atoll

run: build
	./bin/atoll serve --app examples/task-tracker --log-format text

test:
	bash scripts/test.sh

bench:
	go test -run '^$$' -bench . -benchmem ./internal/...
