package cmd

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/migrate"
)

// migrateOptions are the flags every migrate subcommand shares.
type migrateOptions struct {
	Database    string
	Dir         string
	LockTimeout time.Duration
	// PostgreSQL session settings of each migration, and retries on lock_timeout.
	PGLockTimeout, PGStatementTimeout time.Duration
	LockRetries                       int
	// LiveLockTimeout is the lock_timeout of live migrations' parts and backfill batches.
	LiveLockTimeout time.Duration
	// live tunes the backfill of the command that runs (up, backfill): set by it, not a flag here.
	live migrate.LiveOptions
}

func newMigrateCmd(f *Factory) *cobra.Command {
	var o migrateOptions
	c := &cobra.Command{
		Use:   "migrate",
		Short: "SQL schema migrations for PostgreSQL, MySQL/MariaDB and SQLite",
		Long: `SQL schema migrations with golang-migrate as the engine: its file naming ({version}_{name}.up.sql and
.down.sql) and its schema_migrations table, so that both tools can take turns on one database.

The database comes from --database, SHIPYARD_MIGRATE_DATABASE, DATABASE_URL or migrate.database in
shipyard.yaml, in that order, and is the
embedded SQLite file ` + migrate.DefaultURL + ` when none is set. One runner migrates at a time; the others
wait up to --lock-timeout.

On PostgreSQL each migration runs with a short lock_timeout (--pg-lock-timeout), so that an ALTER TABLE
waiting for a busy table does not queue the application's queries behind it; when it hits, the
migration is rolled back and runs again, up to --lock-retries times, with a growing pause.

Live migrations change a busy table in phases around a deploy, so that the old and the new version of
the service run side by side: a directory {version}_{name}/ with expand.up.sql, expand.down.sql,
backfill.yaml, contract.up.sql and contract.down.sql (` + "`migrate create NAME --phase expand`" + `), or a
generated operation {version}_{name}.live.yaml (add_column, rename_column, change_column_type,
add_foreign_key, add_unique, add_index). ` + "`up --phase expand`" + ` runs before the deploy, ` + "`backfill`" + `
fills the rows that exist, ` + "`up --phase contract`" + ` runs once every instance runs the new code, and
` + "`rollback`" + ` undoes a live migration at any phase before its contract. A plain ` + "`up`" + ` runs every phase.`,
	}
	pf := c.PersistentFlags()
	pf.StringVar(&o.Database, "database", "", "database `URL`: postgres://, mysql:// or sqlite:// (default $DATABASE_URL, then "+migrate.DefaultURL+")")
	pf.StringVar(&o.Dir, "dir", "migrations", "the migrations `DIR`")
	pf.DurationVar(&o.LockTimeout, "lock-timeout", 5*time.Minute, "how long to wait while another runner holds the lock")
	pf.DurationVar(&o.PGLockTimeout, "pg-lock-timeout", migrate.DefaultPGLockTimeout, "PostgreSQL lock_timeout of each migration (0: wait for ever)")
	pf.DurationVar(&o.PGStatementTimeout, "pg-statement-timeout", 0, "PostgreSQL statement_timeout of each migration (0: none)")
	pf.IntVar(&o.LockRetries, "lock-retries", 5, "how often a migration that hit lock_timeout runs again")
	pf.DurationVar(&o.LiveLockTimeout, "live-lock-timeout", migrate.DefaultLiveOptions.LockTimeout, "PostgreSQL lock_timeout of each statement of a live migration's parts and of each backfill batch")
	config.BindUnder(pf, "migrate", "database", "dir", "lock-timeout", "pg-lock-timeout", "pg-statement-timeout", "lock-retries", "live-lock-timeout")
	c.AddCommand(newMigrateCreateCmd(f, &o), newMigrateUpCmd(f, &o), newMigrateDownCmd(f, &o),
		newMigrateGotoCmd(f, &o), newMigrateForceCmd(f, &o), newMigrateStatusCmd(f, &o), newMigrateVerifyCmd(f, &o),
		newMigratePlanCmd(f, &o), newMigrateLintCmd(f, &o), newMigrateBackfillCmd(f, &o),
		newMigrateRollbackCmd(f, &o))
	return c
}

// openRunner opens the database and the migrations for a subcommand: --database, which the configuration
// fills (SHIPYARD_MIGRATE_DATABASE, DATABASE_URL, migrate.database), else the embedded default.
func (f *Factory) openRunner(ctx context.Context, o *migrateOptions) (*migrate.Runner, error) {
	dir, err := migrate.OpenDir(f.Dir, o.Dir)
	if err != nil {
		return nil, err
	}
	return migrate.Open(ctx, cmp.Or(o.Database, migrate.DefaultURL), dir,
		migrate.WithDir(f.Dir), migrate.WithLockTimeout(o.LockTimeout), migrate.WithLogger(slog.New(f.IO.LogHandler())),
		migrate.WithToolVersion(f.ToolVersion), migrate.WithPostgresTimeouts(o.PGLockTimeout, o.PGStatementTimeout),
		migrate.WithLockRetries(o.LockRetries, time.Second), migrate.WithLive(o.liveOptions()))
}

// liveOptions are the command's backfill tuning with the live lock timeout.
func (o *migrateOptions) liveOptions() migrate.LiveOptions {
	l := o.live
	l.LockTimeout = o.LiveLockTimeout
	return l
}
