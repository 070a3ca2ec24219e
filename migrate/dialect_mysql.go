package migrate

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// mysql is MySQL and MariaDB: named locks (GET_LOCK), DDL that commits each statement on its own, and
// a server that keeps running a dead client's query to its end, so a killed run's connection is
// recorded as its file starts, and the next run kills it before it decides.
type mysql struct{ database string }

func (mysql) ownDSN(dsn, _ string) string { return dsn }

func (mysql) engineURL(migrateURL, _ string, _, _ time.Duration) string { return migrateURL }

func (m mysql) newLocker(ctx context.Context, db *sql.DB) (locker, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	key := sha256.Sum256([]byte("shipyard migrate " + m.database))
	// MySQL lock names are at most 64 characters.
	return &mysqlLock{conn: conn, lockName: "shipyard_migrate_" + hex.EncodeToString(key[:12])}, nil
}

func (mysql) schema(ctx context.Context, db *sql.DB) (string, string, error) {
	return currentSchema(ctx, db, "SELECT DATABASE()", "`", "`")
}

func (mysql) tableExists(ctx context.Context, db *sql.DB, schema, _, table string) (exists bool, err error) {
	err = db.QueryRowContext(ctx, "SELECT COUNT(*) > 0 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", schema, table).Scan(&exists)
	return exists, err
}

func (mysql) placeholders(q string) string { return q }

func (mysql) mysqlEscapes() bool { return true }

// runsAlone: MySQL commits around every DDL statement; pretending otherwise would hide a half-done part.
func (mysql) runsAlone(Statement) bool { return true }

// sessionSettings: the wait for a table's metadata lock, in whole seconds; MySQL has no statement
// timeout for DDL.
func (mysql) sessionSettings(lock, _ time.Duration, _ bool) []string {
	return []string{fmt.Sprintf("SET SESSION lock_wait_timeout = %d", max(1, int(lock.Round(time.Second).Seconds())))}
}

func (mysql) resetSession() string { return "" }

func (mysql) lockTimedOut(error) bool { return false }

// retryable: lock wait timeout (1205) and deadlock (1213).
func (mysql) retryable(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Error 1205") || strings.Contains(msg, "Error 1213")
}

// batchTx: READ COMMITTED takes no gap locks, so inserts next to the batch go on.
func (mysql) batchTx(time.Duration) (*sql.TxOptions, []string) {
	return &sql.TxOptions{Isolation: sql.LevelReadCommitted}, nil
}

// serveUp records the connection golang-migrate runs the file on before anything of the file runs (an
// INSERT that commits on its own, on the file's first line, so that line numbers stay the file's), and
// ends with the marker, which only runs when every statement before it did. MySQL refuses an empty
// statement, so the marker is set off with a semicolon only when the file's last statement has none.
func (mysql) serveUp(body []byte, tail, sessions, run string) ([]byte, bool) {
	out := fmt.Appendf(nil, "INSERT INTO %s (run, conn) VALUES ('%s', CONNECTION_ID()); ", sessions, run)
	out = append(out, body...)
	sep := "\n"
	if n := len(SplitSQL(string(body), true)); n > 0 && len(SplitSQL(string(body)+"\nDO 0", true)) == n {
		sep = "\n;\n" // DO 0 joined the last statement: it is open
	}
	return append(out, sep+tail...), true
}

func (mysql) utcNow() string { return "UTC_TIMESTAMP()" }

func (mysql) recordsSessions() bool { return true }

// endRun kills the connections the dead run recorded that the server still runs, and waits until they
// are gone: the rest of the file then never runs.
func (mysql) endRun(ctx context.Context, db *sql.DB, sessions, run string) error {
	rows, err := db.QueryContext(ctx, "SELECT conn FROM "+sessions+" WHERE run = ?", run)
	if err != nil {
		return fmt.Errorf("reading the sessions of the killed runner: %w", err)
	}
	var conns []int64
	for rows.Next() {
		var c int64
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return fmt.Errorf("reading the sessions of the killed runner: %w", err)
		}
		conns = append(conns, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the sessions of the killed runner: %w", err)
	}
	alive := func() (left int, err error) {
		for _, c := range conns {
			var n int
			if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.processlist WHERE id = ?", c).Scan(&n); err != nil {
				return 0, err
			}
			left += n
		}
		return left, nil
	}
	for _, c := range conns {
		// KILL takes no placeholder; c is a number read from shipyard's own table.
		if _, err := db.ExecContext(ctx, fmt.Sprintf("KILL CONNECTION %d", c)); err != nil && !strings.Contains(err.Error(), "Error 1094") { // 1094: no such thread
			return fmt.Errorf("ending connection %d of the killed runner: %w", c, err)
		}
	}
	return endWhenGone(ctx, fmt.Sprintf("connections %v", conns), alive)
}

// rollsBack: MySQL commits each DDL statement, so a killed file may have run in part.
func (mysql) rollsBack() bool { return false }

func (mysql) keyType(ctx context.Context, db *sql.DB, table, key string) (param, textType string, err error) {
	schema := "DATABASE()"
	if s, t, ok := strings.Cut(table, "."); ok {
		schema, table = "'"+s+"'", t
	}
	var typ string
	err = db.QueryRowContext(ctx, "SELECT column_type FROM information_schema.columns WHERE table_schema = "+schema+" AND table_name = ? AND column_name = ?", table, key).Scan(&typ)
	param = "?"
	if strings.Contains(typ, "int") {
		param = "CAST(? AS SIGNED)"
		if strings.Contains(typ, "unsigned") {
			param = "CAST(? AS UNSIGNED)"
		}
	}
	return param, "CHAR", err
}

// pressure: Threads_running (less the thread that asks), as gh-ost and pt-online-schema-change read
// it, and InnoDB's longest lock wait; a replica's lag is read on the replica, which this is not.
func (mysql) pressure(ctx context.Context, db *sql.DB, _ string) (load, error) {
	var name string
	var running int
	if err := db.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'Threads_running'").Scan(&name, &running); err != nil {
		return load{}, err
	}
	var waitUS sql.NullInt64
	err := db.QueryRowContext(ctx, "SELECT MAX(TIMESTAMPDIFF(MICROSECOND, trx_wait_started, NOW(6))) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'").Scan(&waitUS)
	return load{lag: -1, lockWait: time.Duration(waitUS.Int64) * time.Microsecond, active: max(running-1, 0)}, err
}

// probe: the smallest statement, a round trip through the server's threads. (The processlist cannot
// tell the backfill's own threads from the service's.)
func (mysql) probe(ctx context.Context, conn *sql.Conn, _ string) (int, time.Duration, error) {
	_, err := conn.ExecContext(ctx, "DO 1")
	return -1, 0, err
}

func (mysql) probes() bool { return true }

func (mysql) generate(op *Operation) (map[string]string, *Backfill, error) { return mysqlGen{op}.sql() }
func (mysql) prepare() error                                               { return nil }
