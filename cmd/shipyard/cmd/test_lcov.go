package cmd

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/shipyardci/shipyard/coverage"
	"github.com/shipyardci/shipyard/internal/exitcode"
	"github.com/shipyardci/shipyard/internal/ghactions"
	"github.com/shipyardci/shipyard/internal/pipeline"
	"github.com/shipyardci/shipyard/internal/textreport"
)

// goOnlyFlags are the flags of shipyard test that measure Go profiles and mean nothing for an lcov file.
var goOnlyFlags = []string{"profile", "coverdir", "cobertura", "junit", "html", "min-total", "min-package", "coverpkg", "include-generated", "diff-base", "min-diff", "baseline", "update-baseline"}

// runLcov checks an lcov tracefile from nyc, c8 or jest against --min-lines, --min-functions,
// --min-branches and --min-file (lines of each file).
func runLcov(cmd *cobra.Command, f *Factory, o *testOptions, args []string) error {
	for _, name := range goOnlyFlags {
		if cmd.Flags().Changed(name) {
			return exitcode.Input(fmt.Errorf("--%s measures Go profiles and does not go with --lcov", name))
		}
	}
	if len(args) > 0 {
		return exitcode.Input(errors.New("packages and go test flags do not go with --lcov"))
	}
	r, err := pipeline.ReadLcov(f.Dir, o.Lcov, o.Exclude)
	if err != nil {
		return err
	}
	failures := r.Check(coverage.LcovThresholds{Lines: o.MinLines, Functions: o.MinFunctions, Branches: o.MinBranches, File: o.MinFile})

	if err := f.SetOutputs("coverage", fmt.Sprintf("%.1f", r.Lines.Percent())); err != nil {
		return err
	}
	for _, fl := range failures {
		if fl.Scope == coverage.ScopeFile {
			f.Actions.Annotate(ghactions.Annotation{File: fl.Name, Title: "coverage", Message: fl.Message})
		}
	}
	if err := f.Actions.AddSummary(fmt.Sprintf("### Coverage: %.1f%% of lines\n\nfunctions %.1f%%, branches %.1f%%", r.Lines.Percent(), r.Functions.Percent(), r.Branches.Percent())); err != nil {
		return err
	}
	if err := f.Render(textreport.NewLcovResult(r, failures), func(w io.Writer) error { return textreport.Lcov(w, r) }); err != nil {
		return err
	}
	if err := coverage.WriteBadge(f.Path(o.Badge), r.Lines.Percent()); err != nil {
		return err
	}
	return coverage.FailuresError(failures)
}
