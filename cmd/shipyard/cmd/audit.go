package cmd

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipyardci/shipyard/audit"
	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/exitcode"
	"github.com/shipyardci/shipyard/internal/pipeline"
	"github.com/shipyardci/shipyard/internal/textreport"
	"github.com/shipyardci/shipyard/registry"
)

type auditOptions struct {
	VulnDB          string
	FailOn          string
	FailOutdated    bool
	SARIF           string
	Scan            string
	FailUnreachable bool
	Image           string
	RuntimeDB       string
	FailOnEOL       bool
}

func newAuditCmd(f *Factory) *cobra.Command {
	var o auditOptions
	c := &cobra.Command{
		Use:   "audit",
		Short: "Outdated, deprecated, retracted and vulnerable dependencies",
		Long: `Audit the dependencies of the Go module (go.mod) and the npm project (package.json) in the current
directory: the versions each could move to; deprecated modules, packages and retracted versions in use;
and the advisories of the vulnerability database that affect the versions in use.

Go versions are read over the GOPROXY protocol (GOPROXY, GOPRIVATE and GONOPROXY as go env reports them,
file:// proxies, .netrc) as ` + "`go list -m -u`" + ` reads them; a proxy on the network is read ahead, many
requests at a time, while the go command reads the build list through it. Current is the version in go.mod, Wanted the newest of the same major, Latest the
newest of all, under a new major module path when there is one. npm versions come from the
registries .npmrc names, as ` + "`npm outdated`" + ` shows them: Current is the installed version
(package-lock.json, else node_modules), Wanted what the range resolves to, Latest the latest dist-tag.

--vuln-db is the Go vulnerability database by default; file://DIR reads an offline copy of it, or a
directory of OSV files of any ecosystem (an osv.dev export) for npm. Go vulnerabilities are found by
govulncheck, run in process, over the whole build list (replacements and the standard library
included): --scan symbol (the default) says of each whether the project calls it, imports it or only
requires it, with a call path; when the packages cannot be loaded it scans the modules, and when the
module cannot be loaded, go.mod's requirements are matched and the report says so. The Go database
rates no severity: its advisories are "unknown", which --fail-on counts as failing at every level.

Exit 1 when a vulnerability reaches --fail-on (called ones only, unless --fail-on-unreachable), with
--fail-outdated when anything is outdated, and when a lookup failed: the audit is then incomplete.`,
		Example: `  shipyard audit
  shipyard audit --vuln-db file:///srv/vulndb --fail-on high -o json
  GOPROXY=file:///srv/goproxy shipyard audit --fail-outdated`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.FailOn != "none" && audit.SeverityRank(o.FailOn) == 0 {
				return exitcode.Input(fmt.Errorf("--fail-on: %q is not low, moderate, high, critical or none", o.FailOn))
			}
			ignore, err := f.auditIgnores()
			if err != nil {
				return err
			}
			report, err := f.auditScan(cmd.Context(), &o, ignore)
			if err != nil {
				return err
			}
			return f.reportAudit(&o, report)
		},
	}
	c.PersistentFlags().StringVar(&o.VulnDB, "vuln-db", audit.DefaultVulnDB, "vulnerability database: an https:// URL, file://DIR, or off")
	c.PersistentFlags().StringVar(&o.Scan, "scan", "", "how deep to look for Go vulnerabilities: module, package or symbol (default symbol)")
	c.Flags().BoolVar(&o.FailUnreachable, "fail-on-unreachable", false, "let Go vulnerabilities that are not called fail too")
	c.Flags().StringVar(&o.FailOn, "fail-on", "low", "exit 1 on a vulnerability of this severity or above: low, moderate, high, critical, none")
	c.Flags().BoolVar(&o.FailOutdated, "fail-outdated", false, "exit 1 when a dependency is outdated")
	c.Flags().StringVar(&o.SARIF, "sarif", "", "also write the findings as SARIF 2.1.0 to `FILE`, for GitHub code scanning")
	c.PersistentFlags().StringVar(&o.RuntimeDB, "runtime-db", "", "Go and Node.js release data: file://DIR of go.json and node.json, or off (default: go.dev and the Node.js schedule)")
	c.Flags().BoolVar(&o.FailOnEOL, "fail-on-eol", false, "exit 1 when the Go or Node.js release in use is past its end of life")
	c.Flags().StringVar(&o.Image, "image", "", "audit what an image ships instead: the Go binaries of `REF` or oci:DIR, as govulncheck -mode binary")
	config.Bind(c.PersistentFlags(), "vuln-db", "audit.vuln_db")
	config.BindUnder(c.PersistentFlags(), "audit", "scan", "runtime-db")
	config.BindUnder(c.Flags(), "audit", "fail-on-eol")
	config.BindUnder(c.Flags(), "audit", "fail-on-unreachable")
	config.Bind(c.Flags(), "fail-on", "audit.fail_on")
	c.AddCommand(newAuditFixCmd(f, &o))
	return c
}

// auditScan runs audit.Scan on the project and says which vulnerability database it read, and how old it is.
func (f *Factory) auditScan(ctx context.Context, o *auditOptions, ignore []audit.IgnoreRule) (*audit.Report, error) {
	opts := audit.Options{Dir: f.Dir, VulnDB: o.VulnDB, Getenv: f.Getenv, Ignore: ignore, Scan: audit.ScanLevel(o.Scan), FailUnreachable: o.FailUnreachable,
		RuntimeDB: o.RuntimeDB, Now: f.now()}
	scan := func() (*audit.Report, error) { return audit.Scan(ctx, opts) }
	if o.Image != "" {
		scan = func() (*audit.Report, error) {
			return pipeline.AuditImage(ctx, o.Image, opts, func() (*registry.Client, func(), error) { return f.registryClient(&registryOptions{}) })
		}
	}
	r, err := scan()
	if err != nil {
		return nil, err
	}
	for _, note := range []string{r.BuildListNote, r.GoScanNote, r.RuntimeNote} {
		if note != "" {
			f.IO.Warnf("%s", note)
		}
	}
	if r.VulnDB != nil {
		f.IO.Infof("vulnerability database %s", pipeline.DescribeVulnDB(r.VulnDB, time.Now()))
	}
	return r, nil
}

func (f *Factory) reportAudit(o *auditOptions, r *audit.Report) error {
	if o.SARIF != "" {
		if err := audit.WriteSARIFFile(f.Path(o.SARIF), f.ToolVersion, r); err != nil {
			return err
		}
	}
	for _, a := range textreport.AuditAnnotations(r, o.FailOn) {
		f.Actions.Annotate(a)
	}
	if err := f.Actions.AddSummary(textreport.AuditMarkdown(r)); err != nil {
		return err
	}
	if err := f.Render(r, func(w io.Writer) error { return textreport.Audit(w, r) }); err != nil {
		return err
	}
	if err := r.Incomplete(); err != nil {
		return err
	}
	if len(r.Failing(o.FailOn)) > 0 || o.FailOutdated && len(r.Outdated()) > 0 || o.FailOnEOL && len(r.EndOfLife()) > 0 {
		return exitcode.Silent(exitcode.Failed)
	}
	return nil
}
