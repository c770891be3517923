package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A Metric is one measured figure of one scenario case, with a value per
// run. The summary fields are filled by finish.
type Metric struct {
	Scenario string    `json:"scenario"`
	Case     string    `json:"case"`
	Name     string    `json:"name"`
	Unit     string    `json:"unit"`
	Values   []float64 `json:"values"`
	Median   *float64  `json:"median"`
	Min      *float64  `json:"min"`
	Max      *float64  `json:"max"`
	Target   *Target   `json:"target,omitempty"`
	// Met says whether the median meets Target; nil without a target or a
	// value.
	Met *bool `json:"met,omitempty"`
}

// A Target is a figure from the issues that a metric's median should meet.
type Target struct {
	Op    string  `json:"op"` // "<=", ">=", "<" or "=="
	Limit float64 `json:"limit"`
	Text  string  `json:"text"` // how the table shows it, e.g. "≤ 2 s"
}

func (t *Target) met(v float64) bool {
	switch t.Op {
	case "<=":
		return v <= t.Limit
	case ">=":
		return v >= t.Limit
	case "<":
		return v < t.Limit
	case "==":
		return v == t.Limit
	}
	return false
}

// RunError records a scenario run that failed; the run's other figures may
// be missing.
type RunError struct {
	Scenario string `json:"scenario"`
	Case     string `json:"case,omitempty"`
	Run      int    `json:"run"`
	Error    string `json:"error"`
}

// Results is everything a harness run produced; results.json is this value.
type Results struct {
	Meta    Meta                      `json:"meta"`
	Config  config                    `json:"config"`
	Metrics []*Metric                 `json:"metrics"`
	Raw     map[string][]any          `json:"raw"`
	Errors  []RunError                `json:"errors"`
	Missing []string                  `json:"missing"`
	Seconds map[string]float64        `json:"scenario_seconds"`
	Notes   []string                  `json:"notes"` // printed under the table: peers not measured, and why
	index   map[[3]string]*Metric     `json:"-"`
	mu      sync.Mutex                `json:"-"`
	want    map[string][]metricWanted `json:"-"`
}

// metricWanted is a figure a scenario promised to produce.
type metricWanted struct{ scenario, cas, name string }

// Meta describes the machine and the software measured.
type Meta struct {
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished"`
	Mode       string    `json:"mode"`
	Command    string    `json:"command"` // how to reproduce the run
	CPU        string    `json:"cpu"`
	Cores      int       `json:"cores"`
	MemoryMB   int       `json:"memory_mb"`
	Kernel     string    `json:"kernel"`
	Go         string    `json:"go"`
	Git        string    `json:"git"`
	SQLite3    string    `json:"sqlite3"`
	Elfsync    string    `json:"elfsync"` // the repository's commit, "+dirty" when changed
	LoadBefore string    `json:"load_before"`
	LoadAfter  string    `json:"load_after"`
	RSSSource  string    `json:"rss_source"` // "/usr/bin/time -v" or "rusage"
	Recorder   string    `json:"recorder"`   // how elfsync writers wrote: "scripts/record-failure.sh" or "direct"
}

func newResults() *Results {
	return &Results{
		Raw:     map[string][]any{},
		Seconds: map[string]float64{},
		index:   map[[3]string]*Metric{},
		want:    map[string][]metricWanted{},
		Errors:  []RunError{},
	}
}

func (r *Results) metric(scenario, cas, name, unit string) *Metric {
	k := [3]string{scenario, cas, name}
	m := r.index[k]
	if m == nil {
		m = &Metric{Scenario: scenario, Case: cas, Name: name, Unit: unit, Values: []float64{}}
		r.index[k] = m
		r.Metrics = append(r.Metrics, m)
	}
	return m
}

// expect declares a figure the scenario must produce; finish lists the ones
// that got no value. Declaring them up front puts the table in a stable
// order, whatever fails.
func (r *Results) expect(scenario, cas, name, unit string, t *Target) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.metric(scenario, cas, name, unit)
	if t != nil {
		m.Target = t
	}
	r.want[scenario] = append(r.want[scenario], metricWanted{scenario, cas, name})
}

// declare creates a figure that may legitimately have no value (a ratio
// with a zero denominator), so that it keeps its place in the table
// without being required.
func (r *Results) declare(scenario, cas, name, unit string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.metric(scenario, cas, name, unit)
}

// add records one run's value of a figure. NaN and infinities are not
// numbers and are dropped, so the figure counts as missing if nothing else
// arrives.
func (r *Results) add(scenario, cas, name, unit string, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.metric(scenario, cas, name, unit)
	m.Values = append(m.Values, v)
}

func (r *Results) raw(scenario string, v any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Raw[scenario] = append(r.Raw[scenario], v)
}

// note adds a line printed under the table.
func (r *Results) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

func (r *Results) fail(scenario, cas string, run int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Errors = append(r.Errors, RunError{Scenario: scenario, Case: cas, Run: run, Error: err.Error()})
}

// finish computes the summaries and the list of missing figures.
func (r *Results) finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.Metrics {
		if len(m.Values) == 0 {
			continue
		}
		med := median(m.Values)
		lo, hi := minMax(m.Values)
		m.Median, m.Min, m.Max = &med, &lo, &hi
		if m.Target != nil {
			ok := m.Target.met(med)
			m.Met = &ok
		}
	}
	r.Missing = []string{}
	for _, ws := range r.want {
		for _, w := range ws {
			if m := r.index[[3]string{w.scenario, w.cas, w.name}]; m == nil || len(m.Values) == 0 {
				r.Missing = append(r.Missing, w.scenario+" / "+w.cas+" / "+w.name)
			}
		}
	}
	slices.Sort(r.Missing)
}

// writeJSON writes the results to path.
func (r *Results) writeJSON(path string) error {
	r.mu.Lock()
	b, err := json.MarshalIndent(r, "", "  ")
	r.mu.Unlock()
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// writeTable prints the markdown table of medians with min–max.
func (r *Results) writeTable(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintln(w, "| scenario | case | metric | median | min–max | runs | target | met |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---|---|")
	for _, m := range r.Metrics {
		med, rng := "—", "—"
		if m.Median != nil {
			med = formatValue(*m.Median, m.Unit)
			rng = formatValue(*m.Min, "") + "–" + formatValue(*m.Max, m.Unit)
		}
		target, met := "", ""
		if m.Target != nil {
			target = m.Target.Text
		}
		if m.Met != nil {
			met = "yes"
			if !*m.Met {
				met = "**no**"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %d | %s | %s |\n",
			m.Scenario, m.Case, m.Name, med, rng, len(m.Values), target, met)
	}
}

// formatValue prints v with three significant digits (more for large
// numbers, which keep their integer part), followed by its unit.
func formatValue(v float64, unit string) string {
	var s string
	switch a := math.Abs(v); {
	case a == 0:
		s = "0"
	case a >= 100:
		s = strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	default:
		s = strconv.FormatFloat(v, 'g', 3, 64)
	}
	if strings.Contains(s, ".") && !strings.ContainsAny(s, "e") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	switch unit {
	case "":
		return s
	case "%":
		return s + "%"
	}
	return s + " " + unit
}
