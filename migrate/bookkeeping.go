package migrate

import (
	"strings"
)

// shipyard's bookkeeping tables live in the schema (PostgreSQL) or database (MySQL) the connection starts
// in, and every statement names them with it: a migration that sets search_path, or runs USE, moves its
// own session and nothing of shipyard's.

// tbl is table qualified with the schema shipyard's tables live in; a name already qualified (a
// x-migrations-table of schema.table) is kept.
func (r *Runner) tbl(table string) string {
	if strings.Contains(table, ".") {
		return table
	}
	return r.schema + table
}
