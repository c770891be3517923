#!/usr/bin/env bash
#
# record-success.sh: write a new success to ROOT/memory/successes/ and print its
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

record_main success successes "$@"
