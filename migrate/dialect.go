package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// dialect is everything shipyard does differently on one kind of database, one implementation per file
// (dialect_postgres.go, dialect_mysql.go, dialect_sqlite.go), in the manner of golang-migrate's
// database.Driver and goose's dialectquery: the runner, the live migrations, the backfill and the
// recovery of killed runs ask it, and never test which database they are on. TestDialectConformance is
// what each must pass.
type dialect interface {
	// ownDSN is the DSN of shipyard's own connections, tagged with the run where the server can show it.
	ownDSN(dsn, run string) string
	// engineURL is golang-migrate's URL, its sessions tagged with the run and given the timeouts.
	engineURL(migrateURL, run string, lock, statement time.Duration) string
	// prepare makes what the lock and the first write need (a SQLite file's directory).
	prepare() error
	// newLocker is the migration lock, on a connection of db that it keeps for as long as the lock
	// lives, so that the server releases it when the process dies.
	newLocker(ctx context.Context, db *sql.DB) (locker, error)
	// schema is the schema (or database) shipyard's tables live in, and the qualifier that names them
	// there whatever a migration does to its session ("" where there is nothing to qualify).
	schema(ctx context.Context, db *sql.DB) (qualifier, name string, err error)
	// tableExists reports whether table (in schema, qualified as qualified) exists, without creating
	// anything.
	tableExists(ctx context.Context, db *sql.DB, schema, qualified, table string) (bool, error)
	// placeholders writes the ? placeholders of q as the driver wants them.
	placeholders(q string) string

	// mysqlEscapes says how SplitSQL reads the backslashes of string literals.
	mysqlEscapes() bool
	// runsAlone reports a statement of a live part that no transaction may hold.
	runsAlone(st Statement) bool
	// sessionSettings are the statements that give a live part's transaction (local) or session its
	// lock and statement timeouts; resetSession undoes the session's ("" for nothing).
	sessionSettings(lock, statement time.Duration, local bool) []string
	resetSession() string
	// lockTimedOut reports that err is a lock wait that timed out and rolled its transaction back.
	lockTimedOut(err error) bool
	// retryable reports a backfill batch that lost a lock race and rolled back: run it again.
	retryable(err error) bool
	// batchTx is how a backfill batch's transaction starts, and its settings.
	batchTx(lock time.Duration) (*sql.TxOptions, []string)

	// serveUp is an up file as golang-migrate runs it: with tail (its history row and commit marker,
	// statements each ended by a semicolon) as its last statements where they can join the file's work,
	// and whatever records the run's sessions (in the table sessions). marked says whether tail was added.
	serveUp(body []byte, tail, sessions, run string) (out []byte, marked bool)
	// utcNow is the SQL for the time now, in UTC to the second, as the history's applied_at keeps it.
	utcNow() string
	// recordsSessions says whether the runner keeps a sessions table for endRun.
	recordsSessions() bool
	// endRun ends the sessions a dead run left on the server and waits until they are gone.
	endRun(ctx context.Context, db *sql.DB, sessions, run string) error
	// rollsBack says that a marked file that did not commit left nothing behind: it can run again.
	rollsBack() bool

	// keyType prepares a backfill key: the parameter that casts a checkpoint to the key's type, and
	// the type keys are kept in as text. table and key are checked to exist (sql.ErrNoRows if not).
	keyType(ctx context.Context, db *sql.DB, table, key string) (param, textType string, err error)
	// pressure reads the load the backfill yields to: a replica's lag, the longest lock wait of other
	// sessions and how many run a statement (but those of run); each is -1 where the database cannot tell.
	pressure(ctx context.Context, db *sql.DB, run string) (load, error)
	// probe runs the backfill's probe on conn: a statement as small as the service's, that waits for
	// what the service's writes wait for, and returns how many statements other sessions (but run's) are
	// running and how long the oldest has taken so far, where the database tells (-1 and 0 where not);
	// probes says whether the dialect has a probe.
	probe(ctx context.Context, conn *sql.Conn, run string) (running int, oldest time.Duration, err error)
	probes() bool

	// generate writes the parts of a generated live operation, and its backfill (nil for none).
	generate(op *Operation) (map[string]string, *Backfill, error)
}

// load is what pressure reads; a field the database cannot tell is -1.
type load struct {
	lag, lockWait time.Duration
	active        int
}

// dialectOf is the dialect of kind d; t, when known, is the database it will talk to.
func dialectOf(d Dialect, t *Target) dialect {
	var database, migrateURL string
	if t != nil {
		database, migrateURL = t.Database, t.MigrateURL
	}
	switch d {
	case Postgres:
		return postgres{database: database}
	case MySQL:
		return mysql{database: database}
	}
	return sqlite{path: database, noTxWrap: strings.Contains(migrateURL, "x-no-tx-wrap=true")}
}

// endWhenGone polls count until it reports no session left, for at most 30 s.
func endWhenGone(ctx context.Context, what string, count func() (int, error)) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		left, err := count()
		if err != nil {
			return fmt.Errorf("waiting for the sessions of the killed runner: %w", err)
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the %d sessions of the killed runner (%s) do not end", left, what)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// quoteIdent quotes name between open and end, doubling end inside it.
func quoteIdent(name, open, end string) string {
	return open + strings.ReplaceAll(name, end, end+end) + end
}

// currentSchema reads the schema shipyard's tables go in, with query, and its qualifier.
func currentSchema(ctx context.Context, db *sql.DB, query, open, end string) (qualifier, name string, err error) {
	var current sql.NullString
	if err := db.QueryRowContext(ctx, query).Scan(&current); err != nil {
		return "", "", fmt.Errorf("reading the schema of shipyard's tables: %w", err)
	}
	if current.String == "" {
		return "", "", fmt.Errorf("the connection has no current schema for shipyard's tables (%s is NULL): set search_path or name a database", query)
	}
	return quoteIdent(current.String, open, end) + ".", current.String, nil
}
