package cmd

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipyardci/shipyard/internal/exitcode"
	"github.com/shipyardci/shipyard/internal/ghactions"
	"github.com/shipyardci/shipyard/internal/textreport"
	"github.com/shipyardci/shipyard/migrate"
)

func newMigrateCreateCmd(f *Factory, o *migrateOptions) *cobra.Command {
	var seq bool
	var phase string
	c := &cobra.Command{
		Use:   "create NAME",
		Short: "Write an empty up and down migration, or a part of a live migration (--phase)",
		Long: `Write an empty up and down migration, numbered with a timestamp (or --seq).

With --phase, write a part of a live migration instead: --phase expand makes the directory
{version}_{name}/ with expand.up.sql and expand.down.sql; --phase backfill adds backfill.yaml and
--phase contract adds contract.up.sql and contract.down.sql to the live migration of that name.`,
		Example: `  shipyard migrate create add_users
  shipyard migrate create email_lower --phase expand
  shipyard migrate create email_lower --phase backfill
  shipyard migrate create email_lower --phase contract`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := migrate.CreateOptions{Sequential: seq, Now: time.Now()}
			create := func() ([]string, error) { return migrate.Create(f.Path(o.Dir), args[0], opts) }
			if phase != "" {
				p, err := migrate.ParsePhase(phase)
				if err != nil {
					return exitcode.Input(fmt.Errorf("--phase: %w", err))
				}
				create = func() ([]string, error) { return migrate.CreatePhase(f.Path(o.Dir), args[0], p, opts) }
			}
			paths, err := create()
			if err != nil {
				return err
			}
			return f.RenderLines(map[string][]string{"files": paths}, paths...)
		},
	}
	c.Flags().BoolVar(&seq, "seq", false, "number sequentially (000001, 000002) instead of with a timestamp")
	c.Flags().StringVar(&phase, "phase", "", "write a part of a live migration: expand, backfill or contract")
	return c
}

// optionalCount reads the [N] argument of up and down; 0 means all.
func optionalCount(args []string) (int, error) {
	if len(args) == 0 {
		return 0, nil
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 {
		return 0, exitcode.Input(fmt.Errorf("the number of migrations must be a whole number above 0, not %q", args[0]))
	}
	return n, nil
}

func newMigrateUpCmd(f *Factory, o *migrateOptions) *cobra.Command {
	var phase string
	var b backfillFlags
	c := &cobra.Command{
		Use:   "up [N]",
		Short: "Apply the pending migrations, or the next N; --phase runs one phase of a live migration",
		Long: `Apply the pending migrations, or the next N. Live migrations go through every phase: expand,
backfill, contract.

Around a deploy, --phase runs one phase at a time: --phase expand (the job before the deploy) applies
the pending migrations up to and including the expand part of the first live migration, and then
stops: later migrations wait for its contract. --phase backfill is ` + "`migrate backfill`" + `. --phase contract
(after every instance runs the new code) applies the contract part of the live migration in
progress, once its backfill is done. Each does nothing when there is nothing to do, so a job can run
again.`,
		Example: `  shipyard migrate up
  shipyard migrate up --phase expand
  shipyard migrate up --phase contract`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := optionalCount(args)
			if err != nil {
				return err
			}
			var p migrate.Phase
			if phase != "" {
				if p, err = migrate.ParsePhase(phase); err != nil {
					return exitcode.Input(fmt.Errorf("--phase: %w", err))
				}
				if n > 0 {
					return exitcode.Input(errors.New("give N or --phase, not both"))
				}
			}
			report, done := f.backfillProgress()
			o.live = b.options(report)
			return f.runMigration(cmd, o, func(r *migrate.Runner) (*migrate.Result, error) {
				defer done()
				switch p {
				case migrate.PhaseExpand:
					return r.Expand(cmd.Context())
				case migrate.PhaseBackfill:
					return r.Backfill(cmd.Context())
				case migrate.PhaseContract:
					return r.Contract(cmd.Context())
				}
				return r.Up(cmd.Context(), n)
			})
		},
	}
	c.Flags().StringVar(&phase, "phase", "", "run one phase of live migrations: expand, backfill or contract")
	addBackfillFlags(c, &b)
	return c
}

func newMigrateDownCmd(f *Factory, o *migrateOptions) *cobra.Command {
	var all, yes bool
	c := &cobra.Command{
		Use:   "down [N]",
		Short: "Revert the last migration, or the last N (--all --yes: every one)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := optionalCount(args)
			if err != nil {
				return err
			}
			switch {
			case all && len(args) > 0:
				return exitcode.Input(errors.New("give N or --all, not both"))
			case all && !yes:
				return exitcode.Input(errors.New("--all reverts every migration and drops what they created: add --yes to confirm"))
			case !all && n == 0:
				n = 1
			}
			return f.runMigration(cmd, o, func(r *migrate.Runner) (*migrate.Result, error) { return r.Down(cmd.Context(), n) })
		},
	}
	c.Flags().BoolVar(&all, "all", false, "revert every applied migration")
	c.Flags().BoolVar(&yes, "yes", false, "confirm --all")
	return c
}

func newMigrateGotoCmd(f *Factory, o *migrateOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "goto VERSION",
		Short: "Migrate up or down to VERSION",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := parseVersion(args[0])
			if err != nil {
				return err
			}
			return f.runMigration(cmd, o, func(r *migrate.Runner) (*migrate.Result, error) { return r.Goto(cmd.Context(), v) })
		},
	}
}

func parseVersion(s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, exitcode.Input(fmt.Errorf("VERSION must be a migration version such as 20260101120000, not %q", s))
	}
	return v, nil
}

// withRunner opens the runner for one operation, classifies the operation's error, and closes the runner.
func (f *Factory) withRunner(cmd *cobra.Command, o *migrateOptions, op func(*migrate.Runner) error) error {
	r, err := f.openRunner(cmd.Context(), o)
	if err != nil {
		return err
	}
	defer r.Close()
	return op(r)
}

// runMigration opens the runner, runs one operation, and reports each step and the outcome.
func (f *Factory) runMigration(cmd *cobra.Command, o *migrateOptions, op func(*migrate.Runner) (*migrate.Result, error)) error {
	r, err := f.openRunner(cmd.Context(), o)
	if err != nil {
		return err
	}
	defer r.Close()
	res, err := op(r)
	if res != nil {
		if rerr := f.renderMigration(res, err != nil); rerr != nil {
			return errors.Join(err, rerr)
		}
	}
	if err != nil {
		return err
	}
	return f.SetOutputs("migration_version", strconv.FormatUint(res.To, 10))
}

func (f *Factory) renderMigration(res *migrate.Result, failed bool) error {
	if res.Backfill != nil {
		_ = f.Actions.AddSummary(fmt.Sprintf("**shipyard migrate**: %s\n", textreport.BackfillDone(res.Backfill)))
	}
	return f.Render(res, func(w io.Writer) error { return textreport.Migration(w, res, failed) })
}

func newMigrateForceCmd(f *Factory, o *migrateOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "force VERSION",
		Short: "Set the version and clear the dirty flag, running nothing (after fixing a failed migration by hand)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := parseVersion(args[0])
			if err != nil {
				return err
			}
			if err := f.withRunner(cmd, o, func(r *migrate.Runner) error { return r.Force(cmd.Context(), v) }); err != nil {
				return err
			}
			return f.Render(map[string]any{"version": v, "dirty": false}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "forced version %d (not dirty)\n", v)
				return err
			})
		},
	}
}

func newMigrateStatusCmd(f *Factory, o *migrateOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the database's version and the applied and pending migrations",
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st *migrate.Status
			var database string
			err := f.withRunner(cmd, o, func(r *migrate.Runner) (err error) {
				database = r.Target().Redacted()
				st, err = r.Status(cmd.Context())
				return err
			})
			if err != nil {
				return err
			}
			out := textreport.NewStatusResult(database, st)
			return f.Render(out, func(w io.Writer) error { return textreport.Status(w, out.Database, st) })
		},
	}
}

func newMigrateVerifyCmd(f *Factory, o *migrateOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Check the applied migrations against the directory: edited, deleted and out-of-order files",
		Long: `Check the applied migrations against the directory, from the history shipyard keeps beside
schema_migrations: applied files that were edited or deleted since, and files older than the current
version that were never applied (golang-migrate skips them). Exit 1 when there is any.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var findings []migrate.Finding
			err := f.withRunner(cmd, o, func(r *migrate.Runner) (err error) {
				findings, err = r.Verify(cmd.Context())
				return err
			})
			if err != nil {
				return err
			}
			dir := o.Dir
			for _, fd := range findings {
				f.Actions.Annotate(ghactions.Annotation{File: filepath.ToSlash(filepath.Join(dir, fd.File)), Title: "migration " + fd.Kind, Message: fd.Message})
			}
			err = f.Render(map[string]any{"findings": findings}, func(w io.Writer) error {
				if len(findings) == 0 {
					_, err := fmt.Fprintln(w, "the applied migrations match the directory")
					return err
				}
				for _, fd := range findings {
					fmt.Fprintf(w, "%s: %s: %s\n", filepath.Join(dir, fd.File), fd.Kind, fd.Message)
				}
				return nil
			})
			if err != nil || len(findings) == 0 {
				return err
			}
			return exitcode.Silent(exitcode.Failed)
		},
	}
}

func newMigratePlanCmd(f *Factory, o *migrateOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "plan [N]",
		Short: "Print the SQL that up would run, running nothing",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := optionalCount(args)
			if err != nil {
				return err
			}
			var plan []migrate.PlannedStep
			err = f.withRunner(cmd, o, func(r *migrate.Runner) (err error) {
				plan, err = r.Plan(cmd.Context(), n)
				return err
			})
			if err != nil {
				return err
			}
			return f.Render(map[string]any{"pending": plan}, func(w io.Writer) error {
				if len(plan) == 0 {
					_, err := fmt.Fprintln(w, "-- nothing to do: no pending migration")
					return err
				}
				for _, p := range plan {
					phase := ""
					if p.Phase != "" {
						phase = " (" + string(p.Phase) + ")"
					}
					fmt.Fprintf(w, "-- %s%s\n%s\n", p.File, phase, strings.TrimRight(p.SQL, "\n"))
				}
				return nil
			})
		},
	}
}
