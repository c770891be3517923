package query

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/indexer"
)

// corpus is a small labelled memory: the relevance tests name, for each
// query, the file that must rank first.
var corpus = map[string]string{
	"failures/20261101_sqlite-busy.md": `---
type: failure
title: SQLite busy under concurrent inserts
domain: sqlite
tags: [concurrency, database]
severity: 4
created: 2026-11-01T10:00:00Z
summary: Ten writers with busy_timeout=0 failed with "database is locked".
---
# SQLite busy under concurrent inserts

## Summary
Ten writers with busy_timeout=0 failed with "database is locked".

Set a busy timeout and use WAL mode.
`,
	"failures/20261102_git-index-lock.md": `---
type: failure
title: Stale git index.lock blocked every commit
domain: git
tags: [git, locking]
severity: 3
created: 2026-11-02T10:00:00Z
summary: A crashed git left index.lock behind; later commits timed out.
---
Never delete a lock you did not create. The commit loop waited 30 s per try.
`,
	"failures/20261103_heredoc.md": `---
type: failure
title: Heredoc consumed before retry
domain: bash
tags: [shell]
severity: 2
created: 2026-11-03T10:00:00Z
summary: A retry loop re-read stdin that the first attempt had consumed.
---
The second attempt saw an empty body. Buffer stdin in a variable first.
`,
	"failures/20261104_yaml-norway.md": `---
type: failure
title: YAML read the country code NO as false
domain: yaml
tags: [parsing]
severity: 3
created: 2026-11-04T10:00:00Z
summary: YAML 1.1 turned no into a boolean; the Norway problem.
---
Use YAML 1.2 semantics.
`,
	"successes/20261105_parallel-cache.md": `---
type: success
title: Parallel agents shared one build cache
domain: build
tags: [performance, cache]
created: 2026-11-05T10:00:00Z
summary: Five agents reused one module cache; builds went from 90 s to 12 s.
---
Point GOMODCACHE at a shared folder.
`,
	"successes/20261106_wal.md": `---
type: success
title: WAL mode let readers run beside the writer
domain: sqlite
tags: [concurrency]
created: 2026-11-06T10:00:00Z
summary: With journal_mode=WAL the dashboard's reads no longer blocked inserts.
---
Readers see a snapshot.
`,
	"heuristics/sqlite-busy-timeout.md": `---
type: heuristic
domain: sqlite
rule: Always set a busy timeout on every SQLite connection
explanation: Without it a second writer fails at once with database is locked.
confidence: 0.9
is_golden: true
created: 2026-10-01T10:00:00Z
---
`,
	"heuristics/git-never-delete-foreign-lock.md": `---
type: heuristic
domain: git
rule: Never delete a git lock file another process created
explanation: Wait with backoff; the person's editor may still hold it.
confidence: 0.8
times_validated: 7
created: 2026-10-02T10:00:00Z
---
`,
	"heuristics/git-batch-commits.md": `---
type: heuristic
domain: git
rule: Batch commits instead of committing per file
explanation: A commit costs a fixed 100 ms or more.
confidence: 0.8
times_validated: 1
times_violated: 4
created: 2026-10-03T10:00:00Z
---
`,
	"heuristics/git-literal-pathspecs.md": `---
type: heuristic
domain: git
rule: Pass -- before paths to git
explanation: A file named like an option must not become one.
confidence: 0.6
created: 2026-10-04T10:00:00Z
---
`,
	"heuristics/yaml-one-two.md": `---
type: heuristic
domain: yaml
rule: Parse frontmatter with YAML 1.2 semantics
explanation: yes, no, on and off stay strings.
confidence: 0.7
created: 2026-10-05T10:00:00Z
---
`,
	"observations/20261107_lockfree.md": `---
type: observation
title: Lock-free queue benchmark
domain: perf
created: 2026-11-07T10:00:00Z
summary: The lock-free queue was slower than a mutex under two cores.
---
`,
	"experiments/20261108_trigram.md": `---
type: experiment
title: Trigram tokenizer for substring search
domain: sqlite
created: 2026-11-08T10:00:00Z
summary: The trigram index was three times larger.
---
`,
	"decisions/20261109_pure-go.md": `---
type: decision
title: Pure Go SQLite driver, no cgo
domain: build
created: 2026-11-09T10:00:00Z
summary: One binary per platform without a C toolchain.
---
`,
}

// counters are the corpus heuristics' times_validated and times_violated.
var counters = map[string][2]int{
	"memory/heuristics/git-never-delete-foreign-lock.md": {7, 0},
	"memory/heuristics/git-batch-commits.md":             {1, 4},
}

// buildIndex writes files under a temp ROOT/memory, indexes them with the
// real indexer and opens the index read-only.
func buildIndex(t *testing.T, files map[string]string) *DB {
	t.Helper()
	root := t.TempDir()
	for rel, content := range files {
		p := filepath.Join(root, "memory", filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	ix, err := indexer.Open(ctx, indexer.Options{Root: root, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ix.Scan(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Invalid > 0 {
		t.Fatalf("corpus has invalid files: %+v", res.Errors)
	}
	// The counters are the database's today (the indexer does not project
	// them from the files yet): set them as the framework's hooks would.
	for path, c := range counters {
		if _, ok := files[strings.TrimPrefix(path, "memory/")]; !ok {
			continue
		}
		if err := ix.SetHeuristicCounters(ctx, path, c[0], c[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
