package indexer

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// A domain file's commit message says what changed in it: the section
// write-back changed, with what and its rule, a section the framework
// appended or one it deleted; a file changed otherwise lists its
// heuristics. Never just the first section's rule.
func TestDomainFileDescription(t *testing.T) {
	root := t.TempDir()
	const rel, fp = "heuristics/git.md", "memory/heuristics/git.md"
	writeTree(t, root, map[string]string{rel: domainFile + sectionText("1", "Never delete a lock you did not create") + sectionText("2", "Batch commits")})
	ix := openQuickGrace(t, root)
	scan(t, ix)
	ctx := context.Background()
	title := func() string { return ix.Title(ctx, fp) }
	if got, want := title(), "2 heuristics: H-1, H-2"; got != want {
		t.Errorf("title = %q, want %q", got, want)
	}
	db := rw(t, root)

	exec1(t, db, `UPDATE heuristics SET times_validated = times_validated + 1, confidence = 0.8 WHERE id = 2`)
	writeBack(t, ix)
	exec1(t, db, `UPDATE heuristics SET times_validated = times_validated + 1 WHERE id = 2`)
	writeBack(t, ix)
	if got, want := title(), "H-2 confidence, validated: Batch commits"; got != want {
		t.Errorf("after a validation: title = %q, want %q", got, want)
	}
	if got := title(); got != "H-2 confidence, validated: Batch commits" {
		t.Errorf("asked again (a commit retried): %q", got)
	}

	// Described once: the next change starts afresh.
	exec1(t, db, `UPDATE heuristics SET is_golden = 1 WHERE id = 1`)
	writeBack(t, ix)
	if got, want := title(), "H-1 golden: Never delete a lock you did not create"; got != want {
		t.Errorf("after a promotion: title = %q, want %q", got, want)
	}

	// The MCP server's INSERT, then its section appended.
	exec1(t, db, `UPDATE heuristics SET times_violated = 1 WHERE id = 1`)
	writeBack(t, ix)
	id := exec1(t, db, `INSERT INTO heuristics (domain, rule, explanation, source_type, confidence) VALUES ('git', 'Sign your tags', 'Because.', 'observation', 0.7)`)
	f, err := os.OpenFile(filepath.Join(root, MemoryDir, rel), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(sectionText(itoa(id), "Sign your tags"))
	f.Close()
	if _, err := ix.Sync(ctx, []string{rel}); err != nil {
		t.Fatal(err)
	}
	writeBack(t, ix)
	if got, want := title(), "H-1 violated; H-"+itoa(id)+" added"; got != want {
		t.Errorf("after an appended section: title = %q, want %q", got, want)
	}

	// The dashboard's delete.
	title()
	exec1(t, db, `DELETE FROM heuristics WHERE id = 2`)
	writeBack(t, ix)
	if got, want := title(), "H-2 removed"; got != want {
		t.Errorf("after a delete: title = %q, want %q", got, want)
	}

	// Edited by hand since: the note no longer describes the file.
	data, _ := os.ReadFile(filepath.Join(root, MemoryDir, rel))
	writeTree(t, root, map[string]string{rel: string(data) + "\nA note.\n"})
	scan(t, ix)
	if got, want := title(), "2 heuristics: H-1, H-"+itoa(id); got != want {
		t.Errorf("after a hand edit: title = %q, want %q", got, want)
	}
	// A one-record file keeps its title.
	writeTree(t, root, map[string]string{"failures/a.md": failureNote})
	scan(t, ix)
	if got := ix.Title(ctx, "memory/failures/a.md"); got == "" || got == "2 heuristics" {
		t.Errorf("failure title = %q", got)
	}
}
