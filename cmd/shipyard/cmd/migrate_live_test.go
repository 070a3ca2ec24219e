package cmd

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/dbtest"
	"github.com/shipyardci/shipyard/internal/iostreams"
	"github.com/shipyardci/shipyard/migrate"
)

// liveProject copies one of the migrate package's generated operations into a new project.
func liveProject(t *testing.T, op string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(dir, "migrations"), os.DirFS(filepath.Join("..", "..", "..", "migrate", "testdata", "ops", op))))
	return dir
}

// TestMigrateLivePhases runs a rename as a deploy does: expand before, backfill, contract after, with
// the state in status and a summary line under GitHub Actions.
func TestMigrateLivePhases(t *testing.T) {
	url := dbtest.Postgres(t)
	dir := liveProject(t, "rename_column")
	env := map[string]string{"DATABASE_URL": url}
	r := cli(t, dir, env, "migrate", "up", "1")
	require.Equal(t, 0, r.code, r.stderr)
	db, err := sql.Open("pgx/v5", url)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`INSERT INTO people (name) SELECT 'Person ' || i FROM generate_series(1, 5000) i`)
	require.NoError(t, err)

	r = cli(t, dir, env, "migrate", "plan")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "-- 2_rename_column.live.yaml:expand.up.sql (expand)\nALTER TABLE people ADD COLUMN full_name text;")
	assert.Contains(t, r.stdout, "-- 2_rename_column.live.yaml:backfill.yaml (backfill)\n-- in batches by id, each its own transaction\nUPDATE people SET full_name = name")

	r = cli(t, dir, env, "migrate", "up", "--phase", "expand")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `^up   2_rename_column expand \(\d+ms\)\nlive migration 2_rename_column: expanded, awaiting backfill and contract\nversion 1 → 2\n$`, r.stdout)

	r = cli(t, dir, env, "-o", "json", "migrate", "status")
	require.Equal(t, 0, r.code, r.stderr)
	var st struct {
		Version uint64
		Phase   string
		Live    struct{ Phase string }
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &st), r.stdout)
	assert.Equal(t, uint64(2), st.Version)
	assert.Equal(t, "expand", st.Phase)

	r = cli(t, dir, env, "migrate", "up", "--phase", "contract")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "2_rename_column is expanded, awaiting backfill and contract: run `shipyard migrate backfill` before the contract")

	actions, _, summary := actionsEnv(t)
	actions["DATABASE_URL"] = url
	r = cli(t, dir, actions, "migrate", "backfill", "--batch-size", "1000", "--batch-time", "0")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `up   2_rename_column backfill \(\d+ms\)\nbackfill people: 5000 rows in 6 batches \(5000 updated\) in \d+ms, \d+ rows/s\nlive migration 2_rename_column: expanded and backfilled, awaiting contract\n`, r.stdout)
	assert.Contains(t, readFile(t, summary), "**shipyard migrate**: backfill people: 5000 rows in 6 batches")

	r = cli(t, dir, env, "migrate", "status")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "live     2_rename_column: expanded and backfilled, awaiting contract\n")

	r = cli(t, dir, env, "migrate", "up", "--phase", "contract")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `^up   2_rename_column contract \(\d+ms\)\nat version 2\n$`, r.stdout)
	r = cli(t, dir, env, "migrate", "up", "--phase", "contract")
	require.Equal(t, 0, r.code, "the post-deploy job runs again: %s", r.stderr)
	assert.Equal(t, "nothing to do: at version 2\n", r.stdout)

	r = cli(t, dir, env, "migrate", "rollback")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "2_rename_column is complete: its contract removed the old shape")
}

func TestMigrateLiveRollback(t *testing.T) {
	url := dbtest.Postgres(t)
	dir := liveProject(t, "add_column")
	env := map[string]string{"DATABASE_URL": url}
	r := cli(t, dir, env, "migrate", "up", "--phase", "expand")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "up   1_base (")
	assert.Contains(t, r.stdout, "up   2_add_column expand (")

	r = cli(t, dir, env, "migrate", "rollback")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `^down 2_add_column expand \(\d+ms\)\nversion 2 → 1\n$`, r.stdout)
	r = cli(t, dir, env, "migrate", "rollback")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "nothing to do: at version 1\n", r.stdout)
}

func TestMigrateLiveUsageErrors(t *testing.T) {
	dir := liveProject(t, "add_column")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"migrate", "up", "--phase", "deploy"}, `--phase: phase "deploy" is not expand, backfill or contract`},
		{[]string{"migrate", "up", "1", "--phase", "expand"}, "give N or --phase, not both"},
		{[]string{"migrate", "backfill", "--max-load", "cpu=80"}, `invalid argument "cpu=80" for "--max-load" flag: "cpu=80": unknown bound "cpu" (want probe or active)`},
		{[]string{"migrate", "up", "--max-load", "probe=0.5x"}, `"--max-load" flag: "probe=0.5x": want a factor of at least 1`},
		{[]string{"migrate", "create", "nothing_here", "--phase", "contract"}, "no live migration nothing_here: write its expand part first"},
		{[]string{"migrate", "create", "x", "--phase", "later"}, `--phase: phase "later" is not expand`},
		{[]string{"migrate", "up", "--database", "mysql://root@127.0.0.1:3306/x"}, "add_column with up is generated for PostgreSQL only (on MySQL: add_index, add_unique, add_column with a constant default); on mysql, write the parts in a directory 2_add_column/"},
	} {
		r := cli(t, dir, nil, tt.args...)
		assert.Equal(t, 2, r.code, "%v: %s", tt.args, r.stderr)
		assert.Contains(t, r.stderr, tt.want, "%v", tt.args)
	}

	require.NoError(t, os.WriteFile(filepath.Join(dir, "shipyard.yaml"), []byte("migrate:\n  backfill:\n    max_load: probe=fast\n"), 0o644))
	r := cli(t, dir, nil, "migrate", "backfill")
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, `shipyard.yaml:3`)
	assert.Contains(t, r.stderr, `invalid value "probe=fast" for migrate.backfill.max_load: "probe=fast": want a latency (probe=25ms) or a factor of the latency at rest (probe=2x)`)
	require.NoError(t, os.Remove(filepath.Join(dir, "shipyard.yaml")))

	require.NoError(t, os.WriteFile(filepath.Join(dir, "migrations", "3_broken.live.yaml"), []byte("operation: add_column\ntable: accounts\ncolumn: x\n"), 0o644))
	r = cli(t, dir, nil, "migrate", "status")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "3_broken.live.yaml: add_column needs type")
}

// TestMigrateCreatePhases writes a live migration part by part; lint reads it, knowing the phases.
func TestMigrateCreatePhases(t *testing.T) {
	dir := t.TempDir()
	var files []string
	for _, phase := range []string{"expand", "backfill", "contract"} {
		r := cli(t, dir, nil, "-o", "json", "migrate", "create", "email lower", "--phase", phase, "--seq")
		require.Equal(t, 0, r.code, r.stderr)
		var out struct{ Files []string }
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
		files = append(files, out.Files...)
	}
	want := []string{"expand.up.sql", "expand.down.sql", "backfill.yaml", "contract.up.sql", "contract.down.sql"}
	require.Len(t, files, len(want))
	for i, f := range files {
		assert.Equal(t, filepath.Join(dir, "migrations", "000001_email_lower", want[i]), f)
	}
	r := cli(t, dir, nil, "migrate", "create", "email lower", "--phase", "contract", "--seq")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "contract.up.sql exists already: nothing was overwritten")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "migrations", "000001_email_lower", "expand.up.sql"), []byte("ALTER TABLE users DROP COLUMN email;\n"), 0o644))
	r = cli(t, dir, nil, "migrate", "lint", "--dialect", "postgres")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "000001_email_lower/expand.up.sql:1: error expand-destructive: DROP COLUMN users.email while the running service may still use it in an expand part")
}

// TestBackfillProgress: on a terminal one line redrawn (rows, percent, rows/s, ETA) and erased at the
// end; elsewhere a log line at most every 10 seconds, and each pause.
func TestBackfillProgress(t *testing.T) {
	io, _, _, errOut := iostreams.Test()
	io.SetTerminal(false, true)
	f := &Factory{IO: io}
	report, done := f.backfillProgress()
	report(migrate.BackfillProgress{Table: "users", Rows: 50, Total: 200, Rate: 1000, ETA: 150 * time.Millisecond})
	report(migrate.BackfillProgress{Table: "users", Rows: 100, Total: 200, Rate: 1000, ETA: 2 * time.Second})
	report(migrate.BackfillProgress{Table: "users", Rows: 150, Total: 200, Rate: 500, ETA: 100 * time.Second, Yielding: "the probe takes 9ms, above 2ms (1ms at rest): pausing 50ms after each batch, batches of 500"})
	done()
	assert.Equal(t, "\r\033[Kbackfill users: 50/200 rows (25%), 1000 rows/s, ETA 0s\r\033[Kbackfill users: 100/200 rows (50%), 1000 rows/s, ETA 2s"+
		"\r\033[Kbackfill users: 150/200 rows (75%), 500 rows/s, ETA 1m40s; yielding to the application: the probe takes 9ms, above 2ms (1ms at rest): pausing 50ms after each batch, batches of 500\r\033[K", errOut.String())

	io, _, _, errOut = iostreams.Test()
	f = &Factory{IO: io}
	report, done = f.backfillProgress()
	report(migrate.BackfillProgress{Table: "users", Rows: 50, Total: 200, Rate: 1000})
	report(migrate.BackfillProgress{Table: "users", Rows: 100, Total: 200, Rate: 1000})
	report(migrate.BackfillProgress{Table: "users", Rows: 100, Total: 200, Paused: "a replica is 12s behind (above 10s)"})
	done()
	assert.Equal(t, "backfill users: 50/200 rows (25%), 1000 rows/s, ETA 0s\nbackfill users paused at 100/200 rows: a replica is 12s behind (above 10s)\n", errOut.String())
}
