package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/shipyardci/shipyard/internal/golden"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lintProject is a project whose migrations are the migrate package's lint cases for rule.
func lintProject(t *testing.T, rule string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(dir, "migrations"), os.DirFS(filepath.Join("..", "..", "..", "migrate", "testdata", "lint", rule))))
	return dir
}

func TestMigrateLint(t *testing.T) {
	dir := lintProject(t, "create-index-non-concurrent")
	r := cli(t, dir, nil, "migrate", "lint")
	assert.Equal(t, 1, r.code, "an error-level problem fails the job")
	golden.Assert(t, "migrate-lint.txt", []byte(r.stdout))

	r = cli(t, dir, nil, "migrate", "lint", "migrations/3_index_total.up.sql", "1_orders.up.sql")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "no problems\n", r.stdout)

	r = cli(t, dir, nil, "migrate", "lint", "migrations/9_nope.up.sql")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "migrations/9_nope.up.sql is not a migration file of migrations")

	r = cli(t, dir, map[string]string{"DATABASE_URL": "mysql://root@127.0.0.1:3306/app"}, "migrate", "lint")
	assert.Equal(t, 0, r.code, "the index rule is PostgreSQL's: MySQL builds indexes online")
	r = cli(t, dir, map[string]string{"DATABASE_URL": "mysql://root@127.0.0.1:3306/app"}, "migrate", "lint", "--dialect", "postgres")
	assert.Equal(t, 1, r.code, "--dialect wins")
	r = cli(t, dir, nil, "migrate", "lint", "--dialect", "oracle")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `--dialect: "oracle" is not postgres, mysql or sqlite`)
}

func TestMigrateLintWarningsPass(t *testing.T) {
	dir := lintProject(t, "missing-down")
	env, _, _ := actionsEnv(t)
	r := cli(t, dir, env, "-o", "json", "migrate", "lint")
	assert.Equal(t, 0, r.code, "warnings do not fail")
	var out struct {
		Problems []struct {
			File, Rule, Severity, Message, Why, Instead string
			Line                                        int
		}
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	require.Len(t, out.Problems, 1)
	p := out.Problems[0]
	assert.Equal(t, "migrations/1_users.up.sql", p.File, "named from the repository, as the text names it")
	assert.Contains(t, cli(t, dir, env, "migrate", "lint").stdout, "migrations/1_users.up.sql:1: warning missing-down")
	assert.Equal(t, 1, p.Line)
	assert.Equal(t, "missing-down", p.Rule)
	assert.Equal(t, "warning", p.Severity)
	assert.NotEmpty(t, p.Why)
	assert.NotEmpty(t, p.Instead)
	assert.Contains(t, r.stderr, "::warning file=migrations/1_users.up.sql,line=1,title=migrate lint%3A missing-down::1_users.up.sql has no down file 1_users.down.sql%0A")
}

func TestMigrateLintRules(t *testing.T) {
	r := cli(t, t.TempDir(), nil, "migrate", "lint", "--rules")
	assert.Equal(t, 0, r.code, r.stderr)
	for _, id := range []string{"create-index-non-concurrent", "add-column-volatile-default", "set-not-null", "change-column-type",
		"rename-column", "rename-table", "drop-without-contract", "missing-down", "transaction-incompatible"} {
		assert.Contains(t, r.stdout, id+": ")
	}
}
