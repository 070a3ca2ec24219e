package migrate

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipyardci/shipyard/internal/dbtest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// migrationsDir writes files (name → SQL) into a new directory.
func migrationsDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	return dir
}

// holdTable locks table in another session, as a long transaction of the application would, until the
// returned function is called.
func holdTable(t *testing.T, url, table string) (release func()) {
	t.Helper()
	db, err := sql.Open("pgx/v5", url)
	require.NoError(t, err)
	tx, err := db.Begin()
	require.NoError(t, err)
	_, err = tx.Exec("LOCK TABLE " + table + " IN ACCESS SHARE MODE")
	require.NoError(t, err)
	released := false
	release = func() {
		if !released {
			released = true
			_ = tx.Rollback()
			db.Close()
		}
	}
	t.Cleanup(release)
	return release
}

var lockWaitFiles = map[string]string{
	"1_accounts.up.sql":   "CREATE TABLE accounts (id BIGINT PRIMARY KEY);",
	"1_accounts.down.sql": "DROP TABLE accounts;",
	"2_email.up.sql":      "CREATE TABLE audit (id INT);\nALTER TABLE accounts ADD COLUMN email TEXT;",
	"2_email.down.sql":    "ALTER TABLE accounts DROP COLUMN email;\nDROP TABLE audit;",
}

// TestLockTimeoutRetried: an ALTER TABLE on a table a long transaction reads from hits lock_timeout
// instead of queueing every query behind it; it is rolled back, tried again, and succeeds once the
// transaction ends.
func TestLockTimeoutRetried(t *testing.T) {
	ctx := context.Background()
	url := dbtest.Postgres(t)
	var log bytes.Buffer
	r := open(t, url, migrationsDir(t, lockWaitFiles), WithPostgresTimeouts(200*time.Millisecond, 0),
		WithLockRetries(20, 100*time.Millisecond), WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
	_, err := r.Up(ctx, 1)
	require.NoError(t, err)

	release := holdTable(t, url, "accounts")
	time.AfterFunc(1200*time.Millisecond, release)
	res, err := r.Up(ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, []uint64{2}, versions(res.Steps))
	assert.Contains(t, log.String(), `msg="lock_timeout hit: rolled back, running it again" file=2_email.up.sql try=1/21`)

	st, err := r.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), st.Version)
	assert.False(t, st.Dirty)
}

// TestLockTimeoutGivesUpClean: when the lock never comes, the runner gives up after its retries and the
// database is where it was, clean, with nothing of the file applied.
func TestLockTimeoutGivesUpClean(t *testing.T) {
	ctx := context.Background()
	url := dbtest.Postgres(t)
	r := open(t, url, migrationsDir(t, lockWaitFiles), WithPostgresTimeouts(100*time.Millisecond, 0), WithLockRetries(2, 50*time.Millisecond))
	_, err := r.Up(ctx, 1)
	require.NoError(t, err)
	holdTable(t, url, "accounts")

	start := time.Now()
	_, err = r.Up(ctx, 0)
	var lockErr *LockWaitError
	require.ErrorAs(t, err, &lockErr)
	assert.Equal(t, 3, lockErr.Attempts)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Contains(t, err.Error(), "migration 2_email.up.sql could not take its locks within lock_timeout 100ms in 3 tries")
	assert.Contains(t, err.Error(), "nothing was changed")

	st, err := r.Status(ctx)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), st.Version)
	assert.False(t, st.Dirty)
	var audit bool
	require.NoError(t, r.db.QueryRow("SELECT to_regclass('audit') IS NOT NULL").Scan(&audit))
	assert.False(t, audit, "the file's first statement was rolled back with the rest")
}

// TestLockTimeoutNotRetriedOutsideATransaction: a file with its own transaction control may have
// committed part of itself before the lock wait failed, so it is dirty, not retried.
func TestLockTimeoutNotRetriedOutsideATransaction(t *testing.T) {
	ctx := context.Background()
	url := dbtest.Postgres(t)
	files := map[string]string{
		"1_accounts.up.sql": lockWaitFiles["1_accounts.up.sql"],
		"2_email.up.sql":    "CREATE TABLE audit (id INT);\nBEGIN;\nALTER TABLE accounts ADD COLUMN email TEXT;\nCOMMIT;",
	}
	r := open(t, url, migrationsDir(t, files), WithPostgresTimeouts(100*time.Millisecond, 0), WithLockRetries(5, 50*time.Millisecond))
	_, err := r.Up(ctx, 1)
	require.NoError(t, err)
	holdTable(t, url, "accounts")

	_, err = r.Up(ctx, 0)
	var dirty *DirtyError
	require.ErrorAs(t, err, &dirty)
	assert.Equal(t, uint64(2), dirty.Version)
	assert.Contains(t, dirty.Cause.Error(), "55P03")
}

// TestStatementTimeout: a statement running past statement_timeout is cancelled by the server.
func TestStatementTimeout(t *testing.T) {
	ctx := context.Background()
	url := dbtest.Postgres(t)
	files := map[string]string{"1_slow.up.sql": "SELECT pg_sleep(10);"}
	r := open(t, url, migrationsDir(t, files), WithPostgresTimeouts(time.Second, 300*time.Millisecond))
	start := time.Now()
	_, err := r.Up(ctx, 0)
	var dirty *DirtyError
	require.ErrorAs(t, err, &dirty)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Contains(t, dirty.Cause.Error(), "statement timeout")
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 6: 30 * time.Second, 40: 30 * time.Second} {
		for range 50 {
			got := backoff(time.Second, n)
			assert.GreaterOrEqual(t, got, want*3/4, "try %d", n)
			assert.LessOrEqual(t, got, want*5/4, "try %d", n)
		}
	}
	assert.True(t, strings.HasPrefix((&LockWaitError{File: "f", Attempts: 2, LockTimeout: time.Second}).Error(), "migration f could not"))
}
