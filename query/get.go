package query

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ErrNotFound means no memory has the given id or path.
var ErrNotFound = errors.New("no such memory")

// Record is one memory whole: what the index has and the file's text.
type Record struct {
	// Items are the index rows of the file (one, or one per section of a
	// multi-record file); empty for a file the index does not have.
	Items     []Item `json:"items"`
	Path      string `json:"path"`    // root-relative
	Content   string `json:"content"` // the file's text, "" when unreadable
	Truncated bool   `json:"truncated,omitempty"`
	// FileError says why Content is empty when it is.
	FileError string `json:"file_error,omitempty"`
}

// refRE is an id: "H-12" (a heuristic), "L-12" (a learning), "D-12" (a
// decision, in the framework's decisions table), or a number.
var refRE = regexp.MustCompile(`^(?i)([hld])?-?([0-9]{1,18})$`)

// ParseRef splits an id into its table ("heuristics", "learnings",
// "decisions", or "" when a bare number does not say) and number. ok is false when ref is not
// an id (then it may be a path).
func ParseRef(ref string) (table string, id int64, ok bool) {
	m := refRE.FindStringSubmatch(strings.TrimSpace(ref))
	if m == nil {
		return "", 0, false
	}
	n, err := strconv.ParseInt(m[2], 10, 64)
	if err != nil || n <= 0 {
		return "", 0, false
	}
	switch strings.ToLower(m[1]) {
	case "h":
		table = "heuristics"
	case "l":
		table = "learnings"
	case "d":
		table = "decisions"
	}
	return table, n, true
}

// Lookup returns the index rows an id or a path names. A bare number that
// is the id of more than one (a learning, a decision, a heuristic) is
// refused as ambiguous.
func (d *DB) Lookup(ctx context.Context, ref string) ([]Item, error) {
	if table, id, ok := ParseRef(ref); ok {
		var items []Item
		if table == "" || table == "learnings" {
			ls, _, err := d.queryItems(ctx, sqlLearningByID, id)
			if err != nil {
				return nil, fmt.Errorf("look up %s: %w", ref, err)
			}
			items = append(items, ls...)
		}
		if table == "" || table == "decisions" {
			ds, _, err := d.queryItems(ctx, sqlDecisionByID, id)
			if err != nil {
				return nil, fmt.Errorf("look up %s: %w", ref, err)
			}
			items = append(items, ds...)
		}
		if table == "" || table == "heuristics" {
			hs, _, err := d.queryItems(ctx, sqlHeuristicByID, id)
			if err != nil {
				return nil, fmt.Errorf("look up %s: %w", ref, err)
			}
			items = append(items, hs...)
		}
		switch {
		case len(items) == 0:
			return nil, fmt.Errorf("%w with id %s", ErrNotFound, ref)
		case len(items) > 1:
			return nil, fmt.Errorf("id %s is ambiguous: both %s and %s; write H-%d, L-%d or D-%d", ref, items[0].Ref, items[1].Ref, id, id, id)
		}
		return items, nil
	}
	path := strings.TrimSpace(ref)
	if !strings.HasPrefix(path, "memory/") {
		path = "memory/" + path
	}
	items, _, err := d.queryItems(ctx, sqlByPath, path)
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", ref, err)
	}
	return items, nil
}

// Get returns a memory by id (H-12, L-12, 12) or by path (relative to
// memory/ or to ROOT), with the file's whole text up to the size limit.
// Paths that leave memory/, go through a symlink or name the index are
// refused (edit.Resolve) before anything is read.
func (d *DB) Get(ctx context.Context, ref string) (Record, error) {
	var rec Record
	_, _, isID := ParseRef(ref)
	if !isID {
		clean, _, err := d.resolve(ref)
		if err != nil {
			return rec, err
		}
		ref = "memory/" + clean
	}
	items, err := d.Lookup(ctx, ref)
	if err != nil {
		return rec, err
	}
	rec.Items = nonNilItems(items)
	if isID {
		rec.Path = items[0].Path
	} else {
		rec.Path = ref
	}
	if rec.Path == "" {
		rec.FileError = "the row has no file yet"
		return rec, nil
	}
	data, trunc, err := d.readRecord(rec.Path, d.maxSize)
	switch {
	case err != nil && !isID && len(items) == 0:
		return rec, fmt.Errorf("%w at %s", ErrNotFound, rec.Path)
	case err != nil:
		rec.FileError = err.Error()
	default:
		rec.Content, rec.Truncated = string(data), trunc
	}
	return rec, nil
}

func (d *DB) resolve(ref string) (string, string, error) {
	return resolvePath(d.memDir, ref)
}

func nonNilItems(s []Item) []Item {
	if s == nil {
		return []Item{}
	}
	return s
}
