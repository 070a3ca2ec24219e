package cmd

import (
	"context"
	"database/sql"
	"encoding/json"
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

// migrationsDir copies the migrate package's basic migrations into a new project directory.
func migrationsProject(t *testing.T, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(dir, "migrations"), os.DirFS(filepath.Join("..", "..", "..", "migrate", "testdata", "basic"))))
	for name, body := range extra {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "migrations", name), []byte(body), 0o644))
	}
	return dir
}

func TestMigrateCommandsOnTheEmbeddedDefault(t *testing.T) {
	dir := migrationsProject(t, nil)
	r := cli(t, dir, nil, "migrate", "up")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `^up   1_create_users \(\d+ms\)\nup   2_add_name \(\d+ms\)\nup   3_create_orders \(\d+ms\)\nversion 0 → 3\n$`, r.stdout)
	assert.FileExists(t, filepath.Join(dir, ".shipyard", "dev.db"), "sqlite://.shipyard/dev.db when nothing is configured")

	r = cli(t, dir, nil, "migrate", "up")
	assert.Equal(t, 0, r.code)
	assert.Equal(t, "nothing to do: at version 3\n", r.stdout)

	r = cli(t, dir, nil, "migrate", "down", "2")
	assert.Equal(t, 0, r.code, r.stderr)
	r = cli(t, dir, nil, "-o", "json", "migrate", "status")
	require.Equal(t, 0, r.code, r.stderr)
	var st struct {
		Version uint64
		Dirty   bool
		Applied []struct{ Version uint64 }
		Pending []struct{ Version uint64 }
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &st), r.stdout)
	assert.Equal(t, uint64(1), st.Version)
	assert.Len(t, st.Applied, 1)
	assert.Len(t, st.Pending, 2)

	r = cli(t, dir, nil, "migrate", "down", "--all", "--yes")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "version 1 → 0")
}

func TestMigrateUsageErrors(t *testing.T) {
	dir := migrationsProject(t, nil)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"migrate", "down", "--all"}, "--all reverts every migration and drops what they created: add --yes to confirm"},
		{[]string{"migrate", "up", "zero"}, `the number of migrations must be a whole number above 0, not "zero"`},
		{[]string{"migrate", "goto", "99"}, "no migration has version 99"},
		{[]string{"migrate", "up", "--dir", "nowhere"}, "--dir: nowhere is not a directory of migrations"},
		{[]string{"migrate", "up", "--database", "redis://u:hunter2@x/0"}, `database URL redis://u:xxxxx@x/0: unsupported database "redis"`},
	}
	for _, tt := range tests {
		r := cli(t, dir, nil, tt.args...)
		assert.Equal(t, 2, r.code, "%v: %s", tt.args, r.stderr)
		assert.Contains(t, r.stderr, tt.want, "%v", tt.args)
		assert.NotContains(t, r.stderr+r.stdout, "hunter2", "a password never shows")
	}
}

func TestMigrateDatabaseURLFromTheEnvironment(t *testing.T) {
	dir := migrationsProject(t, nil)
	db := filepath.Join(t.TempDir(), "env.db")
	env, output, _ := actionsEnv(t)
	env["DATABASE_URL"] = "sqlite://" + db
	r := cli(t, dir, env, "migrate", "up", "1")
	require.Equal(t, 0, r.code, r.stderr)
	assert.FileExists(t, db)
	assert.Equal(t, "migration_version=1\n", readFile(t, output))
}

func TestMigrateDirtyDatabaseExitsOne(t *testing.T) {
	dir := migrationsProject(t, map[string]string{"4_broken.up.sql": "INSERT INTO no_such_table VALUES (1);\n"})
	r := cli(t, dir, nil, "migrate", "up")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "up   3_create_orders", "what ran before the failure is reported")
	assert.Contains(t, r.stderr, "error: migration 4_broken.up.sql failed: ")
	assert.Contains(t, r.stderr, "run `shipyard migrate force 3` to retry")

	r = cli(t, dir, nil, "migrate", "status")
	assert.Contains(t, r.stdout, "version  4 (DIRTY")
	assert.Contains(t, r.stdout, "  applied  3_create_orders\n  FAILED   4_broken\n", "the dirty migration is not listed as applied")
	r = cli(t, dir, nil, "-o", "json", "migrate", "status")
	var st struct{ Applied, Failed, Pending []struct{ Version uint64 } }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &st), r.stdout)
	assert.Len(t, st.Applied, 3)
	assert.Equal(t, uint64(4), st.Failed[0].Version)
	assert.Empty(t, st.Pending)
	r = cli(t, dir, nil, "migrate", "force", "3")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "forced version 3 (not dirty)\n", r.stdout)
}

// TestMigrateLockTimeoutOnPostgres: while one runner holds the lock through a slow migration, a second
// with --lock-timeout 3s exits 1 within 5 s, naming the lock.
func TestMigrateLockTimeoutOnPostgres(t *testing.T) {
	url := dbtest.Postgres(t)
	dir := migrationsProject(t, map[string]string{"4_slow.up.sql": "SELECT pg_sleep(7);\n"})

	var wg sync.WaitGroup
	var first result
	wg.Add(1)
	go func() {
		defer wg.Done()
		first = execute(context.Background(), t, dir, nil, false, "migrate", "up", "--database", url)
	}()
	time.Sleep(1500 * time.Millisecond) // the first runner is in pg_sleep with the lock
	start := time.Now()
	status := cli(t, dir, nil, "migrate", "status", "--database", url)
	assert.Less(t, time.Since(start), 2*time.Second, "status does not wait for the lock")
	assert.Contains(t, status.stdout, "version  4 (a migration is running in another runner)", "not reported as a failure to force")

	start = time.Now()
	second := cli(t, dir, nil, "migrate", "up", "--database", url, "--lock-timeout", "3s")
	elapsed := time.Since(start)
	wg.Wait()

	assert.Equal(t, 1, second.code, "second: stdout %q stderr %q; first: %q %q", second.stdout, second.stderr, first.stdout, first.stderr)
	assert.Less(t, elapsed, 5*time.Second)
	assert.Contains(t, second.stderr, "waiting for another migration runner lock=pg_advisory_lock(")
	assert.Contains(t, second.stderr, "error: another migration runner holds the lock pg_advisory_lock(")
	assert.Equal(t, 0, first.code, first.stderr)
	assert.True(t, strings.HasSuffix(first.stdout, "version 0 → 4\n"), first.stdout)
}

func TestMigrateVerify(t *testing.T) {
	dir := migrationsProject(t, nil)
	r := cli(t, dir, nil, "migrate", "up")
	require.Equal(t, 0, r.code, r.stderr)
	r = cli(t, dir, nil, "migrate", "verify")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "the applied migrations match the directory\n", r.stdout)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "migrations", "2_add_name.up.sql"), []byte("ALTER TABLE users ADD COLUMN nick VARCHAR(10);\n"), 0o644))
	env, _, _ := actionsEnv(t)
	r = cli(t, dir, env, "migrate", "verify")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "migrations/2_add_name.up.sql: edited: changed since it was applied on ")
	assert.Contains(t, r.stderr, "::error file=migrations/2_add_name.up.sql,title=migration edited::")

	r = cli(t, dir, nil, "migrate", "status")
	assert.Equal(t, 0, r.code, "status reports, verify fails")
	assert.Contains(t, r.stdout, "  edited  2_add_name.up.sql: changed since it was applied on ")
}

func TestMigratePlan(t *testing.T) {
	dir := migrationsProject(t, nil)
	r := cli(t, dir, nil, "migrate", "up", "2")
	require.Equal(t, 0, r.code, r.stderr)
	r = cli(t, dir, nil, "migrate", "plan")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "-- 3_create_orders.up.sql\nCREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL);\nCREATE INDEX orders_user ON orders (user_id);\n", r.stdout)
	r = cli(t, dir, nil, "migrate", "status")
	assert.Contains(t, r.stdout, "version  2 (clean)", "plan ran nothing")
}

func TestMigrateConfiguration(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(dir, "db", "migrations"), os.DirFS(filepath.Join("..", "..", "..", "migrate", "testdata", "basic"))))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "shipyard.yaml"), []byte("migrate:\n  dir: db/migrations\n  database: sqlite://var/app.db\n  lock_timeout: 2s\n"), 0o644))
	r := cli(t, dir, nil, "migrate", "up", "1")
	require.Equal(t, 0, r.code, r.stderr)
	assert.FileExists(t, filepath.Join(dir, "var", "app.db"), "migrate.database and migrate.dir from shipyard.yaml")

	r = cli(t, dir, map[string]string{"SHIPYARD_MIGRATE_DATABASE": "sqlite://var/other.db"}, "migrate", "up", "1")
	require.Equal(t, 0, r.code, r.stderr)
	assert.FileExists(t, filepath.Join(dir, "var", "other.db"), "the environment overrides the file")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "shipyard.yaml"), []byte("migrate:\n  lock_timeout: soon\n"), 0o644))
	r = cli(t, dir, nil, "migrate", "status")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "shipyard.yaml:2: ")
}

// TestMigratePostgresTimeouts: pg_lock_timeout and lock_retries from shipyard.yaml reach the server; a
// migration that cannot get its lock fails (exit 1) saying so, with the database where it was.
func TestMigratePostgresTimeouts(t *testing.T) {
	url := dbtest.Postgres(t)
	dir := migrationsProject(t, map[string]string{"4_alter.up.sql": "ALTER TABLE users ADD COLUMN nick TEXT;\n"})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "shipyard.yaml"), []byte("migrate:\n  pg_lock_timeout: 150ms\n  lock_retries: 1\n"), 0o644))
	r := cli(t, dir, nil, "migrate", "up", "3", "--database", url)
	require.Equal(t, 0, r.code, r.stderr)

	db, err := sql.Open("pgx/v5", url)
	require.NoError(t, err)
	defer db.Close()
	tx, err := db.Begin()
	require.NoError(t, err)
	defer tx.Rollback() //nolint:errcheck // the test's own lock
	_, err = tx.Exec("LOCK TABLE users IN ACCESS SHARE MODE")
	require.NoError(t, err)

	r = cli(t, dir, nil, "migrate", "up", "--database", url)
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, `lock_timeout hit: rolled back, running it again file=4_alter.up.sql try=1/2`)
	assert.Contains(t, r.stderr, "error: migration 4_alter.up.sql could not take its locks within lock_timeout 150ms in 2 tries")
	r = cli(t, dir, nil, "migrate", "status", "--database", url)
	assert.Contains(t, r.stdout, "version  3 (clean)")

	r = cli(t, dir, nil, "migrate", "up", "--database", url, "--pg-lock-timeout", "0", "--pg-statement-timeout", "200ms")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "canceling statement due to statement timeout", "the flag overrides the file: no lock_timeout, the statement_timeout ends the wait")
}

// TestMigrateMisnamedFiles: a file in the migrations directory that looks like a migration but does
// not parse stops up, plan, status and lint with exit 2, naming the file and the form it should have;
// nothing is applied. Version 0, which would read as nothing applied, is refused the same way.
func TestMigrateMisnamedFiles(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"1_add_x.sql", "1_add_x.sql: no .up or .down before the extension (want 1_add_x.up.sql and 1_add_x.down.sql)"},
		{"x.up.sqll", "x.up.sqll: not a migration file name"},
		{"1.up.sql", "1.up.sql: no name after the version"},
		{"abc_x.up.sql", "abc_x.up.sql: the version before the first _ must be a number"},
		{"0_z.up.sql", "0_z.up.sql: version 0 reads as no migration applied"},
	} {
		dir := migrationsProject(t, map[string]string{tc.file: "CREATE TABLE misnamed (id int);\n", "README.md": "not a migration\n"})
		for _, args := range [][]string{{"migrate", "up"}, {"migrate", "plan"}, {"migrate", "status"}, {"migrate", "lint"}} {
			r := cli(t, dir, nil, args...)
			assert.Equal(t, 2, r.code, "%s %v: %s", tc.file, args, r.stderr)
			assert.Contains(t, r.stderr, tc.want, "%s %v", tc.file, args)
		}
		require.NoError(t, os.Remove(filepath.Join(dir, "migrations", tc.file)))
		r := cli(t, dir, nil, "migrate", "status")
		assert.Contains(t, r.stdout, "version  0 (clean)", "nothing was applied")
	}
}

// TestMigrateFailureReportsWhereTheDatabaseIs: a run whose first migration fails says where it left
// the database, never "nothing to do", in text and in JSON.
func TestMigrateFailureReportsWhereTheDatabaseIs(t *testing.T) {
	for _, db := range dbtest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "migrations"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "migrations", "1_broken.up.sql"), []byte("INSERT INTO no_such_table VALUES (1);\n"), 0o644))
			r := cli(t, dir, nil, "migrate", "up", "--database", db.URL)
			assert.Equal(t, 1, r.code, r.stderr)
			assert.NotContains(t, r.stdout, "nothing to do")
			assert.Equal(t, "version 0 → 1 (dirty)\n", r.stdout)
			require.Equal(t, 0, cli(t, dir, nil, "migrate", "force", "0", "--database", db.URL).code)
			r = cli(t, dir, nil, "-o", "json", "migrate", "up", "--database", db.URL)
			assert.Equal(t, 1, r.code, r.stderr)
			var res struct {
				From, To uint64
				Dirty    bool
			}
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &res), r.stdout)
			assert.Equal(t, uint64(1), res.To)
			assert.True(t, res.Dirty)
		})
	}
}

// TestMigrateReadingCreatesNothing: status, plan and verify of a SQLite database that does not exist
// yet report version 0 with everything pending, and create neither the file nor its directory; up does.
func TestMigrateReadingCreatesNothing(t *testing.T) {
	dir := migrationsProject(t, nil)
	db := filepath.Join(t.TempDir(), "nonexistent", "dir", "x.db")
	for _, args := range [][]string{{"migrate", "status"}, {"migrate", "plan"}, {"migrate", "verify"}, {"-o", "json", "migrate", "status"}} {
		r := cli(t, dir, nil, append(args, "--database", "sqlite://"+db)...)
		assert.Equal(t, 0, r.code, "%v: %s", args, r.stderr)
		assert.NoDirExists(t, filepath.Dir(filepath.Dir(db)), "%v", args)
	}
	r := cli(t, dir, nil, "migrate", "status", "--database", "sqlite://"+db)
	assert.Contains(t, r.stdout, "version  0 (clean)\n  pending  1_create_users\n")
	r = cli(t, dir, nil, "migrate", "up", "--database", "sqlite://"+db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.FileExists(t, db)
}

// TestMigratePlanOfAGeneratedOperationNeedsItsDatabase: a generated live operation has no SQLite form;
// planned with no database URL (so on the embedded SQLite default) it says so and which flag to give,
// and planned for PostgreSQL it shows the SQL.
func TestMigratePlanOfAGeneratedOperationNeedsItsDatabase(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(dir, "migrations"), os.DirFS(filepath.Join("..", "..", "..", "migrate", "testdata", "ops", "rename_column"))))
	r := cli(t, dir, nil, "migrate", "plan")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "error: --database: 2_rename_column.live.yaml: generated operations are for PostgreSQL and MySQL")
	assert.Contains(t, r.stderr, "with no database URL given, the embedded default sqlite://.shipyard/dev.db is used")
	assert.NoDirExists(t, filepath.Join(dir, ".shipyard"))
	r = cli(t, dir, nil, "migrate", "plan", "--database", dbtest.Postgres(t))
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "ALTER TABLE people ADD COLUMN full_name text")
}
