package migrate

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/golang-migrate/migrate/v4/database"
)

// DirtyError is a database left dirty by a migration that failed part way: golang-migrate will not run
// again until someone checks the database and says with force which version it is at.
type DirtyError struct {
	Version   uint64
	File      string // the migration file that failed, when known
	Statement string // the statement that failed, when the database said where
	Line      int    // the line of the file it starts on
	Cause     error
	Previous  uint64 // the version before the failed migration (0: none)
}

func (e *DirtyError) Error() string {
	var b strings.Builder
	if e.Cause != nil {
		fmt.Fprintf(&b, "migration %s failed: %s", e.File, cut(e.Cause.Error(), 1000))
		if e.Statement != "" {
			fmt.Fprintf(&b, "\n  at line %d: %s", e.Line, excerpt(e.Statement, 3, "\n    "))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "the database is dirty at version %d: check what %s changed, then either undo it by hand and run `shipyard migrate force %d` to retry, or finish it by hand and run `shipyard migrate force %d`",
		e.Version, orUnknown(e.File), e.Previous, e.Version)
	return b.String()
}

func (e *DirtyError) Unwrap() error { return e.Cause }

func orUnknown(s string) string {
	if s == "" {
		return "the failed migration"
	}
	return s
}

// cut is s up to n bytes (at a rune boundary), with … when there was more.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// excerpt is a statement's first lines, each cut to 160 bytes, joined with sep and ending in … when
// the statement runs on: an error quotes what failed, never a whole file.
func excerpt(sql string, lines int, sep string) string {
	all := strings.Split(strings.TrimSpace(sql), "\n")
	out := all[:min(lines, len(all))]
	for i, l := range out {
		out[i] = cut(strings.TrimRight(l, " \t\r"), 160)
	}
	if len(all) > lines {
		out = append(out, "…")
	}
	return strings.Join(out, sep)
}

func (r *Runner) dirty(v uint64, cause error) *DirtyError {
	e := &DirtyError{Version: v, Previous: r.previous(v), Cause: cause}
	if m, ok := r.source.Find(v); ok {
		e.File = m.Up
	}
	if query, line, orig, ok := engineError(cause); ok {
		e.Cause = orig
		body := string(query)
		if i := strings.LastIndex(body, commitMarker); i >= 0 {
			body = body[:i] // shipyard's marker, not the user's SQL
		}
		if st, ok := statementAt(body, line, r.d.mysqlEscapes()); ok {
			e.Statement, e.Line = st.SQL, st.Line
		}
	}
	return e
}

// engineError unpacks golang-migrate's database.Error, which its drivers return as a value or as a
// pointer and which does not unwrap: the query (a whole file), the line of the file the database
// pointed at (0: it did not say), and the database's own error.
func engineError(err error) (query []byte, line uint, orig error, ok bool) {
	var v database.Error
	var p *database.Error
	switch {
	case errors.As(err, &v):
	case errors.As(err, &p) && p != nil:
		v = *p
	default:
		return nil, 0, err, false
	}
	return v.Query, v.Line, cmp.Or(v.OrigErr, err), true
}

// statementAt is the statement of body on line (from 1), when the database said where it failed.
func statementAt(body string, line uint, mysql bool) (Statement, bool) {
	if line == 0 {
		return Statement{}, false
	}
	var found Statement
	for _, st := range SplitSQL(body, mysql) {
		if uint(st.Line) > line {
			break
		}
		found = st
	}
	return found, found.SQL != ""
}

// VersionError names a version that no migration has.
type VersionError struct{ Version uint64 }

func (e *VersionError) Error() string { return fmt.Sprintf("no migration has version %d", e.Version) }

// InputError says that the user asked for a version there is no migration of: the command exits 2.
func (e *VersionError) InputError() bool { return true }
