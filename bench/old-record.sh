#!/usr/bin/env bash
#
# old-record.sh: the framework's OLD per-record design, kept only as the
# benchmark's baseline (go run ./bench runs it next to elfsync). Do not use it
# to record anything.
#
# It reproduces the old scripts/record-failure.sh step by step:
#   1. write ROOT/memory/failures/YYYYMMDD_slug.md (bold-field format);
#   2. `sqlite3 index.db` INSERT + `SELECT last_insert_rowid()` fed on stdin
#      from a here-document, through the old sqlite_with_retry: 5 tries with a
#      random 0.1-0.5 s sleep, the sqlite3 defaults of busy_timeout 0, in the
#      old journal_mode=delete database. The old bug is kept on purpose: the
#      first sqlite3 consumes the here-document, so a retry reads an empty
#      stdin, "succeeds" and leaves the 0 the failed first try printed;
#   3. reject an id that is empty or 0 (the old "fixes ID=0 bug" check),
#      removing the file;
#   4. `flock -w 30` on ROOT/.git/claude-lock, then `git add` of the file and
#      of the database and `git commit`. As in the old script, a failed
#      `git commit` only prints a note: the record is still reported as
#      recorded, which is how rows and files without commits arose. A failed
#      `git add` trips `set -e` and the ERR trap rolls the record back.
#
# It prints "Failure recorded successfully!" and exits 0 exactly when the old
# script did; any other outcome exits non-zero. The harness does not trust
# this: it judges every record itself (file, one row with a non-zero id, in a
# commit).
#
# Left out, which only makes the baseline kinder: the old pre-flight
# `PRAGMA integrity_check` (another sqlite3 run that fails under contention),
# the log file, the interactive prompts, the symlink/hardlink checks.
#
# Usage: old-record.sh --root ROOT --title T --domain D [--severity N]
#        [--tags a,b] [--summary S]
# ROOT must hold memory/index.db with the old schema and be a git work tree.
set -e
umask 0077

ROOT=${ELF_HOME:-}
title='' domain='' severity='' tags='' summary=''
while [ $# -gt 0 ]; do
	case $1 in
	--root) ROOT=$2; shift 2 ;;
	--title) title=$2; shift 2 ;;
	--domain) domain=$2; shift 2 ;;
	--severity) severity=$2; shift 2 ;;
	--tags) tags=$2; shift 2 ;;
	--summary) summary=$2; shift 2 ;;
	*) shift ;;
	esac
done
if [ -z "$ROOT" ] || [ -z "$title" ] || [ -z "$domain" ]; then
	echo "usage: old-record.sh --root ROOT --title T --domain D [--severity N] [--tags a,b] [--summary S]" >&2
	exit 2
fi

BASE_DIR=$ROOT
MEMORY_DIR=$BASE_DIR/memory
DB_PATH=$MEMORY_DIR/index.db
FAILURES_DIR=$MEMORY_DIR/failures
EXECUTION_DATE=$(date +%Y%m%d)
filepath=
LAST_ID=

log() {
	if [ "$1" = ERROR ]; then
		shift
		echo "ERROR: $*" >&2
	fi
}

# The old retry, verbatim in behaviour: the caller's here-document is stdin,
# so only the first sqlite3 sees the SQL.
sqlite_with_retry() {
	local max_attempts=5
	local attempt=1
	while [ $attempt -le $max_attempts ]; do
		if sqlite3 "$@" 2>/dev/null; then
			return 0
		fi
		echo "SQLite busy, retry $attempt/$max_attempts..." >&2
		sleep 0.$((RANDOM % 5 + 1))
		((attempt++))
	done
	echo "SQLite failed after $max_attempts attempts" >&2
	return 1
}

acquire_git_lock() {
	local lock_file=$1
	local timeout=${2:-30}
	exec 200>"$lock_file"
	flock -w "$timeout" 200
}

release_git_lock() {
	flock -u 200 2>/dev/null || true
}

cleanup_on_failure() {
	local file_to_remove=$1
	local db_id_to_remove=$2
	if [ -n "$file_to_remove" ] && [ -f "$file_to_remove" ]; then
		rm -f "$file_to_remove"
	fi
	if [ -n "$db_id_to_remove" ] && [ "$db_id_to_remove" != 0 ]; then
		sqlite3 "$DB_PATH" "DELETE FROM learnings WHERE id=$db_id_to_remove" 2>/dev/null || true
	fi
}

trap 'log ERROR "Script failed at line $LINENO"; cleanup_on_failure "$filepath" "$LAST_ID"; exit 1' ERR

mkdir -p "$FAILURES_DIR"

case $severity in
1 | 2 | 3 | 4 | 5) ;;
low) severity=2 ;;
medium) severity=3 ;;
high) severity=4 ;;
critical) severity=5 ;;
*) severity=3 ;;
esac
summary=${summary:-No summary provided}

filename_title=$(echo "$title" | tr '[:upper:]' '[:lower:]' | tr ' ' '-' | tr -cd '[:alnum:]-' | cut -c1-100)
filename=${EXECUTION_DATE}_${filename_title}.md
filepath=$FAILURES_DIR/$filename
relative_path=memory/failures/$filename

cat >"$filepath" <<EOF
# $title

**Domain**: $domain
**Severity**: $severity
**Tags**: $tags
**Date**: ${EXECUTION_DATE:0:4}-${EXECUTION_DATE:4:2}-${EXECUTION_DATE:6:2}

## Summary

$summary

## What Happened

[Describe the failure in detail]

## Root Cause

[What was the underlying issue?]

## Prevention

[What heuristic or practice would prevent this?]
EOF
echo "Created: $filepath"

escape_sql() {
	echo "${1//\'/\'\'}"
}
title_escaped=$(escape_sql "$title")
summary_escaped=$(escape_sql "$(echo -e "$summary" | head -n 1)")
tags_escaped=$(escape_sql "$tags")
domain_escaped=$(escape_sql "$domain")

if ! LAST_ID=$(
	sqlite_with_retry "$DB_PATH" <<SQL
INSERT INTO learnings (type, filepath, title, summary, tags, domain, severity)
VALUES (
    'failure',
    '$relative_path',
    '$title_escaped',
    '$summary_escaped',
    '$tags_escaped',
    '$domain_escaped',
    CAST($severity AS INTEGER)
);
SELECT last_insert_rowid();
SQL
); then
	log ERROR "Failed to insert into database"
	cleanup_on_failure "$filepath" ""
	exit 1
fi

if [ -z "$LAST_ID" ] || [ "$LAST_ID" = 0 ] || ! [[ $LAST_ID =~ ^[0-9]+$ ]]; then
	log ERROR "Database insert failed - invalid ID: '$LAST_ID'"
	cleanup_on_failure "$filepath" ""
	exit 1
fi
echo "Database record created (ID: $LAST_ID)"

cd "$BASE_DIR"
if [ -d .git ]; then
	LOCK_FILE=$BASE_DIR/.git/claude-lock
	if ! acquire_git_lock "$LOCK_FILE" 30; then
		log ERROR "Could not acquire git lock - rolling back"
		cleanup_on_failure "$filepath" "$LAST_ID"
		echo "Error: Could not acquire git lock"
		exit 1
	fi
	git add "$filepath"
	git add "$DB_PATH"
	if ! git commit -q -m "failure: $title" -m "Domain: $domain | Severity: $severity"; then
		echo "Note: Git commit skipped (no changes or already committed)"
	else
		echo "Git commit created"
	fi
	release_git_lock
else
	echo "Warning: Not a git repository. Skipping commit."
fi

echo "Failure recorded successfully!"
