package main

import (
	"context"
	"errors"
	"io"

	"github.com/emergent-learning/elfsync/doctor"
	"github.com/emergent-learning/elfsync/query"
	"github.com/emergent-learning/elfsync/record"
)

func cmdContext(ctx context.Context, e *cmdEnv, args []string) error {
	fs, rootFlag := e.newFlagSet("context", "[flags]")
	domain := fs.String("domain", "", "the domain to brief on (default: every domain)")
	tags := fs.String("tags", "", "comma-separated tags: matching items rank first")
	q := fs.String("query", "", "what the session is about: relevant items rank first")
	depth := fs.String("depth", query.DepthStandard, "minimal (golden rules), standard, or deep (adds experiments, decisions, observations)")
	maxTokens := fs.Int("max-tokens", query.DefaultMaxTokens, "token budget (100-100000)")
	format := fs.String("format", "markdown", "markdown or json")
	root, err := e.parseRoot(fs, args, rootFlag)
	if err != nil {
		return err
	}
	if *format != "markdown" && *format != "json" {
		return usagef("context: --format %q: want markdown or json", *format)
	}
	if *maxTokens < 100 || *maxTokens > 100000 {
		return usagef("context: --max-tokens %d: want 100-100000", *maxTokens)
	}
	switch *depth {
	case query.DepthMinimal, query.DepthStandard, query.DepthDeep:
	default:
		return usagef("context: --depth %q: want minimal, standard or deep", *depth)
	}
	db, err := query.Open(ctx, root)
	if err != nil {
		return doctor.Explain(root, err)
	}
	defer db.Close()
	b, err := db.Context(ctx, query.ContextOptions{
		Domain: *domain, Tags: record.SplitTags(*tags), Query: *q, Depth: *depth, MaxTokens: *maxTokens,
	})
	if errors.Is(err, query.ErrBadQuery) {
		return mark(errUsage, err)
	}
	if err != nil {
		return err
	}
	if *format == "json" {
		return b.WriteJSON(e.stdout)
	}
	_, err = io.WriteString(e.stdout, b.Markdown())
	return err
}
