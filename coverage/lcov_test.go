package coverage

import (
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shipyardci/shipyard/internal/testenv"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const nycFixture = "testdata/lcov/nyc.info"

var lcovSummary = regexp.MustCompile(`(?m)^\s+(lines|functions|branches)\.*: [0-9.]+% \((\d+) of (\d+) \w+\)$`)

// TestLcovEqualsLcovSummary runs the lcov tool itself on the fixture and compares every total.
func TestLcovEqualsLcovSummary(t *testing.T) {
	testenv.Tool(t, "lcov", "apt-get install lcov")
	out, err := exec.Command("lcov", "--summary", nycFixture, "--rc", "lcov_branch_coverage=1").CombinedOutput()
	require.NoError(t, err, string(out))
	want := map[string]Tally{}
	for _, m := range lcovSummary.FindAllStringSubmatch(string(out), -1) {
		hit, _ := strconv.Atoi(m[2])
		found, _ := strconv.Atoi(m[3])
		want[m[1]] = Tally{Found: found, Hit: hit}
	}
	require.Len(t, want, 3, string(out))

	r, err := ReadLcov(nycFixture)
	require.NoError(t, err)
	assert.Equal(t, want["lines"], r.Lines)
	assert.Equal(t, want["functions"], r.Functions)
	assert.Equal(t, want["branches"], r.Branches)
}

func TestParseLcov(t *testing.T) {
	r, err := ReadLcov(nycFixture)
	require.NoError(t, err)
	assert.Equal(t, []LcovFile{
		{Path: "src/app.js", Lines: Tally{9, 5}, Functions: Tally{4, 3}, Branches: Tally{4, 2}},
		{Path: "src/util.js", Lines: Tally{2, 2}, Functions: Tally{1, 1}, Branches: Tally{}},
	}, r.Files, "the integration record of app.js is merged into the first")

	// lcov 2 writes FN:start,end,name; counts written in floating point are accepted.
	r, err = ParseLcov(strings.NewReader("SF:a.ts\nFN:3,9,run\nFNDA:1.5e3,run\nDA:3,2.0\nend_of_record\n"), "v2.info")
	require.NoError(t, err)
	assert.Equal(t, Tally{1, 1}, r.Functions)
	assert.Equal(t, Tally{1, 1}, r.Lines)
}

func TestParseLcovErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"DA:1,1\n", "x.info:1: DA before SF"},
		{"SF:a.js\nDA:one,1\nend_of_record\n", `x.info:2: DA wants line,count: "one,1"`},
		{"SF:a.js\nBRDA:1,0,0\nend_of_record\n", `x.info:2: BRDA wants line,block,branch,taken: "1,0,0"`},
		{"SF:a.js\nFNDA:-1,f\nend_of_record\n", `x.info:2: FNDA wants count,name: "-1,f"`},
		{"SF:a.js\nDA:1,1\n", "x.info:2: the last record has no end_of_record"},
		{"end_of_record\n", "x.info:1: end_of_record outside a record"},
		{"SF:a.js\njunk\n", `x.info:2: want KEY:VALUE, got "junk"`},
		{"SF:\n", "x.info:1: SF without a file name"},
	}
	for _, tt := range tests {
		_, err := ParseLcov(strings.NewReader(tt.in), "x.info")
		var perr *ParseError
		require.ErrorAs(t, err, &perr, tt.in)
		assert.Equal(t, tt.want, err.Error())
	}
}

func TestLcovThresholdsAndExclude(t *testing.T) {
	r, err := ReadLcov(nycFixture)
	require.NoError(t, err)
	msgs := func(fs []Failure) []string {
		out := []string{}
		for _, f := range fs {
			out = append(out, f.Message)
		}
		return out
	}
	assert.Equal(t, []string{}, msgs(r.Check(LcovThresholds{Lines: 60, Functions: 80, Branches: 50})))
	assert.Equal(t, []string{"lines 63.6% < 70%", "functions 80.0% < 90%", "branches 50.0% < 60%", "file src/app.js 55.6% < 60%"},
		msgs(r.Check(LcovThresholds{Lines: 70, Functions: 90, Branches: 60, File: 60})))
	assert.Equal(t, []string{"lines: 4 lines uncovered, at most 3 allowed"}, msgs(r.Check(LcovThresholds{Lines: -3})))

	ex, err := r.Exclude("src/app.js")
	require.NoError(t, err)
	assert.Equal(t, Tally{2, 2}, ex.Lines)
	_, err = r.Exclude("[")
	assert.Error(t, err)
}

func FuzzParseLcov(f *testing.F) {
	f.Add("TN:\nSF:a.js\nFN:1,f\nFNDA:1,f\nDA:1,1\nBRDA:1,0,0,-\nend_of_record\n")
	f.Add("SF:b\nDA:1,1e309\nend_of_record\nSF:b\nDA:1,0\nend_of_record\n")
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ParseLcov(strings.NewReader(in), "fuzz")
		if err != nil {
			return
		}
		for _, tally := range []Tally{r.Lines, r.Functions, r.Branches} {
			if tally.Hit < 0 || tally.Hit > tally.Found {
				t.Fatalf("impossible tally %+v", tally)
			}
		}
	})
}
