package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/user"
	"time"
)

// historyTable records, beside golang-migrate's version table, which files were applied, with their
// checksums: what verify compares with the directory.
const historyTable = "shipyard_migration_history"

// Applied is one row of the history: a migration as it was when it was applied.
type Applied struct {
	Version   uint64        `json:"version"`
	Name      string        `json:"name"`
	Checksum  string        `json:"checksum"`
	AppliedAt time.Time     `json:"applied_at"`
	Duration  time.Duration `json:"duration_ns"`
	AppliedBy string        `json:"applied_by"`
	Tool      string        `json:"shipyard_version"`
}

// query writes ? placeholders as the dialect wants them.
func (r *Runner) query(q string) string { return r.d.placeholders(q) }

func (r *Runner) ensureHistory(ctx context.Context) error {
	_, err := r.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+r.tbl(historyTable)+` (
	version BIGINT NOT NULL PRIMARY KEY,
	name VARCHAR(255) NOT NULL,
	checksum CHAR(64) NOT NULL,
	applied_at TIMESTAMP NOT NULL,
	duration_ms BIGINT NOT NULL,
	applied_by VARCHAR(255) NOT NULL,
	shipyard_version VARCHAR(64) NOT NULL
)`)
	if err != nil {
		return fmt.Errorf("creating %s: %w", historyTable, err)
	}
	return nil
}

// record writes the history of a step: a row for a migration applied, none for one reverted.
func (r *Runner) record(ctx context.Context, m Migration, s Step) error {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recording %d_%s: %w", m.Version, m.Name, err)
	}
	defer tx.Rollback()
	if err := r.recordTx(ctx, tx, m, s); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("recording %d_%s: %w", m.Version, m.Name, err)
	}
	return nil
}

// recordTx is record inside the transaction q.
func (r *Runner) recordTx(ctx context.Context, q queryer, m Migration, s Step) error {
	if _, err := q.ExecContext(ctx, r.query("DELETE FROM "+r.tbl(historyTable)+" WHERE version = ?"), int64(m.Version)); err != nil {
		return fmt.Errorf("recording %d_%s: %w", m.Version, m.Name, err)
	}
	if s.Direction == "up" {
		_, err := q.ExecContext(ctx, r.query("INSERT INTO "+r.tbl(historyTable)+" (version, name, checksum, applied_at, duration_ms, applied_by, shipyard_version) VALUES (?, ?, ?, ?, ?, ?, ?)"),
			int64(m.Version), m.Name, m.Checksum, time.Now().UTC().Truncate(time.Second), s.Duration.Milliseconds(), r.opts.AppliedBy, r.opts.ToolVersion)
		if err != nil {
			return fmt.Errorf("recording %d_%s: %w", m.Version, m.Name, err)
		}
	}
	return nil
}

// History reads the recorded migrations, oldest version first (none before shipyard first migrated). It
// only reads, so that status and verify work for a read-only database user.
func (r *Runner) History(ctx context.Context) ([]Applied, error) {
	exists, err := r.tableExists(ctx, historyTable)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", historyTable, err)
	}
	if !exists {
		return nil, nil
	}
	rows, err := r.db.QueryContext(ctx, "SELECT version, name, checksum, applied_at, duration_ms, applied_by, shipyard_version FROM "+r.tbl(historyTable)+" ORDER BY version")
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", historyTable, err)
	}
	defer rows.Close()
	var out []Applied
	for rows.Next() {
		var a Applied
		var v, ms int64
		var at sql.NullTime
		if err := rows.Scan(&v, &a.Name, &a.Checksum, &at, &ms, &a.AppliedBy, &a.Tool); err != nil {
			return nil, fmt.Errorf("reading %s: %w", historyTable, err)
		}
		a.Version, a.Duration, a.AppliedAt = uint64(v), time.Duration(ms)*time.Millisecond, at.Time
		out = append(out, a)
	}
	return out, rows.Err()
}

// DefaultAppliedBy names who runs this process, user@host (in Kubernetes the host is the pod): the
// default applied_by of the history, and the created_by of a release.
func DefaultAppliedBy() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}
