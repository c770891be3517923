package query

// Every SQL statement of the read side. They join the full-text table to
// the record tables as the index schema stands (see package indexer):
// search.rowid = search_docs.id, and search_docs.tbl and row_id name the
// record's row in learnings, heuristics or decisions (decision records
// live in the framework's decisions table, where its own --decisions
// query looks). A schema change is adapted here and nowhere else.
//
// Values are always bound parameters; no statement is built from input.

// rowColumns is the column list every item query selects, in the order
// scanItem reads them; l is learnings, dd decisions and h heuristics (any
// may be the NULL side of a LEFT JOIN).
const rowColumns = `
	coalesce(l.id, dd.id, h.id),
	CASE WHEN l.id IS NOT NULL THEN 'learnings' WHEN dd.id IS NOT NULL THEN 'decisions' ELSE 'heuristics' END,
	` + typeExpr + `,
	coalesce(l.title, dd.title, nullif(h.rule, ''), h.title, ''),
	coalesce(l.filepath, dd.filepath, h.filepath, ''),
	coalesce(l.domain, dd.domain, h.domain, ''),
	coalesce(l.tags, dd.tags, h.tags, ''),
	coalesce(l.summary, dd.context, ''),
	coalesce(h.rule, ''),
	coalesce(h.explanation, ''),
	coalesce(l.severity, 0),
	coalesce(h.confidence, 0),
	coalesce(h.times_validated, 0),
	coalesce(h.times_violated, 0),
	coalesce(h.is_golden, 0),
	coalesce(l.created_at, dd.created_at, h.created_at, '')`

// typeExpr is a joined row's record type.
const typeExpr = `coalesce(l.type, CASE WHEN dd.id IS NOT NULL THEN 'decision' END, 'heuristic')`

// recordJoins joins the search_docs row f to its record.
const recordJoins = `
LEFT JOIN learnings l ON f.tbl = 'learnings' AND l.id = f.row_id
LEFT JOIN decisions dd ON f.tbl = 'decisions' AND dd.id = f.row_id
LEFT JOIN heuristics h ON f.tbl = 'heuristics' AND h.id = f.row_id`

// learningColumns and heuristicColumns are rowColumns for a query over one
// table. (A "LEFT JOIN other ON 0" to reuse rowColumns made SQLite loop
// over the other table for every row: seconds on 20,000 notes.)
const (
	learningColumns = `
	l.id, 'learnings', l.type, coalesce(l.title, ''), coalesce(l.filepath, ''),
	coalesce(l.domain, ''), coalesce(l.tags, ''), coalesce(l.summary, ''),
	'', '', coalesce(l.severity, 0), 0, 0, 0, 0, coalesce(l.created_at, '')`
	decisionColumns = `
	dd.id, 'decisions', 'decision', coalesce(dd.title, ''), coalesce(dd.filepath, ''),
	coalesce(dd.domain, ''), coalesce(dd.tags, ''), coalesce(dd.context, ''),
	'', '', 0, 0, 0, 0, 0, coalesce(dd.created_at, '')`
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
JOIN search_docs f ON f.id = search.rowid` + recordJoins + `
WHERE search MATCH ?5
	AND (l.id IS NOT NULL OR dd.id IS NOT NULL OR h.id IS NOT NULL)
	AND (?6 = '' OR ` + typeExpr + ` = ?6)
	AND (?7 = '' OR coalesce(l.domain, dd.domain, h.domain) = ?7 COLLATE NOCASE)
	AND (?8 = '' OR coalesce(l.created_at, dd.created_at, h.created_at) >= ?8)
	AND NOT EXISTS (
		SELECT 1 FROM json_each(?9) t
		WHERE instr(',' || lower(coalesce(l.tags, dd.tags, h.tags, '')) || ',', ',' || lower(t.value) || ',') = 0)
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
JOIN search_docs f ON f.id = m.fid` + recordJoins + `
WHERE l.id IS NOT NULL OR dd.id IS NOT NULL OR h.id IS NOT NULL
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
// any), newest first, up to ?3; decisions come from the decisions table.
const sqlRecent = `
SELECT * FROM (
	SELECT 0, ` + learningColumns + `
	FROM learnings l
	WHERE l.type = ?1 AND ?1 != 'decision'
		AND (?2 = '' OR l.domain = ?2 COLLATE NOCASE)
	UNION ALL
	SELECT 0, ` + decisionColumns + `
	FROM decisions dd
	WHERE ?1 = 'decision'
		AND (?2 = '' OR dd.domain = ?2 COLLATE NOCASE)
)
ORDER BY 17 DESC, 2 DESC
LIMIT ?3`

// sqlLearningByID and sqlHeuristicByID fetch one row by id; sqlByPath by
// its root-relative filepath.
const (
	sqlLearningByID = `
SELECT 0, ` + learningColumns + `
FROM learnings l
WHERE l.id = ?1`
	sqlDecisionByID = `
SELECT 0, ` + decisionColumns + `
FROM decisions dd
WHERE dd.id = ?1`
	sqlHeuristicByID = `
SELECT 0, ` + heuristicColumns + `
FROM heuristics h
WHERE h.id = ?1`
	sqlByPath = `
SELECT 0, ` + learningColumns + `
FROM learnings l
WHERE l.filepath = ?1
UNION ALL
SELECT 0, ` + decisionColumns + `
FROM decisions dd
WHERE dd.filepath = ?1
UNION ALL
SELECT 0, ` + heuristicColumns + `
FROM heuristics h
WHERE h.filepath = ?1`
)

// sqlSchemaVersion reads the index's schema version (indexer.SchemaVersion
// when it is the one these statements are written for).
const sqlSchemaVersion = `PRAGMA user_version`
