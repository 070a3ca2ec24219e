// Package textreport is how shipyard's results read for people: the tables and summary lines of the
// commands' text output, and the JSON shapes some of them have. It writes to the writer it is given.
package textreport

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/shipyardci/shipyard/audit"
	"github.com/shipyardci/shipyard/coverage"
)

// shownFiles is how many of the worst files the text report lists without --all.
const shownFiles = 10

// TestResult is the JSON of shipyard test: the contract's total, packages[], files[], passed, failures[].
type TestResult struct {
	Total      float64                `json:"total"`
	Statements int                    `json:"statements"`
	Covered    int                    `json:"covered"`
	Functions  coverage.FuncCounts    `json:"functions"`
	Ignored    int                    `json:"ignored_statements"`
	Packages   []PackageResult        `json:"packages"`
	Files      []FileResult           `json:"files"`
	Excluded   []coverage.Excluded    `json:"excluded"`
	Passed     bool                   `json:"passed"`
	Failures   []coverage.Failure     `json:"failures"`
	Diff       *coverage.DiffCoverage `json:"diff,omitempty"`
	Baseline   *coverage.Baseline     `json:"baseline,omitempty"`
}

// PackageResult is a package of TestResult, with its percentage.
type PackageResult struct {
	coverage.PackageCoverage
	Percent float64 `json:"percent"`
}

// FileResult is a file of TestResult, with its percentage.
type FileResult struct {
	coverage.FileCoverage
	Percent float64 `json:"percent"`
}

// Round2 rounds a percentage to two decimals, as the JSON reports carry them.
func Round2(f float64) float64 { return math.Round(f*100) / 100 }

// NewTestResult is the JSON of a run: the report and the failures of its gates.
func NewTestResult(r *coverage.Report, failures []coverage.Failure) TestResult {
	out := TestResult{
		Total: Round2(r.Total.Percent()), Statements: r.Total.Statements, Covered: r.Total.Covered,
		Functions: r.Functions, Ignored: r.Ignored.Statements, Excluded: r.Excluded,
		Passed: len(failures) == 0, Failures: failures,
		Packages: []PackageResult{}, Files: []FileResult{},
	}
	for _, p := range r.Packages {
		out.Packages = append(out.Packages, PackageResult{p, Round2(p.Percent())})
	}
	for _, fc := range r.Files {
		out.Files = append(out.Files, FileResult{fc, Round2(fc.Percent())})
	}
	return out
}

// DisplayName is how a file is named in reports: its path in the module, else its import path name.
func DisplayName(fc coverage.FileCoverage) string {
	if fc.Path != "" {
		return fc.Path
	}
	return fc.Name
}

// WorstFiles orders files from the least covered (then the most uncovered statements) and, unless all,
// keeps those that fail a threshold and the worst shownFiles.
func WorstFiles(files []coverage.FileCoverage, failures []coverage.Failure, all bool) []coverage.FileCoverage {
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
		if i < shownFiles || failing[DisplayName(fc)] {
			out = append(out, fc)
		}
	}
	return out
}

// CoverageTable prints the files worst first, then the total with what was left out.
func CoverageTable(w io.Writer, r *coverage.Report, failures []coverage.Failure, all bool) error {
	files := WorstFiles(r.Files, failures, all)
	fmt.Fprintf(w, "%8s  %10s  %s\n", "COVERAGE", "STATEMENTS", "FILE")
	for _, fc := range files {
		fmt.Fprintf(w, "%7.1f%%  %10s  %s\n", fc.Percent(), fmt.Sprintf("%d/%d", fc.Covered, fc.Statements), DisplayName(fc))
	}
	if more := len(r.Files) - len(files); more > 0 {
		fmt.Fprintf(w, "… %d more files covered better (--all lists them)\n", more)
	}
	var notes []string
	if r.Functions.Total > 0 {
		notes = append(notes, fmt.Sprintf("functions: %d of %d called", r.Functions.Called, r.Functions.Total))
	}
	if r.Ignored.Statements > 0 {
		notes = append(notes, "ignored: "+Plural(r.Ignored.Statements, "statement"))
	}
	if len(r.Excluded) > 0 {
		notes = append(notes, "excluded: "+Plural(len(r.Excluded), "file"))
	}
	if r.Total.Statements == 0 {
		notes = append([]string{"no statements: nothing was measured"}, notes...)
	} else {
		notes = append([]string{fmt.Sprintf("%d/%d statements", r.Total.Covered, r.Total.Statements)}, notes...)
	}
	_, err := fmt.Fprintf(w, "\ntotal %.1f%% (%s)\n", r.Total.Percent(), strings.Join(notes, "; "))
	return err
}

// DiffSummary prints the coverage of the changed lines and where they are not covered.
func DiffSummary(w io.Writer, d *coverage.DiffCoverage, base string) error {
	if d == nil {
		return nil
	}
	fmt.Fprintf(w, "changed lines since %s: %.1f%% (%d of %d lines with statements covered)\n", base, d.Percent(), d.Covered, d.Lines)
	for _, df := range d.Files {
		if len(df.Uncovered) == 0 {
			continue
		}
		var ranges []string
		for _, rg := range LineRanges(df.Uncovered) {
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

// LineRanges folds sorted line numbers into [first, last] runs.
func LineRanges(lines []int) [][2]int {
	var out [][2]int
	for _, l := range lines {
		if n := len(out); n > 0 && out[n-1][1] == l-1 {
			out[n-1][1] = l
			continue
		}
		out = append(out, [2]int{l, l})
	}
	return out
}

// Plural is n and the noun, with an s unless n is 1.
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if stem, ok := strings.CutSuffix(noun, "y"); ok {
		return fmt.Sprintf("%d %sies", n, stem)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// FixedIn says which version fixes an advisory, for the end of a line.
func FixedIn(v string) string {
	if v == "" {
		return " (no fixed version yet)"
	}
	return " (fixed in " + v + ")"
}

// Audit prints the outdated table, like npm outdated, then the notes and the vulnerabilities.
func Audit(w io.Writer, r *audit.Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var outdated []audit.Dependency
	for _, d := range r.Dependencies {
		if d.Update != audit.UpdateNone || d.Error != "" {
			outdated = append(outdated, d)
		}
	}
	if len(outdated) > 0 {
		fmt.Fprintln(tw, "Package\tCurrent\tWanted\tLatest\tType\tUpdate")
		for _, d := range outdated {
			latest, update := d.Latest, string(d.Update)
			if d.LatestName != "" {
				latest += " (" + d.LatestName + ")"
			}
			if d.Error != "" {
				latest, update = "?", "error: "+d.Error
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, d.Current, d.Wanted, latest, d.Type, update)
		}
	} else {
		fmt.Fprintf(tw, "all %d dependencies are up to date\n", len(r.Dependencies))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, d := range r.Dependencies {
		if d.Deprecated != "" {
			fmt.Fprintf(w, "\n%s is deprecated: %s", d.Name, d.Deprecated)
		}
		if d.Retracted != "" {
			fmt.Fprintf(w, "\n%s@%s is retracted: %s", d.Name, d.Current, d.Retracted)
		}
		if d.Backport {
			fmt.Fprintf(w, "\n%s %s was published before %s, the version in use", d.Name, d.Latest, d.Current)
		}
	}
	if err := runtimes(w, r); err != nil {
		return err
	}
	if err := vulnerabilities(w, r); err != nil {
		return err
	}
	offs := 0
	for _, d := range r.Dependencies {
		if d.NotChecked != "" {
			offs++
		}
	}
	if offs > 0 {
		fmt.Fprintf(w, "\nversions: not checked for %s: %s\n", Plural(offs, "dependency"), audit.ErrLookupsOff)
	}
	if unchecked := r.Unchecked(); len(unchecked) > 0 {
		var names []string
		for _, d := range unchecked {
			names = append(names, d.Name)
		}
		_, err := fmt.Fprintf(w, "\nnot checked: the versions of %s (%s): the audit is incomplete\n", Plural(len(unchecked), "dependency"), strings.Join(names, ", "))
		return err
	}
	return nil
}

// runtimes prints the project's runtimes in their support windows, or why they were not checked.
func runtimes(w io.Writer, r *audit.Report) error {
	if r.RuntimeNote != "" {
		_, err := fmt.Fprintf(w, "\n\n%s", r.RuntimeNote)
		return err
	}
	if len(r.Runtimes) == 0 {
		return nil
	}
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Runtime\tVersion\tSource\tRelease\tStatus\tEnd of life\tMove to")
	for _, rt := range r.Runtimes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", rt.Name, rt.Version, rt.Source, cmp.Or(rt.Release, "?"), rt.Status, cmp.Or(rt.EOL, "-"), cmp.Or(rt.MoveTo, "-"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprint(w, "\n\n"+strings.TrimRight(table.String(), "\n")) // the next section starts its own lines
	return err
}

// vulnerabilities prints the vulnerabilities, worst first, in aligned columns; or that none was found; or,
// without a database, that none was looked for.
func vulnerabilities(w io.Writer, r *audit.Report) error {
	if r.VulnDB == nil {
		_, err := fmt.Fprintln(w, "\n\nvulnerabilities: not checked (the vulnerability database is off)")
		return err
	}
	vulns := WorstFirst(r.Vulnerabilities)
	if len(vulns) == 0 {
		_, err := fmt.Fprintln(w, "\n\nno known vulnerabilities")
		return err
	}
	how := ""
	switch r.GoScan {
	case "":
	case "go.mod":
		how = " (Go: go.mod's requirements matched, govulncheck could not load the module)"
	default:
		how = " (Go: govulncheck's " + r.GoScan + " scan)"
	}
	fmt.Fprintf(w, "\n\n%s%s\n", Plural(len(vulns), "vulnerability"), how)
	reach := slices.ContainsFunc(vulns, func(v audit.Vulnerability) bool { return v.Reachable != "" })
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, v := range vulns {
		ignored, reached := "", ""
		if v.Ignored != "" {
			ignored = "  [ignored: " + v.Ignored + "]"
		}
		if reach {
			reached = cmp.Or(v.Reachable, "-") + "\t"
		}
		fmt.Fprintf(tw, "%s\t%s@%s\t%s\t%s%s%s%s\n", v.ID, v.Name, v.Version, v.Severity, reached, strings.TrimSpace(v.Summary), FixedIn(v.Fixed), ignored)
	}
	return tw.Flush()
}

// WorstFirst is the vulnerabilities ordered by severity, the worst first, in their order otherwise.
func WorstFirst(vulns []audit.Vulnerability) []audit.Vulnerability {
	out := slices.Clone(vulns)
	slices.SortStableFunc(out, func(a, b audit.Vulnerability) int {
		return audit.SeverityRank(b.Severity) - audit.SeverityRank(a.Severity)
	})
	return out
}

// AuditMarkdown is the vulnerabilities and the dependencies not checked as a GitHub step summary.
func AuditMarkdown(r *audit.Report) string {
	var b strings.Builder
	b.WriteString("### shipyard audit\n\n")
	switch {
	case r.VulnDB == nil:
		b.WriteString("Vulnerabilities: not checked (the vulnerability database is off).\n")
	case len(r.Vulnerabilities) == 0:
		b.WriteString("No known vulnerabilities.\n")
	default:
		b.WriteString("| Advisory | Package | Severity | Fixed in | Summary |\n|---|---|---|---|---|\n")
		for _, v := range WorstFirst(r.Vulnerabilities) {
			fmt.Fprintf(&b, "| %s | %s@%s | %s | %s | %s |\n", v.ID, v.Name, v.Version, v.Severity, v.Fixed, strings.ReplaceAll(strings.TrimSpace(v.Summary), "|", "\\|"))
		}
	}
	for _, d := range r.Unchecked() {
		fmt.Fprintf(&b, "\nNot checked: %s (%s).\n", d.Name, d.Error)
	}
	return b.String()
}

// Fix prints what audit fix did, or would do with dryRun.
func Fix(w io.Writer, r *audit.FixResult, dryRun bool) error {
	if len(r.Updates) == 0 {
		fmt.Fprintln(w, "nothing to update")
	}
	verb := "updated"
	if dryRun {
		verb = "would update"
	}
	for _, u := range r.Updates {
		fix := ""
		if len(u.Advisories) > 0 {
			fix = " (fixes " + strings.Join(u.Advisories, ", ") + ")"
		}
		fmt.Fprintf(w, "%s %s %s → %s [%s, %s]%s\n", verb, u.Name, u.From, u.To, u.Type, u.Group, fix)
	}
	for _, s := range r.Skipped {
		fmt.Fprintf(w, "skipped %s: %s\n", s.Name, s.Reason)
	}
	for _, b := range r.Bodies {
		fmt.Fprintf(w, "pull-request body: %s\n", b)
	}
	if r.Branch != "" && !dryRun && len(r.Updates) > 0 {
		fmt.Fprintf(w, "committed on branch %s\n", r.Branch)
	}
	return nil
}

// ShortDigest is a digest cut to its algorithm and 12 hex digits, as tables show it.
func ShortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

// Bytes is a byte count in binary units (KiB, MiB, …).
func Bytes(n float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f %s", n, units[i])
	}
	return fmt.Sprintf("%.1f %s", n, units[i])
}
