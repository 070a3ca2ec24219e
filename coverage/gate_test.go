package coverage

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGate: the thresholds and the baseline in one call, their failures in order; a baseline file that
// is not one is the user's input to fix.
func TestGate(t *testing.T) {
	ctx := context.Background()
	r := &Report{Total: Counts{Statements: 10, Covered: 8}}
	baseline := filepath.Join(t.TempDir(), "baseline.json")
	require.NoError(t, (&Report{Total: Counts{Statements: 10, Covered: 9}}).WriteBaseline(baseline))

	g, err := r.Gate(ctx, nil, Gate{Thresholds: Thresholds{Total: 85}, Baseline: baseline, Tolerance: 0.5})
	require.NoError(t, err)
	require.Len(t, g.Failures, 2)
	assert.Equal(t, ScopeTotal, g.Failures[0].Scope)
	assert.Equal(t, ScopeBaseline, g.Failures[1].Scope)
	assert.NotNil(t, g.Baseline)
	assert.Nil(t, g.Diff, "no diff base, no diff")

	g, err = r.Gate(ctx, nil, Gate{Thresholds: Thresholds{Total: 80}})
	require.NoError(t, err)
	assert.Empty(t, g.Failures)

	broken := filepath.Join(t.TempDir(), "broken.json")
	require.NoError(t, os.WriteFile(broken, []byte("{"), 0o644))
	_, err = r.Gate(ctx, nil, Gate{Baseline: broken})
	var in *InputError
	require.ErrorAs(t, err, &in)
	assert.True(t, in.InputError())
	assert.Contains(t, err.Error(), broken, "the error names the file")
}
