package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/gittest"
	"github.com/shipyardci/shipyard/internal/golden"
	"github.com/shipyardci/shipyard/internal/textreport"
)

// fixtureModule copies the coverage fixture module to a temporary directory, where tests may write.
func fixtureModule(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fixture")
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "..", "coverage", "testdata", "fixture"))))
	return dir
}

func TestTestCommandText(t *testing.T) {
	dir := fixtureModule(t)
	r := cli(t, dir, nil, "test")
	require.Equal(t, 0, r.code, r.stderr)
	golden.Assert(t, "test-fixture.txt", []byte(r.stdout))
	assert.Contains(t, r.stderr, "ok  \texample.com/fixture/calc", "go test's output streams to stderr")
}

func TestTestCommandThresholds(t *testing.T) {
	dir := fixtureModule(t)
	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"met", []string{"--min-total", "50", "--min-file", "-5"}, 0, ""},
		{"total missed", []string{"--min-total", "60"}, 1, "error: coverage below thresholds: total 52.9% < 60%\n"},
		{"every miss in one message", []string{"--min-total", "60", "--min-package", "50", "--min-file", "-2"}, 1,
			"error: coverage below thresholds: total 52.9% < 60%; package example.com/fixture/legacy 0.0% < 50%; file calc/calc.go: 5 statements uncovered, at most 2 allowed; file legacy/legacy.go: 3 statements uncovered, at most 2 allowed\n"},
		{"exclusion", []string{"--min-total", "60", "--exclude", "legacy/**"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cli(t, dir, nil, append([]string{"--quiet", "test"}, tt.args...)...)
			assert.Equal(t, tt.code, r.code, r.stderr)
			assert.Equal(t, tt.err, r.stderr, "--quiet keeps go test's output back when the tests pass")
		})
	}
}

func TestTestCommandConfigOverrides(t *testing.T) {
	dir := fixtureModule(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "shipyard.yaml"), []byte(`test:
  min_total: 50
  min_file: 60
  overrides:
    - path: "legacy/**"
      min: 0
    - path: "calc/*.go"
      min: 60
`), 0o644))
	r := cli(t, dir, nil, "-q", "test")
	assert.Equal(t, 0, r.code, r.stderr)

	r = cli(t, dir, map[string]string{"SHIPYARD_TEST_MIN_TOTAL": "90"}, "-q", "test")
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "error: coverage below thresholds: total 52.9% < 90%\n", r.stderr)
}

func TestTestCommandJSONAndActions(t *testing.T) {
	dir := fixtureModule(t)
	env, output, summary := actionsEnv(t)
	r := cli(t, dir, env, "-o", "json", "test", "--min-file", "10")
	require.Equal(t, 1, r.code)
	var got textreport.TestResult
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
	assert.Equal(t, 52.94, got.Total)
	assert.False(t, got.Passed)
	require.Len(t, got.Failures, 1)
	assert.Equal(t, "legacy/legacy.go", got.Failures[0].Name)
	assert.Len(t, got.Files, 2)
	assert.Len(t, got.Packages, 2)
	assert.Equal(t, 64.29, got.Files[0].Percent)

	assert.Equal(t, "coverage=52.9\n", readFile(t, output))
	assert.Contains(t, readFile(t, summary), "### Coverage: 52.9%")
	assert.Contains(t, readFile(t, summary), "| 0.0% | 0/3 | `legacy/legacy.go` |")
	assert.Contains(t, r.stderr, "::group::go test\n")
	assert.Contains(t, r.stderr, "::error file=legacy/legacy.go,title=coverage::file legacy/legacy.go 0.0%25 < 10%25\n")
}

func TestTestCommandFailingTests(t *testing.T) {
	dir := fixtureModule(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "calc", "fail_test.go"), []byte(`package calc

import "testing"

func TestFails(t *testing.T) { t.Fatal("boom") }
`), 0o644))
	r := cli(t, dir, nil, "-q", "test", "./calc/", "--junit", "junit.xml")
	assert.Equal(t, 1, r.code)
	junit := readFile(t, filepath.Join(dir, "junit.xml"))
	assert.Contains(t, junit, `<testsuites tests="2" failures="1" errors="0" skipped="0"`)
	assert.Contains(t, junit, `<testcase classname="example.com/fixture/calc" name="TestFails"`)
	assert.Contains(t, junit, "fail_test.go:5: boom")
	assert.Contains(t, r.stderr, "boom", "with --quiet the output of failing tests is still shown")
	assert.Contains(t, r.stderr, "error: go test: tests failed\n")
	assert.Contains(t, r.stdout, "calc/calc.go", "what ran is still reported")
}

func TestTestCommandProfileErrors(t *testing.T) {
	dir := fixtureModule(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.out"), []byte("mode: set\nx.go:1.1,2.2 1\n"), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "empty"), 0o755))
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--profile", "bad.out"}, `bad.out:2: no ' ' before the statement count`},
		{[]string{"--profile", "missing.out"}, "reading cover profile: open "},
		{[]string{"--profile", "bad.out", "./calc"}, "packages, shards and go test flags go with running the tests, not with profiles or GOCOVERDIR data"},
		{[]string{"--coverdir", "empty"}, "--coverdir: reading coverage data in "},
		{[]string{"--profile", "bad.out", "--junit", "j.xml"}, "--junit: recording a test run's results needs a test run: it does not go with profiles or GOCOVERDIR data"},
		{[]string{"--exclude", "[x"}, `--exclude: invalid exclude pattern "[x"`},
		{[]string{"--min-total", "high"}, `invalid argument "high" for "--min-total" flag`},
	}
	for _, tt := range tests {
		r := cli(t, dir, nil, append([]string{"-q", "test"}, tt.args...)...)
		assert.Equal(t, 2, r.code, "%v: %s", tt.args, r.stderr)
		assert.Regexp(t, regexp.QuoteMeta(tt.want), r.stderr, "%v", tt.args)
	}
}

func TestTestCommandMergesProfiles(t *testing.T) {
	dir := fixtureModule(t)
	one := "mode: atomic\nexample.com/fixture/calc/calc.go:15.24,15.40 1 0\nexample.com/fixture/calc/calc.go:36.21,36.30 1 1\n"
	two := "mode: atomic\nexample.com/fixture/calc/calc.go:15.24,15.40 1 3\nexample.com/fixture/calc/calc.go:36.21,36.30 1 0\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "one.out"), []byte(one), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "two.out"), []byte(two), 0o644))
	r := cli(t, dir, nil, "test", "--profile", "one.out", "--profile", "two.out", "--min-total", "100")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "total 100.0% (2/2 statements")
}

func TestTestCommandBaseline(t *testing.T) {
	dir := fixtureModule(t)
	r := cli(t, dir, nil, "-q", "test", "--baseline", "coverage.json", "--update-baseline")
	require.Equal(t, 0, r.code, r.stderr)
	assert.JSONEq(t, `{"total": 52.94, "statements": 17, "covered": 9}`, readFile(t, filepath.Join(dir, "coverage.json")))

	r = cli(t, dir, nil, "-q", "test", "--baseline", "coverage.json")
	assert.Equal(t, 0, r.code, "the same coverage passes its baseline: %s", r.stderr)

	r = cli(t, dir, nil, "-q", "test", "--baseline", "coverage.json", "--include-generated", "--update-baseline")
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "error: coverage below thresholds: total 42.86% fell below the baseline 52.94% (tolerance 0.1 points)\n", r.stderr)
	assert.Contains(t, readFile(t, filepath.Join(dir, "coverage.json")), "52.94", "a failing run does not lower the baseline")

	r = cli(t, dir, nil, "-q", "test", "--update-baseline")
	assert.Equal(t, 2, r.code)
	assert.Equal(t, "error: --update-baseline needs --baseline FILE\n", r.stderr)
}

func TestTestCommandDiffCoverage(t *testing.T) {
	dir := fixtureModule(t)
	repo := gittest.At(t, dir)
	repo.Git("add", "-A")
	repo.Commit("feat: fixture")
	repo.Git("checkout", "-q", "-b", "feature")
	calc := readFile(t, filepath.Join(dir, "calc", "calc.go"))
	repo.CommitFile("calc/calc.go", calc+"\n// Neg is new and untested.\nfunc Neg(x int) int {\n\treturn -x\n}\n", "feat: neg")
	env, _, _ := actionsEnv(t)
	env["GITHUB_WORKSPACE"] = filepath.Dir(dir) // the module sits in a subdirectory of the workspace

	r := cli(t, dir, env, "-q", "test", "--diff-base", "main", "--min-diff", "50")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "changed lines since main: 0.0% (0 of 3 lines with statements covered)\n  not covered: calc/calc.go:66-68\n")
	assert.Contains(t, r.stderr, "::warning file=fixture/calc/calc.go,line=66,endLine=68,title=not covered::changed lines without a test that runs them\n")
	assert.Contains(t, r.stderr, "error: coverage below thresholds: changed lines 0.0% < 50% (0 of 3 lines covered)\n")

	r = cli(t, dir, nil, "-q", "test", "--min-diff", "50")
	assert.Equal(t, 2, r.code)
	r = cli(t, dir, nil, "-q", "test", "--diff-base", "nowhere")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--diff-base: finding where HEAD left nowhere")
}

func TestTestCommandLcov(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "coverage", "testdata", "lcov", "nyc.info"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "lcov.info"), data, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.info"), []byte("SF:a.js\nDA:x,1\nend_of_record\n"), 0o644))

	r := cli(t, dir, nil, "test", "--lcov", "lcov.info", "--min-lines", "60", "--min-functions", "80", "--min-branches", "50")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "   55.6%      75.0%     50.0%  src/app.js\n")

	r = cli(t, dir, nil, "-o", "json", "test", "--lcov", "lcov.info", "--min-branches", "60", "--min-file", "60")
	assert.Equal(t, 1, r.code)
	var got textreport.LcovResult
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
	assert.Equal(t, 63.64, got.Total)
	assert.False(t, got.Passed)
	assert.Equal(t, "error: coverage below thresholds: branches 50.0% < 60%; file src/app.js 55.6% < 60%\n", r.stderr)

	r = cli(t, dir, nil, "test", "--lcov", "lcov.info", "--exclude", "src/app.js", "--min-lines", "100")
	assert.Equal(t, 0, r.code, "excluded files leave the totals: %s", r.stderr)

	for _, args := range [][]string{
		{"--lcov", "bad.info"},
		{"--lcov", "missing.info"},
		{"--lcov", "lcov.info", "--min-package", "50"},
		{"--lcov", "lcov.info", "./..."},
	} {
		r = cli(t, dir, nil, append([]string{"test"}, args...)...)
		assert.Equal(t, 2, r.code, "%v: %s", args, r.stderr)
	}
	r = cli(t, dir, nil, "test", "--lcov", "bad.info")
	assert.Contains(t, r.stderr, `bad.info:2: DA wants line,count: "x,1"`)
}

func TestTestCommandReports(t *testing.T) {
	dir := fixtureModule(t)
	r := cli(t, dir, map[string]string{"SOURCE_DATE_EPOCH": "1795428000"}, "-q", "test", "--cobertura", "out/cobertura.xml", "--badge", "badge.svg", "--html", "out/html")
	require.Equal(t, 0, r.code, "the report's directory is created: %s", r.stderr)
	cob := readFile(t, filepath.Join(dir, "out", "cobertura.xml"))
	assert.Contains(t, cob, `timestamp="1795428000000"`)
	assert.Contains(t, cob, `<class name="calc.go" filename="calc/calc.go"`)
	assert.Contains(t, readFile(t, filepath.Join(dir, "badge.svg")), "coverage: 52.9%")
	assert.Contains(t, readFile(t, filepath.Join(dir, "out", "html", "index.html")), `<a href="calc/calc.go.html">calc/calc.go</a>`)
	assert.Contains(t, readFile(t, filepath.Join(dir, "out", "html", "calc", "calc.go.html")), "func Abs(x int) int {")
}

// TestTestMergeAddsUpLcovShards: test merge of directories without Go shards adds up their lcov
// tracefiles (the shards of jest --shard), as lcov -a does, and gates them once.
func TestTestMergeAddsUpLcovShards(t *testing.T) {
	dir := t.TempDir()
	shards := filepath.Join(dir, "shards")
	require.NoError(t, os.MkdirAll(shards, 0o755))
	// Two shards of one suite: each ran a part of src/app.js and src/util.js.
	one := "SF:src/app.js\nFN:1,main\nFNDA:1,main\nDA:1,1\nDA:2,1\nDA:3,0\nDA:4,0\nBRDA:2,0,0,1\nBRDA:2,0,1,0\nend_of_record\nSF:src/util.js\nDA:1,0\nDA:2,0\nend_of_record\n"
	two := "SF:src/app.js\nFN:1,main\nFNDA:0,main\nDA:1,0\nDA:2,0\nDA:3,2\nDA:4,0\nBRDA:2,0,0,0\nBRDA:2,0,1,3\nend_of_record\nSF:src/util.js\nDA:1,1\nDA:2,0\nend_of_record\n"
	require.NoError(t, os.WriteFile(filepath.Join(shards, "lcov-1.info"), []byte(one), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(shards, "lcov-2.info"), []byte(two), 0o644))
	r := cli(t, dir, nil, "-o", "json", "test", "merge", "shards", "--min-lines", "60")
	require.Equal(t, 0, r.code, r.stderr)
	var got struct {
		Lines, Functions, Branches struct{ Found, Hit int }
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
	assert.Equal(t, struct{ Found, Hit int }{6, 4}, got.Lines, "lines 1-3 of app.js and 1 of util.js ran in one shard or the other")
	assert.Equal(t, struct{ Found, Hit int }{1, 1}, got.Functions)
	assert.Equal(t, struct{ Found, Hit int }{2, 2}, got.Branches)
	r = cli(t, dir, nil, "test", "merge", "shards", "--min-lines", "70")
	assert.Equal(t, 1, r.code, "66.7% of lines is below 70")
	r = cli(t, dir, nil, "test", "merge", "nothing-here")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "no shard's profile")
}
