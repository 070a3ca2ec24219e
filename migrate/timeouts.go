package migrate

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"time"

	"github.com/golang-migrate/migrate/v4/database"
)

// Lock waits on PostgreSQL.
//
// An ALTER TABLE waiting for a busy table holds its place in the lock queue, and every query of the
// application that touches the table queues behind it: a migration that waits is an outage. So each
// migration runs with a short lock_timeout, and when it hits it (SQLSTATE 55P03), the migration's
// implicit transaction has rolled back, the version is set back to where it was, and the migration runs
// again after a pause. A file that is not one transaction (explicit BEGIN/COMMIT, CONCURRENTLY) may have
// changed things before it failed, so it is not retried: it is dirty like any other failure.

// LockWaitError is a migration that could not take its locks within lock_timeout, however often it
// was tried. Nothing was changed: the database is at the version it was.
type LockWaitError struct {
	File        string
	Attempts    int
	LockTimeout time.Duration
	Cause       error
}

func (e *LockWaitError) Error() string {
	return fmt.Sprintf("migration %s could not take its locks within lock_timeout %s in %d tries: other sessions hold them (see pg_locks); nothing was changed: %v",
		e.File, e.LockTimeout, e.Attempts, e.Cause)
}

func (e *LockWaitError) Unwrap() error { return e.Cause }

// step runs one migration, file name, in direction dir, from version before; a lock timeout sets the
// version back and runs it again.
func (r *Runner) step(ctx context.Context, m Migration, dir int, before uint64, name string) error {
	for attempt := 1; ; attempt++ {
		err := r.m.Steps(dir)
		if err == nil {
			return nil
		}
		if !r.lockTimedOut(err, name) {
			failed := m.Version
			if v, _, verr := r.version(ctx); verr == nil {
				failed = v
			}
			return r.dirty(failed, err)
		}
		if ferr := r.setVersion(before); ferr != nil {
			return fmt.Errorf("setting version %d back after a lock timeout in %s: %w", before, name, ferr)
		}
		_, _, cause, _ := engineError(err)
		if attempt > r.opts.LockRetries {
			return &LockWaitError{File: name, Attempts: attempt, LockTimeout: r.opts.PGLockTimeout, Cause: cause}
		}
		wait := backoff(r.opts.LockBackoff, attempt)
		r.opts.Logger.Warn("lock_timeout hit: rolled back, running it again",
			"file", name, "try", fmt.Sprintf("%d/%d", attempt, r.opts.LockRetries+1), "in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped while waiting to run %s again: %w", name, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// lockTimedOut reports whether err is a lock wait that timed out in a file that rolled back as a whole.
func (r *Runner) lockTimedOut(err error, name string) bool {
	_, _, err, _ = engineError(err)
	if !r.d.lockTimedOut(err) {
		return false
	}
	body, rerr := fs.ReadFile(r.fsys, name)
	return rerr == nil && oneTransaction(body)
}

// setVersion sets golang-migrate's version, clean; 0 is no migration applied.
func (r *Runner) setVersion(v uint64) error {
	target := int(v)
	if v == 0 {
		target = database.NilVersion
	}
	return r.m.Force(target)
}

// backoff is the pause before try n+1: base doubling with each try, at most 30 s, with ±25% jitter so
// that runners on several clusters do not retry in step.
func backoff(base time.Duration, n int) time.Duration {
	d := base << min(n-1, 5)
	d = min(d, 30*time.Second)
	jitter := time.Duration(rand.Int64N(int64(d)/2+1)) - d/4
	return d + jitter
}
