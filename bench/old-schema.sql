-- The framework's old index schema (sqlite3 .schema of /work/shared/samples/elf-legacy),
-- for bench/old-record.sh: learnings without UNIQUE(filepath), journal_mode=delete.
CREATE TABLE learnings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,                    -- 'failure' | 'success'
    filepath TEXT NOT NULL,                -- Relative path to markdown file
    title TEXT NOT NULL,                   -- Short descriptive title
    summary TEXT,                          -- One-liner description
    tags TEXT,                             -- Comma-separated tags
    domain TEXT,                           -- 'coordination' | 'architecture' | 'debugging' | etc
    severity INTEGER DEFAULT 1,            -- 1-5, how significant
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE heuristics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    domain TEXT NOT NULL,                  -- Category of the rule
    rule TEXT NOT NULL,                    -- The actual heuristic
    explanation TEXT,                      -- Why this rule exists
    source_type TEXT,                      -- 'failure' | 'success' | 'observation'
    source_id INTEGER,                     -- FK to learnings.id
    confidence REAL DEFAULT 0.5,           -- 0.0-1.0, increases as proven true
    times_validated INTEGER DEFAULT 0,     -- How many times this proved correct
    times_violated INTEGER DEFAULT 0,      -- How many times ignoring this caused issues
    is_golden BOOLEAN DEFAULT FALSE,       -- Promoted to golden rule?
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_learnings_type ON learnings(type);
CREATE INDEX idx_learnings_domain ON learnings(domain);
CREATE INDEX idx_learnings_tags ON learnings(tags);
CREATE INDEX idx_heuristics_domain ON heuristics(domain);
CREATE INDEX idx_heuristics_confidence ON heuristics(confidence);
