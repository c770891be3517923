package committer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// stateFile is the name, inside the git directory, of the small JSON file
// that carries the committer's last outcome to other processes (`elfsync
// status` runs apart from `elfsync watch`). It lives in the git directory so
// it is never committed and goes with the repository.
const stateFile = "elfsync-state.json"

// persisted is the content of stateFile.
type persisted struct {
	LastCommit              CommitInfo `json:"last_commit"`
	LastError               string     `json:"last_error,omitempty"`
	LastErrorTime           time.Time  `json:"last_error_time"`
	CommitsSinceMaintenance int        `json:"commits_since_maintenance"`
	LastMaintenance         time.Time  `json:"last_maintenance"`
}

// readState reads the state file; a missing or unreadable file is an empty
// state (it only informs, it decides nothing).
func (c *Committer) readState() persisted {
	var s persisted
	b, err := os.ReadFile(filepath.Join(c.repo.gitDir, stateFile))
	if err == nil {
		_ = json.Unmarshal(b, &s)
	}
	return s
}

// updateState applies fn to the state file under stateMu and writes it back
// atomically. Two processes may race on it; the last writer wins, which is
// fine for what it holds.
func (c *Committer) updateState(fn func(*persisted)) error {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	s := c.readState()
	fn(&s)
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	p := filepath.Join(c.repo.gitDir, stateFile)
	if err := writeFileAtomic(p, append(b, '\n')); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("save committer state: %w", err)
	}
	return nil
}

// recordError persists err as the last git error, keeping the time it was
// first seen while the same error repeats.
func (c *Committer) recordError(err error) {
	msg := err.Error()
	c.stateMu.Lock()
	same := c.lastErr == msg
	c.lastErr = msg
	c.stateMu.Unlock()
	if same {
		return
	}
	if werr := c.updateState(func(s *persisted) {
		s.LastError = msg
		s.LastErrorTime = time.Now().UTC()
	}); werr != nil {
		c.log.Warn().Err(werr).Msg("record git error")
	}
}

// recordSuccess clears the last error and, when a commit was made, records
// it and counts it towards maintenance. It reports whether maintenance is
// due.
func (c *Committer) recordSuccess(res Result, subject string) (maintenanceDue bool) {
	c.stateMu.Lock()
	hadErr := c.lastErr != ""
	c.lastErr = ""
	c.stateMu.Unlock()
	if res.Commit == "" && !hadErr {
		return false
	}
	now := time.Now().UTC()
	if err := c.updateState(func(s *persisted) {
		s.LastError = ""
		s.LastErrorTime = time.Time{}
		if res.Commit == "" {
			return
		}
		s.LastCommit = CommitInfo{Hash: res.Commit, Subject: subject, Time: now}
		s.CommitsSinceMaintenance++
		if s.LastMaintenance.IsZero() {
			s.LastMaintenance = now
		}
		maintenanceDue = s.CommitsSinceMaintenance >= maintenanceEvery ||
			now.Sub(s.LastMaintenance) >= maintenanceInterval
	}); err != nil {
		c.log.Warn().Err(err).Msg("record commit")
	}
	return maintenanceDue
}
