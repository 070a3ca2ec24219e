package cmd

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

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
				return f.renderRules()
			}
			d, err := f.lintDialect(o, dialect)
			if err != nil {
				return err
			}
			dir := f.Path(o.Dir)
			if info, err := os.Stat(dir); err != nil || !info.IsDir() {
				return exitcode.Input(fmt.Errorf("--dir: %s is not a directory of migrations", o.Dir))
			}
			src, err := migrate.ReadSource(os.DirFS(dir))
			if err != nil {
				return err
			}
			files, err := lintFiles(src, o.Dir, args)
			if err != nil {
				return err
			}
			problems, err := migrate.Lint(src, d, files...)
			if err != nil {
				return err
			}
			return f.reportLint(o.Dir, problems)
		},
	}
	c.Flags().StringVar(&dialect, "dialect", "", "the database kind the rules are for: postgres, mysql or sqlite (default: the configured database's)")
	c.Flags().BoolVar(&list, "rules", false, "list the rules, with why and what to do instead")
	return c
}

// lintDialect is --dialect, else the kind of the configured database, else "" (every rule).
func (f *Factory) lintDialect(o *migrateOptions, flag string) (migrate.Dialect, error) {
	switch d := migrate.Dialect(flag); d {
	case migrate.Postgres, migrate.MySQL, migrate.SQLite:
		return d, nil
	case "":
	default:
		return "", exitcode.Input(fmt.Errorf("--dialect: %q is not postgres, mysql or sqlite", flag))
	}
	raw := o.Database
	if raw == "" {
		return "", nil
	}
	t, err := migrate.ParseURL(raw, f.Dir)
	if err != nil {
		return "", err
	}
	return t.Dialect, nil
}

// lintFiles maps the FILE arguments to file names of the migrations directory.
func lintFiles(src *migrate.Source, dir string, args []string) ([]string, error) {
	var known []string
	for _, m := range src.Migrations {
		known = append(known, m.Up)
		if m.Down != "" {
			known = append(known, m.Down)
		}
	}
	var files []string
	for _, a := range args {
		name := filepath.Base(a)
		if !slices.Contains(known, name) {
			return nil, exitcode.Input(fmt.Errorf("%s is not a migration file of %s", a, dir))
		}
		files = append(files, name)
	}
	return files, nil
}

// reportLint prints the problems with their files named as the repository names them (migrations/…),
// the same in the text, the JSON and the annotations.
func (f *Factory) reportLint(dir string, problems []migrate.Problem) error {
	errs := 0
	for i, p := range problems {
		problems[i].File = filepath.ToSlash(filepath.Join(dir, p.File))
	}
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

func (f *Factory) renderRules() error {
	rules := migrate.Rules()
	return f.Render(map[string]any{"rules": rules}, func(w io.Writer) error { return textreport.Rules(w, rules) })
}
