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
// golang-migrate with one more statement at its end, an INSERT of a commit marker, which runs only when
// everything before it did and, where the file is one transaction (PostgreSQL's implicit transaction,
// golang-migrate's around a SQLite file), commits with it: the marker exists exactly when the migration
// completed. The next runner ends the dead run's sessions (PostgreSQL: by their application_name;
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
				body, _ = r.serveUp(m, body)
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

// serveUp is m's up file body as golang-migrate runs it; marked says it carries the commit marker.
func (r *Runner) serveUp(m Migration, body []byte) (served []byte, marked bool) {
	marker := fmt.Sprintf("INSERT INTO %s (version, run) VALUES (%d, '%s');\n", r.tbl(commitTable), m.Version, r.runID)
	return r.d.serveUp(body, marker, r.tbl(sessionsTable), r.runID)
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

// markProgress records the migration about to run; clearProgress removes the record when it ended,
// whether it succeeded or failed. Only a killed runner leaves one behind.
func (r *Runner) markProgress(ctx context.Context, m Migration, dir int) error {
	if err := r.clearProgress(ctx); err != nil {
		return err
	}
	_, err := r.db.ExecContext(ctx, r.query("INSERT INTO "+r.tbl(progressTable)+" (version, direction, run, started_at) VALUES (?, ?, ?, ?)"),
		int64(m.Version), direction(dir), r.runID, time.Now().UTC().Truncate(time.Second))
	if err != nil {
		return fmt.Errorf("recording the start of %d_%s: %w", m.Version, m.Name, err)
	}
	return nil
}

func (r *Runner) clearProgress(ctx context.Context) error {
	for _, table := range []string{progressTable, commitTable, sessionsTable}[:r.progressTables()] {
		if _, err := r.db.ExecContext(ctx, "DELETE FROM "+r.tbl(table)); err != nil {
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
	var mv int64
	var dir, run string
	err := r.db.QueryRowContext(ctx, "SELECT version, direction, run FROM "+r.tbl(progressTable)+" LIMIT 1").Scan(&mv, &dir, &run)
	if errors.Is(err, sql.ErrNoRows) {
		return dirty // the migration failed: its runner cleared the record
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", progressTable, err)
	}
	m, ok := r.source.Find(v)
	if uint64(mv) != v || dir != "up" || !ok || m.Live != nil {
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
	if err := r.db.QueryRowContext(ctx, r.query("SELECT COUNT(*) > 0 FROM "+r.tbl(commitTable)+" WHERE version = ? AND run = ?"), mv, run).Scan(&committed); err != nil {
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
	if committed {
		if err := r.record(ctx, m, Step{Version: m.Version, Name: m.Name, Direction: "up"}); err != nil {
			return err
		}
	}
	r.opts.Logger.Warn("the runner applying this migration was killed; it "+what, "file", m.Up)
	return r.clearProgress(ctx)
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
