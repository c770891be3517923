package query

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Depths of a briefing.
const (
	DepthMinimal  = "minimal"  // golden rules only
	DepthStandard = "standard" // + the domain's heuristics, failures and successes
	DepthDeep     = "deep"     // + experiments, decisions and observations, more of each
)

// DefaultMaxTokens is the token budget when none is given (the framework's
// default).
const DefaultMaxTokens = 5000

// charsPerToken is the usual rough estimate for English text.
const charsPerToken = 4

// ContextOptions select a briefing.
type ContextOptions struct {
	Domain    string   // '' for every domain
	Tags      []string // items with these tags rank first
	Query     string   // what the session is about: relevant items rank first
	Depth     string   // minimal, standard (default) or deep
	MaxTokens int      // budget, ~4 characters a token; 0 means DefaultMaxTokens
}

// Section is one tier of a briefing.
type Section struct {
	Kind    string `json:"kind"` // golden, heuristics, failures, successes, experiments, decisions, observations
	Title   string `json:"title"`
	Items   []Item `json:"items"`
	Omitted int    `json:"omitted"` // items left out for the budget
}

// Briefing is the session briefing: sections in tier order.
type Briefing struct {
	Domain    string    `json:"domain,omitempty"`
	Depth     string    `json:"depth"`
	Query     string    `json:"query,omitempty"`
	MaxTokens int       `json:"max_tokens"`
	Tokens    int       `json:"tokens"` // estimate of the markdown's size
	Sections  []Section `json:"sections"`
	Omitted   int       `json:"omitted"` // items left out in all
}

// tier is a section before the budget is applied.
type tier struct {
	kind, title string
	items       []Item
}

// limits per depth: heuristics, and each learning type.
func depthLimits(depth string) (heuristics, learnings int) {
	switch depth {
	case DepthMinimal:
		return 0, 0
	case DepthDeep:
		return 25, 25
	}
	return 10, 10
}

// maxGolden bounds the golden rules read.
const maxGolden = 200

// Context builds the briefing.
//
// Tiers, in order: golden rules (always); the domain's heuristics (all
// domains when none is given), ranked by heuristicScore; failures, then
// successes, those relevant to Query or Tags first (by BM25), then the most
// recent; at depth deep also experiments, decisions and observations.
// Items go in whole, in tier order, until the next one would pass the
// budget; it and everything after it are left out and counted.
func (d *DB) Context(ctx context.Context, o ContextOptions) (Briefing, error) {
	switch o.Depth {
	case "":
		o.Depth = DepthStandard
	case DepthMinimal, DepthStandard, DepthDeep:
	default:
		return Briefing{}, fmt.Errorf("depth %q: want minimal, standard or deep", o.Depth)
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = DefaultMaxTokens
	}
	nh, nl := depthLimits(o.Depth)
	tx, err := d.snapshot(ctx)
	if err != nil {
		return Briefing{}, err
	}
	defer tx.Rollback()
	var rel []Hit
	if nh > 0 || nl > 0 {
		if rel, err = relevantHits(ctx, tx, o); err != nil {
			return Briefing{}, err
		}
	}
	var tiers []tier
	golden, _, err := queryItemsIn(ctx, tx, sqlGolden, maxGolden)
	if err != nil {
		return Briefing{}, fmt.Errorf("golden rules: %w", err)
	}
	tiers = append(tiers, tier{"golden", "Golden rules", golden})
	if nh > 0 {
		hs, err := heuristics(ctx, tx, o, rel, nh)
		if err != nil {
			return Briefing{}, err
		}
		title := "Heuristics"
		if o.Domain != "" {
			title += ": " + o.Domain
		}
		tiers = append(tiers, tier{"heuristics", title, hs})
	}
	types := []struct{ typ, kind, title string }{
		{"failure", "failures", "Failures"},
		{"success", "successes", "Successes"},
	}
	if o.Depth == DepthDeep {
		types = append(types,
			struct{ typ, kind, title string }{"experiment", "experiments", "Experiments"},
			struct{ typ, kind, title string }{"decision", "decisions", "Decisions"},
			struct{ typ, kind, title string }{"observation", "observations", "Observations"})
	}
	for _, t := range types {
		if nl == 0 {
			break
		}
		items, err := learnings(ctx, tx, o, rel, t.typ, nl)
		if err != nil {
			return Briefing{}, err
		}
		tiers = append(tiers, tier{t.kind, t.title, items})
	}
	return budget(o, tiers), nil
}

// heuristics returns the domain's non-golden heuristics, best first: those
// relevant to the query or tags first (by relevance), then by
// heuristicScore.
func heuristics(ctx context.Context, tx querier, o ContextOptions, rel []Hit, n int) ([]Item, error) {
	// Read more than n so that the ranking in Go sees the candidates whose
	// evidence lifts them past higher-confidence ones.
	items, _, err := queryItemsIn(ctx, tx, sqlHeuristics, o.Domain, max(n*10, 200))
	if err != nil {
		return nil, fmt.Errorf("heuristics: %w", err)
	}
	score := make(map[string]float64)
	for _, h := range rel {
		if h.Table == "heuristics" && !h.Golden {
			score[h.Ref] = h.Score
			if !containsRef(items, h.Ref) {
				items = append(items, h.Item)
			}
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		ra, rb := score[a.Ref], score[b.Ref]
		if ra != rb {
			return ra > rb
		}
		sa, sb := heuristicScore(a.Confidence, a.Validated, a.Violated), heuristicScore(b.Confidence, b.Validated, b.Violated)
		if sa != sb {
			return sa > sb
		}
		return a.ID < b.ID
	})
	return items[:min(n, len(items))], nil
}

func containsRef(items []Item, ref string) bool {
	for _, it := range items {
		if it.Ref == ref {
			return true
		}
	}
	return false
}

// learnings returns up to n learnings of one type: relevant ones first (by
// relevance), then the most recent.
func learnings(ctx context.Context, tx querier, o ContextOptions, rel []Hit, typ string, n int) ([]Item, error) {
	recent, _, err := queryItemsIn(ctx, tx, sqlRecent, typ, o.Domain, n)
	if err != nil {
		return nil, fmt.Errorf("recent %ss: %w", typ, err)
	}
	var out []Item
	seen := make(map[string]bool)
	for _, h := range rel {
		if len(out) >= n {
			break
		}
		if h.Table == "learnings" && h.Type == typ {
			out = append(out, h.Item)
			seen[h.Ref] = true
		}
	}
	for _, it := range recent {
		if len(out) >= n {
			break
		}
		if !seen[it.Ref] {
			out = append(out, it)
			seen[it.Ref] = true
		}
	}
	return out, nil
}

// relevanceQuery is the search text for Query and Tags together.
func relevanceQuery(o ContextOptions) string {
	var parts []string
	if q := strings.TrimSpace(o.Query); q != "" {
		parts = append(parts, q)
	}
	parts = append(parts, o.Tags...)
	return strings.Join(parts, " ")
}

// maxRelevant is how many of the best full-text matches a briefing
// considers.
const maxRelevant = 300

// relevantHits returns the memories that match the briefing's query or
// tags (any of their words), best first, in its domain; nil without a
// query. One search serves every tier: the best matches are taken from the
// full-text table alone (sqlSearchTop) and sorted into tiers in Go.
func relevantHits(ctx context.Context, tx querier, o ContextOptions) ([]Hit, error) {
	text := relevanceQuery(o)
	if text == "" {
		return nil, nil
	}
	m, err := buildMatch(text)
	if err != nil {
		return nil, nil // nothing searchable in it: no relevance signal
	}
	expr := m.expr
	if m.or != "" {
		// A briefing wants anything related, not only what matches every
		// word; BM25 puts the items that match most words first.
		expr = m.or
	}
	items, scores, err := queryItemsIn(ctx, tx, sqlSearchTop, Weights.Title, Weights.Summary, Weights.Body, Weights.Rule,
		expr, maxRelevant)
	if err != nil {
		return nil, ftsError(err, text)
	}
	var hits []Hit
	for i, it := range items {
		if o.Domain != "" && !strings.EqualFold(it.Domain, o.Domain) {
			continue
		}
		hits = append(hits, Hit{Rank: len(hits) + 1, Score: -scores[i], Item: it})
	}
	return hits, nil
}

// budget keeps items in tier order while the briefing fits MaxTokens.
func budget(o ContextOptions, tiers []tier) Briefing {
	b := Briefing{Domain: o.Domain, Depth: o.Depth, Query: o.Query, MaxTokens: o.MaxTokens}
	// Room for the footer and its per-section counts.
	used := len(header(b)) + len(footerLine("", o.MaxTokens)) + 30*len(tiers)
	limit := o.MaxTokens * charsPerToken
	full := false
	for _, t := range tiers {
		s := Section{Kind: t.kind, Title: t.title, Items: []Item{}}
		head := len(sectionHead(s))
		for _, it := range t.items {
			cost := len(renderItem(t.kind, it))
			if len(s.Items) == 0 {
				cost += head
			}
			if full || used+cost > limit {
				full = true
				s.Omitted++
				continue
			}
			used += cost
			s.Items = append(s.Items, it)
		}
		b.Omitted += s.Omitted
		b.Sections = append(b.Sections, s)
	}
	b.Tokens = (len(b.Markdown()) + charsPerToken - 1) / charsPerToken
	return b
}
