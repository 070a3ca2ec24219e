package cmd

import (
	"cmp"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/progress"
	"github.com/shipyardci/shipyard/internal/textreport"
	"github.com/shipyardci/shipyard/migrate"
)

// backfillFlags tune a backfill: on backfill, and on up, which runs the backfills of live migrations.
type backfillFlags struct {
	BatchSize                      int
	BatchTime, MaxLag, MaxLockWait time.Duration
	MaxRate                        float64
	MaxLoad                        migrate.MaxLoad
}

func addBackfillFlags(c *cobra.Command, b *backfillFlags) {
	fs := c.Flags()
	fs.IntVar(&b.BatchSize, "batch-size", 0, "rows in the first batch of a backfill (default: backfill.yaml's batch_size, else 1000)")
	fs.DurationVar(&b.BatchTime, "batch-time", migrate.DefaultLiveOptions.BatchTime, "how long each backfill batch should take: the batch size adapts to it (0: keep the size)")
	fs.Float64Var(&b.MaxRate, "max-rate", 0, "backfill at most this many rows per second (0: no limit)")
	fs.DurationVar(&b.MaxLag, "max-lag", migrate.DefaultLiveOptions.MaxLag, "pause the backfill while a replica replays more than this behind (PostgreSQL; 0: never)")
	fs.DurationVar(&b.MaxLockWait, "max-lock-wait", migrate.DefaultLiveOptions.MaxLockWait, "pause the backfill while another session waits longer than this for a lock (PostgreSQL, MySQL; 0: never)")
	b.MaxLoad = migrate.DefaultMaxLoad
	fs.Var(&b.MaxLoad, "max-load", "yield to the application: probe=2x (or probe=25ms) slows the backfill down while a probe takes longer, active=N (Threads_running=N) pauses it while more sessions run a statement; off")
	config.BindUnder(fs, "migrate.backfill", "batch-size", "batch-time", "max-rate", "max-lag", "max-lock-wait", "max-load")
}

// options are the library's LiveOptions: 0 on the command line turns a bound off, which the library
// spells negative.
func (b backfillFlags) options(progress func(migrate.BackfillProgress)) migrate.LiveOptions {
	off := func(d time.Duration) time.Duration { return cmp.Or(d, -1) }
	return migrate.LiveOptions{BatchSize: b.BatchSize, BatchTime: off(b.BatchTime), MaxRate: b.MaxRate,
		MaxLag: off(b.MaxLag), MaxLockWait: off(b.MaxLockWait), MaxLoad: &b.MaxLoad, Progress: progress}
}

// backfillProgress shows a running backfill: one line redrawn on a terminal, else a log line every 10
// seconds (a Kubernetes Job's log, a CI log). done erases the terminal line.
func (f *Factory) backfillProgress() (report func(migrate.BackfillProgress), done func()) {
	line, done := progress.Lines(f.IO.ErrOut, f.IO.IsStderrTTY() && !f.IO.Quiet, func(s string) { f.IO.Infof("%s", s) }, 10*time.Second)
	return func(p migrate.BackfillProgress) { line(textreport.Backfill(p), p.Paused != "") }, done
}

func newMigrateBackfillCmd(f *Factory, o *migrateOptions) *cobra.Command {
	var b backfillFlags
	c := &cobra.Command{
		Use:   "backfill",
		Short: "Run, or resume, the backfill of the live migration in progress",
		Long: `Run the backfill of the live migration that expand left in progress: its backfill.yaml (or its
generated operation) updates the rows that existed before expand, in batches by key range, each
batch its own short transaction that also records the checkpoint. Killed, it resumes after the last
batch that committed; run again after it finished, it does nothing.

The batch size adapts to --batch-time; --max-rate caps the rows per second; on PostgreSQL each batch
has the short --live-lock-timeout and runs again when it hits it, and the backfill pauses while a
replica lags more than --max-lag or a session waits for a lock longer than --max-lock-wait.

--max-load yields to the application: while it works, batches take 20ms at most; while the slowest tenth of
a second of probes (commits) takes over twice its time at rest (probe=2x, or probe=25ms), the backfill
pauses and halves batches; active=N waits while more than N other sessions run a statement.`,
		Example: `  shipyard migrate up --phase expand     # before the deploy
  shipyard migrate backfill --max-rate 5000
  shipyard migrate up --phase contract   # once every instance runs the new code`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			report, done := f.backfillProgress()
			o.live = b.options(report)
			return f.runMigration(cmd, o, func(r *migrate.Runner) (*migrate.Result, error) {
				defer done()
				return r.Backfill(cmd.Context())
			})
		},
	}
	addBackfillFlags(c, &b)
	return c
}

func newMigrateRollbackCmd(f *Factory, o *migrateOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "rollback",
		Short: "Undo the live migration in progress, at any phase before its contract",
		Long: `Undo the live migration that expand left in progress, after expand or in the middle of its backfill:
its expand.down.sql removes the new shape and the triggers, the old shape is left as it was with
every row written meanwhile, and the version goes back to the migration before. After the contract
the old shape is gone: rollback refuses, and ` + "`shipyard migrate down`" + ` runs contract.down.sql first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.runMigration(cmd, o, func(r *migrate.Runner) (*migrate.Result, error) { return r.Rollback(cmd.Context()) })
		},
	}
}
