package migrate

import (
	"context"
	"database/sql"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/dbtest"
)

// dumpSchema dumps the schema the way each database's own tool does (sqlite_master for SQLite).
func dumpSchema(t *testing.T, db dbtest.DB) string {
	t.Helper()
	u, err := url.Parse(db.URL)
	require.NoError(t, err)
	name := strings.TrimPrefix(u.Path, "/")
	var cmd *exec.Cmd
	switch db.Name {
	case "postgres":
		cmd = exec.Command("pg_dump", "-h", "127.0.0.1", "-U", "postgres", "--schema-only", "--no-owner", "--no-privileges", name)
	case "mariadb":
		cmd = exec.Command("mysqldump", "-h", "127.0.0.1", "-uroot", "--no-data", "--skip-comments", "--skip-dump-date", name)
	default:
		conn, err := sql.Open("sqlite", strings.TrimPrefix(db.URL, "sqlite://"))
		require.NoError(t, err)
		defer conn.Close()
		rows, err := conn.Query("SELECT type, name, COALESCE(sql, '') FROM sqlite_master ORDER BY type, name")
		require.NoError(t, err)
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var typ, n, s string
			require.NoError(t, rows.Scan(&typ, &n, &s))
			b.WriteString(typ + " " + n + ": " + s + "\n")
		}
		return b.String()
	}
	out, err := cmd.Output()
	require.NoError(t, err, "dumping %s", name)
	// pg_dump's \restrict and \unrestrict lines carry a random key on every run.
	var kept []string
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(line, `\restrict `) && !strings.HasPrefix(line, `\unrestrict `) {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}

// TestUpDownUpLeavesTheSameSchema: reverting everything and applying it again gives the schema of the
// first run, so that down files are trusted to undo their up files.
func TestUpDownUpLeavesTheSameSchema(t *testing.T) {
	for _, db := range dbtest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			r := open(t, db.URL, "testdata/basic")
			_, err := r.Up(ctx, 0)
			require.NoError(t, err)
			first := dumpSchema(t, db)
			require.Contains(t, first, "orders_user", "the dump holds the schema")

			_, err = r.Down(ctx, 0)
			require.NoError(t, err)
			assert.NotContains(t, dumpSchema(t, db), "orders_user")
			_, err = r.Up(ctx, 0)
			require.NoError(t, err)
			assert.Equal(t, first, dumpSchema(t, db))
		})
	}
}
