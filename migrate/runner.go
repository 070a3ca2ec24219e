package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	gomigrate "github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/mysql"  // mysql://
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5" // pgx5://
	_ "github.com/golang-migrate/migrate/v4/database/sqlite" // sqlite://, pure Go
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/shipyardci/shipyard/internal/usererr"
)

// Runner migrates one database from one source of migrations.
type Runner struct {
	target *Target
	d      dialect
	source *Source
	fsys   fs.FS
	db     *sql.DB // shipyard's own connection: the lock and reading the version
	table  string  // golang-migrate's version table
	// schema qualifies shipyard's tables (`"public".`), whatever search_path a migration sets;
	// schemaName is the schema (or MySQL database) itself.
	schema, schemaName string
	lock               locker
	opts               Options
	runID              string // tags this run's sessions and commit markers
	// historyInFile is the versions whose up file, as golang-migrate runs it, writes its history row.
	historyInFile map[uint64]bool
	// m is golang-migrate, created once the lock is held: its drivers take a blocking lock of their own
	// as they connect, which would make a waiting runner ignore its lock timeout.
	m *gomigrate.Migrate
}

// Open connects to databaseURL with the migrations of fsys (os.DirFS of the migrations directory, or an
// embed.FS sub-tree). Close it when done.
func Open(ctx context.Context, databaseURL string, fsys fs.FS, opts ...Option) (*Runner, error) {
	o := Options{LockTimeout: 5 * time.Minute, Logger: slog.New(slog.DiscardHandler), Dir: ".", AppliedBy: DefaultAppliedBy(), ToolVersion: "dev",
		PGLockTimeout: DefaultPGLockTimeout, LockRetries: 5, LockBackoff: time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	t, err := ParseURL(databaseURL, o.Dir)
	if err != nil {
		return nil, err
	}
	src, err := ReadSource(fsys)
	if err != nil {
		return nil, err
	}
	if err := src.Generate(t.Dialect); err != nil {
		if databaseURL == DefaultURL { // nothing configured: say why SQLite
			return nil, &usererr.Error{Option: "migrate.Database", Err: fmt.Errorf("%w (with no database URL given, the embedded default %s is used: give the PostgreSQL or MySQL database the migrations are for)", err, DefaultURL)}
		}
		return nil, err
	}
	runID := newRunID()
	d := dialectOf(t.Dialect, t)
	// The parts of live migrations run on these sessions: they are tagged like golang-migrate's.
	db, err := sql.Open(t.SQLDriver, d.ownDSN(t.DSN, runID))
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", t.Redacted(), err)
	}
	lock, err := d.newLocker(ctx, db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to %s: %w", t.Redacted(), err)
	}
	qualifier, schema, err := d.schema(ctx, db)
	if err != nil {
		db.Close()
		lock.close()
		return nil, fmt.Errorf("connecting to %s: %w", t.Redacted(), err)
	}
	return &Runner{target: t, d: d, source: src, fsys: fsys, db: db, table: t.table(), lock: lock, opts: o, runID: runID, schema: qualifier, schemaName: schema}, nil
}

// engine is golang-migrate, connected on first use; call it with the lock held.
func (r *Runner) engine() (*gomigrate.Migrate, error) {
	if r.m != nil {
		return r.m, nil
	}
	src, err := r.engineSource()
	if err != nil {
		return nil, err
	}
	driver, err := iofs.New(src, ".")
	if err != nil {
		return nil, fmt.Errorf("reading the migrations: %w", err)
	}
	m, err := gomigrate.NewWithSourceInstance("iofs", driver, r.engineURL())
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %s", r.target.Redacted(), strings.NewReplacer(r.engineURL(), r.target.Redacted(), r.target.MigrateURL, r.target.Redacted()).Replace(err.Error()))
	}
	r.m = m
	return m, nil
}

// Close releases the connections.
func (r *Runner) Close() error {
	var errs []error
	if r.m != nil {
		srcErr, dbErr := r.m.Close()
		errs = append(errs, srcErr, dbErr)
	}
	return errors.Join(append(errs, r.lock.close(), r.db.Close())...)
}

// Target is the database the runner migrates.
func (r *Runner) Target() *Target { return r.target }

// Source is the migrations the runner applies.
func (r *Runner) Source() *Source { return r.source }

// Step is one migration that ran.
type Step struct {
	Version   uint64 `json:"version"`
	Name      string `json:"name"`
	Direction string `json:"direction"` // up or down
	// Phase is the part of a live migration that ran; "" for a single-phase migration.
	Phase    Phase         `json:"phase,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// Result is what a run did. No steps means there was nothing to do, which is success.
type Result struct {
	From uint64 `json:"from"`
	// To is the version the database is at after the run, also when it failed or was stopped; Dirty
	// says a failed migration left it dirty there.
	To    uint64 `json:"to"`
	Dirty bool   `json:"dirty,omitempty"`
	Steps []Step `json:"steps"`
	// Backfill is what the backfill of a live migration did in this run.
	Backfill *BackfillResult `json:"backfill,omitempty"`
	// Live is the live migration in progress after the run (expanded, not yet contracted).
	Live *LiveState `json:"live,omitempty"`
}

// previous is the version before v in the source, 0 when v is the first.
func (r *Runner) previous(v uint64) uint64 {
	prev := uint64(0)
	for _, m := range r.source.Migrations {
		if m.Version >= v {
			break
		}
		prev = m.Version
	}
	return prev
}

// locked runs fn while holding the migration lock. What the database needs before the lock is made here
// (a SQLite file's directory): what only reads (status, plan, verify) leaves nothing behind.
func (r *Runner) locked(ctx context.Context, fn func() error) error {
	if err := r.d.prepare(); err != nil {
		return err
	}
	err := acquire(ctx, r.lock, r.opts.LockTimeout, func(lock string) {
		r.opts.Logger.Info("waiting for another migration runner", "lock", lock, "timeout", r.opts.LockTimeout)
	})
	if err != nil {
		return err
	}
	defer r.lock.unlock(context.WithoutCancel(ctx)) // released even when ctx was cancelled (SIGTERM)
	if err := r.ensureHistory(ctx); err != nil {
		return err
	}
	if err := r.ensureProgress(ctx); err != nil {
		return err
	}
	if err := r.ensurePhases(ctx); err != nil {
		return err
	}
	// A killed run's sessions still hold golang-migrate's own lock: end them before it connects.
	if err := r.endKilledRun(ctx); err != nil {
		return err
	}
	if _, err := r.engine(); err != nil {
		return err
	}
	return fn()
}

// Up applies the pending migrations, all of them when n is 0, at most n otherwise. Live migrations go
// through all their phases: first the one in progress, if any.
func (r *Runner) Up(ctx context.Context, n int) (*Result, error) {
	return r.run(ctx, r.pending(n), +1, allPhases)
}

// pending plans the migrations after current, at most n of them (all for 0).
func (r *Runner) pending(n int) func(current uint64) []Migration {
	return func(current uint64) []Migration {
		var todo []Migration
		for _, m := range r.source.Migrations {
			if m.Version > current && (n == 0 || len(todo) < n) {
				todo = append(todo, m)
			}
		}
		return todo
	}
}

// runMode says how far up takes a live migration.
type runMode int

const (
	allPhases  runMode = iota
	expandOnly         // the expand part, then stop
)

// Down reverts applied migrations, n of them (all when n is 0).
func (r *Runner) Down(ctx context.Context, n int) (*Result, error) {
	return r.run(ctx, func(current uint64) []Migration {
		var todo []Migration
		for i := len(r.source.Migrations) - 1; i >= 0; i-- {
			m := r.source.Migrations[i]
			if m.Version <= current && (n == 0 || len(todo) < n) {
				todo = append(todo, m)
			}
		}
		return todo
	}, -1, allPhases)
}

// Goto migrates up or down to version v.
func (r *Runner) Goto(ctx context.Context, v uint64) (*Result, error) {
	if _, ok := r.source.Find(v); !ok && v != 0 {
		return nil, &VersionError{Version: v}
	}
	current, _, err := r.version(ctx)
	if err != nil {
		return nil, err
	}
	if v >= current {
		return r.run(ctx, func(current uint64) []Migration {
			var todo []Migration
			for _, m := range r.source.Migrations {
				if m.Version > current && m.Version <= v {
					todo = append(todo, m)
				}
			}
			return todo
		}, +1, allPhases)
	}
	return r.run(ctx, func(current uint64) []Migration {
		var todo []Migration
		for i := len(r.source.Migrations) - 1; i >= 0; i-- {
			if m := r.source.Migrations[i]; m.Version <= current && m.Version > v {
				todo = append(todo, m)
			}
		}
		return todo
	}, -1, allPhases)
}

// run takes the lock, reads the version, and steps through the migrations plan picks, one at a time so
// that each is timed and a cancelled context stops between two migrations. However the run ends (a
// failure, SIGTERM), the result's To is the version the database is at.
func (r *Runner) run(ctx context.Context, plan func(current uint64) []Migration, dir int, mode runMode) (res *Result, err error) {
	defer func() {
		if err != nil && res != nil {
			if v, dirty, verr := r.version(context.WithoutCancel(ctx)); verr == nil {
				res.To, res.Dirty = v, dirty
			}
		}
	}()
	err = r.locked(ctx, func() error {
		current, err := r.cleanVersion(ctx)
		if err != nil {
			return err
		}
		res = &Result{From: current, To: current, Steps: []Step{}}
		return r.tracked(ctx, dir, res, func() error { return r.steps(ctx, plan(current), dir, mode, res) })
	})
	return res, err
}

// steps runs the migrations of a run that began at res.From, adding each to res.
func (r *Runner) steps(ctx context.Context, plan []Migration, dir int, mode runMode, res *Result) error {
	if dir > 0 { // the live migration in progress comes first
		m, st, err := r.currentLive(ctx, res.From)
		if err != nil {
			return err
		}
		if st != nil {
			if stop, err := r.liveUp(ctx, m, st, mode, res); err != nil || stop {
				return errors.Join(err, r.finishResult(ctx, res))
			}
		}
	}
	for _, m := range plan {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped before %s: %w", m.Up, err)
		}
		if m.Live != nil {
			var stop bool
			var err error
			if dir > 0 {
				stop, err = r.liveUp(ctx, m, nil, mode, res)
			} else {
				err = r.liveDown(ctx, m, res)
			}
			if err != nil || stop {
				return errors.Join(err, r.finishResult(ctx, res))
			}
			if res.To, _, err = r.version(ctx); err != nil {
				return err
			}
			continue
		}
		if dir < 0 && m.Down == "" {
			return fmt.Errorf("migration %d_%s has no down file: it cannot be reverted", m.Version, m.Name)
		}
		name := m.Up
		if dir < 0 {
			name = m.Down
		}
		r.opts.Logger.Debug("migrating", "file", name) // with --verbose: stdout says what ran
		start := time.Now()
		if err := r.step(ctx, m, dir, res.To, name); err != nil {
			return err
		}
		step := Step{Version: m.Version, Name: m.Name, Direction: direction(dir), Duration: time.Since(start)}
		res.Steps = append(res.Steps, step)
		res.To = m.Version
		if dir < 0 {
			res.To = r.previous(m.Version)
		}
		if dir > 0 && r.historyInFile[m.Version] {
			continue // the file wrote its history row
		}
		if err := r.record(context.WithoutCancel(ctx), m, step); err != nil {
			return err
		}
	}
	return r.finishResult(ctx, res)
}

func direction(dir int) string {
	if dir < 0 {
		return "down"
	}
	return "up"
}

// Force sets the version without running anything, and clears the dirty flag: the way out of a dirty
// state once the database was checked by hand. Version 0 means no migration applied.
func (r *Runner) Force(ctx context.Context, v uint64) error {
	if _, ok := r.source.Find(v); !ok && v != 0 {
		return &VersionError{Version: v}
	}
	return r.locked(ctx, func() error {
		if err := r.setVersion(v); err != nil {
			return fmt.Errorf("forcing version %d: %w", v, err)
		}
		return nil
	})
}
