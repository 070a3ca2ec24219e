package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gofrs/flock"
)

// locker is the migration lock of one database. Only one shipyard runner migrates a database at a time;
// the others try again until their lock timeout runs out, so that the timeout really holds (a blocking
// pg_advisory_lock keeps waiting on the server after the client gave up).
type locker interface {
	// tryLock takes the lock if it is free.
	tryLock(ctx context.Context) (bool, error)
	unlock(ctx context.Context) error
	// name says which lock, for messages.
	name() string
	close() error
}

// LockTimeoutError is returned when another runner held the lock for the whole lock timeout.
type LockTimeoutError struct {
	Lock   string
	Waited time.Duration
}

func (e *LockTimeoutError) Error() string {
	return fmt.Sprintf("another migration runner holds the lock %s: gave up after %s", e.Lock, e.Waited.Round(time.Millisecond))
}

// lockPoll is how often a waiting runner tries the lock again.
const lockPoll = 200 * time.Millisecond

// acquire takes the lock, trying again until timeout. onWait is called once when the lock is busy.
func acquire(ctx context.Context, l locker, timeout time.Duration, onWait func(lock string)) error {
	start := time.Now()
	deadline := start.Add(timeout)
	for waited := false; ; waited = true {
		ok, err := l.tryLock(ctx)
		if err != nil {
			return fmt.Errorf("taking the migration lock %s: %w", l.name(), err)
		}
		if ok {
			return nil
		}
		if !waited && onWait != nil {
			onWait(l.name())
		}
		wait := min(lockPoll, time.Until(deadline))
		if wait <= 0 {
			return &LockTimeoutError{Lock: l.name(), Waited: time.Since(start)}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the migration lock %s: %w", l.name(), ctx.Err())
		case <-time.After(wait):
		}
	}
}

type pgLock struct {
	conn *sql.Conn
	key  int64
}

func (l *pgLock) name() string { return fmt.Sprintf("pg_advisory_lock(%d)", l.key) }
func (l *pgLock) tryLock(ctx context.Context) (bool, error) {
	var ok bool
	err := l.conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", l.key).Scan(&ok)
	return ok, err
}
func (l *pgLock) unlock(ctx context.Context) error {
	_, err := l.conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", l.key)
	return err
}
func (l *pgLock) close() error { return l.conn.Close() }

type mysqlLock struct {
	conn     *sql.Conn
	lockName string
}

func (l *mysqlLock) name() string { return fmt.Sprintf("GET_LOCK('%s')", l.lockName) }
func (l *mysqlLock) tryLock(ctx context.Context) (bool, error) {
	var got sql.NullInt64
	if err := l.conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", l.lockName).Scan(&got); err != nil {
		return false, err
	}
	return got.Valid && got.Int64 == 1, nil
}
func (l *mysqlLock) unlock(ctx context.Context) error {
	_, err := l.conn.ExecContext(ctx, "SELECT RELEASE_LOCK(?)", l.lockName)
	return err
}
func (l *mysqlLock) close() error { return l.conn.Close() }

// fileLock serialises runners on one machine around a SQLite file (the only place SQLite is shared).
type fileLock struct{ f *flock.Flock }

func (l *fileLock) name() string                          { return l.f.Path() }
func (l *fileLock) tryLock(context.Context) (bool, error) { return l.f.TryLock() }
func (l *fileLock) unlock(context.Context) error          { return l.f.Unlock() }
func (l *fileLock) close() error                          { return l.f.Close() }
