// Package remote shares one memory across machines through a git remote:
// it fetches, merges and pushes memory/'s repository, and brings what a
// merge changed into the work tree file by file.
//
// It owns: the sync round (fetch → merge → land → push), the merge of one
// memory file (MergeFile, also git's merge driver for merges a person runs
// by hand: DriverMerge), the recovery of a merge a crash interrupted, and
// the sync state `elfsync status` shows (memory/.elfsync/remote.json,
// never committed). It does not watch, index or commit: the watcher sees
// landed files as ordinary writes, and the committer (a Holder) is kept
// from committing while a merge lands.
//
// # What is shared
//
// When memory/ is a repository of its own, its checked-out branch is
// pushed to the remote branch of the same name (or Config.Branch). When
// memory/ sits inside a person's project repository, sharing is off until
// asked for (--remote), and then elfsync keeps the memory on a branch of
// its own, SharedBranch (elfsync/memory), whose tree is memory/'s content
// at its top: before each round the committed memory/ tree of HEAD is
// recorded on it (only while memory/ has nothing uncommitted, so a merge
// that has landed but is not committed yet is never recorded backwards);
// merges land in memory/ and the committer commits them on the person's
// branch as it commits any write. Only SharedBranch is ever pushed; the
// person's branches and code never leave. Note that memory/ follows the
// checked-out branch, so checking out an old branch shares its memory/.
//
// elfsync pushes only to the remote named in its repository's config
// (never to a URL given on the command line), never forces a push and
// never rewrites a commit it pushed: merges are new commits on top.
// Fetched tips are kept under refs/elfsync/remotes/, apart from the
// person's remote-tracking branches (a push, as any git push, sets the
// person's refs/remotes/ branch of that name to what it pushed).
//
// # The merge
//
// Merges happen outside the work tree: the merge base and the two sides
// are compared tree against tree (`git diff-tree`); a path only the remote
// changed takes the remote's version, a path both changed is merged by
// MergeFile, and the result is written in a private index
// (`read-tree`, `update-index`, `write-tree`) and committed with
// `commit-tree` with both parents. A file is merged field by field:
// times_validated and times_violated are recomputed as the sum of their
// per-host tallies (validated_by/violated_by) merged by per-host maximum,
// so increments made concurrently on several hosts add up, even when
// their files happened to be identical; other keys take the side that
// changed; the body is merged by `git merge-file`. A file in the
// framework's bold-field style keeps its counters as bold lines: they are
// taken out of the three versions, the rest is merged as text, and the
// merged counters are written back in the file's style (in a domain file,
// each section's merged "**Validated**:" lines are written into both
// sides before the text merge). What cannot be merged (a key or the body
// changed differently on both sides, binary content) keeps ours in the
// file and theirs beside it as name.conflict-<commit>-<time>.md, with
// conflict_of, conflict_commit and conflict_time in its frontmatter (as
// bold lines in a bold-field record): both are indexed, and `status`
// lists the copy with the command that resolves it. An edit beats a
// deletion. No memory file ever holds a conflict marker.
//
// # Landing, and crashes
//
// Before the branch moves to the merge, a journal (old and new commit) is
// written to memory/.elfsync/sync-journal.json. Then, with the committer
// held, each changed file is brought from the old to the new version: a
// file that still holds the old version is replaced atomically (only if it
// is still the same file just before the rename, and under the write lock
// the edit package's tools take); one that holds the new one is left; one
// that a writer changed meanwhile gets the merge's change merged into it,
// so no write that arrived during a merge is overwritten. The journal is
// removed when every file has landed. After a SIGKILL at any point, the
// next start (Open, and every command that commits, through
// FinishInterrupted) lands what is left before anything commits the work
// tree, which would otherwise undo the merge. Each file landed is
// recorded beside the journal (sync-landed) and never landed again: a
// local write to it since would otherwise get the merge's change merged in
// a second time. A push killed half way is simply pushed again.
//
// # A hostile or broken remote
//
// Fetched objects are checked (transfer.fsckObjects: no ".git" or ".."
// entries). Changes from the remote to dot-files and dot-folders
// (.gitattributes, .gitignore, .elfsync/), to the index database and
// editor noise, and anything but a regular file (a symlink, a submodule)
// are refused and the local version kept (so are the index's names in any
// letter case, and names over 255 bytes). A remote tip that brings only
// refused changes on top of our branch is settled: no merge commit answers
// it, or two hosts whose dot-files differ would merge each other's merges
// forever. Paths are checked again before a file is written, which never
// goes through a symlink. Files over the size limit are merged whole and
// landed by streaming, never read into memory by a merge (nothing over
// 256 MiB is ever read). Every git command runs through the committer's
// runner (committer.Git, with these checks added), so hooks are off, and the
// merge driver is elfsync's own binary, written into the repository's own
// config: nothing a remote sends is executed. URLs with credentials are
// redacted in every log line, error and status (Redact); credentials stay
// with git's credential helpers and ssh agent. An unreachable remote,
// refused authentication or a lost push race leave local work going on;
// Run backs off (the interval doubling, at most four intervals) and the
// state shows the error.
//
// # Reports
//
// Syncer.Sync is `elfsync sync`'s one-off run (commit, round, commit, a
// second round when needed); its Report (Syncer.NewReport, Report.Add per
// round) is written for a person (WriteText) or as the JSON of `sync
// --json` (WriteJSON). ConflictCopies lists the conflict copies kept under
// memory/, and Conflicts each with the command that removes it, for status
// and doctor.
package remote
