package migrate

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSplitSQL(t *testing.T) {
	type stmt struct {
		Words  string
		Line   int
		Ignore []string
	}
	for _, tc := range []struct {
		name  string
		src   string
		mysql bool
		want  []stmt
	}{
		{"empty", "", false, nil},
		{"only comments", "-- nothing\n/* here */\n", false, nil},
		{"two statements", "CREATE TABLE a (id INT);\n\nCREATE TABLE b (id INT);\n", false, []stmt{{"CREATE TABLE a (id INT)", 1, nil}, {"CREATE TABLE b (id INT)", 3, nil}}},
		{"no final semicolon", "SELECT 1;\nSELECT\n  2", false, []stmt{{"SELECT 1", 1, nil}, {"SELECT 2", 2, nil}}},
		{"semicolons in literals", "INSERT INTO t VALUES ('a;b', 'it''s;');\nSELECT \"x;y\" FROM `t;u`;", false, []stmt{{"INSERT INTO t VALUES ('a;b', 'it''s;')", 1, nil}, {"SELECT \"x;y\" FROM `t;u`", 2, nil}}},
		{"comments removed", "ALTER TABLE t -- why\n  ADD COLUMN /* a ; b */ c INT;", false, []stmt{{"ALTER TABLE t ADD COLUMN c INT", 1, nil}}},
		{"nested block comment", "/* a /* b; */ c; */ SELECT 1;", false, []stmt{{"SELECT 1", 1, nil}}},
		{"dollar quoting", "CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  NEW.a := 1;\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\nSELECT $tag$ ; $$ $tag$;", false,
			[]stmt{{"CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  NEW.a := 1;\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql", 1, nil}, {"SELECT $tag$ ; $$ $tag$", 7, nil}}},
		{"parameters are not dollar quotes", "PREPARE p AS SELECT $1; SELECT a$b$c;", false, []stmt{{"PREPARE p AS SELECT $1", 1, nil}, {"SELECT a$b$c", 1, nil}}},
		{"E strings escape", `SELECT E'a\';b'; SELECT 'c:\'; SELECT 2;`, false, []stmt{{`SELECT E'a\';b'`, 1, nil}, {`SELECT 'c:\'`, 1, nil}, {"SELECT 2", 1, nil}}},
		{"mysql escapes and hash comments", "SELECT 'a\\';b'; # c;\nSELECT 2;", true, []stmt{{`SELECT 'a\';b'`, 1, nil}, {"SELECT 2", 2, nil}}},
		{"ignore before", "-- shipyard:ignore set-not-null, rename-column because\nALTER TABLE t ALTER c SET NOT NULL;", false, []stmt{{"ALTER TABLE t ALTER c SET NOT NULL", 2, []string{"set-not-null", "rename-column"}}}},
		{"ignore inside", "ALTER TABLE t\n  -- shipyard:ignore set-not-null\n  ALTER c SET NOT NULL;", false, []stmt{{"ALTER TABLE t ALTER c SET NOT NULL", 1, []string{"set-not-null"}}}},
		{"ignore after on the same line", "CREATE INDEX i ON t (c); -- shipyard:ignore create-index-non-concurrent\nDROP TABLE u;", false,
			[]stmt{{"CREATE INDEX i ON t (c)", 1, []string{"create-index-non-concurrent"}}, {"DROP TABLE u", 2, nil}}},
		{"ignore on the next line is for the next statement", "SELECT 1;\n/* shipyard:ignore drop-without-contract */\nDROP TABLE u;", false,
			[]stmt{{"SELECT 1", 1, nil}, {"DROP TABLE u", 3, []string{"drop-without-contract"}}}},
		{"unterminated literal", "SELECT 'a;\nb", false, []stmt{{"SELECT 'a;\nb", 1, nil}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []stmt
			for _, s := range SplitSQL(tc.src, tc.mysql) {
				got = append(got, stmt{s.Words, s.Line, s.Ignore})
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func FuzzSplitSQL(f *testing.F) {
	for _, seed := range []string{
		"CREATE TABLE a (id INT);\nSELECT 'x;y';", "$$;$$;$a$ $$ $a$", "/* /* */ */;--\n;", "E'\\'';'", "`a;b`;\"c\"\"d\";",
		"ALTER TABLE t ADD c INT; -- shipyard:ignore x\n", "#x\n;", "$1;$", "/*",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, src string, mysql bool) {
		lines := strings.Count(src, "\n") + 1
		prev := 1
		for _, s := range SplitSQL(src, mysql) {
			if s.SQL == "" || s.Words == "" {
				t.Fatalf("empty statement in %q", src)
			}
			if !strings.Contains(src, s.SQL) {
				t.Fatalf("statement %q is not part of %q", s.SQL, src)
			}
			if s.Line < prev || s.Line > lines {
				t.Fatalf("statement %q at line %d (previous %d, %d lines)", s.SQL, s.Line, prev, lines)
			}
			from := lineOffset(src, s.Line)
			at := strings.Index(src[from:], s.SQL)
			if at < 0 || strings.Contains(src[from:from+at], "\n") {
				t.Fatalf("statement %q does not start on its line %d of %q", s.SQL, s.Line, src)
			}
			prev = s.Line
		}
	})
}

// lineOffset is the byte offset of line n (from 1) of src.
func lineOffset(src string, n int) int {
	off := 0
	for range n - 1 {
		off += strings.IndexByte(src[off:], '\n') + 1
	}
	return off
}
