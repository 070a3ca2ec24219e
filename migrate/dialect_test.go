package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/dbtest"
)

// TestDialectConformance is what every dialect must do, on its real server: dbtest.All is the table,
// and a new database passes all of it before the runner may use it.
func TestDialectConformance(t *testing.T) {
	for _, db := range dbtest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			r := open(t, db.URL, "testdata/basic")
			t.Run("the lock is exclusive and dies with its connection", func(t *testing.T) {
				other := open(t, db.URL, "testdata/basic")
				ok, err := r.lock.tryLock(ctx)
				require.NoError(t, err)
				require.True(t, ok)
				ok, err = other.lock.tryLock(ctx)
				require.NoError(t, err)
				assert.False(t, ok, "held by the first")
				require.NoError(t, r.lock.unlock(ctx))
				ok, err = other.lock.tryLock(ctx)
				require.NoError(t, err)
				assert.True(t, ok, "free once released")
				_ = other.Close()                  // as a dead process's connections close
				assert.Eventually(t, func() bool { // the server ends the session a moment after the client goes
					ok, err := r.lock.tryLock(ctx)
					return err == nil && ok
				}, 5*time.Second, 20*time.Millisecond, "free once its connections closed")
				require.NoError(t, r.lock.unlock(ctx))
			})
			t.Run("shipyard's tables are found by their qualified names", func(t *testing.T) {
				exists, err := r.tableExists(ctx, historyTable)
				require.NoError(t, err)
				assert.False(t, exists)
				require.NoError(t, r.ensureHistory(ctx))
				require.NoError(t, r.ensureProgress(ctx))
				exists, err = r.tableExists(ctx, historyTable)
				require.NoError(t, err)
				assert.True(t, exists)
				_, err = r.db.ExecContext(ctx, "SELECT COUNT(*) FROM "+r.tbl(historyTable))
				require.NoError(t, err, "the qualified name works")
			})
			t.Run("placeholders", func(t *testing.T) {
				_, err := r.db.ExecContext(ctx, "CREATE TABLE conform_p (a INTEGER, b VARCHAR(10))")
				require.NoError(t, err)
				_, err = r.db.ExecContext(ctx, r.query("INSERT INTO conform_p (a, b) VALUES (?, ?)"), 7, "seven")
				require.NoError(t, err)
				var b string
				require.NoError(t, r.db.QueryRowContext(ctx, r.query("SELECT b FROM conform_p WHERE a = ?"), 7).Scan(&b))
				assert.Equal(t, "seven", b)
			})
			t.Run("session and batch settings are accepted", func(t *testing.T) {
				tx, err := r.db.BeginTx(ctx, nil)
				require.NoError(t, err)
				for _, set := range r.d.sessionSettings(time.Second, 2*time.Second, true) {
					_, err := tx.ExecContext(ctx, set)
					require.NoError(t, err, set)
				}
				require.NoError(t, tx.Rollback())
				opts, settings := r.d.batchTx(time.Second)
				tx, err = r.db.BeginTx(ctx, opts)
				require.NoError(t, err)
				for _, set := range settings {
					_, err := tx.ExecContext(ctx, set)
					require.NoError(t, err, set)
				}
				require.NoError(t, tx.Commit())
				conn, err := r.db.Conn(ctx)
				require.NoError(t, err)
				defer conn.Close()
				for _, set := range append(r.d.sessionSettings(time.Second, 0, false), r.d.resetSession()) {
					if set != "" {
						_, err := conn.ExecContext(ctx, set)
						require.NoError(t, err, set)
					}
				}
			})
			t.Run("a served up file runs, its marker last", func(t *testing.T) {
				require.NoError(t, r.ensureProgress(ctx))
				for i, body := range []string{
					"CREATE TABLE conform_s1 (id INTEGER);\n",
					"CREATE TABLE conform_s2 (id INTEGER);\n-- a comment after the last statement\n",
					"CREATE TABLE conform_s3 (id INTEGER)",
				} {
					m := Migration{Version: uint64(100 + i), Name: "served"}
					served, marked := r.serveUp(m, []byte(body))
					require.True(t, marked, "a file of one statement can carry the marker")
					_, err := r.db.ExecContext(ctx, string(served))
					require.NoError(t, err, "%s", served)
					var n int
					require.NoError(t, r.db.QueryRowContext(ctx, r.query("SELECT COUNT(*) FROM "+r.tbl(commitTable)+" WHERE version = ? AND run = ?"), m.Version, r.runID).Scan(&n))
					assert.Equal(t, 1, n, "the marker ran with the file")
				}
				_, marked := r.serveUp(Migration{Version: 200}, []byte("CREATE TABLE a (id INTEGER);\nCOMMIT;\nCREATE TABLE b (id INTEGER);\n"))
				assert.Equal(t, !r.d.rollsBack(), marked, "where a marked file that did not commit rolled back, a file that commits part way is not marked")
			})
			t.Run("backfill keys", func(t *testing.T) {
				_, err := r.db.ExecContext(ctx, "CREATE TABLE conform_k (id INTEGER PRIMARY KEY, v INTEGER)")
				require.NoError(t, err)
				param, textType, err := r.d.keyType(ctx, r.db, "conform_k", "id")
				require.NoError(t, err)
				assert.Contains(t, param, "?")
				assert.NotEmpty(t, textType)
				_, _, err = r.d.keyType(ctx, r.db, "conform_k", "nope")
				assert.ErrorIs(t, err, sql.ErrNoRows)
			})
			t.Run("the load the backfill yields to", func(t *testing.T) {
				l, err := r.d.pressure(ctx, r.db, r.runID)
				require.NoError(t, err)
				assert.GreaterOrEqual(t, l.active, map[string]int{"sqlite": -1, "postgres": 0, "mariadb": 0}[db.Name])
				assert.GreaterOrEqual(t, l.lockWait, map[string]time.Duration{"sqlite": -1, "postgres": 0, "mariadb": 0}[db.Name])
				assert.Equal(t, db.Name != "sqlite", r.d.probes())
				if r.d.probes() {
					conn, err := r.db.Conn(ctx)
					require.NoError(t, err)
					defer conn.Close()
					running, oldest, err := r.d.probe(ctx, conn, r.runID)
					require.NoError(t, err)
					assert.GreaterOrEqual(t, running, -1)
					assert.GreaterOrEqual(t, oldest, time.Duration(0))
				}
			})
			t.Run("a lost lock race is retryable", func(t *testing.T) {
				err := conformLockRace(t, db.Name, r)
				require.Error(t, err)
				assert.True(t, r.d.retryable(err), "%v", err)
				assert.Equal(t, db.Name == "postgres", r.d.lockTimedOut(err), "lock_timeout is PostgreSQL's: %v", err)
			})
			t.Run("a dead run's sessions end", func(t *testing.T) {
				require.NoError(t, r.ensureProgress(ctx))
				done := conformOrphan(t, db.Name, r, "deadrun1")
				start := time.Now()
				require.NoError(t, r.d.endRun(ctx, r.db, r.tbl(sessionsTable), "deadrun1"))
				select {
				case err := <-done:
					assert.Error(t, err, "the orphan's query was ended")
				case <-time.After(10 * time.Second):
					t.Fatal("the orphan's query still runs")
				}
				assert.Less(t, time.Since(start), 10*time.Second)
			})
		})
	}
}

// conformLockRace makes r lose a lock race on its database and returns the error.
func conformLockRace(t *testing.T, name string, r *Runner) error {
	t.Helper()
	ctx := context.Background()
	_, err := r.db.ExecContext(ctx, "CREATE TABLE conform_l (id INTEGER PRIMARY KEY)")
	require.NoError(t, err)
	_, err = r.db.ExecContext(ctx, "INSERT INTO conform_l (id) VALUES (1)")
	require.NoError(t, err)
	holder, err := r.db.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer holder.Rollback()
	_, err = holder.ExecContext(ctx, "UPDATE conform_l SET id = 1 WHERE id = 1")
	require.NoError(t, err)
	switch name {
	case "postgres":
		tx, err := r.db.BeginTx(ctx, nil)
		require.NoError(t, err)
		defer tx.Rollback()
		_, err = tx.ExecContext(ctx, "SET LOCAL lock_timeout = 100")
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, "UPDATE conform_l SET id = 1 WHERE id = 1")
		return err
	case "mariadb":
		conn, err := r.db.Conn(ctx)
		require.NoError(t, err)
		defer conn.Close()
		_, err = conn.ExecContext(ctx, "SET SESSION innodb_lock_wait_timeout = 1")
		require.NoError(t, err)
		_, err = conn.ExecContext(ctx, "UPDATE conform_l SET id = 1 WHERE id = 1")
		return err
	}
	// SQLite: another connection, with no busy timeout, to the file a transaction writes.
	other, err := sql.Open("sqlite", r.target.DSN+"?_pragma=busy_timeout(0)")
	require.NoError(t, err)
	defer other.Close()
	_, err = other.ExecContext(ctx, "UPDATE conform_l SET id = 1 WHERE id = 1")
	return err
}

// conformOrphan starts a long query on a session of run, as a killed runner leaves one behind; the
// channel reports how it ended.
func conformOrphan(t *testing.T, name string, r *Runner, run string) <-chan error {
	t.Helper()
	ctx := context.Background()
	done := make(chan error, 1)
	switch name {
	case "postgres":
		orphan, err := sql.Open("pgx/v5", r.d.ownDSN(r.target.DSN, run))
		require.NoError(t, err)
		t.Cleanup(func() { orphan.Close() })
		go func() { _, err := orphan.ExecContext(ctx, "SELECT pg_sleep(30)"); done <- err }()
		require.Eventually(t, func() bool {
			var n int
			_ = r.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'", applicationName(run)).Scan(&n)
			return n == 1
		}, 5*time.Second, 20*time.Millisecond)
	case "mariadb":
		orphan, err := sql.Open("mysql", r.target.DSN)
		require.NoError(t, err)
		t.Cleanup(func() { orphan.Close() })
		conn, err := orphan.Conn(ctx)
		require.NoError(t, err)
		_, err = conn.ExecContext(ctx, "INSERT INTO "+r.tbl(sessionsTable)+" (run, conn) VALUES (?, CONNECTION_ID())", run)
		require.NoError(t, err)
		go func() { _, err := conn.ExecContext(ctx, "DO SLEEP(30)"); done <- err }()
		time.Sleep(200 * time.Millisecond)
	default: // SQLite: a dead process leaves nothing running
		done <- errors.New("nothing ran")
	}
	return done
}

// TestNoDialectBranchesOutsideTheDialects: what differs between databases lives behind the dialect
// interface; the rest of the package never asks which database it is on.
func TestNoDialectBranchesOutsideTheDialects(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.HasPrefix(f, "dialect") || f == "lintdir.go" || f == "target.go" {
			continue
		}
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		for i, line := range strings.Split(string(data), "\n") {
			for _, branch := range []string{"Dialect ==", "Dialect !=", "switch r.target.Dialect", "case Postgres", "case MySQL", "case SQLite"} {
				assert.NotContains(t, line, branch, fmt.Sprintf("%s:%d", f, i+1))
			}
		}
	}
}
