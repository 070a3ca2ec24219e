package cmd

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/shipyardci/shipyard/internal/exitcode"
	"github.com/shipyardci/shipyard/internal/ghactions"
	"github.com/shipyardci/shipyard/internal/textreport"
	"github.com/shipyardci/shipyard/migrate"
)

func newMigrateLintCmd(f *Factory, o *migrateOptions) *cobra.Command {
	var dialect string
	var list bool
	c := &cobra.Command{
		Use:   "lint [FILE...]",
		Short: "Find migrations that lock a busy table or break the running service",
		Long: `Read the migration files for statements that are dangerous on a live database: they lock a table
for as long as they scan or rewrite it, or break the version of the service that still runs during the
deploy. Each rule says why and what to do instead; --rules lists them all.

The database kind comes from --dialect, else from the configured database (--database, DATABASE_URL,
migrate.database); with neither, every rule applies. Without FILE arguments, every file of --dir is read.

A comment turns a rule off for one statement: put "-- shipyard:ignore RULE[,RULE…] reason" on the line
before it, inside it, or after its semicolon. Errors exit 1, warnings do not. Nothing connects to
the database.`,
		Example: `  shipyard migrate lint
  shipyard migrate lint migrations/20261123101500_add_email.up.sql
  shipyard migrate lint --dialect postgres -o json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if list {
				rules := migrate.Rules()
				return f.Render(map[string]any{"rules": rules}, func(w io.Writer) error { return textreport.Rules(w, rules) })
			}
			problems, err := migrate.LintDir(migrate.LintOptions{Dir: o.Dir, Root: f.Dir, Files: args, Dialect: migrate.Dialect(dialect), Database: o.Database})
			if err != nil {
				return err
			}
			return f.reportLint(problems)
		},
	}
	c.Flags().StringVar(&dialect, "dialect", "", "the database kind the rules are for: postgres, mysql or sqlite (default: the configured database's)")
	c.Flags().BoolVar(&list, "rules", false, "list the rules, with why and what to do instead")
	return c
}

// reportLint prints the problems and annotates them; errors exit 1.
func (f *Factory) reportLint(problems []migrate.Problem) error {
	errs := 0
	for _, p := range problems {
		level := ghactions.Warning
		if p.Severity == migrate.SeverityError {
			level, errs = ghactions.Error, errs+1
		}
		f.Actions.Annotate(ghactions.Annotation{Level: level, File: p.File, Line: p.Line,
			Title: "migrate lint: " + p.Rule, Message: p.Message + "\n" + p.Why + "\nInstead: " + p.Instead})
	}
	err := f.Render(map[string]any{"problems": problems}, func(w io.Writer) error { return textreport.Lint(w, f.IO.OutPalette(), problems) })
	if err != nil || errs == 0 {
		return err
	}
	return exitcode.Silent(exitcode.Failed)
}
