// Package status reads how far one root is from "in sync", for `elfsync
// status` (and any other front end): record files against index rows
// (indexer.Check), memory/ against git's HEAD (committer.ReadStatus), the
// running watcher (instance.Read), and which drift that watcher is still
// within its published deadlines for, which is pending work rather than
// drift.
//
// It only reads. Report is the shape of `elfsync status --json`, a
// contract pinned by cmd/elfsync/testdata/status.shape.json; WriteText and
// WriteJSON are the command's two outputs.
package status
