package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// phaseTable records, per live migration, the phase it reached and the backfill's checkpoint: what a
// later run (the post-deploy job, a resumed backfill) continues from.
const phaseTable = "shipyard_migration_phases"

// LiveState is where a live migration stands in the database.
type LiveState struct {
	Version  uint64         `json:"version"`
	Name     string         `json:"name"`
	Phase    Phase          `json:"phase"`
	Backfill *BackfillState `json:"backfill,omitempty"`
}

// BackfillState is the backfill's checkpoint, written in the transaction of each batch.
type BackfillState struct {
	// Last is the key of the last row done (as text); "" before the first batch.
	Last string `json:"last_key,omitempty"`
	// Upper is the largest key when the backfill started: rows written later went through expand's
	// triggers, so the backfill ends there however busy the table is.
	Upper   string `json:"upper_key,omitempty"`
	Rows    int64  `json:"rows"`
	Total   int64  `json:"total"`
	Batches int64  `json:"batches"`
	// Runs counts the runs that worked on the backfill: above 1, it was resumed.
	Runs      int       `json:"runs"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Started says a backfill run began: its upper bound and total are fixed.
func (b *BackfillState) Started() bool { return b != nil && b.Runs > 0 }

// Percent is how much of the backfill is done, 0 to 100.
func (b *BackfillState) Percent() int {
	if b == nil || b.Total == 0 {
		return 0
	}
	return int(min(100, b.Rows*100/b.Total))
}

// Summary says in a few words where the migration stands: "expanded, backfill 63%, awaiting contract".
func (s *LiveState) Summary() string {
	switch s.Phase {
	case PhaseExpand:
		if s.Backfill.Started() {
			return fmt.Sprintf("expanded, backfill %d%%, awaiting contract", s.Backfill.Percent())
		}
		return "expanded, awaiting backfill and contract"
	case PhaseBackfill:
		return "expanded and backfilled, awaiting contract"
	case PhaseContract:
		return "complete"
	}
	return string(s.Phase)
}

func (r *Runner) ensurePhases(ctx context.Context) error {
	_, err := r.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+r.tbl(phaseTable)+` (
	version BIGINT NOT NULL PRIMARY KEY,
	name VARCHAR(255) NOT NULL,
	phase VARCHAR(16) NOT NULL,
	backfill_last VARCHAR(255) NULL,
	backfill_upper VARCHAR(255) NULL,
	backfill_rows BIGINT NOT NULL,
	backfill_total BIGINT NOT NULL,
	backfill_batches BIGINT NOT NULL,
	backfill_runs INT NOT NULL,
	updated_at TIMESTAMP NOT NULL
)`)
	if err != nil {
		return fmt.Errorf("creating %s: %w", phaseTable, err)
	}
	return nil
}

// queryer is a connection or a transaction.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// liveState reads the state of live migration v; nil when it has none (never expanded, or rolled back).
func (r *Runner) liveState(ctx context.Context, q queryer, v uint64) (*LiveState, error) {
	exists, err := r.tableExists(ctx, phaseTable)
	if err != nil || !exists {
		return nil, err
	}
	s := &LiveState{Version: v, Backfill: &BackfillState{}}
	var last, upper sql.NullString
	var at sql.NullTime
	err = q.QueryRowContext(ctx, r.query("SELECT name, phase, backfill_last, backfill_upper, backfill_rows, backfill_total, backfill_batches, backfill_runs, updated_at FROM "+r.tbl(phaseTable)+" WHERE version = ?"), int64(v)).
		Scan(&s.Name, &s.Phase, &last, &upper, &s.Backfill.Rows, &s.Backfill.Total, &s.Backfill.Batches, &s.Backfill.Runs, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", phaseTable, err)
	}
	s.Backfill.Last, s.Backfill.Upper, s.Backfill.UpdatedAt = last.String, upper.String, at.Time
	return s, nil
}

// setPhase records that live migration m reached phase p, keeping the backfill's checkpoint.
func (r *Runner) setPhase(ctx context.Context, q queryer, m Migration, p Phase) error {
	now := time.Now().UTC().Truncate(time.Second)
	res, err := q.ExecContext(ctx, r.query("UPDATE "+r.tbl(phaseTable)+" SET phase = ?, updated_at = ? WHERE version = ?"), string(p), now, int64(m.Version))
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			_, err = q.ExecContext(ctx, r.query("INSERT INTO "+r.tbl(phaseTable)+" (version, name, phase, backfill_rows, backfill_total, backfill_batches, backfill_runs, updated_at) VALUES (?, ?, ?, 0, 0, 0, 0, ?)"),
				int64(m.Version), m.Name, string(p), now)
		}
	}
	if err != nil {
		return fmt.Errorf("recording phase %s of %d_%s: %w", p, m.Version, m.Name, err)
	}
	return nil
}

// clearPhase forgets live migration v: it was rolled back.
func (r *Runner) clearPhase(ctx context.Context, q queryer, v uint64) error {
	if _, err := q.ExecContext(ctx, r.query("DELETE FROM "+r.tbl(phaseTable)+" WHERE version = ?"), int64(v)); err != nil {
		return fmt.Errorf("clearing the phase of %d: %w", v, err)
	}
	return nil
}

// writeVersion sets golang-migrate's version table the way its drivers do (one row; none for version 0
// when clean), inside the transaction of the part that changed it.
func (r *Runner) writeVersion(ctx context.Context, q queryer, v uint64, dirty bool) error {
	if _, err := q.ExecContext(ctx, "DELETE FROM "+r.tbl(r.table)); err != nil {
		return fmt.Errorf("setting version %d: %w", v, err)
	}
	if v == 0 && !dirty {
		return nil
	}
	version := int64(v)
	if v == 0 {
		version = -1 // golang-migrate's NilVersion
	}
	if _, err := q.ExecContext(ctx, r.query("INSERT INTO "+r.tbl(r.table)+" (version, dirty) VALUES (?, ?)"), version, dirty); err != nil {
		return fmt.Errorf("setting version %d: %w", v, err)
	}
	return nil
}
