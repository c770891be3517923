// Command gencorpus writes a memory folder for benchmarks, in real English
// prose from the Go sources' comments (the default) or in the small
// 56-word vocabulary of the first benchmarks:
//
//	go run ./bench/gencorpus -root /tmp/corpus -notes 20000 -dirs 500
//	go run ./bench/gencorpus -root /tmp/corpus -prose small
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
	seed := flag.Uint64("seed", 1, "random seed: the same seed (and Go version, for real prose) writes the same corpus")
	prose := flag.String("prose", string(corpus.Real), "real (English from the Go sources' comments) or small (56 words)")
	flag.Parse()
	if *root == "" {
		fmt.Fprintln(os.Stderr, "gencorpus: -root is required")
		flag.Usage()
		os.Exit(2)
	}
	paths, err := corpus.Generate(filepath.Join(*root, "memory"), corpus.Options{Notes: *notes, Dirs: *dirs, Seed: *seed, Prose: corpus.Prose(*prose)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %d notes under %s\n", len(paths), filepath.Join(*root, "memory"))
}
