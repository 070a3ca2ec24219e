package migrate

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"testing/fstest"
	"time"
)

// Recovering from a killed runner (SIGKILL, OOM, node loss).
//
// golang-migrate marks the version dirty, runs the file, then marks it clean. A runner killed in between
// leaves it dirty, and the server may not notice: PostgreSQL and MySQL keep running a vanished client's
// query, so the orphaned session may still finish the file. So shipyard serves each up file to
// golang-migrate with its history row and an INSERT of a commit marker at its end, which run only when
// everything before them did and, where the file is one transaction (PostgreSQL's implicit transaction,
// golang-migrate's around a SQLite file), commit with it: the marker exists exactly when the migration
// completed, and the migration costs no commit of its own beyond golang-migrate's. Each run records
// itself once in the progress table and clears the record when it ends; a record left behind is a
// killed run. The next runner ends the dead run's sessions (PostgreSQL: by their application_name;
// MySQL: the connection the file recorded as it started) and reads the marker: there, the version is
// set clean; not there, on a database that rolled the file back, the version is set back and the
// migration runs again; on MySQL, which commits each DDL statement, part of the file may have run and
// a person decides. Files with explicit transaction control or CONCURRENTLY are not one transaction.

const (
	progressTable = "shipyard_migration_progress" // the migration running now, and which run
	commitTable   = "shipyard_migration_commits"  // written in the migration's own transaction
	sessionsTable = "shipyard_migration_sessions" // MySQL: the connection each file of a run started on
	// commitMarker sets the commit marker off from the end of an up file: a failed file is cut there.
	commitMarker = "\n;\n"
)

// txControl is a statement that ends, opens or steps outside the implicit transaction of a file.
var txControl = regexp.MustCompile(`(?i)^(?:BEGIN|COMMIT|END|ROLLBACK|ABORT|START TRANSACTION|PREPARE TRANSACTION|SET (?:SESSION CHARACTERISTICS|TRANSACTION))\b`)

// oneTransaction reports whether PostgreSQL runs the file body as one implicit transaction: no
// statement of it controls the transaction or refuses to run in one (a BEGIN inside a function's body
// is not a statement of the file).
func oneTransaction(body []byte) bool {
	for _, st := range SplitSQL(string(body), false) {
		if txControl.MatchString(st.Words) || noTxRE.MatchString(st.Words) || strings.Contains(strings.ToUpper(st.Words), "CONCURRENTLY") {
			return false
		}
	}
	return true
}

func newRunID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// applicationName tags the sessions of one run, so that a later run can find them.
func applicationName(run string) string { return "shipyard-migrate-" + run }

// engineSource is what golang-migrate reads: the migration files, each up file as the dialect serves it
// (with the commit marker). A live migration is there as a placeholder pair of files: golang-migrate
// must know its version to step around it, but shipyard runs its parts.
func (r *Runner) engineSource() (fs.FS, error) {
	out := fstest.MapFS{}
	r.historyInFile = map[uint64]bool{}
	for _, m := range r.source.Migrations {
		if m.Live != nil {
			placeholder := []byte(fmt.Sprintf("-- live migration %s: shipyard runs its parts\n", m.Live.Dir))
			for _, dir := range []string{"up", "down"} {
				out[fmt.Sprintf("%d_%s.%s.sql", m.Version, m.Name, dir)] = &fstest.MapFile{Data: placeholder, Mode: 0o644}
			}
			continue
		}
		for _, name := range []string{m.Up, m.Down} {
			if name == "" {
				continue
			}
			body, err := fs.ReadFile(r.fsys, name)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", name, err)
			}
			if name == m.Up {
				body, r.historyInFile[m.Version] = r.serveUp(m, body)
			}
			out[name] = &fstest.MapFile{Data: body, Mode: 0o644}
		}
	}
	return out, nil
}

// progressTables is how many of the progress, commits and sessions tables the dialect keeps.
func (r *Runner) progressTables() int {
	if r.d.recordsSessions() {
		return 3
	}
	return 2
}

// serveUp is m's up file body as golang-migrate runs it; marked says it carries the commit marker. A
// marked file carries its history row too, before the marker: the migration, its history and its marker
// commit together, and a plain migration costs golang-migrate's commits and no more. (The row's
// duration is written when the run ends.)
func (r *Runner) serveUp(m Migration, body []byte) (served []byte, marked bool) {
	h, lit := r.tbl(historyTable), r.literal
	tail := fmt.Sprintf("DELETE FROM %s WHERE version = %d;\nINSERT INTO %s (version, name, checksum, applied_at, duration_ms, applied_by, shipyard_version) VALUES (%d, %s, %s, %s, 0, %s, %s);\nINSERT INTO %s (version, run) VALUES (%d, %s);\n",
		h, m.Version, h, m.Version, lit(m.Name), lit(m.Checksum), r.d.utcNow(), lit(r.opts.AppliedBy), lit(r.opts.ToolVersion), r.tbl(commitTable), m.Version, lit(r.runID))
	return r.d.serveUp(body, tail, r.tbl(sessionsTable), r.runID)
}

// literal is s as an SQL string literal of the dialect.
func (r *Runner) literal(s string) string {
	if r.d.mysqlEscapes() {
		s = strings.ReplaceAll(s, `\`, `\\`)
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// engineURL is golang-migrate's URL with this run's tag and timeouts.
func (r *Runner) engineURL() string {
	return r.d.engineURL(r.target.MigrateURL, r.runID, r.opts.PGLockTimeout, r.opts.PGStatementTimeout)
}

func (r *Runner) ensureProgress(ctx context.Context) error {
	for _, ddl := range []string{
		`CREATE TABLE IF NOT EXISTS ` + r.tbl(progressTable) + ` (version BIGINT NOT NULL, direction VARCHAR(4) NOT NULL, run VARCHAR(64) NOT NULL, started_at TIMESTAMP NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS ` + r.tbl(commitTable) + ` (version BIGINT NOT NULL, run VARCHAR(64) NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS ` + r.tbl(sessionsTable) + ` (run VARCHAR(64) NOT NULL, conn BIGINT NOT NULL)`,
	}[:r.progressTables()] {
		if _, err := r.db.ExecContext(ctx, ddl); err != nil {
			return fmt.Errorf("creating shipyard's tables: %w", err)
		}
	}
	return nil
}

// tracked runs fn, the migrations of one run in direction dir, with the run recorded in the progress
// table, so that a later runner that finds the record knows this one was killed and ends its sessions.
// The record is written once for the run, and cleared with the durations of the steps in res when the
// run ends, whether it succeeded or failed. Call it after cleanVersion: recovery reads the record of
// the run before.
func (r *Runner) tracked(ctx context.Context, dir int, res *Result, fn func() error) error {
	err := r.bookkeep(ctx, "recording the start of the run", func(ctx context.Context, tx *sql.Tx) error {
		if err := r.clearProgress(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, r.query("INSERT INTO "+r.tbl(progressTable)+" (version, direction, run, started_at) VALUES (?, ?, ?, ?)"),
			int64(res.From), direction(dir), r.runID, time.Now().UTC().Truncate(time.Second))
		return err
	})
	if err != nil {
		return err
	}
	err = fn()
	// Also after a SIGTERM: the record of a run that ended is no killed run's.
	end := r.bookkeep(context.WithoutCancel(ctx), "recording the end of the run", func(ctx context.Context, tx *sql.Tx) error {
		for _, s := range res.Steps {
			if s.Direction != "up" || s.Phase != "" {
				continue // a live part records its own duration
			}
			if _, err := tx.ExecContext(ctx, r.query("UPDATE "+r.tbl(historyTable)+" SET duration_ms = ? WHERE version = ?"), s.Duration.Milliseconds(), int64(s.Version)); err != nil {
				return err
			}
		}
		return r.clearProgress(ctx, tx)
	})
	return errors.Join(err, end)
}

// bookkeep runs fn in a transaction of shipyard's own connection, with ctx.
func (r *Runner) bookkeep(ctx context.Context, what string, fn func(ctx context.Context, tx *sql.Tx) error) error {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback()
	if err := fn(ctx, tx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// clearProgress empties the progress tables.
func (r *Runner) clearProgress(ctx context.Context, q queryer) error {
	for _, table := range []string{progressTable, commitTable, sessionsTable}[:r.progressTables()] {
		if _, err := q.ExecContext(ctx, "DELETE FROM "+r.tbl(table)); err != nil {
			return fmt.Errorf("clearing %s: %w", table, err)
		}
	}
	return nil
}

// recoverKilled decides, with the lock held, what to do with a database dirty at version v. After a
// killed run whose file carried the commit marker: the marker there, the migration completed and counts
// as applied; not there, on a database that rolled the file back, it runs again. In every other case
// the DirtyError is returned, for a person to look.
func (r *Runner) recoverKilled(ctx context.Context, v uint64) error {
	dirty := r.dirty(v, nil)
	var dir, run string
	err := r.db.QueryRowContext(ctx, "SELECT direction, run FROM "+r.tbl(progressTable)+" LIMIT 1").Scan(&dir, &run)
	if errors.Is(err, sql.ErrNoRows) {
		return dirty // the run failed: its runner cleared the record
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", progressTable, err)
	}
	m, ok := r.source.Find(v)
	if dir != "up" || !ok || m.Live != nil {
		return dirty // a live part that is one transaction never leaves the version dirty
	}
	body, err := fs.ReadFile(r.fsys, m.Up)
	if err != nil {
		return fmt.Errorf("reading %s: %w", m.Up, err)
	}
	if _, marked := r.serveUp(m, body); !marked {
		return dirty // not one transaction: part of it may have stayed
	}
	var committed bool
	if err := r.db.QueryRowContext(ctx, r.query("SELECT COUNT(*) > 0 FROM "+r.tbl(commitTable)+" WHERE version = ? AND run = ?"), int64(v), run).Scan(&committed); err != nil {
		return fmt.Errorf("reading %s: %w", commitTable, err)
	}
	if !committed && !r.d.rollsBack() {
		dirty.Cause = fmt.Errorf("the runner applying it was killed part way through, and %s commits each statement: part of the file may have run", r.target.Dialect)
		return dirty
	}
	to, what := r.previous(v), "rolled back, so it runs again"
	if committed {
		to, what = v, "completed, so it counts as applied"
	}
	if err := r.setVersion(to); err != nil {
		return fmt.Errorf("setting version %d after a killed runner: %w", to, err)
	}
	// A marker that committed committed the history row before it.
	r.opts.Logger.Warn("the runner applying this migration was killed; it "+what, "file", m.Up)
	return r.clearProgress(ctx, r.db)
}

// endKilledRun ends the sessions of a run that left its progress record behind.
func (r *Runner) endKilledRun(ctx context.Context) error {
	var run string
	err := r.db.QueryRowContext(ctx, "SELECT run FROM "+r.tbl(progressTable)+" LIMIT 1").Scan(&run)
	if errors.Is(err, sql.ErrNoRows) || err == nil && run == r.runID {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", progressTable, err)
	}
	return r.d.endRun(ctx, r.db, r.tbl(sessionsTable), run)
}
