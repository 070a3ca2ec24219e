package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// sqlite is a SQLite file: a file lock beside it (the only place it is shared is one machine), no
// schemas, no server sessions, and golang-migrate's transaction around each file, which the journal
// rolls back when the process dies.
type sqlite struct {
	path     string
	noTxWrap bool // x-no-tx-wrap=true: golang-migrate runs files outside a transaction
}

func (sqlite) ownDSN(dsn, _ string) string { return dsn }

func (sqlite) engineURL(migrateURL, _ string, _, _ time.Duration) string { return migrateURL }

func (s sqlite) newLocker(context.Context, *sql.DB) (locker, error) {
	return &fileLock{f: flock.New(s.path + ".lock")}, nil
}

func (sqlite) schema(context.Context, *sql.DB) (string, string, error) { return "", "", nil }

// tableExists: a file that does not exist yet has no tables, and is not created by asking.
func (s sqlite) tableExists(ctx context.Context, db *sql.DB, _, _, table string) (exists bool, err error) {
	if _, err := os.Stat(s.path); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	err = db.QueryRowContext(ctx, "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?", table).Scan(&exists)
	return exists, err
}

func (sqlite) placeholders(q string) string { return q }

func (sqlite) mysqlEscapes() bool { return false }

func (sqlite) runsAlone(st Statement) bool { return noTxRE.MatchString(st.Words) }

func (sqlite) sessionSettings(time.Duration, time.Duration, bool) []string { return nil }

func (sqlite) resetSession() string { return "" }

func (sqlite) lockTimedOut(error) bool { return false }

func (sqlite) retryable(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked")
}

func (sqlite) batchTx(time.Duration) (*sql.TxOptions, []string) { return &sql.TxOptions{}, nil }

// serveUp: inside golang-migrate's transaction the marker commits with the file.
func (s sqlite) serveUp(body []byte, tail, _, _ string) ([]byte, bool) {
	if s.noTxWrap || !oneTransaction(body) {
		return body, false
	}
	return append(body, commitMarker+tail...), true
}

func (sqlite) utcNow() string { return "CURRENT_TIMESTAMP" }

func (sqlite) recordsSessions() bool { return false }

// endRun: a dead process leaves nothing running; its transaction is rolled back from the journal.
func (sqlite) endRun(context.Context, *sql.DB, string, string) error { return nil }

func (sqlite) rollsBack() bool { return true }

func (sqlite) keyType(ctx context.Context, db *sql.DB, table, key string) (param, textType string, err error) {
	var typ string
	err = db.QueryRowContext(ctx, "SELECT type FROM pragma_table_info(?) WHERE name = ?", table, key).Scan(&typ)
	return "?", "TEXT", err
}

// pressure: one file, no server and no replicas; its writers wait on the file lock, which the short
// batches of the backfill hold briefly.
func (sqlite) pressure(context.Context, *sql.DB, string) (load, error) {
	return load{lag: -1, lockWait: -1, active: -1}, nil
}

func (sqlite) probe(context.Context, *sql.Conn, string) (int, time.Duration, error) {
	return -1, 0, nil
}

func (sqlite) probes() bool { return false }

func (sqlite) generate(op *Operation) (map[string]string, *Backfill, error) {
	return nil, nil, fmt.Errorf("generated operations are for PostgreSQL and MySQL; on sqlite, write the parts in a directory %s/", strings.TrimSuffix(strings.TrimSuffix(op.File, ".yaml"), ".live"))
}

func (s sqlite) prepare() error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return fmt.Errorf("creating the directory of %s: %w", s.path, err)
	}
	return nil
}
