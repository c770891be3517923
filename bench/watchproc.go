package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// watchProc is a running `elfsync watch`. Its JSON log goes to a file in
// the root's parent; the harness reads the lines as they come to see when
// the startup scan is done and when commits happen.
type watchProc struct {
	cmd     *exec.Cmd
	pid     int
	logPath string
	ready   chan struct{} // closed when the startup full scan is logged
	exited  chan struct{} // closed when the process has been waited for
	waitErr error         // set before exited is closed

	mu      sync.Mutex
	commits []loggedCommit
	errs    []string // error and warning messages logged
}

// loggedCommit is one "committed" line of the watcher's log, stamped with
// the time the harness read it.
type loggedCommit struct {
	Seen  time.Time `json:"seen"`
	Paths int       `json:"paths"`
	// TookMS is the commit's duration if the log line carries one
	// ("took_ms"); 0 otherwise.
	TookMS float64 `json:"took_ms,omitempty"`
}

// startWatch starts `elfsync watch` on root with extra flags and waits
// until its startup scan is done (at most startTimeout).
func (e *env) startWatch(ctx context.Context, root string, startTimeout time.Duration, extra ...string) (*watchProc, error) {
	args := append([]string{"watch", "--root", root, "--log-format", "json", "--log-level", "info"}, extra...)
	cmd := command(ctx, e.bin, args...)
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	logPath := filepath.Join(filepath.Dir(root), filepath.Base(root)+fmt.Sprintf("-watch-%d.log", time.Now().UnixNano()))
	logf, err := os.Create(logPath)
	if err != nil {
		pr.Close()
		pw.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		logf.Close()
		return nil, fmt.Errorf("start elfsync watch: %w", err)
	}
	pw.Close()
	w := &watchProc{cmd: cmd, pid: cmd.Process.Pid, logPath: logPath, ready: make(chan struct{}), exited: make(chan struct{})}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer logf.Close()
		defer pr.Close()
		w.readLog(pr, logf)
	}()
	go func() {
		err := cmd.Wait()
		<-readerDone
		w.waitErr = err
		close(w.exited)
	}()
	t := time.NewTimer(startTimeout)
	defer t.Stop()
	select {
	case <-w.ready:
		return w, nil
	case <-w.exited:
		return nil, fmt.Errorf("elfsync watch exited during startup (%v); log %s: %s", w.waitErr, logPath, w.lastErrors())
	case <-t.C:
		w.stop()
		return nil, fmt.Errorf("elfsync watch not ready after %s; log %s", startTimeout, logPath)
	case <-ctx.Done():
		w.stop()
		return nil, ctx.Err()
	}
}

// readLog copies the log to logf and notes the lines the harness uses.
func (w *watchProc) readLog(r *os.File, logf *os.File) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	readyClosed := false
	for sc.Scan() {
		line := sc.Bytes()
		logf.Write(line)
		logf.Write([]byte{'\n'})
		var rec struct {
			Level   string   `json:"level"`
			Message string   `json:"message"`
			Reason  string   `json:"reason"`
			Paths   int      `json:"paths"`
			Took    *float64 `json:"took_ms"`
			Error   string   `json:"error"`
		}
		if json.Unmarshal(line, &rec) != nil {
			continue
		}
		switch {
		case rec.Message == "full scan" && rec.Reason == "startup" && !readyClosed:
			readyClosed = true
			close(w.ready)
		case rec.Message == "committed":
			c := loggedCommit{Seen: time.Now(), Paths: rec.Paths}
			if rec.Took != nil {
				c.TookMS = *rec.Took
			}
			w.mu.Lock()
			w.commits = append(w.commits, c)
			w.mu.Unlock()
		}
		if rec.Level == "error" || rec.Level == "warn" || rec.Level == "fatal" {
			w.mu.Lock()
			if len(w.errs) < 50 {
				w.errs = append(w.errs, rec.Message+": "+rec.Error)
			}
			w.mu.Unlock()
		}
	}
}

func (w *watchProc) loggedCommits() []loggedCommit {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]loggedCommit(nil), w.commits...)
}

func (w *watchProc) lastErrors() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.errs...)
}

// alive reports whether the watcher has not exited.
func (w *watchProc) alive() bool {
	select {
	case <-w.exited:
		return false
	default:
		return true
	}
}

// stop asks the watcher to flush and exit (SIGTERM), and kills its whole
// process group if it has not exited within 30 s. It returns the exit
// error of an unclean stop.
func (w *watchProc) stop() error {
	if !w.alive() {
		return w.waitErr
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(30 * time.Second)
	defer t.Stop()
	select {
	case <-w.exited:
		if w.waitErr != nil {
			return fmt.Errorf("elfsync watch: %w", w.waitErr)
		}
		return nil
	case <-t.C:
	}
	_ = killGroup(w.cmd, syscall.SIGKILL)
	<-w.exited
	return errors.New("elfsync watch did not stop within 30 s of SIGTERM; killed")
}
