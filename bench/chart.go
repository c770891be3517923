package main

import (
	"errors"
	"fmt"
	"html"
	"math"
	"strings"
)

// chartPoint is one series' median and range at one concurrency.
type chartPoint struct {
	ok          bool
	med, lo, hi float64
}

type chartSeries struct {
	label  string
	metric string
	color  string
	dashed bool
	marker string // "circle" or "square"
	pts    []chartPoint
}

// Chart geometry: two panels side by side.
const (
	chartW, chartH   = 900, 430
	panelTop, panelH = 92, 250
	panelW           = 340
	leftX, rightX    = 80, 520
	xPad             = 28
	footerY          = 410
)

// chartSVG draws records/s (log scale) and success rate against the
// number of concurrent writers, old design against elfsync, from the "old
// vs new" figures: medians as points and lines, min–max as bars.
func chartSVG(res *Results) ([]byte, error) {
	cfg := res.Config
	if len(cfg.Writers) == 0 {
		return nil, errors.New("no writer counts")
	}
	get := func(metric string) []chartPoint {
		pts := make([]chartPoint, len(cfg.Writers))
		for i, w := range cfg.Writers {
			m := oldNewMetric(res, w, metric)
			if m != nil && m.Median != nil {
				pts[i] = chartPoint{ok: true, med: *m.Median, lo: *m.Min, hi: *m.Max}
			}
		}
		return pts
	}
	const red, blue = "#c0392b", "#1f5fbf"
	rate := []chartSeries{
		{label: "old scripts (sqlite3 + git per record)", metric: "old records/s", color: red, marker: "circle"},
		{label: "elfsync, until committed", metric: "new records/s (to committed)", color: blue, marker: "square"},
		{label: "elfsync, as writers see it", metric: "new records/s (writers return)", color: blue, dashed: true, marker: "circle"},
	}
	success := []chartSeries{
		{label: "old", metric: "old success", color: red, marker: "circle"},
		{label: "elfsync", metric: "new success", color: blue, marker: "square"},
	}
	for i := range rate {
		rate[i].pts = get(rate[i].metric)
	}
	for i := range success {
		success[i].pts = get(success[i].metric)
	}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">`+"\n", chartW, chartH, chartW, chartH)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", chartW, chartH)
	runs := cfg.runs("oldnew")
	title := "Recording memories: old per-record scripts vs elfsync"
	sub := fmt.Sprintf("%d records per writer; median of %d run%s, bars show min–max; success = file + one row (id ≠ 0) + committed, checked by the harness",
		cfg.RecordsPerWriter, runs, plural(runs))
	text(&b, chartW/2, 24, "middle", 16, "bold", title)
	text(&b, chartW/2, 44, "middle", 11, "", sub)

	// Legend.
	lx := 90
	for _, s := range rate {
		legend(&b, lx, 66, s)
		lx += 20 + 7*len(s.label) + 30
	}

	// Left: records/s on a log scale.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range rate {
		for _, p := range s.pts {
			for _, v := range []float64{p.lo, p.med, p.hi} {
				if p.ok && v > 0 {
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
		}
	}
	if math.IsInf(lo, 0) {
		lo, hi = 1, 10
	}
	dlo, dhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if dhi <= dlo {
		dhi = dlo + 1
	}
	yRate := func(v float64) float64 {
		if v <= 0 {
			return panelTop + panelH
		}
		f := (math.Log10(v) - dlo) / (dhi - dlo)
		return panelTop + panelH - f*panelH
	}
	frame(&b, leftX, "records per second (log scale)")
	for d := dlo; d <= dhi; d++ {
		y := yRate(math.Pow(10, d))
		grid(&b, leftX, y, decade(d))
	}
	xAxis(&b, leftX, cfg.Writers)
	for _, s := range rate {
		series(&b, leftX, cfg.Writers, s, yRate)
	}

	// Right: success rate.
	ySucc := func(v float64) float64 { return panelTop + panelH - v/100*panelH }
	frame(&b, rightX, "records that succeeded (%)")
	for v := 0.0; v <= 100; v += 20 {
		grid(&b, rightX, ySucc(v), fmt.Sprintf("%.0f%%", v))
	}
	xAxis(&b, rightX, cfg.Writers)
	for _, s := range success {
		series(&b, rightX, cfg.Writers, s, ySucc)
	}

	m := res.Meta
	foot := fmt.Sprintf("%s, %d cores, %d MB; Linux %s; %s; sqlite3 %s; elfsync %s; %s; %s mode",
		m.CPU, m.Cores, m.MemoryMB, m.Kernel, m.Git, m.SQLite3, m.Elfsync, m.Started.Format("2006-01-02"), m.Mode)
	text(&b, chartW/2, footerY, "middle", 10, "", foot)
	text(&b, chartW/2, footerY+14, "middle", 10, "", "go run ./bench  (bench/old-record.sh is the old design; elfsync writers use scripts/record-failure.sh)")
	b.WriteString("</svg>\n")
	return []byte(b.String()), nil
}

// oldNewMetric finds the "old vs new" figure name at w writers. It goes by
// the number the case starts with, so that --report also reads results
// whose case labels were worded differently.
func oldNewMetric(res *Results, w int, name string) *Metric {
	for _, m := range res.Metrics {
		var n int
		if m.Scenario == scOldNew && m.Name == name {
			if _, err := fmt.Sscanf(m.Case, "%d writer", &n); err == nil && n == w {
				return m
			}
		}
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func decade(d float64) string {
	v := math.Pow(10, d)
	switch {
	case v >= 1000:
		return fmt.Sprintf("%gk", v/1000)
	default:
		return fmt.Sprintf("%g", v)
	}
}

func text(b *strings.Builder, x, y float64, anchor string, size int, weight, s string) {
	w := ""
	if weight != "" {
		w = fmt.Sprintf(` font-weight="%s"`, weight)
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="%s" font-size="%d"%s>%s</text>`+"\n", x, y, anchor, size, w, html.EscapeString(s))
}

func frame(b *strings.Builder, x0 float64, ylabel string) {
	fmt.Fprintf(b, `<rect x="%.1f" y="%d" width="%d" height="%d" fill="none" stroke="#888"/>`+"\n", x0, panelTop, panelW, panelH)
	cx, cy := x0-52, float64(panelTop+panelH/2)
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" transform="rotate(-90 %.1f %.1f)">%s</text>`+"\n", cx, cy, cx, cy, html.EscapeString(ylabel))
	text(b, x0+panelW/2, panelTop+panelH+40, "middle", 12, "", "concurrent writers")
}

func grid(b *strings.Builder, x0, y float64, label string) {
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e3e3e3"/>`+"\n", x0, y, x0+panelW, y)
	text(b, x0-6, y+4, "end", 11, "", label)
}

func xPos(x0 float64, i, n int) float64 {
	if n == 1 {
		return x0 + panelW/2
	}
	return x0 + xPad + float64(i)*(panelW-2*xPad)/float64(n-1)
}

func xAxis(b *strings.Builder, x0 float64, writers []int) {
	for i, w := range writers {
		x := xPos(x0, i, len(writers))
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#888"/>`+"\n", x, panelTop+panelH, x, panelTop+panelH+5)
		text(b, x, panelTop+panelH+19, "middle", 11, "", fmt.Sprint(w))
	}
}

func series(b *strings.Builder, x0 float64, writers []int, s chartSeries, y func(float64) float64) {
	n := len(writers)
	dash := ""
	if s.dashed {
		dash = ` stroke-dasharray="6 4"`
	}
	var pts []string
	for i, p := range s.pts {
		if p.ok {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", xPos(x0, i, n), y(p.med)))
		}
	}
	if len(pts) > 1 {
		fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(pts, " "), s.color, dash)
	}
	for i, p := range s.pts {
		if !p.ok {
			continue
		}
		x := xPos(x0, i, n)
		if p.hi > p.lo {
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.2"/>`+"\n", x, y(p.lo), x, y(p.hi), s.color)
			for _, v := range []float64{p.lo, p.hi} {
				fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.2"/>`+"\n", x-4, y(v), x+4, y(v), s.color)
			}
		}
		fmt.Fprintf(b, `<g><title>%s, %d writers: %s (min %s, max %s)</title>`+"\n", html.EscapeString(s.label), writers[i],
			formatValue(p.med, ""), formatValue(p.lo, ""), formatValue(p.hi, ""))
		marker(b, x, y(p.med), s)
		b.WriteString("</g>\n")
	}
}

func marker(b *strings.Builder, x, y float64, s chartSeries) {
	fill := s.color
	if s.dashed {
		fill = "white"
	}
	if s.marker == "square" {
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="8" height="8" fill="%s" stroke="%s" stroke-width="1.5"/>`+"\n", x-4, y-4, fill, s.color)
		return
	}
	fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s" stroke="%s" stroke-width="1.5"/>`+"\n", x, y, fill, s.color)
}

func legend(b *strings.Builder, x, y int, s chartSeries) {
	dash := ""
	if s.dashed {
		dash = ` stroke-dasharray="6 4"`
	}
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", x, y, x+24, y, s.color, dash)
	marker(b, float64(x+12), float64(y), s)
	text(b, float64(x+30), float64(y+4), "start", 12, "", s.label)
}
