package mcpserver

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Bounds of the inbox: files listed, bytes read of each.
const (
	maxInboxFiles = 20
	maxInboxRead  = 64 << 10
)

// inboxItem is one CEO inbox file, in the framework server's shape.
type inboxItem struct {
	Filename string `json:"filename"`
	Title    string `json:"title"`
	Status   string `json:"status"`
	Priority string `json:"priority"`
	Domain   string `json:"domain,omitempty"`
	Created  string `json:"created,omitempty"`
	Summary  string `json:"summary"`
}

type inboxResult struct {
	PendingCount  int         `json:"pending_count"`
	DecidedCount  int         `json:"decided_count"`
	PendingItems  []inboxItem `json:"pending_items"`
	RecentDecided []inboxItem `json:"recent_decided"`
}

func (s *Server) elfCEOInbox(_ context.Context, _ *mcp.CallToolRequest, _ noArgs) (*mcp.CallToolResult, any, error) {
	res, err := readInbox(filepath.Join(s.opts.Root, "ceo-inbox"))
	if err != nil {
		return nil, nil, err
	}
	return jsonResult(res)
}

// readInbox lists dir's *.md files (not TEMPLATE.md, not symlinks), the 20
// most recently modified, and sorts them into pending and decided by their
// frontmatter status (pending when it says none).
func readInbox(dir string) (inboxResult, error) {
	res := inboxResult{PendingItems: []inboxItem{}, RecentDecided: []inboxItem{}}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return res, nil
	}
	if err != nil {
		return res, err
	}
	type file struct {
		name string
		info fs.FileInfo
	}
	var files []file
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".md") || e.Name() == "TEMPLATE.md" || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		files = append(files, file{e.Name(), info})
	}
	sort.Slice(files, func(i, j int) bool {
		a, b := files[i].info.ModTime(), files[j].info.ModTime()
		if !a.Equal(b) {
			return a.After(b)
		}
		return files[i].name < files[j].name
	})
	for _, f := range files[:min(len(files), maxInboxFiles)] {
		it, ok := readInboxItem(filepath.Join(dir, f.name))
		if !ok {
			continue
		}
		switch it.Status {
		case "pending":
			res.PendingItems = append(res.PendingItems, it)
		case "decided":
			res.DecidedCount++
			if len(res.RecentDecided) < 5 {
				res.RecentDecided = append(res.RecentDecided, it)
			}
		}
	}
	res.PendingCount = len(res.PendingItems)
	return res, nil
}

var (
	headingRE   = regexp.MustCompile(`(?m)^#\s+(.+)$`)
	situationRE = regexp.MustCompile(`(?s)##\s+Situation\s*\n+(.+?)(?:\n##|$)`)
)

func readInboxItem(path string) (inboxItem, bool) {
	f, err := os.Open(path)
	if err != nil {
		return inboxItem{}, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxInboxRead))
	if err != nil {
		return inboxItem{}, false
	}
	content := strings.ReplaceAll(string(data), "\r\n", "\n")
	fm := simpleFrontmatter(content)
	it := inboxItem{
		Filename: filepath.Base(path),
		Title:    strings.TrimSuffix(filepath.Base(path), ".md"),
		Status:   orDefault(fm["status"], "pending"),
		Priority: orDefault(fm["priority"], "medium"),
		Domain:   fm["domain"],
		Created:  fm["created"],
	}
	if m := headingRE.FindStringSubmatch(content); m != nil {
		it.Title = strings.TrimSpace(m[1])
	}
	if m := situationRE.FindStringSubmatch(content); m != nil {
		it.Summary = clipRunes(strings.TrimSpace(m[1]), 200)
	}
	return it, true
}

// simpleFrontmatter reads "key: value" lines of a leading --- block, as
// the framework server does for inbox files.
func simpleFrontmatter(content string) map[string]string {
	out := map[string]string{}
	if !strings.HasPrefix(content, "---") {
		return out
	}
	end := strings.Index(content[3:], "\n---")
	if end < 0 {
		return out
	}
	for _, line := range strings.Split(content[3:3+end], "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		switch strings.ToLower(v) {
		case "", "null", "none", "~":
			continue
		}
		out[strings.TrimSpace(k)] = v
	}
	return out
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
