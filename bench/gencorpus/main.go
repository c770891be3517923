// Command gencorpus writes a realistic memory folder for benchmarks:
//
//	go run ./bench/gencorpus -root /tmp/corpus -notes 20000 -dirs 500
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/emergent-learning/elfsync/bench/corpus"
)

func main() {
	root := flag.String("root", "", "ROOT to write; notes go under ROOT/memory (required)")
	notes := flag.Int("notes", 20000, "number of notes")
	dirs := flag.Int("dirs", 60, "spread the notes over about this many directories")
	seed := flag.Uint64("seed", 1, "random seed: the same seed writes the same corpus")
	flag.Parse()
	if *root == "" {
		fmt.Fprintln(os.Stderr, "gencorpus: -root is required")
		flag.Usage()
		os.Exit(2)
	}
	paths, err := corpus.Generate(filepath.Join(*root, "memory"), corpus.Options{Notes: *notes, Dirs: *dirs, Seed: *seed})
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %d notes under %s\n", len(paths), filepath.Join(*root, "memory"))
}
