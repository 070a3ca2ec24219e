package migrate

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shipyardci/shipyard/internal/dbtest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The bookkeeping of a plain migration rides in the migration's own transaction: its history row and
// commit marker commit with it, the run is recorded once, and a migration costs golang-migrate's
// commits and no more (go run ./bench migrate-up measures the time).
func TestBookkeepingIsFoldedIntoTheMigration(t *testing.T) {
	for _, db := range dbtest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{
				"1_accounts.up.sql":   "CREATE TABLE accounts (id INT);\nINSERT INTO accounts VALUES (1);\n",
				"1_accounts.down.sql": "DROP TABLE accounts;\n",
				"2_second.up.sql":     "INSERT INTO accounts VALUES (2);",
				"3_broken.up.sql":     "INSERT INTO accounts VALUES (3);\nINSERT INTO no_such_table VALUES (1);\n",
			})
			// A quote and a backslash in what the file writes as a literal.
			who := `o'brien\ci@runner-1`
			r := open(t, db.URL, dir, WithAppliedBy(who), WithToolVersion("1.2.3"))

			res, err := r.Up(ctx, 2)
			require.NoError(t, err)
			require.Len(t, res.Steps, 2)
			h, err := r.History(ctx)
			require.NoError(t, err)
			require.Len(t, h, 2)
			for i, a := range h {
				m, _ := r.Source().Find(a.Version)
				assert.Equal(t, m.Checksum, a.Checksum)
				assert.Equal(t, m.Name, a.Name)
				assert.Equal(t, who, a.AppliedBy)
				assert.Equal(t, "1.2.3", a.Tool)
				assert.Equal(t, res.Steps[i].Duration.Milliseconds(), a.Duration.Milliseconds(), "the duration is written as the run ends")
				assert.WithinDuration(t, time.Now(), a.AppliedAt, time.Minute)
			}
			assertNoProgress(t, r)

			// A failed run clears its record too: only a killed one leaves it behind.
			_, err = r.Up(ctx, 0)
			var de *DirtyError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, uint64(3), de.Version)
			assertNoProgress(t, r)
			h, err = r.History(ctx)
			require.NoError(t, err)
			assert.Len(t, h, 2, "a failed file writes no history")
			if db.Name == "mariadb" {
				return // MySQL commits each statement: no transaction to compare
			}
			var rows int
			require.NoError(t, r.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM accounts").Scan(&rows))
			assert.Equal(t, 2, rows, "the failed file rolled back")
		})
	}
}

// On PostgreSQL a trigger notes the transaction that writes each history row and commit marker: it is
// the migration's own (the one that wrote the migration's row), and each migration is a transaction of
// its own.
func TestHistoryRowCommitsWithItsMigration(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"1_accounts.up.sql": "CREATE TABLE accounts (id INT, tx BIGINT DEFAULT txid_current());\nINSERT INTO accounts (id) VALUES (1);\n",
		"2_second.up.sql":   "INSERT INTO accounts (id) VALUES (2);\n",
	})
	r := open(t, dbtest.Postgres(t), dir)
	require.NoError(t, r.ensureHistory(ctx))
	require.NoError(t, r.ensureProgress(ctx))
	_, err := r.db.ExecContext(ctx, `CREATE TABLE written (tbl TEXT, version BIGINT, tx BIGINT);
CREATE FUNCTION note_tx() RETURNS trigger AS $$ BEGIN INSERT INTO written VALUES (TG_TABLE_NAME, NEW.version, txid_current()); RETURN NEW; END $$ LANGUAGE plpgsql;
CREATE TRIGGER note BEFORE INSERT ON shipyard_migration_history FOR EACH ROW EXECUTE FUNCTION note_tx();
CREATE TRIGGER note BEFORE INSERT ON shipyard_migration_commits FOR EACH ROW EXECUTE FUNCTION note_tx();`)
	require.NoError(t, err)
	_, err = r.Up(ctx, 0)
	require.NoError(t, err)

	var txs []int64
	for _, v := range []int64{1, 2} {
		var tx int64
		require.NoError(t, r.db.QueryRowContext(ctx, "SELECT tx FROM accounts WHERE id = $1", v).Scan(&tx))
		for _, table := range []string{historyTable, commitTable} {
			var wrote int64
			require.NoError(t, r.db.QueryRowContext(ctx, "SELECT tx FROM written WHERE tbl = $1 AND version = $2", table, v).Scan(&wrote), table)
			assert.Equal(t, tx, wrote, "%s of migration %d is written in the migration's transaction", table, v)
		}
		txs = append(txs, tx)
	}
	assert.NotEqual(t, txs[0], txs[1])
}

func assertNoProgress(t *testing.T, r *Runner) {
	t.Helper()
	for _, table := range []string{progressTable, commitTable, sessionsTable}[:r.progressTables()] {
		var n int
		require.NoError(t, r.db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+r.tbl(table)).Scan(&n))
		assert.Zero(t, n, "%s is empty after the run", table)
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
}
