package coverage

import (
	"context"
	"fmt"
	"strings"

	"github.com/shipyardci/shipyard/internal/usererr"
)

// DefaultBaselineTolerance is how many points the total may fall below its baseline unless told otherwise.
const DefaultBaselineTolerance = 0.1

// FailuresError is the error of a run that missed gates: nil when there are no failures.
func FailuresError(failures []Failure) error {
	if len(failures) == 0 {
		return nil
	}
	msgs := make([]string, len(failures))
	for i, fl := range failures {
		msgs[i] = fl.Message
	}
	return fmt.Errorf("coverage below thresholds: %s", strings.Join(msgs, "; "))
}

// Gate is every check of a run: the thresholds, the coverage of the lines changed since a base, and the
// total recorded in a baseline file.
type Gate struct {
	Thresholds Thresholds
	// Dir is the repository the changed lines are read from (git), DiffBase the ref they are changed
	// since ("": no such check), MinDiff their minimum coverage.
	Dir      string
	DiffBase string
	MinDiff  float64
	// Baseline is the file of the recorded total ("": no such check); the total may fall Tolerance points
	// below it.
	Baseline  string
	Tolerance float64
	// Store, when set, keeps the baseline instead of the Baseline file (a registry).
	Store BaselineStore
}

// BaselineStore keeps a baseline somewhere other than a file.
type BaselineStore interface {
	ReadBaseline(ctx context.Context) (*Baseline, error)
}

// GateResult is what a gate found: the failures, and the changed lines and the baseline it measured
// against (nil when not asked).
type GateResult struct {
	Failures []Failure
	Diff     *DiffCoverage
	Baseline *Baseline
}

// InputError is a gate's or a measure's input the user has to fix: the option (Option,
// "coverage.DiffBase"), and why.
type InputError = usererr.Error

// Gate runs every check of g on the report of the profile p.
func (r *Report) Gate(ctx context.Context, p *Profile, g Gate) (*GateResult, error) {
	out := &GateResult{Failures: r.Check(g.Thresholds)}
	if g.DiffBase != "" {
		changed, err := ChangedLines(ctx, g.Dir, g.DiffBase)
		if err != nil {
			return nil, &InputError{Option: "coverage.DiffBase", Err: err}
		}
		out.Diff = r.Diff(p, changed)
		if fl, ok := out.Diff.CheckDiff(g.MinDiff); !ok {
			out.Failures = append(out.Failures, fl)
		}
	}
	if g.Baseline != "" || g.Store != nil {
		b, err := ReadBaseline(g.Baseline)
		if g.Store != nil {
			b, err = g.Store.ReadBaseline(ctx)
		}
		if err != nil {
			return nil, &InputError{Err: err} // the error names the file
		}
		out.Baseline = b
		if fl, ok := r.CheckBaseline(b, g.Tolerance); !ok {
			out.Failures = append(out.Failures, fl)
		}
	}
	return out, nil
}
