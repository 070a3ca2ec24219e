package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Running the parts of a live migration.
//
// shipyard runs these files itself, statement by statement, instead of handing them to golang-migrate:
// an expand part builds indexes CONCURRENTLY, which PostgreSQL refuses inside the implicit transaction
// of a multi-statement file, and each statement must get the short lock_timeout and its retries. The
// statements between two CONCURRENTLY ones run in one transaction; a part that is one transaction
// (the common case) commits together with its version and phase, so a killed run leaves nothing half
// done. A part of several transactions marks the version dirty while it runs, like golang-migrate.

// PartError is a statement of a live migration part that failed in a transaction that rolled back:
// nothing was changed. (A part of several transactions that fails part way is a DirtyError.)
type PartError struct {
	File      string
	Line      int
	Statement string
	Cause     error
}

func (e *PartError) Error() string {
	return fmt.Sprintf("%s:%d failed, nothing was changed: %s\n  in: %s", e.File, e.Line, cut(e.Cause.Error(), 1000), excerpt(e.Statement, 3, "\n      "))
}

func (e *PartError) Unwrap() error { return e.Cause }

// group is statements that run in one transaction, or one statement that cannot run in any.
type group struct {
	statements []Statement
	tx         bool
}

// groups cuts a part into its transactions.
func (r *Runner) groups(body string) []group {
	var out []group
	for _, st := range SplitSQL(body, r.d.mysqlEscapes()) {
		alone := r.d.runsAlone(st)
		if alone || len(out) == 0 || !out[len(out)-1].tx {
			out = append(out, group{tx: !alone})
		}
		out[len(out)-1].statements = append(out[len(out)-1].statements, st)
	}
	return out
}

// runPart runs file, a part of live migration m. finish records the outcome (version, phase, history) in
// the transaction of the last statements, or in its own transaction after a part of several, during
// which the version is dirty at m's.
func (r *Runner) runPart(ctx context.Context, m Migration, file string, finish func(tx *sql.Tx) error) error {
	body, err := r.partSQL(m, file)
	if err != nil {
		return err
	}
	groups := r.groups(body)
	if len(groups) <= 1 && (len(groups) == 0 || groups[0].tx) {
		var sts []Statement
		if len(groups) == 1 {
			sts = groups[0].statements
		}
		return r.inTx(ctx, file, sts, finish)
	}
	if err := r.writeVersion(ctx, r.db, m.Version, true); err != nil {
		return err
	}
	for _, g := range groups {
		if g.tx {
			err = r.inTx(ctx, file, g.statements, nil)
		} else {
			err = r.alone(ctx, file, g.statements[0])
		}
		if err != nil {
			var pe *PartError
			if errors.As(err, &pe) {
				return &DirtyError{Version: m.Version, Previous: r.previous(m.Version), File: file, Statement: pe.Statement, Cause: pe.Cause}
			}
			return err
		}
	}
	return r.inTx(ctx, file, nil, finish)
}

// partSQL reads a part of m.
func (r *Runner) partSQL(m Migration, file string) (string, error) { return r.source.Read(m, file) }

// inTx runs statements and then finish in one transaction, with the PostgreSQL timeouts, again after a
// pause when a lock wait timed out.
func (r *Runner) inTx(ctx context.Context, file string, sts []Statement, finish func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		st, err := r.tryTx(ctx, sts, finish)
		if err == nil {
			return nil
		}
		if st.SQL == "" || !r.d.lockTimedOut(err) {
			if st.SQL == "" {
				return err
			}
			return &PartError{File: file, Line: st.Line, Statement: st.SQL, Cause: err}
		}
		if attempt > r.opts.LockRetries {
			return &LockWaitError{File: file, Attempts: attempt, LockTimeout: r.liveOptions(nil).LockTimeout, Cause: err}
		}
		wait := backoff(r.opts.LockBackoff, attempt)
		r.opts.Logger.Warn("lock_timeout hit: rolled back, running it again", "file", file, "line", st.Line,
			"try", fmt.Sprintf("%d/%d", attempt, r.opts.LockRetries+1), "in", wait.Round(time.Millisecond))
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("stopped while waiting to run %s again: %w", file, err)
		}
	}
}

// tryTx is one try of inTx; st is the statement that failed, empty when finish did.
func (r *Runner) tryTx(ctx context.Context, sts []Statement, finish func(tx *sql.Tx) error) (st Statement, err error) {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return Statement{}, fmt.Errorf("starting a transaction: %w", err)
	}
	defer tx.Rollback()
	for _, set := range r.sessionSettings(true) {
		if _, err := tx.ExecContext(ctx, set); err != nil {
			return Statement{}, fmt.Errorf("setting the timeouts: %w", err)
		}
	}
	for _, st := range sts {
		if _, err := tx.ExecContext(ctx, st.SQL); err != nil {
			return st, err
		}
	}
	if finish != nil {
		if err := finish(tx); err != nil {
			return Statement{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return Statement{}, fmt.Errorf("committing: %w", err)
	}
	return Statement{}, nil
}

// alone runs a statement that no transaction may hold (CREATE INDEX CONCURRENTLY) on a connection of its
// own, with the timeouts set for the session and reset after.
func (r *Runner) alone(ctx context.Context, file string, st Statement) error {
	conn, err := r.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close()
	for _, set := range r.sessionSettings(false) {
		if _, err := conn.ExecContext(ctx, set); err != nil {
			return fmt.Errorf("setting the timeouts: %w", err)
		}
	}
	_, err = conn.ExecContext(ctx, st.SQL)
	if reset := r.d.resetSession(); reset != "" {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), reset)
	}
	if err != nil {
		return &PartError{File: file, Line: st.Line, Statement: st.SQL, Cause: err}
	}
	return nil
}

// sessionSettings are the timeouts of a part's statements, for a transaction (local) or a session: the
// short lock timeout of live migrations, so that an ALTER TABLE waiting for a busy table holds the
// service's queries up for no longer than that.
func (r *Runner) sessionSettings(local bool) []string {
	return r.d.sessionSettings(r.liveOptions(nil).LockTimeout, r.opts.PGStatementTimeout, local)
}

// sleep waits d, or less when ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
