package main

import (
	"bytes"
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
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
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

// TestKilledRunnerOnPostgres: a runner killed with SIGKILL in the middle of a migration leaves the database
// dirty; PostgreSQL rolled the file's transaction back, so the next run applies it again and completes.
func TestKilledRunnerOnPostgres(t *testing.T) {
	url := dbtest.Postgres(t)
	dir := migrations(t, 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "2_slow.up.sql"), []byte("CREATE TABLE slow (id INTEGER);\nSELECT pg_sleep(4);\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "2_slow.down.sql"), []byte("DROP TABLE slow;\n"), 0o644))

	errOut := &syncBuffer{}
	first := exec.Command(binary, "migrate", "up", "--verbose", "--database", url, "--dir", dir)
	first.Stderr = errOut
	require.NoError(t, first.Start())
	require.Eventually(t, func() bool { return strings.Contains(errOut.String(), "migrating file=2_slow.up.sql") }, 10*time.Second, 50*time.Millisecond)
	time.Sleep(500 * time.Millisecond) // inside pg_sleep
	require.NoError(t, first.Process.Kill())
	_ = first.Wait()

	status := run(t, binary, "migrate", "status", "-o", "json", "--database", url, "--dir", dir)
	assert.Contains(t, status, `"dirty": true`, "the kill left the database dirty")
	assert.Contains(t, status, `"running": false`)

	out, err := exec.Command(binary, "migrate", "up", "--database", url, "--dir", dir).CombinedOutput()
	require.NoError(t, err, "the next run completes:\n%s", out)
	assert.Contains(t, string(out), "was killed; it rolled back, so it runs again")
	assert.Contains(t, string(out), "up   2_slow")
	status = run(t, binary, "migrate", "status", "-o", "json", "--database", url, "--dir", dir)
	assert.Contains(t, status, `"version": 2`)
	assert.Contains(t, status, `"dirty": false`)
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
