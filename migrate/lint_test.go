package migrate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shipyardci/shipyard/internal/dbtest"
	"github.com/shipyardci/shipyard/internal/golden"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func lintDir(t *testing.T, dir string, dialect Dialect) []Problem {
	t.Helper()
	src, err := ReadSource(os.DirFS(dir))
	require.NoError(t, err)
	problems, err := Lint(src, dialect)
	require.NoError(t, err)
	return problems
}

// TestLintRules: each rule has a directory under testdata/lint of migrations it must find and safe
// variants it must leave alone; what it finds is in testdata/lint/RULE.golden.
func TestLintRules(t *testing.T) {
	for _, rule := range Rules() {
		t.Run(rule.ID, func(t *testing.T) {
			problems := lintDir(t, filepath.Join("testdata", "lint", rule.ID), "")
			var b strings.Builder
			found := false
			for _, p := range problems {
				fmt.Fprintf(&b, "%s:%d: %s %s: %s\n", p.File, p.Line, p.Severity, p.Rule, p.Message)
				found = found || p.Rule == rule.ID
				assert.NotEmpty(t, p.Why)
				assert.NotEmpty(t, p.Instead)
			}
			assert.True(t, found, "the rule's own directory shows what it finds")
			golden.Assert(t, filepath.Join("lint", rule.ID), []byte(b.String()))
		})
	}
}

// TestLintDialects: PostgreSQL's lock rules stay quiet for MySQL and SQLite; the rules about the
// running service apply everywhere.
func TestLintDialects(t *testing.T) {
	for _, tc := range []struct {
		dir     string
		dialect Dialect
		want    int
	}{
		{"create-index-non-concurrent", Postgres, 2},
		{"create-index-non-concurrent", MySQL, 0},
		{"set-not-null", SQLite, 0},
		{"rename-column", MySQL, 4},
		{"drop-without-contract", SQLite, 3},
	} {
		t.Run(fmt.Sprintf("%s/%s", tc.dir, tc.dialect), func(t *testing.T) {
			assert.Len(t, lintDir(t, filepath.Join("testdata", "lint", tc.dir), tc.dialect), tc.want)
		})
	}
}

func TestLintFiles(t *testing.T) {
	src, err := ReadSource(os.DirFS(filepath.Join("testdata", "lint", "drop-without-contract")))
	require.NoError(t, err)
	problems, err := Lint(src, "", "1_users.up.sql", "3_ignored.up.sql")
	require.NoError(t, err)
	assert.Empty(t, problems, "only the files asked for")
}

// TestTransactionIncompatibleOnPostgres shows the rule is right: PostgreSQL refuses CREATE INDEX
// CONCURRENTLY in a file with other statements, and takes it alone.
func TestTransactionIncompatibleOnPostgres(t *testing.T) {
	ctx := context.Background()
	dir := migrationsDir(t, map[string]string{
		"1_orders.up.sql": "CREATE TABLE orders (id INT, total INT);\n",
		"2_alone.up.sql":  "CREATE INDEX CONCURRENTLY orders_id ON orders (id);\n",
		"3_mixed.up.sql":  "UPDATE orders SET total = 0;\nCREATE INDEX CONCURRENTLY orders_total ON orders (total);\n",
	})
	assert.Equal(t, []string{"3_mixed.up.sql:2"}, func() (out []string) {
		for _, p := range lintDir(t, dir, Postgres) {
			if p.Rule == "transaction-incompatible" {
				out = append(out, fmt.Sprintf("%s:%d", p.File, p.Line))
			}
		}
		return out
	}())
	r := open(t, dbtest.Postgres(t), dir)
	_, err := r.Up(ctx, 2)
	require.NoError(t, err)
	_, err = r.Up(ctx, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot run inside a transaction block")
}

func FuzzLint(f *testing.F) {
	for _, rule := range Rules() {
		entries, _ := os.ReadDir(filepath.Join("testdata", "lint", rule.ID))
		for _, e := range entries {
			if data, err := os.ReadFile(filepath.Join("testdata", "lint", rule.ID, e.Name())); err == nil {
				f.Add(string(data))
			}
		}
	}
	f.Fuzz(func(t *testing.T, sql string) {
		src := &Source{FS: fstest.MapFS{"1_x.up.sql": {Data: []byte(sql)}}, Migrations: []Migration{{Version: 1, Name: "x", Up: "1_x.up.sql"}}}
		for _, d := range []Dialect{"", Postgres, MySQL} {
			problems, err := Lint(src, d)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Count(sql, "\n") + 1
			for _, p := range problems {
				if p.Line < 1 || p.Line > lines || p.Message == "" {
					t.Fatalf("problem %+v out of %d lines", p, lines)
				}
			}
		}
	})
}

// TestLintDir: the dialect comes from the option, else the configured database's URL, else every rule
// applies; files are named under the directory as given; bad input blames its option.
func TestLintDir(t *testing.T) {
	root := filepath.Join("testdata", "lint")
	for _, tc := range []struct {
		name       string
		o          LintOptions
		want       int    // problems
		wantFile   string // of the first problem
		wantErr    string
		wantOption string
	}{
		{name: "every rule", o: LintOptions{Dir: "create-index-non-concurrent"}, want: 2, wantFile: "create-index-non-concurrent/2_index_created.up.sql"},
		{name: "dialect", o: LintOptions{Dir: "create-index-non-concurrent", Dialect: MySQL}, want: 0},
		{name: "from the database", o: LintOptions{Dir: "create-index-non-concurrent", Database: "mysql://root@127.0.0.1:3306/app"}, want: 0},
		{name: "postgres database", o: LintOptions{Dir: "create-index-non-concurrent", Database: "postgres://u:pw@db/app"}, want: 2},
		{name: "one file", o: LintOptions{Dir: "create-index-non-concurrent", Files: []string{"x/4_unique.up.sql"}}, want: 1, wantFile: "create-index-non-concurrent/4_unique.up.sql"},
		{name: "bad dialect", o: LintOptions{Dir: "create-index-non-concurrent", Dialect: "oracle"}, wantErr: `"oracle" is not postgres, mysql or sqlite`, wantOption: "migrate.Dialect"},
		{name: "bad database", o: LintOptions{Dir: "create-index-non-concurrent", Database: "oracle://db"}, wantErr: "oracle"},
		{name: "no directory", o: LintOptions{Dir: "nowhere"}, wantErr: "nowhere is not a directory of migrations", wantOption: "migrate.Dir"},
		{name: "not a migration", o: LintOptions{Dir: "create-index-non-concurrent", Files: []string{"README.md"}}, wantErr: "README.md is not a migration file of create-index-non-concurrent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Root = root
			problems, err := LintDir(tc.o)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				var in interface{ InputError() bool }
				require.ErrorAs(t, err, &in, "an input error: the command exits 2")
				var opt interface{ InputOption() string }
				if errors.As(err, &opt) || tc.wantOption != "" {
					require.NotNil(t, opt)
					assert.Equal(t, tc.wantOption, opt.InputOption())
				}
				return
			}
			require.NoError(t, err)
			require.Len(t, problems, tc.want)
			if tc.wantFile != "" {
				assert.Equal(t, tc.wantFile, problems[0].File)
			}
		})
	}
}
