package cmd

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/shipyardci/shipyard/audit"
	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/pipeline"
	"github.com/shipyardci/shipyard/internal/textreport"
)

type auditFixOptions struct {
	Level        string
	SecurityOnly bool
	Groups       []string
	Branch       string
	PRDir        string
	DryRun       bool
}

func newAuditFixCmd(f *Factory, ao *auditOptions) *cobra.Command {
	var o auditFixOptions
	c := &cobra.Command{
		Use:   "fix",
		Short: "Update outdated and vulnerable dependencies in go.mod and package.json, Dependabot style",
		Long: `Update dependencies: each to the highest version --level allows (patch, minor or major, as Dependabot
counts them), or with --security-only to the lowest version that fixes its advisories. go.mod is edited
and ` + "`go mod tidy`" + ` run; package.json ranges are moved keeping their form (^, ~, >=, exact) and
` + "`npm install --package-lock-only`" + ` run.

Updates are gathered in groups (--group NAME=PATTERN,… or audit.groups; * matches anything), the others
one group per package. For each group a pull-request body is written to --pr-dir: what moves from
where to where, and the advisories it fixes. With --branch, a new branch gets one commit per group.
Ignore rules and allowed update types come from shipyard.yaml (audit.ignore, audit.allow).`,
		Example: `  shipyard audit fix --level patch --dry-run
  shipyard audit fix --security-only --branch deps/security
  shipyard audit fix --group "golang-x=golang.org/x/*" --group "types=@types/*" -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := f.fixOptions(&o)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			scan, err := f.auditScan(ctx, ao, nil)
			if err != nil {
				return err
			}
			res, err := audit.Fix(ctx, scan, audit.FixRequest{Plan: opts, DryRun: o.DryRun,
				Apply: audit.ApplyOptions{Dir: f.Dir, Branch: o.Branch, BodiesDir: o.PRDir, Env: f.Environ()}})
			if err != nil {
				return err
			}
			return f.Render(res, func(w io.Writer) error { return textreport.Fix(w, res, o.DryRun) })
		},
	}
	fl := c.Flags()
	fl.StringVar(&o.Level, "level", "minor", "the largest update: patch, minor or major")
	fl.BoolVar(&o.SecurityOnly, "security-only", false, "only updates that fix advisories, to the lowest version that does")
	fl.StringArrayVar(&o.Groups, "group", nil, "a group of packages updated together: `NAME=PATTERN[,PATTERN]` (repeatable)")
	fl.StringVar(&o.Branch, "branch", "", "create this git branch and commit each group on it")
	fl.StringVar(&o.PRDir, "pr-dir", ".shipyard/audit", "`DIR` for the pull-request body of each group")
	fl.BoolVar(&o.DryRun, "dry-run", false, "list the updates, change nothing")
	config.Bind(fl, "level", "audit.fix_level")
	return c
}

// fixOptions reads the flags and shipyard.yaml's groups and ignore rules.
func (f *Factory) fixOptions(o *auditFixOptions) (audit.FixOptions, error) {
	where := func(key string) string { _, w, _ := f.Config.Lookup(key); return w }
	return pipeline.AuditFixOptions(o.Level, o.SecurityOnly, o.Groups, f.Config.Audit, where, pipeline.Now(f.Getenv))
}

// auditIgnores are the ignore rules of shipyard.yaml that have not expired.
func (f *Factory) auditIgnores() ([]audit.IgnoreRule, error) {
	return pipeline.AuditIgnores(f.Config.Audit.Ignore, pipeline.Now(f.Getenv))
}
