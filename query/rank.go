package query

import "math"

// Weights are the BM25 column weights of the full-text table, in its
// column order (title, summary, body, rule). A word in a title or a rule
// says far more about a memory than the same word somewhere in its body.
var Weights = struct{ Title, Summary, Body, Rule float64 }{
	Title:   10,
	Summary: 4,
	Body:    1,
	Rule:    8,
}

// heuristicScore orders a domain's heuristics in the briefing: confidence
// first, then evidence. Validations raise it and violations lower it, each
// on a log scale so that a rule validated 100 times does not bury every
// newer one, and a violation weighs twice a validation.
func heuristicScore(confidence float64, validated, violated int64) float64 {
	return confidence + 0.15*math.Log2(1+float64(max(validated, 0))) - 0.3*math.Log2(1+float64(max(violated, 0)))
}
