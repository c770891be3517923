#!/usr/bin/env bash
# release.sh: build elfsync for every platform its users are on, with
# checksums, in one command:
#
#   scripts/release.sh [VERSION]        # VERSION defaults to `git describe`
#
# writes dist/elfsync-VERSION-OS-ARCH[.exe] for linux, darwin and windows on
# amd64 and arm64, and dist/SHA256SUMS (verify with `sha256sum -c SHA256SUMS`
# or `shasum -a 256 -c SHA256SUMS`). The binaries are static (pure Go, no
# cgo), built with -trimpath, and `elfsync --version` reports VERSION.
# ELFSYNC_TARGETS="linux/amd64 ..." narrows the platforms (the test does).
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
targets=${ELFSYNC_TARGETS:-"linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"}
out=${ELFSYNC_DIST:-dist}

if command -v sha256sum >/dev/null; then
	sum() { sha256sum "$@"; }
elif command -v shasum >/dev/null; then
	sum() { shasum -a 256 "$@"; }
else
	echo "release.sh: need sha256sum or shasum" >&2
	exit 1
fi

rm -rf "$out"
mkdir -p "$out"
for t in $targets; do
	os=${t%/*}
	arch=${t#*/}
	name="elfsync-$version-$os-$arch"
	[ "$os" = windows ] && name+=.exe
	echo "building $name" >&2
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath \
		-ldflags "-s -w -X github.com/emergent-learning/elfsync/version.Version=$version" \
		-o "$out/$name" ./cmd/elfsync
done
(cd "$out" && sum elfsync-* >SHA256SUMS)
echo "wrote $out/ ($(wc -l <"$out/SHA256SUMS") binaries and SHA256SUMS)" >&2
