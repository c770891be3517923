#!/usr/bin/env bash
# Runs elfsync's main job on the sample memory folder from testdata/: copies
# it to a fresh temporary root (nothing is written inside the project) and
# starts `elfsync watch` there until Ctrl-C. Extra arguments go to watch.
# The root is kept afterwards for a look; the last line says how to remove it.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$PWD
root=$(mktemp -d "${TMPDIR:-/tmp}/elfsync-demo.XXXXXX")
cp -R testdata/sample/. "$root/"
bin="$root/.bin/elfsync"
go build -o "$bin" ./cmd/elfsync
cat <<MSG
elfsync demo root: $root
  try, in another terminal (from any folder):
    ELF_HOME=$root $here/scripts/record-failure.sh --title "My first failure" --domain demo --summary "It broke"
    $bin status --root $root
    $bin list --root $root
    sqlite3 $root/memory/index.db 'SELECT id, type, title FROM learnings'
    git -C $root/memory log --oneline
  Ctrl-C stops the watcher (pending work is flushed first).
MSG
status=0
"$bin" watch --root "$root" "$@" || status=$?
echo "the demo root is kept at $root; remove it with: rm -rf $root" >&2
exit "$status"
