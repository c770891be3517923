// Package committer turns changed paths under memory/ into git commits, and
// is the one home for running git: Git (git.go) starts every git process
// elfsync runs, with the environment and global flags defined here (Env,
// GlobalArgs). Package remote (fetch, merge and push) runs its commands
// through a Git of its own options; no other package starts git.
//
// It owns: finding the repository (the work tree that contains memory/ when
// that tree does not ignore it, else a repository of its own in memory/),
// memory/.gitignore, debouncing (quiet period, maximum wait, maximum batch),
// the commit itself, waiting out another process's index.lock or an
// operation in progress, commit messages, the last commit and the last git
// error (persisted in the git directory so that another process can report
// them), and git maintenance on a schedule of its own.
//
// Open finds or creates the repository and starts nothing; Run commits in
// the background until its context is cancelled, then makes a final commit;
// CommitAll commits once (`elfsync scan`). ReadStatus (status.go) reads the
// git side for `elfsync status` and `elfsync doctor` without changing
// anything.
//
// It does not watch files, parse them or touch SQLite: the caller tells it
// which paths changed (Notify) and may tell it the title of a path (Describe).
// The set of changed paths only triggers commits and names them; every commit
// holds everything under memory/ that differs from HEAD at that moment, so a
// missed notification costs nothing but latency.
//
// # How a commit is made
//
// A person may share the repository: they may have staged unrelated files, or
// have `git commit -a` waiting in an editor. The obvious `git add` + `git
// commit` would sweep their staged files into elfsync's commit, and `git
// commit --only` leaves memory/ changes staged under concurrent writes. So
// every commit is built in a private index file in the git directory:
//
//  1. copy .git/index (for the stat cache) and, in a shared repository, reset
//     it to HEAD so that nothing the person staged can enter the tree;
//  2. `git add -A -- memory` into it, `git write-tree`, and stop if the tree
//     equals HEAD's;
//  3. `git commit-tree -p HEAD`, then `git update-ref HEAD new old`, which is
//     a compare-and-swap: if HEAD moved meanwhile, start again;
//  4. `git reset -q -- memory` on the real index, under git's own
//     index.lock, so that memory/ is neither staged nor shown as deleted,
//     while the person's other staged paths stay as they were.
//
// Hooks, signing and automatic gc are off for every git command elfsync runs;
// maintenance runs every 500 commits or once a day instead.
//
// # Locks
//
// While another process holds index.lock, or a merge, rebase, cherry-pick,
// revert or bisect is in progress, no commit is attempted: the paths stay
// pending and the committer backs off (100 ms doubling to 5 s), logging once
// when the wait starts and once when it ends. A lock elfsync did not create is
// never removed. Before each of its own commands that take a shared lock
// (index.lock, a ref lock), elfsync writes an ownership marker into the git
// directory; after a crash, New removes only a lock that such a marker of a
// dead process accounts for.
//
// # Platforms
//
// Only the git command is used, with exec arguments (never a shell), so the
// same code runs on Linux, macOS and Windows. Paths are reported with "/".
// Whether a process is alive is asked behind build tags (proc_unix.go,
// proc_windows.go).
package committer
