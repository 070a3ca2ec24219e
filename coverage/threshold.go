package coverage

import (
	"fmt"
	"path"
	"strings"
)

// Thresholds are minimum coverages. A positive value is a percentage of statements; a negative one is the
// most statements that may stay uncovered (-10: at most 10), as in istanbul and Jest; zero checks nothing.
type Thresholds struct {
	Total, Package, File float64
	// Overrides replace the package and file thresholds for the paths they match; the last match wins.
	Overrides []Override
}

// Override is the threshold of the packages and files matching a glob over module-relative paths
// ("internal/legacy/**", "cmd/*/main.go").
type Override struct {
	Path string  `json:"path"`
	Min  float64 `json:"min"`
}

// Failure is one missed threshold.
type Failure struct {
	Scope   Scope   `json:"scope"`
	Name    string  `json:"name"`
	Min     float64 `json:"min"`
	Percent float64 `json:"percent"`
	// Uncovered is the number of statements that never ran.
	Uncovered int    `json:"uncovered"`
	Message   string `json:"message"`
}

// Scope is what a threshold measures.
type Scope string

// The scopes of thresholds: statements in total, of a package or of a file; an lcov file's lines,
// functions and branches; the change since a base; the recorded baseline.
const (
	ScopeTotal     Scope = "total"
	ScopePackage   Scope = "package"
	ScopeFile      Scope = "file"
	ScopeLines     Scope = "lines"
	ScopeFunctions Scope = "functions"
	ScopeBranches  Scope = "branches"
	ScopeDiff      Scope = "diff"
	ScopeBaseline  Scope = "baseline"
)

// Check returns the thresholds r misses, total first, then packages and files in name order.
func (r *Report) Check(t Thresholds) []Failure {
	failures := []Failure{}
	if f, ok := check(ScopeTotal, "total", r.Total, t.Total, "statements"); !ok {
		failures = append(failures, f)
	}
	for _, p := range r.Packages {
		if f, ok := check(ScopePackage, p.Name, p.Counts, t.forPath(p.Dir, t.Package), "statements"); !ok {
			failures = append(failures, f)
		}
	}
	for _, fc := range r.Files {
		name := fc.Path
		if name == "" {
			name = fc.Name
		}
		if f, ok := check(ScopeFile, name, fc.Counts, t.forPath(fc.Path, t.File), "statements"); !ok {
			failures = append(failures, f)
		}
	}
	return failures
}

func (t Thresholds) forPath(p string, fallback float64) float64 {
	min := fallback
	for _, o := range t.Overrides {
		if match(o.Path, p) {
			min = o.Min
		}
	}
	return min
}

func check(scope Scope, name string, c Counts, min float64, noun string) (Failure, bool) {
	f := Failure{Scope: scope, Name: name, Min: min, Percent: c.Percent(), Uncovered: c.Uncovered()}
	label := string(scope) + " " + name
	if string(scope) == name {
		label = name
	}
	switch {
	case min > 0 && c.Percent() < min:
		f.Message = fmt.Sprintf("%s %s < %s%%", label, pct(c.Percent(), min), trimFloat(min))
	case min < 0 && float64(c.Uncovered()) > -min:
		f.Message = fmt.Sprintf("%s: %d %s uncovered, at most %s allowed", label, c.Uncovered(), noun, trimFloat(-min))
	default:
		return f, true
	}
	return f, false
}

// pct formats a percentage with one decimal, or two when one would make it look equal to the threshold.
func pct(p, min float64) string {
	s := fmt.Sprintf("%.1f%%", p)
	if s == trimFloat(min)+"%" || s == fmt.Sprintf("%.1f%%", min) {
		s = fmt.Sprintf("%.2f%%", p)
	}
	return s
}

func trimFloat(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", f), "0"), ".")
}

// packageDir is the module-relative directory of a package, from one of its files.
func packageDir(filePath string) string {
	if filePath == "" {
		return ""
	}
	return path.Dir(filePath)
}
