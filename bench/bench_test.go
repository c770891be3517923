package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestQuick runs the whole harness in --quick mode, as CI does, and checks
// that every scenario produced its figures, results.json and a well-formed
// chart. It does not judge speed: the machine may be busy.
func TestQuick(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the harness reads /proc: Linux only")
	}
	for _, tool := range []string{"git", "sqlite3", "flock", "bash", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: the harness needs git, sqlite3, flock and bash (scripts/test.sh installs sqlite3)", tool)
		}
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	start := time.Now()
	err := run(ctx, []string{"--quick", "--out", out}, &stdout, &stderr)
	t.Logf("harness took %s\n%s", time.Since(start).Round(time.Second), stdout.String())
	if err != nil {
		t.Fatalf("run --quick: %v\nlog:\n%s", err, tail(stderr.String(), 6000))
	}

	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Metrics []Metric `json:"metrics"`
		Missing []string `json:"missing"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	if len(res.Missing) > 0 {
		t.Errorf("missing figures: %v", res.Missing)
	}
	scenarios := map[string]bool{}
	for _, m := range res.Metrics {
		if len(m.Values) > 0 {
			scenarios[m.Scenario] = true
		}
	}
	for _, s := range []string{"cold scan", "no-op scan", "status", "status (with git)", "1% modified scan", "watch latency", "burst", "trickle", "idle watch", "old vs new", "search (process)", "search (MCP)", "write-back"} {
		if !scenarios[s] {
			t.Errorf("scenario %q produced no figure", s)
		}
	}
	if !strings.Contains(stdout.String(), "| scenario | case | metric |") {
		t.Errorf("no markdown table on stdout")
	}
	checkXML(t, filepath.Join(out, "bench.svg"))
}

func checkXML(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", path, err)
		}
	}
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		p    float64
		want float64
	}{
		{"one value", []float64{7}, 99, 7},
		{"median odd", []float64{3, 1, 2}, 50, 2},
		{"median even", []float64{4, 1, 3, 2}, 50, 2.5},
		{"p0 is min", []float64{5, 9, 1}, 0, 1},
		{"p100 is max", []float64{5, 9, 1}, 100, 9},
		{"p99 of 1..101", seq(101), 99, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.xs, tt.p); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.xs, tt.p, got, tt.want)
			}
		})
	}
	if got := percentile(nil, 50); !math.IsNaN(got) {
		t.Errorf("percentile(nil) = %v, want NaN", got)
	}
}

func seq(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(i + 1)
	}
	return out
}

func TestParseProcStat(t *testing.T) {
	// A command name with a space and a parenthesis, as /proc allows.
	line := "4242 (elf sync) R) S 1 4242 4242 0 -1 4194560 1200 0 0 0 731 52 9 4 20 0 7 0 1000 0 0"
	got, err := parseProcStat(line)
	if err != nil {
		t.Fatal(err)
	}
	want := procTimes{Utime: 731, Stime: 52, Cutime: 9, Cstime: 4}
	if got != want {
		t.Errorf("parseProcStat = %+v, want %+v", got, want)
	}
	if got.self() != 7830*time.Millisecond {
		t.Errorf("self() = %v, want 7.83s", got.self())
	}
	if _, err := parseProcStat("garbage"); err == nil {
		t.Error("parseProcStat(garbage): no error")
	}
}

func TestFormatValue(t *testing.T) {
	tests := []struct {
		v    float64
		unit string
		want string
	}{
		{0, "s", "0 s"},
		{0.0123456, "s", "0.0123 s"},
		{1.5, "s", "1.5 s"},
		{12.34, "ms", "12.3 ms"},
		{12345.6, "notes/s", "12346 notes/s"},
		{100, "%", "100%"},
	}
	for _, tt := range tests {
		if got := formatValue(tt.v, tt.unit); got != tt.want {
			t.Errorf("formatValue(%v, %q) = %q, want %q", tt.v, tt.unit, got, tt.want)
		}
	}
}

func TestChartWellFormed(t *testing.T) {
	res := newResults()
	res.Config = config{Writers: []int{1, 5, 20, 50}, RecordsPerWriter: 10, Runs: 5}
	res.Meta.CPU = `Vendor "Fast" <CPU> & co`
	for _, w := range res.Config.Writers {
		cas := oldNewCase(w, 10)
		res.add(scOldNew, cas, "old records/s", "rec/s", 1/float64(w))
		res.add(scOldNew, cas, "old records/s", "rec/s", 0) // a run with no success
		res.add(scOldNew, cas, "new records/s (to committed)", "rec/s", float64(w))
		res.add(scOldNew, cas, "new records/s (writers return)", "rec/s", 3*float64(w))
		res.add(scOldNew, cas, "old success", "%", 100/float64(w))
		res.add(scOldNew, cas, "new success", "%", 100)
	}
	res.finish()
	svg, err := chartSVG(res)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "c.svg")
	if err := os.WriteFile(path, svg, 0o644); err != nil {
		t.Fatal(err)
	}
	checkXML(t, path)
	if !strings.Contains(string(svg), "&lt;CPU&gt;") {
		t.Error("machine text not escaped")
	}
}

func TestOldRecordJudged(t *testing.T) {
	// One record through the old script, judged as the harness does: file,
	// one row with a non-zero id, in HEAD.
	for _, tool := range []string{"git", "sqlite3", "flock", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: bench/old-record.sh needs git, sqlite3, flock and bash", tool)
		}
	}
	ctx := context.Background()
	root := t.TempDir()
	if err := setupOldRoot(ctx, root); err != nil {
		t.Fatal(err)
	}
	out, claimed, err := runScript(ctx, "Failure recorded successfully!", "bash", "old-record.sh",
		"--root", root, "--title", "It's a Test", "--domain", "bench")
	if err != nil || !claimed {
		t.Fatalf("old-record.sh: claimed=%v err=%v\n%s", claimed, err, out)
	}
	ents, err := os.ReadDir(filepath.Join(root, "memory", "failures"))
	if err != nil || len(ents) != 1 || !strings.HasSuffix(ents[0].Name(), "_its-a-test.md") {
		t.Fatalf("files: %v %v", ents, err)
	}
	rel := "memory/failures/" + ents[0].Name()
	db, err := openRO(filepath.Join(root, "memory", "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := rowsByPath(ctx, db, "learnings", "heuristics")
	if err != nil {
		t.Fatal(err)
	}
	if ri := rows[rel]; ri.n != 1 || ri.zeroID {
		t.Errorf("rows for %s: %+v, want one with a non-zero id", rel, ri)
	}
	head, err := headFiles(ctx, root, "memory")
	if err != nil {
		t.Fatal(err)
	}
	if !head[rel] || !head["memory/index.db"] {
		t.Errorf("HEAD holds %v, want %s and memory/index.db", head, rel)
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "delete" {
		t.Errorf("journal_mode = %q (%v), want delete", mode, err)
	}
}
