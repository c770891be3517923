package main

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/emergent-learning/elfsync/bench/corpus"
)

// typeFolders are the framework's type folders, created up front in roots
// that start empty (the burst writes into them).
func typeFolders() []string {
	out := make([]string, len(corpus.Types))
	for i, t := range corpus.Types {
		out[i] = t.Folder
	}
	return out
}

// makeCorpus writes a corpus of notes under root/memory and ages every
// file's mtime by an hour: real notes are not all written in the last
// second, and an indexer may treat very recent mtimes specially (racy
// timestamps). It returns the memory-relative paths.
func makeCorpus(root string, notes, dirs int, seed uint64, prose corpus.Prose) ([]string, error) {
	mem := filepath.Join(root, "memory")
	paths, err := corpus.Generate(mem, corpus.Options{Notes: notes, Dirs: dirs, Seed: seed, Prose: prose})
	if err != nil {
		return nil, fmt.Errorf("generate corpus in %s: %w", root, err)
	}
	old := time.Now().Add(-time.Hour)
	err = filepath.WalkDir(mem, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, old, old)
	})
	if err != nil {
		return nil, fmt.Errorf("age corpus mtimes: %w", err)
	}
	return paths, nil
}

// scanDirs is how many directories a scan corpus of n notes spreads over:
// about 40 notes a directory, as in the idle scenario's 20,000 in 500.
func scanDirs(n int) int {
	return max(len(corpus.Types), n/40)
}

// noteMaker renders notes with the real-prose corpus's content, or the
// small vocabulary's where the Go sources cannot be read.
type noteMaker struct {
	w  *corpus.Writer
	r  *rand.Rand
	sb strings.Builder
}

func newNoteMaker(seed uint64) *noteMaker {
	w, _ := corpus.NewWriter(seed)
	return &noteMaker{w: w, r: rand.New(rand.NewPCG(seed, seed^0x5bd1e995))}
}

// note returns the bytes of a note of type typ titled title.
func (m *noteMaker) note(typ, title string) []byte {
	if m.w != nil {
		return m.w.Note(typ, title, time.Now())
	}
	m.sb.Reset()
	corpus.Note(&m.sb, m.r, typ, title, time.Now())
	return []byte(m.sb.String())
}

// folderType maps a type folder to its frontmatter type.
func folderType(folder string) string {
	for _, t := range corpus.Types {
		if t.Folder == folder {
			return t.Type
		}
	}
	return "observation"
}

// pendingNote is a note to be written: its memory-relative path and
// content.
type pendingNote struct {
	rel  string
	data []byte
}

// writeAtomic writes data to mem/rel the way editors and the record scripts
// do: a dot-temp file in the same folder (ignored by elfsync), then a
// rename. It returns the time just before the rename, from which latency
// is measured.
func writeAtomic(mem, rel string, data []byte) (time.Time, error) {
	full := filepath.Join(mem, filepath.FromSlash(rel))
	tmp := filepath.Join(filepath.Dir(full), "."+filepath.Base(full)+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return time.Time{}, err
	}
	t := time.Now()
	if err := os.Rename(tmp, full); err != nil {
		os.Remove(tmp)
		return time.Time{}, err
	}
	return t, nil
}
