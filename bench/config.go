package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// config holds every size and switch of a harness run. Zero values are
// replaced by the mode's defaults (full or --quick) in fill.
type config struct {
	Quick   bool   `json:"quick"`
	Out     string `json:"out"`
	SVG     string `json:"svg"`
	Work    string `json:"work"`
	Keep    bool   `json:"keep"`
	Elfsync string `json:"elfsync,omitempty"`
	Report  string `json:"-"` // redraw from this results.json instead of running
	// Runs is how often each scenario runs; 0 means the mode's default (5 in
	// full mode; 2 for the scans and 1 for the rest in quick mode).
	Runs    int           `json:"runs"`
	Only    []string      `json:"only,omitempty"`
	Timeout time.Duration `json:"timeout"` // the whole harness
	Quiet   time.Duration `json:"quiet"`   // elfsync watch --quiet for the git scenarios
	Seed    uint64        `json:"seed"`

	ScanSizes []int `json:"scan_sizes"`
	// SmallSize is the size of the one scan case on the small-vocabulary
	// corpus, for comparison with earlier figures; 0 after fill means none.
	SmallSize int  `json:"small_size"`
	Peers     bool `json:"peers"` // try to build and measure zk

	LatencyCorpus  int     `json:"latency_corpus"` // notes already in the watched root
	LatencyRate    int     `json:"latency_rate"`   // notes per second
	LatencySeconds float64 `json:"latency_seconds"`

	BurstNotes   int `json:"burst_notes"`
	BurstWriters int `json:"burst_writers"`

	TrickleSeconds int `json:"trickle_seconds"` // one note per second

	IdleNotes   int     `json:"idle_notes"`
	IdleDirs    int     `json:"idle_dirs"`
	IdleSeconds float64 `json:"idle_seconds"`

	Writers          []int `json:"writers"`
	RecordsPerWriter int   `json:"records_per_writer"`
}

// scenarioNames lists the scenarios in the order they run; --only picks
// some of them.
var scenarioNames = []string{"scan", "latency", "burst", "trickle", "idle", "oldnew", "search", "writeback"}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: go run ./bench [--quick] [--out DIR] [--runs N] [flags]

Benchmarks elfsync on this machine: cold, no-op and 1%-modified scans, watch
latency at a steady rate, a burst of notes, a trickle, idle CPU and memory,
and the old per-record scripts (bench/old-record.sh) against elfsync at
several concurrencies. Prints a markdown table of medians with min–max,
writes DIR/results.json, DIR/results.md and the chart (--svg).

--quick uses tiny sizes and runs each scenario once or twice (under two
minutes); it checks only that every scenario produced its figures and exits
non-zero otherwise. Size flags override the mode's defaults.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.BoolVar(&c.Quick, "quick", false, "tiny sizes and 1-2 runs, for CI; output goes to a temp dir unless --out is given")
	fs.StringVar(&c.Out, "out", "", "directory for results.json and results.md (default bench/out; a temp dir with --quick)")
	fs.StringVar(&c.SVG, "svg", "", "where to write the chart (default docs/bench.svg; OUT/bench.svg with --quick)")
	fs.StringVar(&c.Work, "work", "", "directory for the corpora and roots (default: a new temp dir, removed at the end)")
	fs.BoolVar(&c.Keep, "keep", false, "keep the work directory")
	fs.StringVar(&c.Elfsync, "elfsync", "", "use this elfsync binary instead of building ./cmd/elfsync")
	fs.StringVar(&c.Report, "report", "", "run nothing: print the table and redraw the chart from this results.json (into --out and --svg, default its own directory and svg)")
	fs.IntVar(&c.Runs, "runs", 0, "runs per scenario (default 5; --quick: 2 for scans, 1 for the rest)")
	only := fs.String("only", "", "comma-separated scenarios to run: "+strings.Join(scenarioNames, ","))
	fs.DurationVar(&c.Timeout, "timeout", 0, "give up after this long (default 3h; --quick 5m)")
	fs.DurationVar(&c.Quiet, "quiet", 2*time.Second, "elfsync watch --quiet in the git scenarios")
	fs.Uint64Var(&c.Seed, "seed", 1, "corpus seed")
	sizes := fs.String("scan-sizes", "", "comma-separated corpus sizes for the scans, real-prose corpus (default 1000,20000,100000; --quick 1000)")
	fs.IntVar(&c.SmallSize, "small-size", 0, "size of the one scan case on the small-vocabulary corpus (default 20000; --quick 1000; -1 for none)")
	fs.BoolVar(&c.Peers, "peers", true, "build zk (pinned version, into the user cache) and measure it beside elfsync; a note says why when it cannot be built (never with --quick)")
	fs.IntVar(&c.LatencyCorpus, "latency-corpus", 0, "notes in the root watched for latency (default 20000; --quick 200)")
	fs.IntVar(&c.LatencyRate, "latency-rate", 100, "notes per second written in the latency scenario")
	fs.Float64Var(&c.LatencySeconds, "latency-seconds", 0, "seconds of writing in the latency scenario (default 20; --quick 3)")
	fs.IntVar(&c.BurstNotes, "burst-notes", 0, "notes in the burst (default 10000; --quick 1000)")
	fs.IntVar(&c.BurstWriters, "burst-writers", 20, "writer goroutines in the burst")
	fs.IntVar(&c.TrickleSeconds, "trickle-seconds", 0, "notes in the trickle, one a second (default 60; --quick 5)")
	fs.IntVar(&c.IdleNotes, "idle-notes", 0, "notes in the idle root (default 20000; --quick 500)")
	fs.IntVar(&c.IdleDirs, "idle-dirs", 0, "directories in the idle root (default 500; --quick 20)")
	fs.Float64Var(&c.IdleSeconds, "idle-seconds", 0, "seconds of idle measured (default 60; --quick 5)")
	writers := fs.String("writers", "1,5,20,50", "comma-separated writer counts for old vs new")
	fs.IntVar(&c.RecordsPerWriter, "records", 0, "records per writer in old vs new (default 10; --quick 1)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if c.ScanSizes, err = intList(*sizes); err != nil {
		return c, fmt.Errorf("--scan-sizes: %w", err)
	}
	if c.Writers, err = intList(*writers); err != nil {
		return c, fmt.Errorf("--writers: %w", err)
	}
	if *only != "" {
		for _, s := range strings.Split(*only, ",") {
			s = strings.TrimSpace(s)
			if !slices.Contains(scenarioNames, s) {
				return c, fmt.Errorf("--only: unknown scenario %q (have %s)", s, strings.Join(scenarioNames, ","))
			}
			c.Only = append(c.Only, s)
		}
	}
	c.fill()
	return c, nil
}

// fill replaces zero sizes with the mode's defaults.
func (c *config) fill() {
	q := func(full, quick int) int {
		if c.Quick {
			return quick
		}
		return full
	}
	if len(c.ScanSizes) == 0 {
		c.ScanSizes = []int{1000, 20000, 100000}
		if c.Quick {
			c.ScanSizes = []int{1000}
		}
	}
	switch {
	case c.SmallSize < 0:
		c.SmallSize = 0
	case c.SmallSize == 0:
		c.SmallSize = q(20000, 1000)
	}
	if c.Quick {
		c.Peers = false
	}
	setInt(&c.LatencyCorpus, q(20000, 200))
	setFloat(&c.LatencySeconds, float64(q(20, 3)))
	setInt(&c.BurstNotes, q(10000, 1000))
	setInt(&c.TrickleSeconds, q(60, 5))
	setInt(&c.IdleNotes, q(20000, 500))
	setInt(&c.IdleDirs, q(500, 20))
	setFloat(&c.IdleSeconds, float64(q(60, 5)))
	setInt(&c.RecordsPerWriter, q(10, 1))
	if c.Timeout == 0 {
		c.Timeout = 3 * time.Hour
		if c.Quick {
			c.Timeout = 5 * time.Minute
		}
	}
	if len(c.Writers) == 0 {
		c.Writers = []int{1, 5, 20, 50}
	}
	if c.LatencyRate <= 0 {
		c.LatencyRate = 100
	}
	if c.BurstWriters <= 0 {
		c.BurstWriters = 20
	}
}

// runs returns how many runs a scenario gets; scans are cheap, so quick
// mode gives them two.
func (c *config) runs(scenario string) int {
	switch {
	case c.Runs > 0:
		return c.Runs
	case !c.Quick:
		return 5
	case scenario == "scan":
		return 2
	}
	return 1
}

func (c *config) enabled(scenario string) bool {
	return len(c.Only) == 0 || slices.Contains(c.Only, scenario)
}

func setInt(p *int, v int) {
	if *p <= 0 {
		*p = v
	}
}

func setFloat(p *float64, v float64) {
	if *p <= 0 {
		*p = v
	}
}

func intList(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}
