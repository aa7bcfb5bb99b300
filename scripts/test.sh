#!/usr/bin/env bash
# Every test of the project: formatting, vet, unit and end-to-end tests, the
# race detector on the core packages. Needs root for the FUSE end-to-end tests
# (they skip with a message otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted"; exit 1; fi
go vet ./...
# staticcheck, at a pinned version (fetched through the Go module proxy).
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
# -parallel 3: the end-to-end tests that have their own cluster run three at
# a time (they mostly wait on daemons and subprocesses; 2 CPUs here).
go test -count=1 -parallel 3 ./...
# The preload library's C unit tests, under ASan+UBSan and TSan (Makefile).
make preload-test
# examples/arrow is a module of its own (Apache Arrow stays out of the main
# module's dependencies), so ./... above does not reach it.
(cd examples/arrow && go mod download && go vet ./... && go test -count=1 ./...)
# The race detector on the core packages (the ones with shared state).
go test -count=1 -race . ./internal/metalog ./internal/namespace ./internal/alloc ./internal/device ./internal/participants ./internal/omf ./internal/control ./mount/...
echo "all tests passed"
