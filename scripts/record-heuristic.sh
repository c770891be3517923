#!/usr/bin/env bash
#
# record-heuristic.sh: write a new heuristic to ROOT/memory/heuristics/ and print its
# path. Run it with --help for the flags. It only writes a file, atomically
# and under a unique name; elfsync indexes and commits it. The work is done
# by lib-record.sh, next to this script (found through symlinks too).
set -euo pipefail

elf_src=${BASH_SOURCE[0]}
while [ -L "$elf_src" ]; do
	case $elf_src in */*) elf_dir=${elf_src%/*} ;; *) elf_dir=. ;; esac
	elf_src=$(readlink -- "$elf_src")
	case $elf_src in /*) ;; *) elf_src=$elf_dir/$elf_src ;; esac
done
case $elf_src in */*) elf_dir=${elf_src%/*} ;; *) elf_dir=. ;; esac
# shellcheck source-path=SCRIPTDIR source=lib-record.sh
. "$elf_dir/lib-record.sh"

record_main heuristic heuristics "$@"
