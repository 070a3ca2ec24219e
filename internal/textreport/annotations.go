package textreport

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shipyardci/shipyard/audit"
	"github.com/shipyardci/shipyard/coverage"
	"github.com/shipyardci/shipyard/internal/ghactions"
)

// MaxAnnotations is how many annotations an audit writes: GitHub keeps ten errors and ten warnings of a
// step, and the rest go to the step summary.
const MaxAnnotations = 10

// AuditAnnotations are the audit's annotations for GitHub Actions: one per manifest line with advisories,
// listing them worst first (an error when one fails at failOn, a warning otherwise), then the deprecated
// and retracted dependencies; at most MaxAnnotations, the last saying how many more the step summary has.
func AuditAnnotations(r *audit.Report, failOn string) []ghactions.Annotation {
	type place struct {
		file string
		line int
	}
	var order []place
	byPlace := map[place][]audit.Vulnerability{}
	for _, v := range WorstFirst(r.Vulnerabilities) {
		if v.Ignored != "" {
			continue
		}
		p := place{v.File, v.Line}
		if _, ok := byPlace[p]; !ok {
			order = append(order, p)
		}
		byPlace[p] = append(byPlace[p], v)
	}
	var out []ghactions.Annotation
	for _, p := range order {
		vulns := byPlace[p]
		level, ids, lines := ghactions.Warning, []string{}, []string{}
		for _, v := range vulns {
			if r.Fails(v, failOn) {
				level = ghactions.Error
			}
			ids = append(ids, v.ID)
			lines = append(lines, fmt.Sprintf("%s (%s) in %s@%s: %s%s", v.ID, v.Severity, v.Name, v.Version, strings.TrimSpace(v.Summary), FixedIn(v.Fixed)))
		}
		title := Plural(len(vulns), "advisory") + ": " + strings.Join(ids, ", ")
		if first := vulns[0]; !slices.ContainsFunc(vulns, func(v audit.Vulnerability) bool { return v.Name != first.Name }) {
			title = strings.Join(ids, ", ") + " in " + first.Name + "@" + first.Version
		}
		out = append(out, ghactions.Annotation{Level: level, File: p.file, Line: p.line, Title: title, Message: strings.Join(lines, "\n")})
	}
	for _, d := range r.Dependencies {
		if d.Deprecated != "" {
			out = append(out, ghactions.Annotation{Level: ghactions.Warning, File: d.File, Line: d.Line, Title: d.Name + " is deprecated", Message: d.Deprecated})
		}
		if d.Retracted != "" {
			out = append(out, ghactions.Annotation{Level: ghactions.Warning, File: d.File, Line: d.Line, Title: d.Name + "@" + d.Current + " is retracted", Message: d.Retracted})
		}
	}
	if len(out) <= MaxAnnotations {
		return out
	}
	more := len(out) - (MaxAnnotations - 1)
	rest := slices.ContainsFunc(out[MaxAnnotations-1:], func(a ghactions.Annotation) bool { return a.Level == ghactions.Error })
	level := ghactions.Warning
	if rest {
		level = ghactions.Error
	}
	return append(out[:MaxAnnotations-1], ghactions.Annotation{Level: level, Title: "shipyard audit",
		Message: fmt.Sprintf("and %d more in the step summary", more)})
}

// CoverageAnnotations are a test run's annotations for GitHub Actions, paths relative to the module: a
// file below its threshold, and each range of changed lines that no test ran.
func CoverageAnnotations(r *coverage.Report, diff *coverage.DiffCoverage, failures []coverage.Failure) []ghactions.Annotation {
	var out []ghactions.Annotation
	for _, fl := range failures {
		if fl.Scope == coverage.ScopeFile {
			out = append(out, ghactions.Annotation{File: fl.Name, Title: "coverage", Message: fl.Message})
		}
	}
	if diff == nil {
		return out
	}
	for _, df := range diff.Files {
		for _, rg := range LineRanges(df.Uncovered) {
			out = append(out, ghactions.Annotation{Level: ghactions.Warning, File: df.Path, Line: rg[0], EndLine: rg[1],
				Title: "not covered", Message: "changed lines without a test that runs them"})
		}
	}
	return out
}
