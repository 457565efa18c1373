#!/usr/bin/env bash
# Everything CI checks, in order: formatting, vet, staticcheck, then the
# Go tests with the race detector against the embedded store and, through
# FerretDB, the MongoDB backend, the realm-web end-to-end suite, and the
# example demos.
set -euo pipefail
cd "$(dirname "$0")/.."

STATICCHECK_VERSION=v0.7.0

step() { printf '\n==> %s\n' "$*"; }

step "gofmt"
unformatted=$(gofmt -l cmd internal tools tests 2>/dev/null || true)
if [ -n "$unformatted" ]; then
	echo "these files need gofmt:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

step "staticcheck $STATICCHECK_VERSION"
go run "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION" ./...

if [ -z "${ATOLL_TEST_MONGODB_URI:-}" ]; then
	step "FerretDB (MongoDB backend for the store tests)"
	source scripts/ferretdb.sh
	start_ferretdb
fi

step "go test -race"
go test -race -count=1 -timeout 30m ./...

step "end-to-end: realm-web against atoll serve (tests/e2e)"
npm ci --prefix tests/e2e --no-audit --no-fund
npm test --prefix tests/e2e

step "demos: every example's realm-web demo against its own atoll serve (examples/)"
bash scripts/demos.sh
