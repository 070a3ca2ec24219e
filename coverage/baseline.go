package coverage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"

	"github.com/google/renameio/v2"
)

// Baseline is a recorded total coverage that later runs may not fall below (a ratchet).
type Baseline struct {
	Total      float64 `json:"total"`
	Statements int     `json:"statements"`
	Covered    int     `json:"covered"`
}

// ReadBaseline reads a baseline file; a missing file is no baseline (nil).
func ReadBaseline(path string) (*Baseline, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading coverage baseline: %w", err)
	}
	var b Baseline
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, &ParseError{File: path, Line: 1, Msg: "not a coverage baseline: " + err.Error()}
	}
	return &b, nil
}

// CheckBaseline fails when the total fell more than tolerance percentage points below the baseline.
func (r *Report) CheckBaseline(b *Baseline, tolerance float64) (Failure, bool) {
	if b == nil {
		return Failure{}, true
	}
	f := Failure{Scope: ScopeBaseline, Name: "total", Min: b.Total - tolerance, Percent: r.Total.Percent(), Uncovered: r.Total.Uncovered()}
	if r.Total.Percent() >= b.Total-tolerance {
		return f, true
	}
	f.Message = fmt.Sprintf("total %.2f%% fell below the baseline %.2f%% (tolerance %s points)", r.Total.Percent(), b.Total, trimFloat(tolerance))
	return f, false
}

// Baseline is what a baseline records of the report: its total, rounded down to two decimals.
func (r *Report) Baseline() Baseline {
	return Baseline{Total: floor2(r.Total.Percent()), Statements: r.Total.Statements, Covered: r.Total.Covered}
}

// WriteBaseline records the report's total at path, atomically.
func (r *Report) WriteBaseline(path string) error {
	data, err := json.MarshalIndent(r.Baseline(), "", "  ")
	if err != nil {
		return err
	}
	if err := renameio.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing coverage baseline: %w", err)
	}
	return nil
}

// floor2 keeps two decimals, rounding down so that the recorded baseline never exceeds what it records.
func floor2(p float64) float64 { return math.Floor(p*100) / 100 }
