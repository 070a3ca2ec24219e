package testenv

import (
	"fmt"
	"testing"
)

// recorder is a test that notes how it ended instead of ending.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()           {}
func (r *recorder) Fatal(args ...any) { r.fatal = fmt.Sprint(args...) }
func (r *recorder) Skip(args ...any)  { r.skip = fmt.Sprint(args...) }

// TestToolFailsUnderCI: a missing peer tool skips a test on a laptop and fails it in CI, so that a green
// CI cannot hide a missing install step.
func TestToolFailsUnderCI(t *testing.T) {
	for _, tc := range []struct {
		ci          string
		fatal, skip bool
	}{{"true", true, false}, {"1", true, false}, {"", false, true}, {"false", false, true}} {
		t.Setenv("CI", tc.ci)
		r := &recorder{TB: t}
		Tool(r, "shipyard-no-such-tool", "apt-get install it")
		if (r.fatal != "") != tc.fatal || (r.skip != "") != tc.skip {
			t.Errorf("CI=%q: fatal %q, skip %q", tc.ci, r.fatal, r.skip)
		}
	}
	r := &recorder{TB: t}
	if path := Tool(r, "go", "the Go toolchain"); path == "" || r.fatal != "" || r.skip != "" {
		t.Errorf("go: %q, fatal %q, skip %q", path, r.fatal, r.skip)
	}
}
