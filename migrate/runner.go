package migrate

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	gomigrate "github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/database"
	_ "github.com/golang-migrate/migrate/v4/database/mysql"  // mysql://
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5" // pgx5://
	_ "github.com/golang-migrate/migrate/v4/database/sqlite" // sqlite://, pure Go
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/shipyardci/shipyard/internal/usererr"
)

// Options configures a Runner. Set them with the With… functions; defaults are set in Open.
type Options struct {
	LockTimeout time.Duration
	// AppliedBy and ToolVersion go into the history of each migration applied.
	AppliedBy, ToolVersion string
	Logger                 *slog.Logger
	// Dir resolves relative sqlite:// paths (default ".").
	Dir string
	// Postgres only: each migration runs with these lock_timeout and statement_timeout (0: no limit), and
	// is retried up to LockRetries times, LockBackoff apart and doubling, when its lock wait times out.
	PGLockTimeout, PGStatementTimeout time.Duration
	LockRetries                       int
	LockBackoff                       time.Duration
	// Live tunes how live migrations run.
	Live LiveOptions
}

// DefaultPGLockTimeout is the lock_timeout a migration runs with on PostgreSQL unless told otherwise.
const DefaultPGLockTimeout = 2 * time.Second

// Option changes one of the Options.
type Option func(*Options)

// WithLockTimeout is how long a runner waits for another to finish (default 5 minutes).
func WithLockTimeout(d time.Duration) Option { return func(o *Options) { o.LockTimeout = d } }

// WithLogger receives progress: each migration as it starts and ends, and lock waits. Default: none.
func WithLogger(l *slog.Logger) Option { return func(o *Options) { o.Logger = l } }

// WithAppliedBy names who applies migrations in the history (default user@host).
func WithAppliedBy(who string) Option { return func(o *Options) { o.AppliedBy = who } }

// WithToolVersion is the shipyard version recorded in the history.
func WithToolVersion(v string) Option { return func(o *Options) { o.ToolVersion = v } }

// WithDir is the directory relative sqlite:// paths are read from.
func WithDir(dir string) Option { return func(o *Options) { o.Dir = dir } }

// WithPostgresTimeouts sets the lock_timeout (default 2s) and statement_timeout (default none) each
// migration runs with on PostgreSQL. A short lock_timeout keeps a migration that waits for a busy table
// from queueing the application's queries behind it.
func WithPostgresTimeouts(lock, statement time.Duration) Option {
	return func(o *Options) { o.PGLockTimeout, o.PGStatementTimeout = lock, statement }
}

// WithLockRetries is how often a migration whose lock wait timed out runs again (default 5), and the
// first pause between two tries (default 1s, doubling, with jitter).
func WithLockRetries(n int, backoff time.Duration) Option {
	return func(o *Options) { o.LockRetries, o.LockBackoff = n, backoff }
}

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

// DirtyError is a database left dirty by a migration that failed part way: golang-migrate will not run
// again until someone checks the database and says with force which version it is at.
type DirtyError struct {
	Version   uint64
	File      string // the migration file that failed, when known
	Statement string // the statement that failed, when the database said where
	Line      int    // the line of the file it starts on
	Cause     error
	Previous  uint64 // the version before the failed migration (0: none)
}

func (e *DirtyError) Error() string {
	var b strings.Builder
	if e.Cause != nil {
		fmt.Fprintf(&b, "migration %s failed: %s", e.File, cut(e.Cause.Error(), 1000))
		if e.Statement != "" {
			fmt.Fprintf(&b, "\n  at line %d: %s", e.Line, excerpt(e.Statement, 3, "\n    "))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "the database is dirty at version %d: check what %s changed, then either undo it by hand and run `shipyard migrate force %d` to retry, or finish it by hand and run `shipyard migrate force %d`",
		e.Version, orUnknown(e.File), e.Previous, e.Version)
	return b.String()
}

func (e *DirtyError) Unwrap() error { return e.Cause }

func orUnknown(s string) string {
	if s == "" {
		return "the failed migration"
	}
	return s
}

// cut is s up to n bytes (at a rune boundary), with … when there was more.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// excerpt is a statement's first lines, each cut to 160 bytes, joined with sep and ending in … when
// the statement runs on: an error quotes what failed, never a whole file.
func excerpt(sql string, lines int, sep string) string {
	all := strings.Split(strings.TrimSpace(sql), "\n")
	out := all[:min(lines, len(all))]
	for i, l := range out {
		out[i] = cut(strings.TrimRight(l, " \t\r"), 160)
	}
	if len(all) > lines {
		out = append(out, "…")
	}
	return strings.Join(out, sep)
}

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

func (r *Runner) dirty(v uint64, cause error) *DirtyError {
	e := &DirtyError{Version: v, Previous: r.previous(v), Cause: cause}
	if m, ok := r.source.Find(v); ok {
		e.File = m.Up
	}
	if query, line, orig, ok := engineError(cause); ok {
		e.Cause = orig
		body := string(query)
		if i := strings.LastIndex(body, commitMarker); i >= 0 {
			body = body[:i] // shipyard's marker, not the user's SQL
		}
		if st, ok := statementAt(body, line, r.d.mysqlEscapes()); ok {
			e.Statement, e.Line = st.SQL, st.Line
		}
	}
	return e
}

// engineError unpacks golang-migrate's database.Error, which its drivers return as a value or as a
// pointer and which does not unwrap: the query (a whole file), the line of the file the database
// pointed at (0: it did not say), and the database's own error.
func engineError(err error) (query []byte, line uint, orig error, ok bool) {
	var v database.Error
	var p *database.Error
	switch {
	case errors.As(err, &v):
	case errors.As(err, &p) && p != nil:
		v = *p
	default:
		return nil, 0, err, false
	}
	return v.Query, v.Line, cmp.Or(v.OrigErr, err), true
}

// statementAt is the statement of body on line (from 1), when the database said where it failed.
func statementAt(body string, line uint, mysql bool) (Statement, bool) {
	if line == 0 {
		return Statement{}, false
	}
	var found Statement
	for _, st := range SplitSQL(body, mysql) {
		if uint(st.Line) > line {
			break
		}
		found = st
	}
	return found, found.SQL != ""
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
		if dir > 0 { // the live migration in progress comes first
			m, st, err := r.currentLive(ctx, current)
			if err != nil {
				return err
			}
			if st != nil {
				if stop, err := r.liveUp(ctx, m, st, mode, res); err != nil || stop {
					return errors.Join(err, r.finishResult(ctx, res))
				}
			}
		}
		for _, m := range plan(current) {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("stopped before %s: %w", m.Up, err)
			}
			if m.Live != nil {
				var stop bool
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
			if err := r.record(context.WithoutCancel(ctx), m, step); err != nil {
				return err
			}
			if res.To, _, err = r.version(context.WithoutCancel(ctx)); err != nil {
				return err
			}
		}
		return r.finishResult(ctx, res)
	})
	return res, err
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

// VersionError names a version that no migration has.
type VersionError struct{ Version uint64 }

func (e *VersionError) Error() string { return fmt.Sprintf("no migration has version %d", e.Version) }

// InputError says that the user asked for a version there is no migration of: the command exits 2.
func (e *VersionError) InputError() bool { return true }

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

// PlannedStep is a migration, or a part of a live one, that up would apply, with its SQL.
type PlannedStep struct {
	Version uint64 `json:"version"`
	File    string `json:"file"`
	Phase   Phase  `json:"phase,omitempty"`
	SQL     string `json:"sql"`
}

// Plan returns the migrations up would apply now, with their SQL (for a live migration, each of its
// remaining parts: a backfill as the UPDATE of one batch); nothing runs and no lock is taken.
func (r *Runner) Plan(ctx context.Context, n int) ([]PlannedStep, error) {
	current, _, err := r.version(ctx)
	if err != nil {
		return nil, err
	}
	plan := []PlannedStep{}
	if m, st, err := r.currentLive(ctx, current); err != nil {
		return nil, err
	} else if st != nil && st.Phase != PhaseContract {
		if plan, err = r.planLive(m, st.Phase, plan); err != nil {
			return nil, err
		}
	}
	for _, m := range r.source.Migrations {
		if m.Version <= current || (n > 0 && len(plan) >= n) {
			continue
		}
		if m.Live != nil {
			if plan, err = r.planLive(m, "", plan); err != nil {
				return nil, err
			}
			continue
		}
		body, err := fs.ReadFile(r.fsys, m.Up)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", m.Up, err)
		}
		plan = append(plan, PlannedStep{Version: m.Version, File: m.Up, SQL: string(body)})
	}
	return plan, nil
}

// planLive adds the parts of live migration m after phase (all for "") to plan.
func (r *Runner) planLive(m Migration, after Phase, plan []PlannedStep) ([]PlannedStep, error) {
	parts := []struct {
		phase Phase
		file  string
	}{{PhaseExpand, m.Up}, {PhaseBackfill, ""}, {PhaseContract, m.Live.ContractUp}}
	started := after == ""
	for _, p := range parts {
		if !started {
			started = p.phase == after
			continue
		}
		switch {
		case p.phase == PhaseBackfill && m.Live.Backfill != nil:
			k := &keyset{spec: m.Live.Backfill}
			plan = append(plan, PlannedStep{Version: m.Version, File: m.Live.Backfill.File, Phase: p.phase,
				SQL: fmt.Sprintf("-- in batches by %s, each its own transaction\n%s\n", k.spec.Key, k.sql())})
		case p.file != "":
			body, err := r.partSQL(m, p.file)
			if err != nil {
				return nil, err
			}
			plan = append(plan, PlannedStep{Version: m.Version, File: p.file, Phase: p.phase, SQL: body})
		}
	}
	return plan, nil
}
