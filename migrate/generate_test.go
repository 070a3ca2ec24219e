package migrate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/golden"
)

// opDirs are the directories of testdata/ops: a base migration and one generated operation each.
func opDirs(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("testdata", "ops", "*"))
	require.NoError(t, err)
	var out []string
	for _, d := range dirs {
		if info, err := os.Stat(d); err == nil && info.IsDir() {
			out = append(out, d)
		}
	}
	require.NotEmpty(t, out)
	return out
}

// liveOf returns the live migration of src.
func liveOf(t *testing.T, src *Source) Migration {
	t.Helper()
	for _, m := range src.Migrations {
		if m.Live != nil {
			return m
		}
	}
	t.Fatal("no live migration")
	return Migration{}
}

// TestGeneratedSQL: what each operation of testdata/ops writes for its phases is in
// testdata/ops/NAME.golden, and lint finds nothing dangerous in it.
func TestGeneratedSQL(t *testing.T) {
	for _, dir := range opDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			src, err := ReadSource(os.DirFS(dir))
			require.NoError(t, err)
			m := liveOf(t, src)
			var b strings.Builder
			for _, f := range []string{m.Up, m.Down, m.Live.ContractUp, m.Live.ContractDown} {
				if f != "" {
					fmt.Fprintf(&b, "-- %s\n%s\n", f, m.Live.SQL[f])
				}
			}
			if bf := m.Live.Backfill; bf != nil {
				k := &keyset{spec: bf}
				fmt.Fprintf(&b, "-- %s (batches of %d)\n%s\n", bf.File, max(bf.BatchSize, DefaultLiveOptions.BatchSize), k.sql())
			}
			golden.Assert(t, filepath.Join("ops", filepath.Base(dir)), []byte(b.String()))

			problems, err := Lint(src, Postgres)
			require.NoError(t, err)
			for _, p := range problems {
				assert.NotEqual(t, SeverityError, p.Severity, "%s:%d %s: %s", p.File, p.Line, p.Rule, p.Message)
			}

			// On MySQL: the operations it runs online, and why not for the others.
			var my strings.Builder
			if err := m.generate(MySQL); err != nil {
				fmt.Fprintf(&my, "error: %v\n", err)
			} else {
				for _, f := range []string{m.Up, m.Down, m.Live.ContractUp, m.Live.ContractDown} {
					if f != "" {
						fmt.Fprintf(&my, "-- %s\n%s\n", f, m.Live.SQL[f])
					}
				}
			}
			golden.Assert(t, filepath.Join("ops", filepath.Base(dir)+".mysql"), []byte(my.String()))
		})
	}
}

func TestParseOperationErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"", "empty: it needs operation and table"},
		{"table: t\n", "operation is missing"},
		{"operation: drop_table\ntable: t\n", `operation "drop_table" is not one of add_column`},
		{"operation: add_column\ntable: t\ncolumn: c\n", "add_column needs type"},
		{"operation: add_column\ntable: t\ncolumn: c\ntype: int\nnot_null: true\n", "needs a default or an up expression"},
		{"operation: rename_column\ntable: t\ncolumn: a\nto: b\n", "rename_column needs type (the column's type)"},
		{"operation: add_foreign_key\ntable: t\ncolumn: a\nreferences: users\n", `references "users" must be table(column)`},
		{"operation: add_foreign_key\ntable: t\ncolumn: a\nreferences: users(id)\non_delete: explode\n", "on_delete"},
		{"operation: add_unique\ntable: t\n", "add_unique needs columns"},
		{"operation: add_index\ntable: t; DROP TABLE x\ncolumns: [a]\n", "must be a plain name"},
		{"operation: add_column\ntable: t\ncolumn: c\ntype: int\ndefault: 1; DROP TABLE t\n", "default must be one SQL expression"},
		{"operation: add_column\ntable: t\ncolum: c\n", "5_x.live.yaml:3: unknown key colum (the keys are operation, table, column, type, default, not_null, up, to, references, on_delete, columns, name, key, batch_size)"},
		{"operation: rename_column\ntable: t\ncolumn: a\nto: a\ntype: int\n", "rename_column: to is column's own name a: name the new one"},
		{"operation: rename_column\ntable: t\ncolumn: Name\nto: name\ntype: int\n", "rename_column: to is column's own name Name: name the new one"},
	} {
		_, err := ParseOperation("5_x.live.yaml", []byte(tc.yaml))
		require.Error(t, err, tc.yaml)
		assert.Contains(t, err.Error(), tc.want, tc.yaml)
		assert.True(t, strings.HasPrefix(err.Error(), "5_x.live.yaml"), err.Error())
	}
}

func TestParseBackfillErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"", "empty"},
		{"set: a = 1\n", "table is missing"},
		{"table: t\n", "set is missing"},
		{"table: t\nset: a = 1\nkey: a, b\n", "must be one column name"},
		{"table: t\nset:\n  a: [1]\n", "b.yaml:3: set.a must be an SQL expression"},
		{"table: t\nset: a = 1\nbatch_size: -3\n", "batch_size must be above 0"},
		{"table: t\nset: a = 1\nbatchsize: 3\n", "b.yaml:3: unknown key batchsize (the keys are table, key, set, where, batch_size)"},
	} {
		_, err := ParseBackfill("b.yaml", []byte(tc.yaml))
		require.Error(t, err, tc.yaml)
		assert.Contains(t, err.Error(), tc.want, tc.yaml)
	}
	b, err := ParseBackfill("b.yaml", []byte("table: t\nset:\n  b: lower(a)\n  c: upper(a)\n"))
	require.NoError(t, err)
	assert.Equal(t, "b = lower(a), c = upper(a)", b.Set, "the mapping keeps its order")
	assert.Equal(t, "id", b.Key)
}

func FuzzParseOperation(f *testing.F) {
	for _, dir := range []string{"add_column", "rename_column", "change_column_type", "add_foreign_key", "add_unique", "add_index"} {
		data, err := os.ReadFile(filepath.Join("testdata", "ops", dir, "2_"+dir+".live.yaml"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		op, err := ParseOperation("f.live.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.live.yaml") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		if _, _, err := dialectOf(Postgres, nil).generate(op); err != nil {
			t.Fatalf("a valid operation must generate: %v", err)
		}
	})
}

func FuzzParseBackfill(f *testing.F) {
	f.Add([]byte("table: users\nkey: id\nset:\n  a: lower(b)\nwhere: a IS NULL\nbatch_size: 10\n"))
	f.Add([]byte("table: t\nset: a = 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBackfill("b.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "b.yaml") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		if b.Table == "" || b.Set == "" || b.Key == "" {
			t.Fatalf("accepted an incomplete backfill: %+v", b)
		}
	})
}
