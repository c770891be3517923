package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/rs/zerolog"

	"github.com/emergent-learning/elfsync/query"
)

// Recorder writes a new memory file exactly as `elfsync record` does.
type Recorder interface {
	// Record writes a record of type typ ("failure", "heuristic") from
	// the named fields, as `elfsync record TYPE --NAME VALUE` would.
	Record(ctx context.Context, typ string, fields map[string]string) (Written, error)
}

// Counter bumps a heuristic's counter in its file.
type Counter interface {
	// Bump adds one to times_violated (violated) or times_validated of the
	// heuristic ref (an id like H-12, or a path under memory/).
	Bump(ctx context.Context, ref string, violated bool) (Bumped, error)
}

// Written says where a record went and who indexes it.
type Written struct {
	Path       string `json:"path"`        // root-relative
	IndexedNow bool   `json:"indexed_now"` // indexed by this call (no watcher runs)
	WatcherPID int    `json:"watcher_pid,omitempty"`
}

// Bumped is a heuristic's counters after a bump.
type Bumped struct {
	Path           string `json:"path"`
	TimesValidated int64  `json:"times_validated"`
	TimesViolated  int64  `json:"times_violated"`
	IndexedNow     bool   `json:"indexed_now"`
	WatcherPID     int    `json:"watcher_pid,omitempty"`
}

// Options configure a Server.
type Options struct {
	Root     string // ROOT; the index is ROOT/memory/index.db
	Recorder Recorder
	Counter  Counter
	Version  string
	Logger   zerolog.Logger
}

// Server is the MCP server of one root.
type Server struct {
	opts Options
	log  zerolog.Logger
	mcp  *mcp.Server

	mu     sync.Mutex
	db     *query.DB
	dbStat os.FileInfo
}

// New builds the server and registers its tools. It opens nothing yet.
func New(opts Options) *Server {
	s := &Server{opts: opts, log: opts.Logger.With().Str("component", "mcp").Logger()}
	version := opts.Version
	if version == "" {
		version = "dev"
	}
	s.mcp = mcp.NewServer(&mcp.Implementation{Name: "elfsync", Title: "Emergent Learning Framework memory (elfsync)", Version: version}, &mcp.ServerOptions{
		Instructions: "The Emergent Learning Framework's memory. Call elf_query at the start of a task for the briefing " +
			"(golden rules, heuristics, recent failures); elf_search when you meet a problem; record what you learn " +
			"with elf_record_failure and elf_record_heuristic; report whether a heuristic helped with " +
			"elf_validate_heuristic or elf_violate_heuristic.",
	})
	s.mcp.AddReceivingMiddleware(s.harden)
	s.addTools()
	return s
}

// MCP returns the SDK server, for in-process transports.
func (s *Server) MCP() *mcp.Server { return s.mcp }

// Run serves newline-delimited JSON-RPC on r and w (the process's stdin
// and stdout) until the client closes r or ctx ends.
func (s *Server) Run(ctx context.Context, r io.Reader, w io.Writer) error {
	defer s.Close()
	lw := &lockedWriter{w: w}
	err := s.mcp.Run(ctx, &mcp.IOTransport{Reader: io.NopCloser(guard(r, lw)), Writer: nopWriteCloser{lw}})
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// Close closes the index connection.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db != nil {
		err := s.db.Close()
		s.db = nil
		return err
	}
	return nil
}

// index returns the read-only index, opening it on first use and again
// when the file was replaced (a rebuild sets the old one aside).
func (s *Server) index(ctx context.Context) (*query.DB, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := filepath.Join(s.opts.Root, "memory", "index.db")
	fi, statErr := os.Stat(path)
	if s.db != nil && statErr == nil && os.SameFile(fi, s.dbStat) {
		return s.db, nil
	}
	if s.db != nil {
		s.log.Info().Msg("index file replaced: reopening")
		s.db.Close()
		s.db = nil
	}
	db, err := query.Open(ctx, s.opts.Root)
	if err != nil {
		return nil, err
	}
	s.db, s.dbStat = db, fi
	return db, nil
}

// errorf makes a tool error.
func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
