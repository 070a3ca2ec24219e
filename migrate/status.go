package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// version reads golang-migrate's version table with shipyard's own connection, without its lock, so that
// status answers while another runner migrates (0, false: nothing applied, or no table yet).
func (r *Runner) version(ctx context.Context) (uint64, bool, error) {
	exists, err := r.tableExists(ctx, r.table)
	if err != nil {
		return 0, false, fmt.Errorf("reading the version of %s: %w", r.target.Redacted(), err)
	}
	if !exists {
		return 0, false, nil
	}
	var v int64
	var dirty bool
	err = r.db.QueryRowContext(ctx, "SELECT version, dirty FROM "+r.tbl(r.table)+" LIMIT 1").Scan(&v, &dirty)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("reading the version of %s: %w", r.target.Redacted(), err)
	}
	if v < 0 { // golang-migrate's NilVersion, kept when dirty
		v = 0
	}
	return uint64(v), dirty, nil
}

// tableExists reports whether the database has the table, without touching it (a SQLite file that does
// not exist yet has none, and is not created).
func (r *Runner) tableExists(ctx context.Context, table string) (bool, error) {
	return r.d.tableExists(ctx, r.db, r.schemaName, r.tbl(table), table)
}

// Status is where the database stands against the migrations.
type Status struct {
	Version uint64 `json:"version"`
	Dirty   bool   `json:"dirty"`
	// Running says another runner holds the lock: a dirty flag then marks the migration in progress, which
	// golang-migrate sets before it starts one, not a failure.
	Running bool        `json:"running"`
	Applied []Migration `json:"applied"`
	// Failed is the migration a dirty version names when no runner is running it: it failed part way,
	// and is neither applied nor pending until someone forces the version.
	Failed  []Migration `json:"failed"`
	Pending []Migration `json:"pending"`
	// Findings are what Verify reports: applied files edited or deleted, files out of order.
	Findings []Finding `json:"findings"`
	// Live is the state of the live migration at the current version, when it is one.
	Live *LiveState `json:"live,omitempty"`
}

// Status reads the version and splits the migrations into applied and pending.
func (r *Runner) Status(ctx context.Context) (*Status, error) {
	v, dirty, err := r.version(ctx)
	if err != nil {
		return nil, err
	}
	s := &Status{Version: v, Dirty: dirty, Applied: []Migration{}, Failed: []Migration{}, Pending: []Migration{}}
	if dirty {
		free, err := r.lock.tryLock(ctx)
		if err != nil {
			return nil, fmt.Errorf("checking the migration lock: %w", err)
		}
		if free {
			if err := r.lock.unlock(ctx); err != nil {
				return nil, err
			}
		}
		s.Running = !free
	}
	if s.Findings, err = r.Verify(ctx); err != nil {
		return nil, err
	}
	if _, s.Live, err = r.currentLive(ctx, v); err != nil {
		return nil, err
	}
	for _, m := range r.source.Migrations {
		switch {
		case m.Version < v || m.Version == v && !dirty:
			s.Applied = append(s.Applied, m)
		case m.Version == v && !s.Running:
			s.Failed = append(s.Failed, m)
		default:
			s.Pending = append(s.Pending, m)
		}
	}
	return s, nil
}
