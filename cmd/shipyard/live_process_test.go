package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/dbtest"
)

// opMigrations copies a generated operation of the migrate package's test data.
func opMigrations(t *testing.T, op string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "migrate", "testdata", "ops", op))))
	return dir
}

func shipyard(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit)
		code = exit.ExitCode()
	}
	return out.String(), errOut.String(), code
}

// checkpoint reads the backfill's progress record.
func checkpoint(t *testing.T, db *sql.DB) (last string, rows, total int64, runs int) {
	t.Helper()
	var l sql.NullString
	require.NoError(t, db.QueryRow(`SELECT backfill_last, backfill_rows, backfill_total, backfill_runs FROM shipyard_migration_phases WHERE version = 2`).Scan(&l, &rows, &total, &runs))
	return l.String, rows, total, runs
}

// TestBackfillResumesAfterSIGKILL kills a backfill at about half way: the rerun starts from the
// checkpoint the killed run committed last, does the rest only, and every row ends correct.
func TestBackfillResumesAfterSIGKILL(t *testing.T) {
	url := dbtest.Postgres(t)
	dir := opMigrations(t, "rename_column")
	db, err := sql.Open("pgx/v5", url)
	require.NoError(t, err)
	defer db.Close()
	_, _, code := shipyard(t, "migrate", "up", "1", "--database", url, "--dir", dir)
	require.Equal(t, 0, code)
	_, err = db.Exec(`INSERT INTO people (name) SELECT 'Person ' || i FROM generate_series(1, 200000) i`)
	require.NoError(t, err)
	_, stderr, code := shipyard(t, "migrate", "up", "--phase", "expand", "--database", url, "--dir", dir)
	require.Equal(t, 0, code, stderr)

	cmd := exec.Command(binary, "migrate", "backfill", "--database", url, "--dir", dir, "--batch-size", "2000", "--batch-time", "0", "--max-rate", "50000")
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, rows, total, _ := checkpoint(t, db)
		if total > 0 && rows >= total/2 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the backfill reaches half way")
		select {
		case <-exited:
			t.Fatal("the backfill ended before half way")
		case <-time.After(20 * time.Millisecond):
		}
	}
	require.NoError(t, cmd.Process.Signal(os.Kill))
	<-exited
	last, done, total, runs := checkpoint(t, db)
	require.EqualValues(t, 200000, total)
	assert.InDelta(t, 100000, done, 20000, "killed at about half way")
	assert.Equal(t, 1, runs)
	assert.Positive(t, count(t, db, `SELECT COUNT(*) FROM people WHERE full_name IS NULL`), "the killed run left rows to do")

	stdout, stderr, code := shipyard(t, "-o", "json", "migrate", "backfill", "--database", url, "--dir", dir, "--batch-size", "5000")
	require.Equal(t, 0, code, stderr)
	var res struct {
		Backfill struct {
			Rows, Done, Total int64
			ResumedRows       int64  `json:"resumed_rows"`
			ResumedAt         string `json:"resumed_at"`
		}
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &res), stdout)
	assert.Equal(t, last, res.Backfill.ResumedAt, "resumed from the killed run's checkpoint")
	assert.Equal(t, done, res.Backfill.ResumedRows)
	assert.Equal(t, total-done, res.Backfill.Rows, "only the rest was done")
	assert.EqualValues(t, 200000, res.Backfill.Done)
	_, _, _, runs = checkpoint(t, db)
	assert.Equal(t, 2, runs)
	assert.Equal(t, 0, count(t, db, `SELECT COUNT(*) FROM people WHERE full_name IS DISTINCT FROM name`), "every row is correct")
}

func count(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(q).Scan(&n))
	return n
}

// TestConcurrentExpandWithIndexConcurrently: several pre-deploy jobs expand at once a migration that builds
// an index CONCURRENTLY. golang-migrate deadlocks there (issue #960: CREATE INDEX CONCURRENTLY waits for
// the transaction of a runner blocked in pg_advisory_lock); shipyard's runners wait without a
// transaction open, so one builds the index and the others find nothing to do.
func TestConcurrentExpandWithIndexConcurrently(t *testing.T) {
	url := dbtest.Postgres(t)
	dir := opMigrations(t, "add_unique")
	const runners = 4
	var wg sync.WaitGroup
	codes, errs := make([]int, runners), make([]string, runners)
	for i := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i], codes[i] = shipyard(t, "migrate", "up", "--phase", "expand", "--database", url, "--dir", dir, "--lock-timeout", "60s")
		}()
	}
	wg.Wait()
	for i := range runners {
		assert.Equal(t, 0, codes[i], "runner %d: %s", i, errs[i])
	}
	db, err := sql.Open("pgx/v5", url)
	require.NoError(t, err)
	defer db.Close()
	assert.Equal(t, 1, count(t, db, `SELECT COUNT(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'tokens_code_key' AND i.indisvalid`))
	stdout, _, code := shipyard(t, "migrate", "status", "--database", url, "--dir", dir)
	require.Equal(t, 0, code)
	assert.Contains(t, stdout, "version  2 (clean)")
}
