package indexer

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// The schema is the framework's own (its templates/init_db.sql, plus the
// decisions and invariants tables its query tool creates and the columns
// its current models read, e.g. heuristics.project_path), so the
// framework's tools run against an elfsync index unchanged, plus elfsync's
// own tables and key columns:
//
//   - elf_key on learnings, heuristics and decisions names the record a row
//     projects: the file's root-relative path, or "<path>#H-<n>" for a
//     section of a multi-heuristic domain file. It is unique where set and
//     NULL on rows a framework tool inserted itself, so no framework INSERT
//     can fail on it. filepath has no UNIQUE or NOT NULL constraint of
//     elfsync's.
//   - files is the ledger of tracked files.
//   - search_docs holds the full-text columns of every record and search is
//     an external-content FTS5 table over it (readable by SQLite 3.9 and
//     newer, by .dump and by Python's iterdump). Its entries are written
//     right after the rows, up to meta.fts_upto (see searchTriggers).
//   - meta holds elfsync's own settings and times.
//
// Decision records go to the framework's decisions table, where its
// --decisions query looks: its learnings.type CHECK has no 'decision'.

// frameworkTables creates every table of the framework that elfsync does
// not own, as the framework declares them. Each statement is IF NOT EXISTS:
// an adopted database keeps its own definitions.
const frameworkTables = `
CREATE TABLE IF NOT EXISTS experiments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    hypothesis TEXT,
    status TEXT DEFAULT 'active',
    cycles_run INTEGER DEFAULT 0,
    folder_path TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS ceo_reviews (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    context TEXT,
    recommendation TEXT,
    status TEXT DEFAULT 'pending',
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    reviewed_at DATETIME
);
CREATE TABLE IF NOT EXISTS cycles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment_id INTEGER,
    cycle_number INTEGER,
    try_summary TEXT,
    break_summary TEXT,
    analysis TEXT,
    learning_extracted TEXT,
    heuristic_id INTEGER,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    FOREIGN KEY (experiment_id) REFERENCES experiments(id),
    FOREIGN KEY (heuristic_id) REFERENCES heuristics(id)
);
CREATE TABLE IF NOT EXISTS metrics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp DATETIME DEFAULT CURRENT_TIMESTAMP,
    metric_type TEXT NOT NULL,
    metric_name TEXT NOT NULL,
    metric_value REAL NOT NULL,
    tags TEXT,
    context TEXT
);
CREATE TABLE IF NOT EXISTS system_health (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp DATETIME DEFAULT CURRENT_TIMESTAMP,
    status TEXT NOT NULL,
    db_integrity TEXT,
    db_size_mb REAL,
    disk_free_mb REAL,
    git_status TEXT,
    stale_locks INTEGER DEFAULT 0,
    details TEXT
);
CREATE TABLE IF NOT EXISTS violations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id INTEGER NOT NULL,
    rule_name TEXT NOT NULL,
    violation_date DATETIME DEFAULT CURRENT_TIMESTAMP,
    description TEXT,
    session_id TEXT,
    acknowledged INTEGER DEFAULT 0
);
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    applied_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    description TEXT
);
CREATE TABLE IF NOT EXISTS db_operations (
    id INTEGER PRIMARY KEY CHECK(id = 1),
    operation_count INTEGER DEFAULT 0,
    last_vacuum DATETIME,
    last_analyze DATETIME,
    total_vacuums INTEGER DEFAULT 0,
    total_analyzes INTEGER DEFAULT 0
);
CREATE TABLE IF NOT EXISTS workflows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    description TEXT,
    nodes_json TEXT NOT NULL DEFAULT '[]',
    config_json TEXT DEFAULT '{}',
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS workflow_edges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow_id INTEGER NOT NULL,
    from_node TEXT NOT NULL,
    to_node TEXT NOT NULL,
    condition TEXT DEFAULT '',
    priority INTEGER DEFAULT 100,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    FOREIGN KEY (workflow_id) REFERENCES workflows(id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS workflow_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow_id INTEGER,
    workflow_name TEXT,
    status TEXT NOT NULL DEFAULT 'pending',
    phase TEXT DEFAULT 'init',
    input_json TEXT DEFAULT '{}',
    output_json TEXT DEFAULT '{}',
    context_json TEXT DEFAULT '{}',
    total_nodes INTEGER DEFAULT 0,
    completed_nodes INTEGER DEFAULT 0,
    failed_nodes INTEGER DEFAULT 0,
    started_at DATETIME,
    completed_at DATETIME,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    error_message TEXT,
    FOREIGN KEY (workflow_id) REFERENCES workflows(id)
);
CREATE TABLE IF NOT EXISTS node_executions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL,
    node_id TEXT NOT NULL,
    node_name TEXT,
    node_type TEXT NOT NULL DEFAULT 'single',
    agent_id TEXT,
    session_id TEXT,
    prompt TEXT,
    prompt_hash TEXT,
    status TEXT NOT NULL DEFAULT 'pending',
    result_json TEXT DEFAULT '{}',
    result_text TEXT,
    findings_json TEXT DEFAULT '[]',
    files_modified TEXT DEFAULT '[]',
    duration_ms INTEGER,
    token_count INTEGER,
    retry_count INTEGER DEFAULT 0,
    started_at DATETIME,
    completed_at DATETIME,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    error_message TEXT,
    error_type TEXT,
    FOREIGN KEY (run_id) REFERENCES workflow_runs(id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS trails (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER,
    location TEXT NOT NULL,
    location_type TEXT DEFAULT 'file',
    scent TEXT NOT NULL,
    strength REAL DEFAULT 1.0,
    agent_id TEXT,
    node_id TEXT,
    message TEXT,
    tags TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    expires_at DATETIME,
    FOREIGN KEY (run_id) REFERENCES workflow_runs(id)
);
CREATE TABLE IF NOT EXISTS conductor_decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL,
    decision_type TEXT NOT NULL,
    decision_data TEXT DEFAULT '{}',
    reason TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    FOREIGN KEY (run_id) REFERENCES workflow_runs(id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS building_queries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    query_type TEXT NOT NULL,
    session_id TEXT,
    agent_id TEXT,
    domain TEXT,
    tags TEXT,
    limit_requested INTEGER,
    max_tokens_requested INTEGER,
    results_returned INTEGER,
    tokens_approximated INTEGER,
    duration_ms INTEGER,
    status TEXT DEFAULT 'success',
    error_message TEXT,
    error_code TEXT,
    golden_rules_returned INTEGER DEFAULT 0,
    heuristics_count INTEGER DEFAULT 0,
    learnings_count INTEGER DEFAULT 0,
    experiments_count INTEGER DEFAULT 0,
    ceo_reviews_count INTEGER DEFAULT 0,
    query_summary TEXT,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    completed_at DATETIME
);
CREATE TABLE IF NOT EXISTS spike_reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    topic TEXT,
    question TEXT,
    findings TEXT,
    gotchas TEXT,
    resources TEXT,
    time_invested_minutes INTEGER,
    domain TEXT,
    tags TEXT,
    usefulness_score REAL DEFAULT 0,
    access_count INTEGER DEFAULT 0,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS assumptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    assumption TEXT NOT NULL,
    context TEXT,
    source TEXT,
    confidence REAL DEFAULT 0.5 CHECK(confidence >= 0.0 AND confidence <= 1.0),
    status TEXT DEFAULT 'active' CHECK(status IN ('active', 'verified', 'challenged', 'invalidated')),
    domain TEXT,
    verified_count INTEGER DEFAULT 0,
    challenged_count INTEGER DEFAULT 0,
    last_verified_at DATETIME,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS session_summaries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL UNIQUE,
    project TEXT NOT NULL,
    tool_summary TEXT,
    content_summary TEXT,
    conversation_summary TEXT,
    files_touched TEXT DEFAULT '[]',
    tool_counts TEXT DEFAULT '{}',
    message_count INTEGER DEFAULT 0,
    session_file_path TEXT,
    session_file_size INTEGER,
    session_last_modified DATETIME,
    summarized_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    summarizer_model TEXT DEFAULT 'haiku',
    summary_version INTEGER DEFAULT 1,
    is_stale INTEGER DEFAULT 0,
    needs_resummarize INTEGER DEFAULT 0
);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    context TEXT NOT NULL,
    options_considered TEXT,
    decision TEXT NOT NULL,
    rationale TEXT NOT NULL,
    files_touched TEXT,
    tests_added TEXT,
    status TEXT DEFAULT 'accepted',
    domain TEXT,
    superseded_by INTEGER REFERENCES decisions(id) ON DELETE SET NULL,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS invariants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    statement TEXT NOT NULL,
    rationale TEXT NOT NULL,
    domain TEXT,
    scope TEXT DEFAULT 'codebase',
    validation_type TEXT,
    validation_code TEXT,
    severity TEXT DEFAULT 'error',
    status TEXT DEFAULT 'active',
    violation_count INTEGER DEFAULT 0,
    last_validated_at DATETIME,
    last_violated_at DATETIME,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
`

// frameworkIndexes are the framework's indexes, one a line. An adopted
// table from an older install may lack an indexed column: such an index is
// skipped.
const frameworkIndexes = `
CREATE INDEX IF NOT EXISTS idx_learnings_domain ON learnings(domain);
CREATE INDEX IF NOT EXISTS idx_learnings_type ON learnings(type);
CREATE INDEX IF NOT EXISTS idx_learnings_created_at ON learnings(created_at DESC);
CREATE INDEX IF NOT EXISTS idx_learnings_domain_created ON learnings(domain, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_heuristics_domain ON heuristics(domain);
CREATE INDEX IF NOT EXISTS idx_heuristics_golden ON heuristics(is_golden);
CREATE INDEX IF NOT EXISTS idx_heuristics_confidence ON heuristics(confidence);
CREATE INDEX IF NOT EXISTS idx_heuristics_created_at ON heuristics(created_at DESC);
CREATE INDEX IF NOT EXISTS idx_heuristics_domain_confidence ON heuristics(domain, confidence DESC);
CREATE INDEX IF NOT EXISTS idx_experiments_status ON experiments(status);
CREATE INDEX IF NOT EXISTS idx_ceo_reviews_status ON ceo_reviews(status);
CREATE INDEX IF NOT EXISTS idx_metrics_timestamp ON metrics(timestamp DESC);
CREATE INDEX IF NOT EXISTS idx_metrics_type ON metrics(metric_type);
CREATE INDEX IF NOT EXISTS idx_metrics_name ON metrics(metric_name);
CREATE INDEX IF NOT EXISTS idx_metrics_type_name ON metrics(metric_type, metric_name, timestamp DESC);
CREATE INDEX IF NOT EXISTS idx_health_timestamp ON system_health(timestamp DESC);
CREATE INDEX IF NOT EXISTS idx_health_status ON system_health(status);
CREATE INDEX IF NOT EXISTS idx_violations_date ON violations(violation_date DESC);
CREATE INDEX IF NOT EXISTS idx_violations_rule ON violations(rule_id);
CREATE INDEX IF NOT EXISTS idx_violations_acknowledged ON violations(acknowledged);
CREATE INDEX IF NOT EXISTS idx_workflows_name ON workflows(name);
CREATE INDEX IF NOT EXISTS idx_edges_workflow ON workflow_edges(workflow_id);
CREATE INDEX IF NOT EXISTS idx_edges_from ON workflow_edges(from_node);
CREATE INDEX IF NOT EXISTS idx_edges_to ON workflow_edges(to_node);
CREATE INDEX IF NOT EXISTS idx_runs_workflow ON workflow_runs(workflow_id);
CREATE INDEX IF NOT EXISTS idx_runs_status ON workflow_runs(status);
CREATE INDEX IF NOT EXISTS idx_runs_created ON workflow_runs(created_at DESC);
CREATE INDEX IF NOT EXISTS idx_node_exec_run ON node_executions(run_id);
CREATE INDEX IF NOT EXISTS idx_node_exec_agent ON node_executions(agent_id);
CREATE INDEX IF NOT EXISTS idx_node_exec_status ON node_executions(status);
CREATE INDEX IF NOT EXISTS idx_node_exec_created ON node_executions(created_at DESC);
CREATE INDEX IF NOT EXISTS idx_node_exec_node_id ON node_executions(node_id);
CREATE INDEX IF NOT EXISTS idx_node_exec_prompt_hash ON node_executions(prompt_hash);
CREATE INDEX IF NOT EXISTS idx_trails_run ON trails(run_id);
CREATE INDEX IF NOT EXISTS idx_trails_location ON trails(location);
CREATE INDEX IF NOT EXISTS idx_trails_scent ON trails(scent);
CREATE INDEX IF NOT EXISTS idx_trails_strength ON trails(strength DESC);
CREATE INDEX IF NOT EXISTS idx_trails_created ON trails(created_at DESC);
CREATE INDEX IF NOT EXISTS idx_trails_agent ON trails(agent_id);
CREATE INDEX IF NOT EXISTS idx_decisions_run ON conductor_decisions(run_id);
CREATE INDEX IF NOT EXISTS idx_decisions_type ON conductor_decisions(decision_type);
CREATE INDEX IF NOT EXISTS idx_building_queries_type ON building_queries(query_type);
CREATE INDEX IF NOT EXISTS idx_building_queries_session ON building_queries(session_id);
CREATE INDEX IF NOT EXISTS idx_building_queries_created ON building_queries(created_at DESC);
CREATE INDEX IF NOT EXISTS idx_building_queries_status ON building_queries(status);
CREATE INDEX IF NOT EXISTS idx_spike_reports_domain ON spike_reports(domain);
CREATE INDEX IF NOT EXISTS idx_spike_reports_topic ON spike_reports(topic);
CREATE INDEX IF NOT EXISTS idx_spike_reports_created ON spike_reports(created_at DESC);
CREATE INDEX IF NOT EXISTS idx_spike_reports_usefulness ON spike_reports(usefulness_score DESC);
CREATE INDEX IF NOT EXISTS idx_assumptions_domain ON assumptions(domain);
CREATE INDEX IF NOT EXISTS idx_assumptions_status ON assumptions(status);
CREATE INDEX IF NOT EXISTS idx_assumptions_confidence ON assumptions(confidence DESC);
CREATE INDEX IF NOT EXISTS idx_assumptions_created ON assumptions(created_at DESC);
CREATE INDEX IF NOT EXISTS idx_session_summaries_session ON session_summaries(session_id);
CREATE INDEX IF NOT EXISTS idx_session_summaries_project ON session_summaries(project);
CREATE INDEX IF NOT EXISTS idx_session_summaries_summarized ON session_summaries(summarized_at DESC);
CREATE INDEX IF NOT EXISTS idx_session_summaries_stale ON session_summaries(is_stale);
CREATE INDEX IF NOT EXISTS idx_decisions_domain ON decisions(domain);
CREATE INDEX IF NOT EXISTS idx_decisions_status ON decisions(status);
CREATE INDEX IF NOT EXISTS idx_decisions_created_at ON decisions(created_at);
`

// frameworkTriggers are its validation triggers and seed rows.
const frameworkTriggers = `
CREATE TRIGGER IF NOT EXISTS learnings_validate_insert
BEFORE INSERT ON learnings
FOR EACH ROW
WHEN NEW.type NOT IN ('failure', 'success', 'heuristic', 'experiment', 'observation')
   OR (CAST(NEW.severity AS INTEGER) < 1 OR CAST(NEW.severity AS INTEGER) > 5)
BEGIN
    SELECT RAISE(ABORT, 'Validation failed: invalid type or severity');
END;
CREATE TRIGGER IF NOT EXISTS learnings_validate_update
BEFORE UPDATE ON learnings
FOR EACH ROW
WHEN NEW.type NOT IN ('failure', 'success', 'heuristic', 'experiment', 'observation')
   OR (CAST(NEW.severity AS INTEGER) < 1 OR CAST(NEW.severity AS INTEGER) > 5)
BEGIN
    SELECT RAISE(ABORT, 'Validation failed: invalid type or severity');
END;
CREATE TRIGGER IF NOT EXISTS heuristics_validate_insert
BEFORE INSERT ON heuristics
FOR EACH ROW
WHEN NEW.confidence < 0.0 OR NEW.confidence > 1.0
   OR NEW.times_validated < 0
   OR (NEW.times_violated IS NOT NULL AND NEW.times_violated < 0)
BEGIN
    SELECT RAISE(ABORT, 'Validation failed: invalid confidence or counts');
END;
CREATE TRIGGER IF NOT EXISTS heuristics_validate_update
BEFORE UPDATE ON heuristics
FOR EACH ROW
WHEN NEW.confidence < 0.0 OR NEW.confidence > 1.0
   OR NEW.times_validated < 0
   OR (NEW.times_violated IS NOT NULL AND NEW.times_violated < 0)
BEGIN
    SELECT RAISE(ABORT, 'Validation failed: invalid confidence or counts');
END;

INSERT OR IGNORE INTO schema_version (version, description) VALUES (2, 'Added building_queries, spike_reports, assumptions, session_summaries tables');
INSERT OR IGNORE INTO db_operations (id, operation_count, total_vacuums, total_analyzes) VALUES (1, 0, 0, 0);
`

// recordTables creates learnings and heuristics in a new index: the
// framework's columns and constraints, with filepath nullable, plus
// elfsync's columns.
const recordTables = `
CREATE TABLE learnings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL CHECK(type IN ('failure', 'success', 'heuristic', 'experiment', 'observation')),
    filepath TEXT,
    title TEXT NOT NULL,
    summary TEXT,
    tags TEXT,
    domain TEXT,
    severity INTEGER DEFAULT 3 CHECK(severity >= 1 AND severity <= 5),
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    extra TEXT,
    elf_key TEXT
);
CREATE TABLE heuristics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    domain TEXT NOT NULL,
    rule TEXT NOT NULL,
    explanation TEXT,
    source_type TEXT,
    source_id INTEGER,
    confidence REAL DEFAULT 0.5 CHECK(confidence >= 0.0 AND confidence <= 1.0),
    times_validated INTEGER DEFAULT 0 CHECK(times_validated >= 0),
    times_violated INTEGER DEFAULT 0 CHECK(times_violated >= 0),
    is_golden INTEGER DEFAULT 0,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    project_path TEXT,
    filepath TEXT,
    title TEXT,
    tags TEXT,
    extra TEXT,
    elf_key TEXT
);
`

// searchTriggers keep search in step with search_docs for the rows it
// already indexes: those whose id is at most meta.fts_upto. A large write
// gives a new text a new search_docs row with a larger id (never an
// UPDATE in place a row at a time, which would make FTS5 write a segment
// per row) and indexes the rows above fts_upto in one statement, in id
// order, raising fts_upto in the same transaction (see catchUpSearch). So
// a delete or an update of an indexed row takes its entry out here, and
// rows above fts_upto, written but not yet indexed, are searchable once
// the next catch-up runs: a crash between the two leaves them for the
// next scan. A small write writes its FTS5 entries itself, in one
// statement, with fts_upto below the rows it changes (see
// writeDocsIndexed). Plain SQL: only elfsync writes search_docs, but any
// SQLite can.
const searchTriggers = `
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs
WHEN old.id <= coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'fts_upto'), 0) BEGIN
	INSERT INTO search (search, rowid, title, summary, body, rule) VALUES ('delete', old.id, old.title, old.summary, old.body, old.rule);
END;
CREATE TRIGGER search_docs_au AFTER UPDATE OF title, summary, body, rule ON search_docs
WHEN old.id <= coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'fts_upto'), 0) BEGIN
	INSERT INTO search (search, rowid, title, summary, body, rule) VALUES ('delete', old.id, old.title, old.summary, old.body, old.rule);
	INSERT INTO search (rowid, title, summary, body, rule) VALUES (new.id, new.title, new.summary, new.body, new.rule);
END;
`

// fromV2 replaces the second schema's full-text triggers (one FTS5 write
// per search_docs row) with searchTriggers. Every row the old triggers
// wrote is indexed, so fts_upto starts at the largest id.
func fromV2(ctx context.Context, tx *sql.Tx) error {
	for _, q := range []string{
		`DROP TRIGGER IF EXISTS search_docs_ai`,
		`DROP TRIGGER IF EXISTS search_docs_ad`,
		`DROP TRIGGER IF EXISTS search_docs_au`,
		`INSERT INTO meta (key, value) SELECT 'fts_upto', coalesce(max(id), 0) FROM search_docs WHERE true
		 ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
		`INSERT INTO search (search, rank) VALUES ('automerge', 0)`,
		searchTriggers,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("from version 2: %w", err)
		}
	}
	return nil
}

// elfsyncTables creates elfsync's own tables and key indexes. It runs after
// the record tables have their elf_key columns.
const elfsyncTables = `
CREATE UNIQUE INDEX elf_learnings_key ON learnings(elf_key);
CREATE UNIQUE INDEX elf_heuristics_key ON heuristics(elf_key);
CREATE UNIQUE INDEX elf_decisions_key ON decisions(elf_key);
-- Only the framework's rows (no elf_key) are looked up by filepath, to be
-- claimed by their file: a partial index stays tiny.
CREATE INDEX elf_learnings_unclaimed ON learnings(filepath) WHERE elf_key IS NULL;
CREATE INDEX elf_heuristics_unclaimed ON heuristics(filepath) WHERE elf_key IS NULL;

-- The ledger: every record file elfsync tracks, valid or not. tbl names the
-- table that holds its rows (NULL while it has none), nrec how many records
-- it holds (a domain file holds one per "## H-<n>" section); error is the
-- parse error of its current content (NULL when it parses).
CREATE TABLE IF NOT EXISTS files (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	filepath TEXT NOT NULL UNIQUE,
	size     INTEGER NOT NULL,
	mtime_ns INTEGER NOT NULL,
	hash     TEXT NOT NULL,
	error    TEXT,
	tbl      TEXT CHECK (tbl IN ('learnings', 'heuristics', 'decisions')),
	nrec     INTEGER NOT NULL DEFAULT 1
);

-- Full-text search: search_docs holds one row per record (elf_key as in the
-- record's table; tbl and row_id name its row), search indexes it.
CREATE TABLE search_docs (
	id      INTEGER PRIMARY KEY,
	elf_key TEXT NOT NULL UNIQUE,
	tbl     TEXT NOT NULL,
	row_id  INTEGER,
	title   TEXT,
	summary TEXT,
	body    TEXT,
	rule    TEXT
);
CREATE VIRTUAL TABLE search USING fts5(
	title, summary, body, rule,
	content = 'search_docs', content_rowid = 'id',
	tokenize = 'unicode61'
);
-- No automatic merges: 4-way merges spread over every write rewrote the
-- data more times (cold scan 20k: 0.35 s more CPU). A large build merges
-- only in crisis and every other write a bounded step (see mergeStep).
INSERT INTO search (search, rank) VALUES ('automerge', 0);
` + searchTriggers + `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('writer', '0');
INSERT OR IGNORE INTO meta (key, value) VALUES ('fts_upto', '0');

-- Writes by other processes to learnings and heuristics, for write-back
-- into the files. elfsync's own transactions set meta.writer to '1' while
-- they run (and back to '0' before they commit, so no other connection
-- ever sees '1'): their changes are not logged. Plain SQL only, so the
-- triggers run in every connection, the framework's included.
CREATE TABLE elf_changes (
	seq     INTEGER PRIMARY KEY AUTOINCREMENT,
	tbl     TEXT NOT NULL,
	op      TEXT NOT NULL,
	row_id  INTEGER NOT NULL,
	elf_key TEXT,
	cols    TEXT, -- an update's changed columns, comma-terminated
	at      REAL NOT NULL DEFAULT (julianday('now'))
);
-- Rows whose change could not be written into a file (an unsafe path,
-- text a file cannot hold): kept as they are, reported by status until a
-- later write of the row succeeds.
CREATE TABLE elf_refused (
	tbl    TEXT NOT NULL,
	row_id INTEGER NOT NULL,
	reason TEXT,
	PRIMARY KEY (tbl, row_id)
) WITHOUT ROWID;
CREATE TRIGGER elf_learnings_insert AFTER INSERT ON learnings
WHEN (SELECT value FROM meta WHERE key = 'writer') IS NOT '1' BEGIN
	INSERT INTO elf_changes (tbl, op, row_id, elf_key) VALUES ('learnings', 'insert', new.id, new.elf_key);
END;
CREATE TRIGGER elf_learnings_update AFTER UPDATE ON learnings
WHEN (SELECT value FROM meta WHERE key = 'writer') IS NOT '1' BEGIN
	INSERT INTO elf_changes (tbl, op, row_id, elf_key, cols) VALUES ('learnings', 'update', new.id, old.elf_key,
		(CASE WHEN old.type IS NOT new.type THEN 'type,' ELSE '' END) || (CASE WHEN old.title IS NOT new.title THEN 'title,' ELSE '' END) || (CASE WHEN old.summary IS NOT new.summary THEN 'summary,' ELSE '' END) || (CASE WHEN old.tags IS NOT new.tags THEN 'tags,' ELSE '' END) || (CASE WHEN old.domain IS NOT new.domain THEN 'domain,' ELSE '' END) || (CASE WHEN old.severity IS NOT new.severity THEN 'severity,' ELSE '' END));
END;
CREATE TRIGGER elf_learnings_delete AFTER DELETE ON learnings
WHEN (SELECT value FROM meta WHERE key = 'writer') IS NOT '1' BEGIN
	INSERT INTO elf_changes (tbl, op, row_id, elf_key) VALUES ('learnings', 'delete', old.id, old.elf_key);
END;
CREATE TRIGGER elf_heuristics_insert AFTER INSERT ON heuristics
WHEN (SELECT value FROM meta WHERE key = 'writer') IS NOT '1' BEGIN
	INSERT INTO elf_changes (tbl, op, row_id, elf_key) VALUES ('heuristics', 'insert', new.id, new.elf_key);
END;
CREATE TRIGGER elf_heuristics_update AFTER UPDATE ON heuristics
WHEN (SELECT value FROM meta WHERE key = 'writer') IS NOT '1' BEGIN
	INSERT INTO elf_changes (tbl, op, row_id, elf_key, cols) VALUES ('heuristics', 'update', new.id, old.elf_key,
		(CASE WHEN old.rule IS NOT new.rule THEN 'rule,' ELSE '' END) || (CASE WHEN old.explanation IS NOT new.explanation THEN 'explanation,' ELSE '' END) || (CASE WHEN old.domain IS NOT new.domain THEN 'domain,' ELSE '' END) || (CASE WHEN old.tags IS NOT new.tags THEN 'tags,' ELSE '' END) || (CASE WHEN old.source_type IS NOT new.source_type THEN 'source_type,' ELSE '' END) || (CASE WHEN old.confidence IS NOT new.confidence THEN 'confidence,' ELSE '' END) || (CASE WHEN old.is_golden IS NOT new.is_golden THEN 'is_golden,' ELSE '' END) || (CASE WHEN old.times_validated IS NOT new.times_validated THEN 'times_validated,' ELSE '' END) || (CASE WHEN old.times_violated IS NOT new.times_violated THEN 'times_violated,' ELSE '' END) || (CASE WHEN old.project_path IS NOT new.project_path THEN 'project_path,' ELSE '' END) || (CASE WHEN old.title IS NOT new.title THEN 'title,' ELSE '' END));
END;
CREATE TRIGGER elf_heuristics_delete AFTER DELETE ON heuristics
WHEN (SELECT value FROM meta WHERE key = 'writer') IS NOT '1' BEGIN
	INSERT INTO elf_changes (tbl, op, row_id, elf_key) VALUES ('heuristics', 'delete', old.id, old.elf_key);
END;
`

// v1Search is the full-text table of the first schema, dropped on upgrade.
// kept to recognise it.
const v1Search = `search`

// SchemaVersion is the user_version this elfsync writes.
const SchemaVersion = 3

// schemaKind tells what a database at the index path holds.
type schemaKind int

const (
	kindEmpty     schemaKind = iota // a new file
	kindCurrent                     // an elfsync index of this version
	kindV1                          // elfsync's first schema
	kindV2                          // elfsync's second schema: full-text triggers per row
	kindFramework                   // the framework's own database: adopt it
	kindForeign                     // something else: set aside
)

// migrate brings db forward to SchemaVersion: a new file gets the whole
// schema, elfsync's first schema is rebuilt in place, and a framework
// database (user_version 0 with a learnings or heuristics table) is
// adopted: its rows and tables are kept and elfsync's columns and tables
// added. adopted reports the last case, so the caller backs it up first
// and writes the database-only values into the files after the next scan.
func migrate(ctx context.Context, db *sql.DB) (adopted bool, err error) {
	kind, err := classify(ctx, db)
	if err != nil {
		return false, err
	}
	switch kind {
	case kindCurrent:
		return false, nil
	case kindForeign:
		return false, fmt.Errorf("%w: not an elfsync or framework index, or from a newer elfsync", errUnusable)
	}
	if kind == kindEmpty {
		if err := setPageSize(ctx, db); err != nil {
			return false, fmt.Errorf("migrate schema: %w", err)
		}
	}
	// Foreign keys are the framework's business, and the rebuilds below
	// drop and rename tables other tables refer to.
	if _, err := db.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return false, fmt.Errorf("migrate schema: %w", err)
	}
	err = withTx(ctx, db, func(tx *sql.Tx) error {
		switch kind {
		case kindEmpty:
			if _, err := tx.ExecContext(ctx, recordTables); err != nil {
				return err
			}
		case kindV1:
			if err := fromV1(ctx, tx); err != nil {
				return err
			}
		case kindFramework:
			if err := adoptSchema(ctx, tx); err != nil {
				return err
			}
		case kindV2:
			// Only the full-text triggers change; everything else is
			// IF NOT EXISTS below.
			if err := fromV2(ctx, tx); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion))
			return err
		}
		if _, err := tx.ExecContext(ctx, frameworkTables); err != nil {
			return err
		}
		for _, stmt := range strings.Split(strings.TrimSpace(frameworkIndexes), "\n") {
			// Savepoint per index: a skipped one must not spoil the rest.
			if _, err := tx.ExecContext(ctx, `SAVEPOINT idx`); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				if _, err := tx.ExecContext(ctx, `ROLLBACK TO idx`); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `RELEASE idx`); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, frameworkTriggers); err != nil {
			return err
		}
		if err := addColumns(ctx, tx, "decisions", [][2]string{{"filepath", "TEXT"}, {"tags", "TEXT"}, {"extra", "TEXT"}, {"elf_key", "TEXT"}}); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, elfsyncTables); err != nil {
			return err
		}
		// PRAGMA takes no bound parameters; the version is our constant.
		_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("migrate schema to version %d: %w", SchemaVersion, err)
	}
	return kind == kindFramework, nil
}

// pageSize is the page size of a new index. With SQLite's default 4096, a
// search_docs row (a record's text, a few KiB) shares its page with
// little else and most pages were a third empty: 67 MB of pages for 45 MB
// of text on the 20k corpus. Every SQLite reads any page size.
const pageSize = 8192

// setPageSize gives a new, empty index pageSize. The page size of a
// database in WAL mode is fixed, and the connection's DSN has already
// turned WAL on (writing the header), so it leaves WAL, sets the size,
// rewrites the empty file and turns WAL back on. Another connection to
// the new file makes leaving WAL fail: the index then keeps the default
// size, which only costs space.
func setPageSize(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, `PRAGMA journal_mode = DELETE`); err == nil {
		// PRAGMA takes no bound parameters; the size is our constant.
		if _, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA page_size = %d", pageSize)); err == nil {
			_, _ = db.ExecContext(ctx, `VACUUM`)
		}
	}
	var mode string
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode); err != nil {
		return fmt.Errorf("set WAL mode: %w", err)
	}
	if mode != "wal" {
		return fmt.Errorf("set WAL mode: journal mode is %s", mode)
	}
	return nil
}

// classify looks at user_version and the tables present.
func classify(ctx context.Context, db *sql.DB) (schemaKind, error) {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	tables, err := tableSet(ctx, db)
	if err != nil {
		return 0, err
	}
	switch {
	case v == SchemaVersion:
		return kindCurrent, nil
	case v == 1 && tables["files"] && tables["learnings"]:
		return kindV1, nil
	case v == 2 && tables["files"] && tables["search_docs"] && tables["meta"]:
		return kindV2, nil
	case v == 0 && len(tables) == 0:
		return kindEmpty, nil
	case v == 0 && !tables["files"] && (tables["learnings"] || tables["heuristics"]):
		return kindFramework, nil
	}
	return kindForeign, nil
}

// tableSet lists the tables of db's main schema.
func tableSet(ctx context.Context, db interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) (map[string]bool, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out[strings.ToLower(n)] = true
	}
	return out, rows.Err()
}

// hasFrameworkTables reports whether db holds any table elfsync did not
// create: such a database is never set aside without its tables salvaged.
func hasFrameworkTables(tables map[string]bool) bool {
	return tables["learnings"] || tables["heuristics"] || tables["metrics"] || tables["violations"]
}

// columns lists a table's columns (lower case); nil when it does not exist.
func columns(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, table string) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	defer rows.Close()
	var out map[string]bool
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		if out == nil {
			out = map[string]bool{}
		}
		out[strings.ToLower(n)] = true
	}
	return out, rows.Err()
}

// addColumns adds the columns a table lacks. Names and types come from
// this package's constants, never from input.
func addColumns(ctx context.Context, tx *sql.Tx, table string, cols [][2]string) error {
	have, err := columns(ctx, tx, table)
	if err != nil {
		return err
	}
	if have == nil {
		return fmt.Errorf("no table %s", table)
	}
	for _, c := range cols {
		if have[c[0]] {
			continue
		}
		if _, err := tx.ExecContext(ctx, `ALTER TABLE "`+table+`" ADD COLUMN "`+c[0]+`" `+c[1]); err != nil {
			return fmt.Errorf("add %s.%s: %w", table, c[0], err)
		}
	}
	return nil
}

// The columns an adopted learnings or heuristics table must have: the
// framework's current ones (older installs lack some) and elfsync's.
var (
	learningCols = [][2]string{{"type", "TEXT"}, {"filepath", "TEXT"}, {"title", "TEXT"}, {"summary", "TEXT"},
		{"tags", "TEXT"}, {"domain", "TEXT"}, {"severity", "INTEGER DEFAULT 3"},
		{"created_at", "DATETIME"}, {"updated_at", "DATETIME"}, {"extra", "TEXT"}, {"elf_key", "TEXT"}}
	heuristicCols = [][2]string{{"domain", "TEXT"}, {"rule", "TEXT"}, {"explanation", "TEXT"}, {"source_type", "TEXT"},
		{"source_id", "INTEGER"}, {"confidence", "REAL DEFAULT 0.5"}, {"times_validated", "INTEGER DEFAULT 0"},
		{"times_violated", "INTEGER DEFAULT 0"}, {"is_golden", "INTEGER DEFAULT 0"},
		{"created_at", "DATETIME"}, {"updated_at", "DATETIME"},
		{"project_path", "TEXT"}, {"filepath", "TEXT"}, {"title", "TEXT"},
		{"tags", "TEXT"}, {"extra", "TEXT"}, {"elf_key", "TEXT"}}
)

// adoptSchema adds elfsync's columns to a framework database's learnings
// and heuristics (creating a table it lacks) and keeps every row, id and
// value. The framework's constraints stay: elfsync's writes satisfy them.
func adoptSchema(ctx context.Context, tx *sql.Tx) error {
	tables, err := tableSet(ctx, tx)
	if err != nil {
		return err
	}
	if !tables["learnings"] || !tables["heuristics"] {
		// One of the two is missing: create it as a new index would.
		for _, stmt := range strings.SplitAfter(recordTables, ");") {
			name := "learnings"
			if strings.Contains(stmt, "CREATE TABLE heuristics") {
				name = "heuristics"
			}
			if strings.TrimSpace(stmt) == "" || tables[name] {
				continue
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return err
			}
		}
	}
	if err := addColumns(ctx, tx, "learnings", learningCols); err != nil {
		return err
	}
	if err := addColumns(ctx, tx, "heuristics", heuristicCols); err != nil {
		return err
	}
	// elfsync's first index and some installs keyed filepath UNIQUE; such
	// an index would reject the framework's write-then-INSERT.
	return dropUniqueFilepath(ctx, tx)
}

// dropUniqueFilepath drops named unique indexes on filepath alone.
func dropUniqueFilepath(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `
SELECT il.name FROM sqlite_master m, pragma_index_list(m.name) il
WHERE m.type = 'table' AND m.name IN ('learnings', 'heuristics') AND il."unique" = 1 AND il.origin = 'c'
  AND (SELECT group_concat(ii.name) FROM pragma_index_info(il.name) ii) = 'filepath'`)
	if err != nil {
		return fmt.Errorf("list unique indexes: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		if _, err := tx.ExecContext(ctx, `DROP INDEX "`+strings.ReplaceAll(n, `"`, `""`)+`"`); err != nil {
			return fmt.Errorf("drop index %s: %w", n, err)
		}
	}
	return nil
}

// fromV1 rebuilds elfsync's first schema (filepath NOT NULL UNIQUE, a
// contentless full-text table old SQLite versions cannot read) as the
// current one, keeping every row and id. The full-text index is rebuilt
// by the next scan, which reads every file whose ledger entry is reset
// here.
func fromV1(ctx context.Context, tx *sql.Tx) error {
	stmts := []string{
		`ALTER TABLE learnings RENAME TO elf_v1_learnings`,
		`ALTER TABLE heuristics RENAME TO elf_v1_heuristics`,
		`ALTER TABLE files RENAME TO elf_v1_files`,
		`DROP TABLE IF EXISTS ` + v1Search,
		`DROP INDEX IF EXISTS idx_learnings_type`,
		`DROP INDEX IF EXISTS idx_learnings_domain`,
		`DROP INDEX IF EXISTS idx_heuristics_domain`,
		`DROP INDEX IF EXISTS idx_heuristics_confidence`,
		recordTables,
		`INSERT INTO learnings (id, type, filepath, title, summary, tags, domain, severity, created_at, updated_at, extra, elf_key)
		 SELECT id, type, filepath, title, summary, tags, domain, severity, created_at, updated_at, extra, filepath FROM elf_v1_learnings
		 WHERE type IN ('failure', 'success', 'heuristic', 'experiment', 'observation')`,
		`INSERT INTO heuristics (id, filepath, domain, rule, explanation, source_type, source_id, confidence,
			times_validated, times_violated, is_golden, created_at, updated_at, title, tags, extra, elf_key)
		 SELECT id, filepath, coalesce(domain, ''), rule, explanation, source_type, source_id, confidence,
			times_validated, times_violated, is_golden, created_at, updated_at, title, tags, extra, filepath FROM elf_v1_heuristics`,
		`CREATE TABLE files (
			id INTEGER PRIMARY KEY AUTOINCREMENT, filepath TEXT NOT NULL UNIQUE, size INTEGER NOT NULL,
			mtime_ns INTEGER NOT NULL, hash TEXT NOT NULL, error TEXT,
			tbl TEXT CHECK (tbl IN ('learnings', 'heuristics', 'decisions')), nrec INTEGER NOT NULL DEFAULT 1)`,
		// mtime -1 makes the next scan read every file again: decision
		// records move to their table, every record gets its search entry.
		`INSERT INTO files (id, filepath, size, mtime_ns, hash, error, tbl)
		 SELECT id, filepath, size, -1, '', error, CASE WHEN tbl = 'heuristics' OR EXISTS
			(SELECT 1 FROM learnings l WHERE l.elf_key = elf_v1_files.filepath) THEN tbl END FROM elf_v1_files`,
		`DROP TABLE elf_v1_learnings`,
		`DROP TABLE elf_v1_heuristics`,
		`DROP TABLE elf_v1_files`,
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("from version 1: %w", err)
		}
	}
	return nil
}
