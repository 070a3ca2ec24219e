package cmd

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/shipyardci/shipyard/coverage"
)

// shownFiles is how many of the worst files the text report lists without --all.
const shownFiles = 10

// testResult is the JSON of shipyard test: the contract's total, packages[], files[], passed, failures[].
type testResult struct {
	Total      float64                `json:"total"`
	Statements int                    `json:"statements"`
	Covered    int                    `json:"covered"`
	Functions  coverage.FuncCounts    `json:"functions"`
	Ignored    int                    `json:"ignored_statements"`
	Packages   []packageResult        `json:"packages"`
	Files      []fileResult           `json:"files"`
	Excluded   []coverage.Excluded    `json:"excluded"`
	Passed     bool                   `json:"passed"`
	Failures   []coverage.Failure     `json:"failures"`
	Diff       *coverage.DiffCoverage `json:"diff,omitempty"`
	Baseline   *coverage.Baseline     `json:"baseline,omitempty"`
}

type packageResult struct {
	coverage.PackageCoverage
	Percent float64 `json:"percent"`
}

type fileResult struct {
	coverage.FileCoverage
	Percent float64 `json:"percent"`
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func newTestResult(r *coverage.Report, failures []coverage.Failure) testResult {
	out := testResult{
		Total: round2(r.Total.Percent()), Statements: r.Total.Statements, Covered: r.Total.Covered,
		Functions: r.Functions, Ignored: r.Ignored.Statements, Excluded: r.Excluded,
		Passed: len(failures) == 0, Failures: failures,
		Packages: []packageResult{}, Files: []fileResult{},
	}
	for _, p := range r.Packages {
		out.Packages = append(out.Packages, packageResult{p, round2(p.Percent())})
	}
	for _, fc := range r.Files {
		out.Files = append(out.Files, fileResult{fc, round2(fc.Percent())})
	}
	return out
}

func displayName(fc coverage.FileCoverage) string {
	if fc.Path != "" {
		return fc.Path
	}
	return fc.Name
}

// worstFiles orders files from the least covered (then the most uncovered statements) and, unless all,
// keeps those that fail a threshold and the worst shownFiles.
func worstFiles(files []coverage.FileCoverage, failures []coverage.Failure, all bool) []coverage.FileCoverage {
	sorted := slices.Clone(files)
	slices.SortStableFunc(sorted, func(a, b coverage.FileCoverage) int {
		if d := a.Percent() - b.Percent(); d != 0 {
			return int(math.Copysign(1, d))
		}
		return b.Uncovered() - a.Uncovered()
	})
	if all {
		return sorted
	}
	failing := map[string]bool{}
	for _, f := range failures {
		if f.Scope == coverage.ScopeFile {
			failing[f.Name] = true
		}
	}
	var out []coverage.FileCoverage
	for i, fc := range sorted {
		if i < shownFiles || failing[displayName(fc)] {
			out = append(out, fc)
		}
	}
	return out
}

// writeCoverageTable prints the files worst first, then the total with what was left out.
func writeCoverageTable(w io.Writer, r *coverage.Report, failures []coverage.Failure, all bool) error {
	files := worstFiles(r.Files, failures, all)
	fmt.Fprintf(w, "%8s  %10s  %s\n", "COVERAGE", "STATEMENTS", "FILE")
	for _, fc := range files {
		fmt.Fprintf(w, "%7.1f%%  %10s  %s\n", fc.Percent(), fmt.Sprintf("%d/%d", fc.Covered, fc.Statements), displayName(fc))
	}
	if more := len(r.Files) - len(files); more > 0 {
		fmt.Fprintf(w, "… %d more files covered better (--all lists them)\n", more)
	}
	var notes []string
	if r.Functions.Total > 0 {
		notes = append(notes, fmt.Sprintf("functions: %d of %d called", r.Functions.Called, r.Functions.Total))
	}
	if r.Ignored.Statements > 0 {
		notes = append(notes, "ignored: "+plural(r.Ignored.Statements, "statement"))
	}
	if len(r.Excluded) > 0 {
		notes = append(notes, "excluded: "+plural(len(r.Excluded), "file"))
	}
	if r.Total.Statements == 0 {
		notes = append([]string{"no statements: nothing was measured"}, notes...)
	} else {
		notes = append([]string{fmt.Sprintf("%d/%d statements", r.Total.Covered, r.Total.Statements)}, notes...)
	}
	_, err := fmt.Fprintf(w, "\ntotal %.1f%% (%s)\n", r.Total.Percent(), strings.Join(notes, "; "))
	return err
}

// writeDiffSummary prints the coverage of the changed lines and where they are not covered.
func writeDiffSummary(w io.Writer, d *coverage.DiffCoverage, base string) error {
	if d == nil {
		return nil
	}
	fmt.Fprintf(w, "changed lines since %s: %.1f%% (%d of %d lines with statements covered)\n", base, d.Percent(), d.Covered, d.Lines)
	for _, df := range d.Files {
		if len(df.Uncovered) == 0 {
			continue
		}
		var ranges []string
		for _, rg := range lineRanges(df.Uncovered) {
			if rg[0] == rg[1] {
				ranges = append(ranges, fmt.Sprint(rg[0]))
			} else {
				ranges = append(ranges, fmt.Sprintf("%d-%d", rg[0], rg[1]))
			}
		}
		fmt.Fprintf(w, "  not covered: %s:%s\n", df.Path, strings.Join(ranges, ","))
	}
	return nil
}
