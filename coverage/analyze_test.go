package coverage

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/golden"
)

const fixture = "testdata/fixture"

var (
	fixtureOnce    sync.Once
	fixtureProfile string
	fixtureErr     error
	scratch        string // removed after all tests
)

func TestMain(m *testing.M) {
	var err error
	if scratch, err = os.MkdirTemp("", "coverage-test-"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(scratch)
	os.Exit(code)
}

// fixtureCover runs the fixture module's tests once per test binary and returns its cover profile.
func fixtureCover(t *testing.T) string {
	t.Helper()
	fixtureOnce.Do(func() {
		fixtureProfile = filepath.Join(scratch, "cover.out")
		cmd := exec.Command("go", "test", "-covermode=atomic", "-coverprofile="+fixtureProfile, "./...")
		cmd.Dir = fixture
		if out, err := cmd.CombinedOutput(); err != nil {
			fixtureErr = err
			t.Logf("go test in %s:\n%s", fixture, out)
		}
	})
	require.NoError(t, fixtureErr)
	return fixtureProfile
}

// fixtureReport analyses the fixture's profile with opts (the fixture's directory unless opts say otherwise).
func fixtureReport(t *testing.T, opts ...Option) (*Profile, *Report) {
	t.Helper()
	p, err := ReadProfile(fixtureCover(t))
	require.NoError(t, err)
	r, err := Analyze(context.Background(), p, append([]Option{WithDir(fixture)}, opts...)...)
	require.NoError(t, err)
	return p, r
}

var funcTotal = regexp.MustCompile(`(?m)^total:\s+\(statements\)\s+([0-9.]+)%$`)

// TestTotalEqualsGoToolCoverFunc runs both on the same profile: with generated files counted and the
// ignored statements added back, shipyard's total is go tool cover -func's.
func TestTotalEqualsGoToolCoverFunc(t *testing.T) {
	profile := fixtureCover(t)
	cmd := exec.Command("go", "tool", "cover", "-func="+profile)
	cmd.Dir = fixture
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	m := funcTotal.FindSubmatch(out)
	require.NotNil(t, m, string(out))
	want, err := strconv.ParseFloat(string(m[1]), 64)
	require.NoError(t, err)

	p, err := ReadProfile(profile)
	require.NoError(t, err)
	r, err := Analyze(context.Background(), p, WithDir(fixture), WithGenerated(true))
	require.NoError(t, err)
	all := r.Total
	all.add(r.Ignored)
	assert.InDelta(t, want, all.Percent(), 0.05, "go tool cover -func says %.1f%%", want)
	assert.Empty(t, r.NoSource)
}

func TestAnalyzeFixture(t *testing.T) {
	_, r := fixtureReport(t)

	assert.Equal(t, []Excluded{{Name: "example.com/fixture/gen/gen.go", Reason: "generated"}}, r.Excluded)
	// calc: Add 1/1, Div 2/3, Abs 0/3, Inc 1/1, Clamp 5/6 (the ignored panic out), Debug ignored; legacy 0/3.
	assert.Equal(t, Counts{Statements: 17, Covered: 9}, r.Total)
	assert.Equal(t, Counts{Statements: 4, Covered: 0}, r.Ignored, "Debug's 3 and Clamp's panic")
	assert.Equal(t, FuncCounts{Total: 6, Called: 4}, r.Functions, "Add, Div, Inc, Clamp of Add, Div, Abs, Inc, Clamp, Old")

	root, _ := filepath.Abs(fixture)
	assert.Equal(t, root, r.Root)
	r.Root = "FIXTURE" // machine-independent golden file
	b, err := json.MarshalIndent(r, "", "  ")
	require.NoError(t, err)
	golden.Assert(t, "fixture-report.json", append(b, '\n'))
}

func TestAnalyzeExclude(t *testing.T) {
	p, r := fixtureReport(t, WithExclude("legacy/**"))
	assert.Contains(t, r.Excluded, Excluded{Name: "example.com/fixture/legacy/legacy.go", Reason: "excluded by legacy/**"})
	assert.Equal(t, Counts{Statements: 14, Covered: 9}, r.Total)

	_, r = fixtureReport(t, WithExclude("example.com/fixture/calc/*.go"))
	assert.Equal(t, Counts{Statements: 3, Covered: 0}, r.Total, "a glob may also match the profile's name")

	_, err := Analyze(context.Background(), p, WithDir(fixture), WithExclude("[bad"))
	assert.EqualError(t, err, `invalid exclude pattern "[bad"`)
}

func TestAnalyzeWithoutSource(t *testing.T) {
	_, r := fixtureReport(t, WithDir(t.TempDir()))
	assert.Len(t, r.NoSource, 3, "nothing found: every block counts, package-level closures included")
	assert.Equal(t, 28, r.Total.Statements)
}
