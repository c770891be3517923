package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/emergent-learning/elfsync/query"
)

// Argument limits, in characters. The framework server's where it had one;
// recording limits are `elfsync record`'s (a longer title or summary would
// be refused by the writer anyway).
const (
	maxDomain      = 100
	maxQuery       = 500
	maxTitle       = 200
	maxSummary     = 5000
	maxTags        = 500
	maxRule        = 500
	maxExplanation = 5000
	maxRef         = 1000
	minQuery       = 2
	minTitle       = 5
	minSummary     = 10
	minRule        = 5
)

// Argument structs: field names are the framework server's.
type queryArgs struct {
	Domain    string `json:"domain"`
	Depth     string `json:"depth"`
	MaxTokens int    `json:"max_tokens"`
	Query     string `json:"query"`
}

type searchArgs struct {
	Query  string `json:"query"`
	Domain string `json:"domain"`
	Limit  int    `json:"limit"`
}

type failureArgs struct {
	Title    string `json:"title"`
	Domain   string `json:"domain"`
	Summary  string `json:"summary"`
	Severity int    `json:"severity"`
	Tags     string `json:"tags"`
}

type heuristicArgs struct {
	Domain      string  `json:"domain"`
	Rule        string  `json:"rule"`
	Explanation string  `json:"explanation"`
	Source      string  `json:"source"`
	Confidence  float64 `json:"confidence"`
}

type getArgs struct {
	ID   json.RawMessage `json:"id"`
	Path string          `json:"path"`
}

type bumpArgs struct {
	ID json.RawMessage `json:"id"`
}

type noArgs struct{}

// Schema helpers.
func str(desc string, minLen, maxLen int) *jsonschema.Schema {
	s := &jsonschema.Schema{Type: "string", Description: desc, MaxLength: &maxLen}
	if minLen > 0 {
		s.MinLength = &minLen
	}
	return s
}

func num(typ, desc string, lo, hi float64, def string) *jsonschema.Schema {
	return &jsonschema.Schema{Type: typ, Description: desc, Minimum: &lo, Maximum: &hi, Default: json.RawMessage(def)}
}

func enum(desc, def string, values ...string) *jsonschema.Schema {
	e := make([]any, len(values))
	for i, v := range values {
		e[i] = v
	}
	d, _ := json.Marshal(def)
	return &jsonschema.Schema{Type: "string", Description: desc, Enum: e, Default: d}
}

func object(required []string, props map[string]*jsonschema.Schema) *jsonschema.Schema {
	return &jsonschema.Schema{Type: "object", Properties: props, Required: required}
}

func refSchema(desc string) *jsonschema.Schema {
	maxLen := maxRef
	return &jsonschema.Schema{Types: []string{"string", "integer"}, Description: desc, MaxLength: &maxLen}
}

var no = false

func readOnly(title string) *mcp.ToolAnnotations {
	return &mcp.ToolAnnotations{Title: title, ReadOnlyHint: true, IdempotentHint: true, DestructiveHint: &no, OpenWorldHint: &no}
}

func writes(title string) *mcp.ToolAnnotations {
	return &mcp.ToolAnnotations{Title: title, ReadOnlyHint: false, IdempotentHint: false, DestructiveHint: &no, OpenWorldHint: &no}
}

func (s *Server) addTools() {
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:        "elf_query",
		Description: "Load the memory's briefing for the current work: golden rules (always), the domain's best heuristics, then relevant and recent failures and successes; depth 'deep' adds experiments, decisions and observations. Markdown, cut to max_tokens. Call it before starting a task.",
		Annotations: readOnly("Query ELF memory"),
		InputSchema: object(nil, map[string]*jsonschema.Schema{
			"domain":     str("Domain to focus on (e.g. 'git', 'sqlite', 'testing'); omit for every domain", 0, maxDomain),
			"depth":      enum("'minimal' (golden rules only), 'standard' (+ heuristics, failures, successes) or 'deep' (+ experiments, decisions, observations)", "standard", "minimal", "standard", "deep"),
			"max_tokens": num("integer", "Approximate token budget of the answer", 500, 20000, "5000"),
			"query":      str("Optional: what the task is about; relevant failures and heuristics come first", 0, maxQuery),
		}),
	}, s.elfQuery)
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:        "elf_search",
		Description: "Full-text search of the memory (failures, successes, heuristics, observations, decisions), ranked by relevance (BM25), with snippets. Plain words; FTS5 syntax (\"a phrase\", prefix*, AND/OR/NOT) also works.",
		Annotations: readOnly("Search ELF memory"),
		InputSchema: object([]string{"query"}, map[string]*jsonschema.Schema{
			"query":  str("What to look for", minQuery, maxQuery),
			"domain": str("Optional domain to keep", 0, maxDomain),
			"limit":  num("integer", "Maximum number of results", 1, 50, "10"),
		}),
	}, s.elfSearch)
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:        "elf_record_failure",
		Description: "Record a failure as a new memory file (memory/failures/), while the context is fresh: what went wrong and what was learned.",
		Annotations: writes("Record ELF failure"),
		InputSchema: object([]string{"title", "domain", "summary"}, map[string]*jsonschema.Schema{
			"title":    str("Brief title of the failure", minTitle, maxTitle),
			"domain":   str("Domain where it happened", 1, maxDomain),
			"summary":  str("What happened and what was learned", minSummary, maxSummary),
			"severity": num("integer", "1 (minor) to 5 (critical)", 1, 5, "3"),
			"tags":     str("Comma-separated tags", 0, maxTags),
		}),
	}, s.elfRecordFailure)
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:        "elf_record_heuristic",
		Description: "Record a heuristic (a reusable rule of thumb) as a new memory file (memory/heuristics/). Make it actionable, specific and testable.",
		Annotations: writes("Record ELF heuristic"),
		InputSchema: object([]string{"domain", "rule"}, map[string]*jsonschema.Schema{
			"domain":      str("Domain of the rule (e.g. 'git'); lower-cased, spaces become '-'", 1, maxDomain),
			"rule":        str("The rule, e.g. 'Always validate inputs before processing'", minRule, maxRule),
			"explanation": str("Why the rule works", 0, maxExplanation),
			"source":      enum("How the rule was found", "observation", "failure", "success", "observation"),
			"confidence":  num("number", "Confidence from 0.0 to 1.0", 0, 1, "0.7"),
		}),
	}, s.elfRecordHeuristic)
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:        "elf_ceo_inbox",
		Description: "List the CEO inbox (ROOT/ceo-inbox/*.md): items waiting for a human decision, and recent decisions.",
		Annotations: readOnly("Check ELF CEO inbox"),
		InputSchema: object(nil, map[string]*jsonschema.Schema{}),
	}, s.elfCEOInbox)
	mcp.AddTool(s.mcp, &mcp.Tool{
		Name:        "elf_get",
		Description: "Read one memory whole: by id (H-12 for a heuristic, L-12 for a failure, success or other learning, as elf_search returns them) or by path under memory/ (failures/x.md).",
		Annotations: readOnly("Get an ELF memory"),
		InputSchema: object(nil, map[string]*jsonschema.Schema{
			"id":   refSchema("The memory's id: H-12, L-12, or a number"),
			"path": str("The memory's path under memory/, e.g. failures/20261127_x.md", 0, maxRef),
		}),
	}, s.elfGet)
	for _, violated := range []bool{false, true} {
		name, verb, title := "elf_validate_heuristic", "validated", "Validate ELF heuristic"
		if violated {
			name, verb, title = "elf_violate_heuristic", "violated", "Violate ELF heuristic"
		}
		mcp.AddTool(s.mcp, &mcp.Tool{
			Name:        name,
			Description: fmt.Sprintf("Count that a heuristic was %s in this work: adds one to its times_%s, kept in the heuristic's file.", verb, verb),
			Annotations: writes(title),
			InputSchema: object([]string{"id"}, map[string]*jsonschema.Schema{
				"id": refSchema("The heuristic's id (H-12 or 12) or its path under memory/"),
			}),
		}, s.bumpHandler(violated))
	}
}

// checkLen enforces a limit in characters (the schema says the same; this
// is the handler's own guard).
func checkLen(name, v string, minLen, maxLen int) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("%s is not valid UTF-8", name)
	}
	n := utf8.RuneCountInString(v)
	if n > maxLen {
		return fmt.Errorf("%s is %d characters long; the limit is %d", name, n, maxLen)
	}
	if n < minLen {
		return fmt.Errorf("%s is %d characters long; at least %d are needed", name, n, minLen)
	}
	return nil
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

func jsonResult(v any) (*mcp.CallToolResult, any, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	return text(string(b)), nil, nil
}

func (s *Server) elfQuery(ctx context.Context, _ *mcp.CallToolRequest, a queryArgs) (*mcp.CallToolResult, any, error) {
	a.Domain, a.Query = strings.TrimSpace(a.Domain), strings.TrimSpace(a.Query)
	if err := errors.Join(checkLen("domain", a.Domain, 0, maxDomain), checkLen("query", a.Query, 0, maxQuery)); err != nil {
		return nil, nil, err
	}
	if a.MaxTokens == 0 {
		a.MaxTokens = query.DefaultMaxTokens
	}
	if a.MaxTokens < 500 || a.MaxTokens > 20000 {
		return nil, nil, errorf("max_tokens %d: want 500-20000", a.MaxTokens)
	}
	db, err := s.index(ctx)
	if err != nil {
		return nil, nil, err
	}
	b, err := db.Context(ctx, query.ContextOptions{Domain: a.Domain, Query: a.Query, Depth: a.Depth, MaxTokens: a.MaxTokens})
	if err != nil {
		return nil, nil, err
	}
	return text(b.Markdown()), nil, nil
}

// searchResult is elf_search's answer.
type searchResult struct {
	Query        string      `json:"query"`
	Domain       string      `json:"domain,omitempty"`
	TotalResults int         `json:"total_results"`
	Results      []query.Hit `json:"results"`
}

func (s *Server) elfSearch(ctx context.Context, _ *mcp.CallToolRequest, a searchArgs) (*mcp.CallToolResult, any, error) {
	a.Query, a.Domain = strings.TrimSpace(a.Query), strings.TrimSpace(a.Domain)
	if err := errors.Join(checkLen("query", a.Query, minQuery, maxQuery), checkLen("domain", a.Domain, 0, maxDomain)); err != nil {
		return nil, nil, err
	}
	if a.Limit == 0 {
		a.Limit = 10
	}
	if a.Limit < 1 || a.Limit > 50 {
		return nil, nil, errorf("limit %d: want 1-50", a.Limit)
	}
	db, err := s.index(ctx)
	if err != nil {
		return nil, nil, err
	}
	hits, err := db.Search(ctx, query.Query{Text: a.Query, Domain: a.Domain, Limit: a.Limit})
	if err != nil {
		return nil, nil, err
	}
	if hits == nil {
		hits = []query.Hit{}
	}
	return jsonResult(searchResult{Query: a.Query, Domain: a.Domain, TotalResults: len(hits), Results: hits})
}

// recordResult is what the recording tools answer.
type recordResult struct {
	Success bool   `json:"success"`
	Path    string `json:"filepath"`
	Domain  string `json:"domain"`
	Note    string `json:"note"`
	Written
}

func writtenNote(w Written) string {
	if w.IndexedNow {
		return "written and indexed; no watcher runs, so 'elfsync scan' or 'elfsync watch' commits it to git"
	}
	return fmt.Sprintf("written; the running watcher (pid %d) indexes and commits it", w.WatcherPID)
}

func (s *Server) elfRecordFailure(ctx context.Context, _ *mcp.CallToolRequest, a failureArgs) (*mcp.CallToolResult, any, error) {
	a.Title, a.Domain, a.Summary, a.Tags = strings.TrimSpace(a.Title), strings.TrimSpace(a.Domain), strings.TrimSpace(a.Summary), strings.TrimSpace(a.Tags)
	if err := errors.Join(
		checkLen("title", a.Title, minTitle, maxTitle),
		checkLen("domain", a.Domain, 1, maxDomain),
		checkLen("summary", a.Summary, minSummary, maxSummary),
		checkLen("tags", a.Tags, 0, maxTags),
	); err != nil {
		return nil, nil, err
	}
	if a.Severity == 0 {
		a.Severity = 3
	}
	if a.Severity < 1 || a.Severity > 5 {
		return nil, nil, errorf("severity %d: want 1-5", a.Severity)
	}
	if s.opts.Recorder == nil {
		return nil, nil, errors.New("recording is not available in this server")
	}
	w, err := s.opts.Recorder.Record(ctx, "failure", map[string]string{
		"title": a.Title, "domain": a.Domain, "summary": a.Summary, "severity": strconv.Itoa(a.Severity), "tags": a.Tags,
	})
	if err != nil {
		return nil, nil, err
	}
	return jsonResult(recordResult{Success: true, Path: w.Path, Domain: a.Domain, Note: writtenNote(w), Written: w})
}

var domainJunk = regexp.MustCompile(`[^a-z0-9-]`)

// cleanDomain is the framework server's domain rule for heuristics
// (lower case, spaces to '-', nothing but [a-z0-9-]), so that a domain
// recorded here matches the ones it recorded.
func cleanDomain(d string) string {
	d = strings.ReplaceAll(strings.ToLower(d), " ", "-")
	return strings.Trim(domainJunk.ReplaceAllString(d, ""), "-")
}

func (s *Server) elfRecordHeuristic(ctx context.Context, _ *mcp.CallToolRequest, a heuristicArgs) (*mcp.CallToolResult, any, error) {
	a.Domain, a.Rule, a.Explanation = strings.TrimSpace(a.Domain), strings.TrimSpace(a.Rule), strings.TrimSpace(a.Explanation)
	if err := errors.Join(
		checkLen("domain", a.Domain, 1, maxDomain),
		checkLen("rule", a.Rule, minRule, maxRule),
		checkLen("explanation", a.Explanation, 0, maxExplanation),
	); err != nil {
		return nil, nil, err
	}
	domain := cleanDomain(a.Domain)
	if domain == "" {
		return nil, nil, errorf("domain %q has no letter or digit", a.Domain)
	}
	switch a.Source {
	case "":
		a.Source = "observation"
	case "failure", "success", "observation":
	default:
		return nil, nil, errorf("source %q: want failure, success or observation", a.Source)
	}
	if math.IsNaN(a.Confidence) || a.Confidence < 0 || a.Confidence > 1 {
		return nil, nil, errorf("confidence %v: want 0.0-1.0", a.Confidence)
	}
	if s.opts.Recorder == nil {
		return nil, nil, errors.New("recording is not available in this server")
	}
	conf := strconv.FormatFloat(math.Round(a.Confidence*1e6)/1e6, 'f', -1, 64)
	w, err := s.opts.Recorder.Record(ctx, "heuristic", map[string]string{
		"domain": domain, "rule": a.Rule, "explanation": a.Explanation, "source": a.Source, "confidence": conf,
	})
	if err != nil {
		return nil, nil, err
	}
	return jsonResult(recordResult{Success: true, Path: w.Path, Domain: domain, Note: writtenNote(w), Written: w})
}

// refArg reads an id given as a string or a number.
func refArg(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if len(raw) > maxRef+2 {
		return "", errorf("id is %d bytes long; the limit is %d", len(raw), maxRef)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return strings.TrimSpace(s), checkLen("id", s, 0, maxRef)
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err == nil && n > 0 {
		return strconv.FormatInt(n, 10), nil
	}
	return "", errorf("id %s: want a string like H-12 or a positive integer", string(raw))
}

func (s *Server) elfGet(ctx context.Context, _ *mcp.CallToolRequest, a getArgs) (*mcp.CallToolResult, any, error) {
	id, err := refArg(a.ID)
	if err != nil {
		return nil, nil, err
	}
	if err := checkLen("path", a.Path, 0, maxRef); err != nil {
		return nil, nil, err
	}
	ref := id
	switch {
	case id != "" && a.Path != "":
		return nil, nil, errors.New("give id or path, not both")
	case id == "" && strings.TrimSpace(a.Path) == "":
		return nil, nil, errors.New("give id (H-12, L-12) or path (failures/x.md)")
	case id == "":
		ref = strings.TrimSpace(a.Path)
		if _, _, isID := query.ParseRef(ref); isID {
			return nil, nil, errorf("path %q looks like an id: pass it as id", ref)
		}
	}
	db, err := s.index(ctx)
	if err != nil {
		return nil, nil, err
	}
	rec, err := db.Get(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	return jsonResult(rec)
}

func (s *Server) bumpHandler(violated bool) mcp.ToolHandlerFor[bumpArgs, any] {
	return func(ctx context.Context, _ *mcp.CallToolRequest, a bumpArgs) (*mcp.CallToolResult, any, error) {
		ref, err := refArg(a.ID)
		if err != nil {
			return nil, nil, err
		}
		if ref == "" {
			return nil, nil, errors.New("give the heuristic's id (H-12 or 12) or its path")
		}
		if s.opts.Counter == nil {
			return nil, nil, errors.New("counting is not available in this server")
		}
		b, err := s.opts.Counter.Bump(ctx, ref, violated)
		if err != nil {
			return nil, nil, err
		}
		note := writtenNote(Written{IndexedNow: b.IndexedNow, WatcherPID: b.WatcherPID})
		return jsonResult(struct {
			Success bool `json:"success"`
			Bumped
			Note string `json:"note"`
		}{true, b, note})
	}
}
