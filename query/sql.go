package query

// Every SQL statement of the read side. They join the full-text table to
// the ledger (files) and the framework's tables by filepath, as the index
// schema stands: search.rowid = files.id, files.tbl names the row's table.
// A schema change is adapted here and nowhere else.
//
// Values are always bound parameters; no statement is built from input.

// rowColumns is the column list every item query selects, in the order
// scanItem reads them; l is learnings and h heuristics (either may be the
// NULL side of a LEFT JOIN).
const rowColumns = `
	coalesce(l.id, h.id),
	CASE WHEN l.id IS NOT NULL THEN 'learnings' ELSE 'heuristics' END,
	coalesce(l.type, 'heuristic'),
	coalesce(l.title, nullif(h.rule, ''), h.title, ''),
	coalesce(l.filepath, h.filepath, ''),
	coalesce(l.domain, h.domain, ''),
	coalesce(l.tags, h.tags, ''),
	coalesce(l.summary, ''),
	coalesce(h.rule, ''),
	coalesce(h.explanation, ''),
	coalesce(l.severity, 0),
	coalesce(h.confidence, 0),
	coalesce(h.times_validated, 0),
	coalesce(h.times_violated, 0),
	coalesce(h.is_golden, 0),
	coalesce(l.created_at, h.created_at, '')`

// learningColumns and heuristicColumns are rowColumns for a query over one
// table. (A "LEFT JOIN other ON 0" to reuse rowColumns made SQLite loop
// over the other table for every row: seconds on 20,000 notes.)
const (
	learningColumns = `
	l.id, 'learnings', l.type, coalesce(l.title, ''), coalesce(l.filepath, ''),
	coalesce(l.domain, ''), coalesce(l.tags, ''), coalesce(l.summary, ''),
	'', '', coalesce(l.severity, 0), 0, 0, 0, 0, coalesce(l.created_at, '')`
	heuristicColumns = `
	h.id, 'heuristics', 'heuristic', coalesce(nullif(h.rule, ''), h.title, ''), coalesce(h.filepath, ''),
	coalesce(h.domain, ''), coalesce(h.tags, ''), '',
	coalesce(h.rule, ''), coalesce(h.explanation, ''), 0, coalesce(h.confidence, 0),
	coalesce(h.times_validated, 0), coalesce(h.times_violated, 0), coalesce(h.is_golden, 0),
	coalesce(h.created_at, '')`
)

// Parameters of sqlSearch: ?1-?4 the BM25 weights, ?5 the MATCH
// expression, ?6 a type (empty for any), ?7 a domain (empty for any), ?8 the
// earliest created_at (empty for any), ?9 a JSON array of tags that must all
// be present ('[]' for none), ?10 the limit.
const sqlSearch = `
SELECT bm25(search, ?1, ?2, ?3, ?4) AS score, ` + rowColumns + `
FROM search
JOIN files f ON f.id = search.rowid
LEFT JOIN learnings l ON f.tbl = 'learnings' AND l.filepath = f.filepath
LEFT JOIN heuristics h ON f.tbl = 'heuristics' AND h.filepath = f.filepath
WHERE search MATCH ?5
	AND (l.id IS NOT NULL OR h.id IS NOT NULL)
	AND (?6 = '' OR coalesce(l.type, 'heuristic') = ?6)
	AND (?7 = '' OR coalesce(l.domain, h.domain) = ?7 COLLATE NOCASE)
	AND (?8 = '' OR coalesce(l.created_at, h.created_at) >= ?8)
	AND NOT EXISTS (
		SELECT 1 FROM json_each(?9) t
		WHERE instr(',' || lower(coalesce(l.tags, h.tags, '')) || ',', ',' || lower(t.value) || ',') = 0)
ORDER BY score, f.id
LIMIT ?10`

// sqlSearchTop is sqlSearch without filters: the best ?6 matches are
// taken from the full-text table alone, and only they are joined, which
// on a common word is the difference between joining ten rows and
// joining thousands. Parameters: ?1-?4 the weights, ?5 the MATCH
// expression, ?6 the limit.
const sqlSearchTop = `
SELECT m.score, ` + rowColumns + `
FROM (
	SELECT rowid AS fid, bm25(search, ?1, ?2, ?3, ?4) AS score
	FROM search WHERE search MATCH ?5
	ORDER BY score, rowid LIMIT ?6
) m
JOIN files f ON f.id = m.fid
LEFT JOIN learnings l ON f.tbl = 'learnings' AND l.filepath = f.filepath
LEFT JOIN heuristics h ON f.tbl = 'heuristics' AND h.filepath = f.filepath
WHERE l.id IS NOT NULL OR h.id IS NOT NULL
ORDER BY m.score, f.id`

// sqlGolden lists the golden rules.
const sqlGolden = `
SELECT 0, ` + heuristicColumns + `
FROM heuristics h
WHERE h.is_golden = 1
ORDER BY h.confidence DESC, h.times_validated DESC, h.id
LIMIT ?1`

// sqlHeuristics lists the non-golden heuristics of a domain (?1, empty for
// every domain), up to ?2; they are ranked in Go (heuristicScore).
const sqlHeuristics = `
SELECT 0, ` + heuristicColumns + `
FROM heuristics h
WHERE coalesce(h.is_golden, 0) = 0
	AND (?1 = '' OR h.domain = ?1 COLLATE NOCASE)
ORDER BY h.confidence DESC, h.times_validated DESC, h.id
LIMIT ?2`

// sqlRecent lists the learnings of one type (?1) in a domain (?2, empty for
// any), newest first, up to ?3.
const sqlRecent = `
SELECT 0, ` + learningColumns + `
FROM learnings l
WHERE l.type = ?1
	AND (?2 = '' OR l.domain = ?2 COLLATE NOCASE)
ORDER BY l.created_at DESC, l.id DESC
LIMIT ?3`

// sqlLearningByID and sqlHeuristicByID fetch one row by id; sqlByPath by
// its root-relative filepath.
const (
	sqlLearningByID = `
SELECT 0, ` + learningColumns + `
FROM learnings l
WHERE l.id = ?1`
	sqlHeuristicByID = `
SELECT 0, ` + heuristicColumns + `
FROM heuristics h
WHERE h.id = ?1`
	sqlByPath = `
SELECT 0, ` + learningColumns + `
FROM learnings l
WHERE l.filepath = ?1
UNION ALL
SELECT 0, ` + heuristicColumns + `
FROM heuristics h
WHERE h.filepath = ?1`
)
