package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shipyardci/shipyard/internal/testenv"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/dbtest"
	"github.com/shipyardci/shipyard/migrate"
)

// These tests run the shipyard binary as separate processes, as a deploy does.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shipyard-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "shipyard")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as released: static, so that build.migrations can put it in images
	if out, err := build.CombinedOutput(); err != nil {
		panic(fmt.Sprintf("building shipyard: %v\n%s", err, out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// migrations writes n migrations, each creating a table.
func migrations(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	for i := 1; i <= n; i++ {
		up := fmt.Sprintf("CREATE TABLE t%d (id INTEGER PRIMARY KEY, v VARCHAR(20));\nINSERT INTO t%d (id, v) VALUES (1, 'one');\n", i, i)
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d_t%d.up.sql", i, i)), []byte(up), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d_t%d.down.sql", i, i)), []byte(fmt.Sprintf("DROP TABLE t%d;\n", i)), 0o644))
	}
	return dir
}

var appliedLine = regexp.MustCompile(`(?m)^up\s+(\d+)_`)

// TestConcurrentRunners starts 8 `shipyard migrate up` at once, as 8 replicas of a pre-deploy job would:
// every migration is applied exactly once and the database ends clean.
func TestConcurrentRunners(t *testing.T) {
	for _, db := range []dbtest.DB{{Name: "postgres", URL: dbtest.Postgres(t)}, {Name: "mariadb", URL: dbtest.MariaDB(t)}} {
		t.Run(db.Name, func(t *testing.T) {
			const runners, n = 8, 12
			dir := migrations(t, n)
			var wg sync.WaitGroup
			outs := make([]bytes.Buffer, runners)
			errs := make([]bytes.Buffer, runners)
			codes := make([]int, runners)
			for i := range runners {
				wg.Add(1)
				go func() {
					defer wg.Done()
					cmd := exec.Command(binary, "migrate", "up", "--database", db.URL, "--dir", dir, "--lock-timeout", "60s")
					cmd.Stdout, cmd.Stderr = &outs[i], &errs[i]
					if err := cmd.Run(); err != nil {
						codes[i] = cmd.ProcessState.ExitCode()
					}
				}()
			}
			wg.Wait()
			applied := map[string]int{}
			for i := range runners {
				require.Equal(t, 0, codes[i], "runner %d: %s", i, errs[i].String())
				for _, m := range appliedLine.FindAllStringSubmatch(outs[i].String(), -1) {
					applied[m[1]]++
				}
			}
			assert.Len(t, applied, n, "every migration applied")
			for v, count := range applied {
				assert.Equal(t, 1, count, "migration %s applied %d times", v, count)
			}

			out, err := exec.Command(binary, "migrate", "status", "-o", "json", "--database", db.URL, "--dir", dir).CombinedOutput()
			require.NoError(t, err, string(out))
			assert.Contains(t, string(out), `"version": 12`)
			assert.Contains(t, string(out), `"dirty": false`)
		})
	}
}

// golangMigrate finds golang-migrate's own CLI (.ci/run installs it with the pgx5, mysql and sqlite tags).
func golangMigrate(t *testing.T) string {
	t.Helper()
	return testenv.Tool(t, "migrate", "go install -tags 'pgx5 mysql sqlite' github.com/golang-migrate/migrate/v4/cmd/migrate@v4.20.1")
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	require.NoError(t, err, "%s %v:\n%s", filepath.Base(name), args, out)
	return string(out)
}

// TestInteropWithGolangMigrate: shipyard and golang-migrate's CLI take turns on one database, both ways.
func TestInteropWithGolangMigrate(t *testing.T) {
	gm := golangMigrate(t)
	for _, db := range dbtest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			dir := migrations(t, 3)
			target, err := migrate.ParseURL(db.URL, ".")
			require.NoError(t, err)

			// shipyard first, then golang-migrate.
			run(t, binary, "migrate", "up", "2", "--database", db.URL, "--dir", dir)
			assert.Equal(t, "2\n", run(t, gm, "-path", dir, "-database", target.MigrateURL, "version"))
			run(t, gm, "-path", dir, "-database", target.MigrateURL, "up")
			status := run(t, binary, "migrate", "status", "-o", "json", "--database", db.URL, "--dir", dir)
			assert.Contains(t, status, `"version": 3`)
			assert.Contains(t, status, `"dirty": false`)

			// golang-migrate first, then shipyard.
			run(t, gm, "-path", dir, "-database", target.MigrateURL, "down", "-all")
			run(t, gm, "-path", dir, "-database", target.MigrateURL, "up", "1")
			out := run(t, binary, "migrate", "up", "--database", db.URL, "--dir", dir)
			assert.Contains(t, out, "version 1 → 3")
		})
	}
}

// TestKilledRunner: a runner killed with SIGKILL in the middle of a migration leaves the database dirty.
// Where the database rolled the file back (PostgreSQL's implicit transaction, golang-migrate's around a
// SQLite file), the next run applies it again and completes, without force. On MariaDB, which commits
// each statement, the next run kills the dead run's connection before deciding, so the rest of the file
// never runs behind its back: when the orphaned session had finished the file, it counts as applied;
// when not, a person decides, told that part of the file may have run.
func TestKilledRunner(t *testing.T) {
	slowSQLite := "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000000) SELECT count(*) FROM c;\n"
	for _, tc := range []struct {
		name, url, file string
		wait            time.Duration // after the kill, before the next run
		recovers        string        // what the next run says, "" when it stops dirty
	}{
		{"postgres", dbtest.Postgres(t), "CREATE TABLE slow (id INTEGER);\nSELECT pg_sleep(4);\nCREATE TABLE after_sleep (id INTEGER);\n", 0, "rolled back, so it runs again"},
		{"sqlite", dbtest.SQLite(t), "CREATE TABLE slow (id INTEGER);\n" + slowSQLite + "CREATE TABLE after_sleep (id INTEGER);\n", 0, "rolled back, so it runs again"},
		{"mariadb", dbtest.MariaDB(t), "CREATE TABLE slow (id INTEGER);\nDO SLEEP(4);\nCREATE TABLE after_sleep (id INTEGER);\n", 0, ""},
		{"mariadb, finished by the orphan", dbtest.MariaDB(t), "CREATE TABLE slow (id INTEGER);\nDO SLEEP(1.5);\nCREATE TABLE after_sleep (id INTEGER)", 3 * time.Second, "completed, so it counts as applied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := migrations(t, 1)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "2_slow.up.sql"), []byte(tc.file), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "2_slow.down.sql"), []byte("DROP TABLE slow;\nDROP TABLE after_sleep;\n"), 0o644))
			killDuring(t, tc.url, dir, "2_slow.up.sql")
			time.Sleep(tc.wait)

			status := run(t, binary, "migrate", "status", "-o", "json", "--database", tc.url, "--dir", dir)
			assert.Contains(t, status, `"dirty": true`, "the kill left the database dirty")
			assert.Contains(t, status, `"running": false`)

			out, err := exec.Command(binary, "migrate", "up", "--database", tc.url, "--dir", dir).CombinedOutput()
			if tc.recovers == "" {
				require.Error(t, err, "a person decides:\n%s", out)
				assert.Contains(t, string(out), "killed part way through, and mysql commits each statement: part of the file may have run")
				assert.Contains(t, string(out), "the database is dirty at version 2")
				time.Sleep(4 * time.Second) // past the end of the orphan's sleep
				tables := run(t, binary, "migrate", "status", "-o", "json", "--database", tc.url, "--dir", dir)
				assert.Contains(t, tables, `"dirty": true`)
				assert.False(t, tableExists(t, tc.url, "after_sleep"), "the dead run's connection was killed: the rest of its file never ran")
				return
			}
			require.NoError(t, err, "the next run completes:\n%s", out)
			assert.Contains(t, string(out), "was killed; it "+tc.recovers)
			status = run(t, binary, "migrate", "status", "-o", "json", "--database", tc.url, "--dir", dir)
			assert.Contains(t, status, `"version": 2`)
			assert.Contains(t, status, `"dirty": false`)
			assert.True(t, tableExists(t, tc.url, "after_sleep"), "the file ran to its end once")
		})
	}
}

// killDuring starts migrate up and kills it with SIGKILL half a second into file.
func killDuring(t *testing.T, url, dir, file string) {
	t.Helper()
	errOut := &syncBuffer{}
	first := exec.Command(binary, "migrate", "up", "--verbose", "--database", url, "--dir", dir)
	first.Stderr = errOut
	require.NoError(t, first.Start())
	require.Eventually(t, func() bool { return strings.Contains(errOut.String(), "migrating file="+file) }, 10*time.Second, 50*time.Millisecond)
	time.Sleep(500 * time.Millisecond) // inside the sleep
	require.NoError(t, first.Process.Kill())
	_ = first.Wait()
}

// tableExists reports whether the database at url has table.
func tableExists(t *testing.T, url, table string) bool {
	t.Helper()
	target, err := migrate.ParseURL(url, ".")
	require.NoError(t, err)
	db, err := sql.Open(target.SQLDriver, target.DSN)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec("SELECT 1 FROM " + table + " WHERE 1 = 0")
	return err == nil
}

// syncBuffer is a buffer that a process writes to while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
