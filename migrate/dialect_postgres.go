package migrate

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// postgres is PostgreSQL: advisory locks, sessions tagged with application_name (which a later run
// terminates by name), files that run as one implicit transaction, and lock_timeout.
type postgres struct{ database string }

// SQLSTATEs shipyard reacts to.
const (
	lockNotAvailable     = "55P03" // lock_timeout
	deadlockDetected     = "40P01"
	serializationFailure = "40001"
)

func (postgres) ownDSN(dsn, run string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	q.Set("application_name", applicationName(run))
	u.RawQuery = q.Encode()
	return u.String()
}

// engineURL: pgx passes unknown URL parameters to the server as the session's settings.
func (postgres) engineURL(migrateURL, run string, lock, statement time.Duration) string {
	u, err := url.Parse(migrateURL)
	if err != nil {
		return migrateURL
	}
	q := u.Query()
	q.Set("application_name", applicationName(run))
	if lock > 0 {
		q.Set("lock_timeout", fmt.Sprint(lock.Milliseconds()))
	}
	if statement > 0 {
		q.Set("statement_timeout", fmt.Sprint(statement.Milliseconds()))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func (p postgres) newLocker(ctx context.Context, db *sql.DB) (locker, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	key := sha256.Sum256([]byte("shipyard migrate " + p.database))
	return &pgLock{conn: conn, key: int64(binary.BigEndian.Uint64(key[:8]))}, nil
}

func (postgres) schema(ctx context.Context, db *sql.DB) (string, string, error) {
	return currentSchema(ctx, db, "SELECT current_schema()", `"`, `"`)
}

func (postgres) tableExists(ctx context.Context, db *sql.DB, _, qualified, _ string) (exists bool, err error) {
	err = db.QueryRowContext(ctx, "SELECT to_regclass($1) IS NOT NULL", qualified).Scan(&exists)
	return exists, err
}

func (postgres) placeholders(q string) string {
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (postgres) mysqlEscapes() bool { return false }

func (postgres) runsAlone(st Statement) bool { return noTxRE.MatchString(st.Words) }

func (postgres) sessionSettings(lock, statement time.Duration, local bool) []string {
	scope := "SET "
	if local {
		scope = "SET LOCAL "
	}
	return []string{
		fmt.Sprintf("%slock_timeout = %d", scope, lock.Milliseconds()),
		fmt.Sprintf("%sstatement_timeout = %d", scope, statement.Milliseconds()),
	}
}

func (postgres) resetSession() string { return "RESET lock_timeout; RESET statement_timeout" }

func (postgres) lockTimedOut(err error) bool { return pgCode(err) == lockNotAvailable }

func (postgres) retryable(err error) bool {
	switch pgCode(err) {
	case lockNotAvailable, deadlockDetected, serializationFailure:
		return true
	}
	return false
}

// pgCode is the SQLSTATE of a PostgreSQL error in err's chain, "" for none.
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// batchTx: READ COMMITTED, and a short lock_timeout for the batch alone.
func (postgres) batchTx(lock time.Duration) (*sql.TxOptions, []string) {
	return &sql.TxOptions{Isolation: sql.LevelReadCommitted}, []string{fmt.Sprintf("SET LOCAL lock_timeout = %d", lock.Milliseconds())}
}

// serveUp: a file PostgreSQL runs as one implicit transaction gets the marker, which commits with it.
func (postgres) serveUp(body []byte, tail, _, _ string) ([]byte, bool) {
	if !oneTransaction(body) {
		return body, false
	}
	return append(body, commitMarker+tail...), true
}

func (postgres) utcNow() string { return "date_trunc('second', now() AT TIME ZONE 'UTC')" }

func (postgres) recordsSessions() bool { return false }

// endRun: PostgreSQL does not notice a vanished client during a query, so the orphaned sessions (found
// by their application_name) are terminated, and their transactions then committed or rolled back.
func (postgres) endRun(ctx context.Context, db *sql.DB, _, run string) error {
	name := applicationName(run)
	if _, err := db.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", name); err != nil {
		return fmt.Errorf("ending the sessions of the killed runner: %w", err)
	}
	return endWhenGone(ctx, name, func() (left int, err error) {
		err = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1", name).Scan(&left)
		return left, err
	})
}

func (postgres) rollsBack() bool { return true }

func (postgres) keyType(ctx context.Context, db *sql.DB, table, key string) (param, textType string, err error) {
	var typ string
	err = db.QueryRowContext(ctx, `SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
			WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped`, table, key).Scan(&typ)
	return "CAST(? AS " + typ + ")", "TEXT", err
}

// pressure: the replicas' replay lag, the longest lock wait, and the client sessions running a
// statement, from pg_stat_replication and pg_stat_activity.
func (postgres) pressure(ctx context.Context, db *sql.DB, run string) (load, error) {
	var l, w float64
	var active int
	err := db.QueryRowContext(ctx, `SELECT
	COALESCE((SELECT EXTRACT(EPOCH FROM MAX(replay_lag)) FROM pg_stat_replication), 0),
	COALESCE((SELECT EXTRACT(EPOCH FROM MAX(now() - state_change)) FROM pg_stat_activity
		WHERE wait_event_type = 'Lock' AND state = 'active' AND pid <> pg_backend_pid()), 0),
	(SELECT COUNT(*) FROM pg_stat_activity WHERE state = 'active' AND backend_type = 'client backend'
		AND datname = current_database() AND pid <> pg_backend_pid() AND application_name <> $1)`, applicationName(run)).Scan(&l, &w, &active)
	return load{lag: seconds(l), lockWait: seconds(w), active: active}, err
}

// probe: a transaction that takes a transaction id commits a record, and so waits, like every write
// of the service, for the WAL to be flushed, behind the backfill's own WAL; and it reads how long the
// statements the service's sessions are running in this database have taken so far, which is the
// service's own experience (waiting for a buffer, for I/O, for a lock).
func (postgres) probe(ctx context.Context, conn *sql.Conn, run string) (int, time.Duration, error) {
	var running int
	var oldest float64
	err := conn.QueryRowContext(ctx, `SELECT pg_current_xact_id() IS NOT NULL, COUNT(*), COALESCE(EXTRACT(EPOCH FROM MAX(clock_timestamp() - query_start)), 0)
	FROM pg_stat_activity WHERE state = 'active' AND backend_type = 'client backend' AND datname = current_database()
		AND pid <> pg_backend_pid() AND application_name <> $1`, applicationName(run)).Scan(new(bool), &running, &oldest)
	return running, seconds(oldest), err
}

func (postgres) probes() bool { return true }

func (postgres) generate(op *Operation) (map[string]string, *Backfill, error) {
	return pgGen{op: op}.sql()
}
func (postgres) prepare() error { return nil }
