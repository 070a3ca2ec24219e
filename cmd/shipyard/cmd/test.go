package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/shipyardci/shipyard/coverage"
	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/exitcode"
	"github.com/shipyardci/shipyard/internal/iostreams"
	"github.com/shipyardci/shipyard/internal/pipeline"
	"github.com/shipyardci/shipyard/internal/textreport"
)

type testOptions struct {
	Profiles         []string
	CoverDirs        []string
	MinTotal         float64
	MinPackage       float64
	MinFile          float64
	Exclude          []string
	IncludeGenerated bool
	Coverpkg         string
	All              bool
	DiffBase         string
	MinDiff          float64
	Baseline         string
	Tolerance        float64
	UpdateBaseline   bool
	JUnit            string
	Cobertura        string
	Badge            string
	HTML             string
	Lcov             []string
	MinLines         float64
	MinFunctions     float64
	MinBranches      float64
	Shard, ShardDir  string
	Timings          string
	ShardGate        bool
}

func newTestCmd(f *Factory) *cobra.Command {
	var o testOptions
	c := &cobra.Command{
		Use:   "test [packages] [-- go test flags]",
		Short: "Run the tests and enforce coverage thresholds",
		Long: `Run go test with atomic coverage, or read existing profiles with --profile, and enforce coverage
thresholds on the total, each package and each file. A threshold is a percentage of statements or, when
negative, the most statements allowed to stay uncovered. Generated files are left out; so are functions
and statements marked // coverage:ignore, which the report counts.

Per-path thresholds go in shipyard.yaml:

  test:
    min_total: 80
    min_file: 50
    exclude: ["**/mocks/**"]
    overrides:
      - {path: "internal/legacy/**", min: 30}`,
		Example: `  shipyard test --min-total 80
  shipyard test ./internal/... --min-file 60 -- -race -count=1
  shipyard test --profile unit.out --profile integration.out --min-total 75
  shipyard test --diff-base origin/main --min-diff 80
  shipyard test --lcov coverage/lcov.info --min-lines 80 --min-branches 70`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			pkgs, extra := args, []string(nil)
			if dash := cmd.ArgsLenAtDash(); dash >= 0 {
				pkgs, extra = args[:dash], args[dash:]
			}
			if len(o.Lcov) > 0 {
				return runLcov(cmd, f, &o, args)
			}
			return runTest(cmd, f, &o, pkgs, extra)
		},
	}
	o.addFlags(c.PersistentFlags())
	c.AddCommand(&cobra.Command{Use: "merge DIR…", Short: "Merge the shards' profiles, JUnit and timings, and gate once on the whole",
		Args: cobra.MinimumNArgs(1), RunE: func(cmd *cobra.Command, dirs []string) error {
			m, err := pipeline.MergeShards(cmd.Context(), f.Dir, dirs, o.JUnit, o.Timings, pipeline.ClientFor(f.Config.Registry, f.Getenv))
			if err != nil {
				return err
			}
			if o.Profiles, o.Lcov, o.JUnit = m.Profiles, m.Lcov, ""; len(o.Lcov) > 0 {
				return runLcov(cmd, f, &o, nil)
			}
			return errors.Join(runTest(cmd, f, &o, nil, nil), m.TestsErr)
		}})
	return c
}

// addFlags declares the flags of shipyard test, bound to the test: keys of shipyard.yaml.
func (o *testOptions) addFlags(fl *pflag.FlagSet) {
	fl.StringArrayVar(&o.Profiles, "profile", nil, "check this cover profile `FILE` instead of running the tests (repeatable: profiles are merged)")
	fl.StringArrayVar(&o.CoverDirs, "coverdir", nil, "check the GOCOVERDIR `DIR` of binaries built with go build -cover (repeatable; merges with --profile)")
	fl.Float64Var(&o.MinTotal, "min-total", 0, "minimum total coverage in `PERCENT` (negative: most uncovered statements)")
	fl.Float64Var(&o.MinPackage, "min-package", 0, "minimum coverage of every package in `PERCENT`")
	fl.Float64Var(&o.MinFile, "min-file", 0, "minimum coverage of every file in `PERCENT`")
	fl.StringSliceVar(&o.Exclude, "exclude", nil, "leave out files matching `GLOB`, relative to the module root (repeatable)")
	fl.BoolVar(&o.IncludeGenerated, "include-generated", false, "count generated files too")
	fl.StringVar(&o.Coverpkg, "coverpkg", "", "measure `PACKAGES` from every test binary (go test -coverpkg)")
	fl.BoolVar(&o.All, "all", false, "list every file, not only the worst")
	fl.StringVar(&o.DiffBase, "diff-base", "", "measure the lines changed since `REF` (from the merge base, as a pull request)")
	fl.Float64Var(&o.MinDiff, "min-diff", 0, "minimum coverage of the changed lines in `PERCENT` (with --diff-base)")
	fl.StringVar(&o.Baseline, "baseline", "", "fail when the total falls below the one recorded in `FILE`")
	fl.Float64Var(&o.Tolerance, "baseline-tolerance", coverage.DefaultBaselineTolerance, "how many `POINTS` the total may fall below the baseline")
	fl.BoolVar(&o.UpdateBaseline, "update-baseline", false, "record the total in the --baseline file when every check passes")
	fl.StringVar(&o.JUnit, "junit", "", "write the test results as JUnit XML to `FILE` (runs go test -json)")
	fl.StringVar(&o.Cobertura, "cobertura", "", "write a Cobertura XML report to `FILE` (GitLab, Jenkins, Azure DevOps)")
	fl.StringVar(&o.Badge, "badge", "", "write an SVG coverage badge to `FILE`")
	fl.StringVar(&o.HTML, "html", "", "write an HTML report (an index and a page per file) to `DIR`")
	fl.StringArrayVar(&o.Lcov, "lcov", nil, "check the lcov `FILE` of nyc, c8 or jest instead (lines, functions, branches; repeatable: added up)")
	fl.Float64Var(&o.MinLines, "min-lines", 0, "with --lcov: minimum total coverage of lines in `PERCENT`")
	fl.Float64Var(&o.MinFunctions, "min-functions", 0, "with --lcov: minimum share of functions called in `PERCENT`")
	fl.Float64Var(&o.MinBranches, "min-branches", 0, "with --lcov: minimum share of branches taken in `PERCENT`")
	fl.StringVar(&o.Shard, "shard", "", "run shard `K/N` of the packages, balanced by --timings; its files go to --shard-dir (merge them with test merge)")
	fl.StringVar(&o.ShardDir, "shard-dir", pipeline.DefaultShardDir, "`DIR` of the shards' profiles, JUnit and timings")
	fl.StringVar(&o.Timings, "timings", pipeline.DefaultTimings, "the `FILE` of earlier runs' durations, read by --shard, written by test merge")
	fl.BoolVar(&o.ShardGate, "shard-gate", false, "with --shard: gate the shard on its own coverage too (by default only test merge gates)")
	config.BindUnder(fl, "test", "min-total", "min-package", "min-file", "exclude", "include-generated", "coverpkg",
		"diff-base", "min-diff", "baseline", "baseline-tolerance", "min-lines", "min-functions", "min-branches")
}

func runTest(cmd *cobra.Command, f *Factory, o *testOptions, pkgs, extra []string) error {
	if o.UpdateBaseline && o.Baseline == "" {
		return exitcode.Input(errors.New("--update-baseline needs --baseline FILE"))
	}
	if o.MinDiff != 0 && o.DiffBase == "" {
		return exitcode.Input(errors.New("--min-diff needs --diff-base REF"))
	}
	run, err := f.measure(cmd, o, pkgs, extra)
	if err != nil {
		return err
	}
	report, p := run.Report, run.Profile
	f.warnNoSource(report)
	out := textreport.NewTestResult(report, run.Gate.Failures)
	out.Diff, out.Baseline = run.Gate.Diff, run.Gate.Baseline
	if err := f.testOutputs(report, out.Diff, out.Failures); err != nil {
		return err
	}
	if err := f.Render(out, func(w io.Writer) error {
		if err := textreport.CoverageTable(w, report, out.Failures, o.All); err != nil {
			return err
		}
		return textreport.DiffSummary(w, out.Diff, o.DiffBase)
	}); err != nil {
		return err
	}
	if err := f.writeTestReports(o, report, p); err != nil {
		return err
	}
	if o.UpdateBaseline && run.Err() == nil {
		if err := pipeline.WriteBaseline(cmd.Context(), f.Dir, o.Baseline, report, pipeline.ClientFor(f.Config.Registry, f.Getenv)); err != nil {
			return err
		}
		f.IO.Infof("recorded %.2f%% in %s", report.Total.Percent(), o.Baseline)
	}
	return run.Err()
}

// measure runs the tests, or reads the profiles and coverage directories given, and gates what was
// measured. The tests' output goes to stderr, folded in a group under GitHub Actions; with --quiet it is
// kept back and shown only when they fail.
func (f *Factory) measure(cmd *cobra.Command, o *testOptions, pkgs, extra []string) (*coverage.RunResult, error) {
	var held bytes.Buffer
	w := f.IO.ErrOut
	if f.IO.Quiet {
		w = &held
	}
	w = iostreams.Locked(w) // go test's stdout and stderr are copied by two goroutines
	mo := coverage.MeasureOptions{Test: coverage.GoTest{Dir: f.Dir, Packages: pkgs, Coverpkg: o.Coverpkg, Args: extra, Stdout: w, Stderr: w},
		JUnit: f.Path(o.JUnit)}
	for _, p := range o.Profiles {
		mo.Profiles = append(mo.Profiles, f.Path(p))
	}
	for _, d := range o.CoverDirs {
		mo.CoverDirs = append(mo.CoverDirs, f.Path(d))
	}
	cfg := config.Test{MinTotal: o.MinTotal, MinPackage: o.MinPackage, MinFile: o.MinFile, Exclude: o.Exclude, IncludeGenerated: o.IncludeGenerated,
		Overrides: f.Config.Test.Overrides, DiffBase: o.DiffBase, MinDiff: o.MinDiff, Baseline: o.Baseline, BaselineTolerance: o.Tolerance}
	if o.Shard != "" {
		var err error
		if mo.Shard, err = pipeline.Shard(f.Dir, o.Shard, o.ShardDir, o.Timings, pipeline.ClientFor(f.Config.Registry, f.Getenv)); err != nil {
			return nil, err
		}
		if !o.ShardGate { // a shard's coverage is a part: test merge gates the whole
			cfg = config.Test{Exclude: o.Exclude, IncludeGenerated: o.IncludeGenerated}
		}
	}
	end := f.Actions.Group("go test")
	run, err := coverage.Run(cmd.Context(), coverage.RunOptions{Measure: mo, Analyze: pipeline.TestAnalysis(f.Dir, cfg), Gate: pipeline.TestGate(f.Dir, cfg, pipeline.ClientFor(f.Config.Registry, f.Getenv))})
	end()
	if (err != nil || run.TestsErr != nil) && held.Len() > 0 {
		f.IO.ErrOut.Write(held.Bytes())
	}
	return run, err
}

// writeTestReports writes the report files that were asked for.
func (f *Factory) writeTestReports(o *testOptions, report *coverage.Report, p *coverage.Profile) error {
	err := report.WriteReports(p, coverage.Reports{Cobertura: f.Path(o.Cobertura), Badge: f.Path(o.Badge), HTML: f.Path(o.HTML), Now: f.now()})
	if err == nil && o.HTML != "" {
		f.IO.Infof("HTML report: %s", filepath.Join(o.HTML, "index.html"))
	}
	return err
}

func (f *Factory) testOutputs(r *coverage.Report, diff *coverage.DiffCoverage, failures []coverage.Failure) error {
	outputs := []string{"coverage", fmt.Sprintf("%.1f", r.Total.Percent())}
	if diff != nil {
		outputs = append(outputs, "diff_coverage", fmt.Sprintf("%.1f", diff.Percent()))
	}
	if err := f.SetOutputs(outputs...); err != nil || !f.Actions.Enabled() {
		return err
	}
	for _, a := range textreport.CoverageAnnotations(r, diff, failures) {
		a.File = f.Actions.RepoPath(r.Root, a.File)
		f.Actions.Annotate(a)
	}
	return f.Actions.AddSummary(textreport.CoverageMarkdown(r, failures))
}

// now is the time reports and records carry: SOURCE_DATE_EPOCH when set, so that builds reproduce.
func (f *Factory) now() time.Time { return pipeline.Now(f.Getenv) }

// warnNoSource names the files of a report whose source was not found.
func (f *Factory) warnNoSource(r *coverage.Report) {
	for _, name := range r.NoSource {
		f.IO.Warnf("no source for %s: all its statements count, outside functions too", name)
	}
}
