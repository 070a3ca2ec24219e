package textreport

import (
	"fmt"
	"io"

	"github.com/shipyardci/shipyard/coverage"
	"github.com/shipyardci/shipyard/migrate"
)

// LcovResult is the JSON of shipyard test --lcov.
type LcovResult struct {
	Total     float64             `json:"total"` // lines
	Lines     coverage.Tally      `json:"lines"`
	Functions coverage.Tally      `json:"functions"`
	Branches  coverage.Tally      `json:"branches"`
	Packages  []any               `json:"packages"`
	Files     []coverage.LcovFile `json:"files"`
	Passed    bool                `json:"passed"`
	Failures  []coverage.Failure  `json:"failures"`
}

// NewLcovResult is the JSON of an lcov check.
func NewLcovResult(r *coverage.LcovReport, failures []coverage.Failure) LcovResult {
	return LcovResult{Total: Round2(r.Lines.Percent()), Lines: r.Lines, Functions: r.Functions, Branches: r.Branches,
		Packages: []any{}, Files: r.Files, Passed: len(failures) == 0, Failures: failures}
}

// Lcov prints an lcov report's files and totals: lines, functions and branches.
func Lcov(w io.Writer, r *coverage.LcovReport) error {
	cell := func(t coverage.Tally) string {
		if t.Found == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", t.Percent())
	}
	fmt.Fprintf(w, "%8s  %9s  %8s  %s\n", "LINES", "FUNCTIONS", "BRANCHES", "FILE")
	for _, fl := range r.Files {
		fmt.Fprintf(w, "%8s  %9s  %8s  %s\n", cell(fl.Lines), cell(fl.Functions), cell(fl.Branches), fl.Path)
	}
	_, err := fmt.Fprintf(w, "\ntotal lines %s (%d/%d), functions %s (%d/%d), branches %s (%d/%d)\n",
		cell(r.Lines), r.Lines.Hit, r.Lines.Found, cell(r.Functions), r.Functions.Hit, r.Functions.Found,
		cell(r.Branches), r.Branches.Hit, r.Branches.Found)
	return err
}

// MigrationState is one migration in status output.
type MigrationState struct {
	Version uint64 `json:"version"`
	Name    string `json:"name"`
	File    string `json:"file"`
}

// StatusResult is the JSON of migrate status.
type StatusResult struct {
	Database string             `json:"database"`
	Version  uint64             `json:"version"`
	Dirty    bool               `json:"dirty"`
	Running  bool               `json:"running"`
	Phase    string             `json:"phase"`
	Live     *migrate.LiveState `json:"live,omitempty"`
	Applied  []MigrationState   `json:"applied"`
	Failed   []MigrationState   `json:"failed"`
	Pending  []MigrationState   `json:"pending"`
	Findings []migrate.Finding  `json:"findings"`
}

// NewStatusResult is the JSON of a database's status (database is its redacted URL).
func NewStatusResult(database string, st *migrate.Status) StatusResult {
	states := func(ms []migrate.Migration) []MigrationState {
		out := []MigrationState{}
		for _, m := range ms {
			out = append(out, MigrationState{Version: m.Version, Name: m.Name, File: m.File()})
		}
		return out
	}
	out := StatusResult{Database: database, Version: st.Version, Dirty: st.Dirty, Running: st.Running, Live: st.Live,
		Applied: states(st.Applied), Failed: states(st.Failed), Pending: states(st.Pending), Findings: st.Findings}
	if st.Live != nil {
		out.Phase = string(st.Live.Phase)
	}
	return out
}
