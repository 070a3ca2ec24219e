package migrate

import (
	"log/slog"
	"time"
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
