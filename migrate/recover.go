package migrate

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"regexp"
	"strings"
	"testing/fstest"
	"time"
)

// Recovering from a killed runner (SIGKILL, OOM, node loss) on PostgreSQL.
//
// golang-migrate marks the version dirty, runs the file, then marks it clean. A runner killed in between
// leaves it dirty, and PostgreSQL does not notice a vanished client during a query: the orphaned session
// may still finish the file and commit it. So shipyard serves each up file to golang-migrate with one more
// statement, an INSERT of a commit marker, which lands in the file's implicit transaction: the marker
// exists exactly when the migration committed. The next runner ends the dead run's sessions (found by
// their application_name) and reads the marker: committed, the version is set clean; not, it is set back
// and the migration runs again. Files with explicit transaction control or CONCURRENTLY are not one
// transaction and always need a person.

const (
	progressTable = "shipyard_migration_progress" // the migration running now, and which run
	commitTable   = "shipyard_migration_commits"  // written in the migration's own transaction
	// commitMarker begins the statement added to an up file: a failed file's statement is cut there.
	commitMarker = "\n;\nINSERT INTO "
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

// engineSource is what golang-migrate reads: the migration files, with the commit marker added to each up
// file that PostgreSQL can run as one transaction. A live migration is there as a placeholder pair of
// files: golang-migrate must know its version to step around it, but shipyard runs its parts.
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
			if name == m.Up && r.target.Dialect == Postgres && oneTransaction(body) {
				body = append(body, fmt.Sprintf("%s%s (version, run) VALUES (%d, '%s');\n", commitMarker, r.tbl(commitTable), m.Version, r.runID)...)
			}
			out[name] = &fstest.MapFile{Data: body, Mode: 0o644}
		}
	}
	return out, nil
}

// engineURL tags golang-migrate's PostgreSQL sessions with this run's application_name, and sets their
// timeouts.
func (r *Runner) engineURL() string {
	if r.target.Dialect != Postgres {
		return r.target.MigrateURL
	}
	u, err := url.Parse(r.target.MigrateURL)
	if err != nil {
		return r.target.MigrateURL
	}
	q := u.Query()
	for k, v := range r.runtimeParams() {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func (r *Runner) ensureProgress(ctx context.Context) error {
	for _, ddl := range []string{
		`CREATE TABLE IF NOT EXISTS ` + r.tbl(progressTable) + ` (version BIGINT NOT NULL, direction VARCHAR(4) NOT NULL, run VARCHAR(64) NOT NULL, started_at TIMESTAMP NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS ` + r.tbl(commitTable) + ` (version BIGINT NOT NULL, run VARCHAR(64) NOT NULL)`,
	} {
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
	for _, table := range []string{progressTable, commitTable} {
		if _, err := r.db.ExecContext(ctx, "DELETE FROM "+r.tbl(table)); err != nil {
			return fmt.Errorf("clearing %s: %w", table, err)
		}
	}
	return nil
}

// recoverKilled decides, with the lock held, what to do with a database dirty at version v: after a
// killed run on PostgreSQL, set the version to what the commit marker says and carry on; in every other
// case return the DirtyError, for a person to look.
func (r *Runner) recoverKilled(ctx context.Context, v uint64) error {
	dirty := r.dirty(v, nil)
	if r.target.Dialect != Postgres {
		return dirty
	}
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
	if !oneTransaction(body) {
		return dirty // not one transaction: part of it may have stayed
	}
	var committed bool
	if err := r.db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM "+r.tbl(commitTable)+" WHERE version = $1 AND run = $2)", mv, run).Scan(&committed); err != nil {
		return fmt.Errorf("reading %s: %w", commitTable, err)
	}
	to, what := r.previous(v), "rolled back, so it runs again"
	if committed {
		to, what = v, "committed, so it counts as applied"
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

// endKilledRun ends the sessions of a run that left its progress record behind (PostgreSQL only).
func (r *Runner) endKilledRun(ctx context.Context) error {
	if r.target.Dialect != Postgres {
		return nil
	}
	var run string
	err := r.db.QueryRowContext(ctx, "SELECT run FROM "+r.tbl(progressTable)+" LIMIT 1").Scan(&run)
	if errors.Is(err, sql.ErrNoRows) || err == nil && run == r.runID {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", progressTable, err)
	}
	return r.endSessions(ctx, run)
}

// endSessions terminates the sessions a dead run left on the server and waits until they are gone: their
// transactions then either committed or rolled back, for good.
func (r *Runner) endSessions(ctx context.Context, run string) error {
	name := applicationName(run)
	if _, err := r.db.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", name); err != nil {
		return fmt.Errorf("ending the sessions of the killed runner: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var left int
		if err := r.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1", name).Scan(&left); err != nil {
			return fmt.Errorf("waiting for the sessions of the killed runner: %w", err)
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the %d sessions of the killed runner (%s) do not end", left, strings.TrimSpace(name))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
