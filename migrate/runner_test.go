package migrate

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shipyardci/shipyard/internal/dbtest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func open(t *testing.T, url, dir string, opts ...Option) *Runner {
	t.Helper()
	r, err := Open(context.Background(), url, os.DirFS(dir), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

func versions(steps []Step) []uint64 {
	out := []uint64{}
	for _, s := range steps {
		out = append(out, s.Version)
	}
	return out
}

// TestConformance is the behaviour every database must show.
func TestConformance(t *testing.T) {
	for _, db := range dbtest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			r := open(t, db.URL, "testdata/basic")

			st, err := r.Status(ctx)
			require.NoError(t, err)
			assert.Equal(t, uint64(0), st.Version)
			assert.Len(t, st.Pending, 3)

			res, err := r.Up(ctx, 0)
			require.NoError(t, err)
			assert.Equal(t, []uint64{1, 2, 3}, versions(res.Steps))
			assert.Equal(t, uint64(3), res.To)

			res, err = r.Up(ctx, 0)
			require.NoError(t, err, "nothing to do is success")
			assert.Empty(t, res.Steps)

			res, err = r.Down(ctx, 1)
			require.NoError(t, err)
			assert.Equal(t, []uint64{3}, versions(res.Steps))
			assert.Equal(t, "down", res.Steps[0].Direction)

			res, err = r.Goto(ctx, 1)
			require.NoError(t, err)
			assert.Equal(t, uint64(1), res.To)
			res, err = r.Goto(ctx, 3)
			require.NoError(t, err)
			assert.Equal(t, []uint64{2, 3}, versions(res.Steps))

			res, err = r.Up(ctx, 1)
			require.NoError(t, err)
			assert.Empty(t, res.Steps)

			res, err = r.Down(ctx, 0)
			require.NoError(t, err)
			assert.Equal(t, []uint64{3, 2, 1}, versions(res.Steps))
			st, err = r.Status(ctx)
			require.NoError(t, err)
			assert.Equal(t, uint64(0), st.Version)
			assert.Empty(t, st.Applied)

			res, err = r.Up(ctx, 2)
			require.NoError(t, err)
			assert.Equal(t, []uint64{1, 2}, versions(res.Steps))

			_, err = r.Goto(ctx, 7)
			assert.EqualError(t, err, "no migration has version 7")
		})
	}
}

func TestDirtyAndForce(t *testing.T) {
	for _, db := range dbtest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			r := open(t, db.URL, "testdata/failing")
			res, err := r.Up(ctx, 0)
			var dirty *DirtyError
			require.ErrorAs(t, err, &dirty)
			assert.Equal(t, []uint64{1}, versions(res.Steps), "the first migration went through")
			assert.Equal(t, uint64(2), dirty.Version)
			assert.Equal(t, "2_broken.up.sql", dirty.File)
			assert.Contains(t, dirty.Error(), "no_such_table")
			assert.Contains(t, dirty.Error(), "`shipyard migrate force 1` to retry")
			assert.Contains(t, dirty.Error(), "`shipyard migrate force 2`")

			st, err := r.Status(ctx)
			require.NoError(t, err)
			assert.True(t, st.Dirty)
			assert.Equal(t, uint64(2), st.Version)
			assert.Equal(t, []uint64{1}, migrationVersions(st.Applied))
			assert.Equal(t, []uint64{2}, migrationVersions(st.Failed), "the dirty migration failed: it is not applied")
			assert.Empty(t, st.Pending)

			_, err = r.Up(ctx, 0)
			require.ErrorAs(t, err, &dirty, "a dirty database refuses to migrate")
			assert.Nil(t, dirty.Cause)

			require.NoError(t, r.Force(ctx, 1))
			st, err = r.Status(ctx)
			require.NoError(t, err)
			assert.False(t, st.Dirty)
			assert.Equal(t, uint64(1), st.Version)
			assert.EqualError(t, r.Force(ctx, 9), "no migration has version 9")
		})
	}
}

func TestLockTimeout(t *testing.T) {
	for _, db := range dbtest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			holder := open(t, db.URL, "testdata/basic")
			ok, err := holder.lock.tryLock(ctx)
			require.NoError(t, err)
			require.True(t, ok)

			waited := ""
			second := open(t, db.URL, "testdata/basic", WithLockTimeout(time.Second))
			start := time.Now()
			err = acquire(ctx, second.lock, time.Second, func(lock string) { waited = lock })
			var timeout *LockTimeoutError
			require.ErrorAs(t, err, &timeout)
			assert.Less(t, time.Since(start), 2*time.Second, "the timeout holds")
			assert.NotEmpty(t, waited, "the wait is reported")
			assert.Contains(t, err.Error(), "another migration runner holds the lock "+timeout.Lock)

			require.NoError(t, holder.lock.unlock(ctx))
			res, err := second.Up(ctx, 0)
			require.NoError(t, err, "free again")
			assert.Len(t, res.Steps, 3)
		})
	}
}

// TestSearchPathInAMigration: a PostgreSQL file that moves its session's search_path to a schema of its
// own (valid SQL that golang-migrate and psql apply) does not move shipyard's bookkeeping with it: the
// file and the ones after it apply, and the history, version and commit markers stay where they were.
func TestSearchPathInAMigration(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"1_app_schema.up.sql":   "CREATE SCHEMA app;\nSET search_path TO app;\nCREATE TABLE u (id int);\n",
		"1_app_schema.down.sql": "DROP SCHEMA app CASCADE;\n",
		"2_more.up.sql":         "CREATE TABLE v (id int);\n",
		"2_more.down.sql":       "DROP TABLE v;\n",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	url := dbtest.Postgres(t)
	r := open(t, url, dir)
	res, err := r.Up(ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, []uint64{1, 2}, versions(res.Steps))
	assert.Equal(t, uint64(2), res.To)
	st, err := r.Status(ctx)
	require.NoError(t, err)
	assert.False(t, st.Dirty)
	assert.Len(t, st.Applied, 2)
	history, err := r.History(ctx)
	require.NoError(t, err)
	assert.Len(t, history, 2)

	res, err = r.Down(ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, []uint64{2, 1}, versions(res.Steps))
}

// TestOneTransaction: which files PostgreSQL runs as one implicit transaction, so that a commit marker
// appended to them commits exactly when they do.
func TestOneTransaction(t *testing.T) {
	for _, tc := range []struct {
		body string
		one  bool
	}{
		{"CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n", true},
		{"CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\n", true},
		{"SELECT CASE WHEN true THEN 1 END;\n", true},
		{"-- begin; commit; in a comment\nCREATE TABLE b (begin_at date);\n", true},
		{"CREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (id int);\n", false},
		{"BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n", false},
		{"CREATE TABLE a (id int);\nEND;\n", false},
		{"START TRANSACTION;\nCREATE TABLE a (id int);\n", false},
		{"CREATE INDEX CONCURRENTLY i ON a (id);\n", false},
		{"VACUUM a;\n", false},
		{"ROLLBACK;\n", false},
	} {
		assert.Equal(t, tc.one, oneTransaction([]byte(tc.body)), tc.body)
	}
}

// TestInterruptedRunReportsTheVersion: a run stopped (SIGTERM cancels its context) while a migration
// runs lets that migration finish, stops before the next, and reports the version the database is at.
func TestInterruptedRunReportsTheVersion(t *testing.T) {
	for _, db := range []struct{ name, url, sleep string }{
		{"postgres", dbtest.Postgres(t), "SELECT pg_sleep(1.5)"},
		{"mariadb", dbtest.MariaDB(t), "SELECT SLEEP(1.5)"},
	} {
		t.Run(db.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range map[string]string{
				"1_a.up.sql": "CREATE TABLE a (id int);\n", "1_a.down.sql": "DROP TABLE a;\n",
				"2_slow.up.sql": db.sleep + ";\nCREATE TABLE b (id int);\n", "2_slow.down.sql": "DROP TABLE b;\n",
				"3_c.up.sql": "CREATE TABLE c (id int);\n", "3_c.down.sql": "DROP TABLE c;\n",
			} {
				require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
			}
			r := open(t, db.url, dir)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			started := make(chan struct{})
			r.opts.Logger = slog.New(slog.NewTextHandler(whenLogged{"2_slow.up.sql", sync.OnceFunc(func() { close(started) })}, &slog.HandlerOptions{Level: slog.LevelDebug}))
			go func() {
				<-started
				time.Sleep(300 * time.Millisecond) // inside the file's sleep
				cancel()
			}()
			res, err := r.Up(ctx, 0)
			require.ErrorIs(t, err, context.Canceled)
			assert.Contains(t, err.Error(), "stopped before 3_c.up.sql")
			assert.Equal(t, []uint64{1, 2}, versions(res.Steps))
			assert.Equal(t, uint64(0), res.From)
			assert.Equal(t, uint64(2), res.To, "the version the database is at")
			st, err := r.Status(context.Background())
			require.NoError(t, err)
			assert.Equal(t, uint64(2), st.Version)
			assert.False(t, st.Dirty)
		})
	}
}

// whenLogged calls do when a log line mentions what.
type whenLogged struct {
	what string
	do   func()
}

func (w whenLogged) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.what) {
		w.do()
	}
	return len(p), nil
}

// TestFailedMigrationErrorIsShort: a 20,000-line file failing near its end gives an error of a few
// lines: the database's own message and, where the database says where (PostgreSQL), the failing
// statement with its line number, never the file.
func TestFailedMigrationErrorIsShort(t *testing.T) {
	var body strings.Builder
	body.WriteString("CREATE TABLE t (id int);\n")
	for i := range 20000 {
		fmt.Fprintf(&body, "INSERT INTO t VALUES (%d);\n", i)
	}
	body.WriteString("INSERT INTO nosuch\n  SELECT id\n  FROM t\n  WHERE id > 1\n  ORDER BY id;\nINSERT INTO t VALUES (-1);\n")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "1_big.up.sql"), []byte(body.String()), 0o644))
	for _, db := range dbtest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			_, err := open(t, db.URL, dir).Up(context.Background(), 0)
			var dirty *DirtyError
			require.ErrorAs(t, err, &dirty)
			msg := err.Error()
			t.Log(msg)
			assert.Less(t, len(msg), 1500, "a few lines, not the file")
			assert.NotContains(t, msg, "VALUES (5)")
			assert.Contains(t, msg, "nosuch")
			if db.Name == "postgres" {
				assert.Contains(t, msg, "\n  at line 20002: INSERT INTO nosuch\n      SELECT id\n      FROM t\n    …\n")
			}
		})
	}
}

func migrationVersions(ms []Migration) []uint64 {
	out := []uint64{}
	for _, m := range ms {
		out = append(out, m.Version)
	}
	return out
}
