package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// shipyard's bookkeeping tables live in the schema (PostgreSQL) or database (MySQL) the connection starts
// in, and every statement names them with it: a migration that sets search_path, or runs USE, moves its
// own session and nothing of shipyard's.

// bookkeepingSchema is the schema of shipyard's tables on db, and its qualifier of shipyard's tables on db: `"schema".` on PostgreSQL, "`db`." on
// MySQL, "" on SQLite (one file, no schemas to move between).
func bookkeepingSchema(ctx context.Context, d Dialect, db *sql.DB) (qualifier, name string, err error) {
	var q, open, end string
	switch d {
	case Postgres:
		q, open, end = "SELECT current_schema()", `"`, `"`
	case MySQL:
		q, open, end = "SELECT DATABASE()", "`", "`"
	default:
		return "", "", nil
	}
	var current sql.NullString
	if err := db.QueryRowContext(ctx, q).Scan(&current); err != nil {
		return "", "", fmt.Errorf("reading the schema of shipyard's tables: %w", err)
	}
	if current.String == "" {
		return "", "", fmt.Errorf("the connection has no current schema for shipyard's tables (%s is NULL): set search_path or name a database", q)
	}
	return open + strings.ReplaceAll(current.String, end, end+end) + end + ".", current.String, nil
}

// tbl is table qualified with the schema shipyard's tables live in; a name already qualified (a
// x-migrations-table of schema.table) is kept.
func (r *Runner) tbl(table string) string {
	if strings.Contains(table, ".") {
		return table
	}
	return r.schema + table
}
