package coverage

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBaselineRatchet(t *testing.T) {
	path := filepath.Join(t.TempDir(), "coverage-baseline.json")
	b, err := ReadBaseline(path)
	require.NoError(t, err)
	assert.Nil(t, b, "no file yet: no baseline")

	r := &Report{Total: Counts{Statements: 3, Covered: 2}} // 66.666…%
	_, ok := r.CheckBaseline(b, 0.1)
	assert.True(t, ok)
	require.NoError(t, r.WriteBaseline(path))
	b, err = ReadBaseline(path)
	require.NoError(t, err)
	assert.Equal(t, &Baseline{Total: 66.66, Statements: 3, Covered: 2}, b, "rounded down: the run that wrote it passes it")
	_, ok = r.CheckBaseline(b, 0)
	assert.True(t, ok)

	tests := []struct {
		covered   int
		tolerance float64
		ok        bool
	}{
		{200, 0, true},    // 66.67%
		{199, 0.5, true},  // 66.33%: within half a point
		{199, 0.1, false}, // 66.33%: more than 0.1 below
		{300, 0, true},    // 100%
		{100, 50.0, true}, // 33.3%, a huge tolerance
	}
	for _, tt := range tests {
		r := &Report{Total: Counts{Statements: 300, Covered: tt.covered}}
		f, ok := r.CheckBaseline(b, tt.tolerance)
		assert.Equal(t, tt.ok, ok, "%d/300 with tolerance %v", tt.covered, tt.tolerance)
		if !ok {
			assert.Equal(t, "total 66.33% fell below the baseline 66.66% (tolerance 0.1 points)", f.Message)
			assert.Equal(t, ScopeBaseline, f.Scope)
		}
	}

	require.NoError(t, os.WriteFile(path, []byte("{not json"), 0o644))
	_, err = ReadBaseline(path)
	var perr *ParseError
	require.ErrorAs(t, err, &perr)
}
