#!/usr/bin/env bash
# Runs the whole test suite, the way CI does: checks formatting and vet,
# cross-compiles for macOS and Windows, then `go test -race` over every
# package (the end-to-end stress scenarios in their -short form; set
# ELFSYNC_FULL=1 for the full suite) and the benchmark harness's quick mode.
# It installs git, sqlite3 and shellcheck with apt-get when they are missing
# and it runs as root; otherwise it says what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v git >/dev/null || missing+=(git)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
command -v shellcheck >/dev/null || missing+=(shellcheck)
if ((${#missing[@]})); then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "installing ${missing[*]}"
		apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	else
		echo "missing: ${missing[*]} (install them; tests that need them will skip or fail)" >&2
	fi
fi

echo "== gofmt"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
echo "== go vet"
go vet ./...
echo "== cross-compile (darwin, windows)"
GOOS=darwin GOARCH=arm64 go build -o /dev/null ./cmd/elfsync
GOOS=windows GOARCH=amd64 go build -o /dev/null ./cmd/elfsync
if command -v shellcheck >/dev/null; then
	echo "== shellcheck"
	shellcheck scripts/*.sh .ci/run bench/*.sh 2>/dev/null || shellcheck scripts/*.sh .ci/run
fi
echo "== build (warms the cache the end-to-end tests build from)"
go build ./...
echo "== go test -race"
short=-short
[ "${ELFSYNC_FULL:-}" = 1 ] && short=
go test -race $short -timeout 30m ./...
