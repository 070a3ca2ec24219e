package ghactions

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type runner struct {
	output, summary string
	log             bytes.Buffer
}

func newRunner(t *testing.T, enabled bool) (*Actions, *runner) {
	t.Helper()
	dir := t.TempDir()
	r := &runner{output: filepath.Join(dir, "output"), summary: filepath.Join(dir, "summary")}
	env := map[string]string{"GITHUB_OUTPUT": r.output, "GITHUB_STEP_SUMMARY": r.summary}
	if enabled {
		env["GITHUB_ACTIONS"] = "true"
	}
	return New(func(k string) string { return env[k] }, &r.log), r
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return ""
	}
	require.NoError(t, err)
	return string(b)
}

func TestSetOutput(t *testing.T) {
	a, r := newRunner(t, true)
	require.NoError(t, a.SetOutput("version", "1.4.2"))
	require.NoError(t, a.SetOutput("changelog", "## 1.4.2\n\n- fix: x\n"))

	got := read(t, r.output)
	re := regexp.MustCompile(`^version=1\.4\.2\nchangelog<<(ghadelimiter_[0-9a-f]{32})\n## 1\.4\.2\n\n- fix: x\n\n(ghadelimiter_[0-9a-f]{32})\n$`)
	m := re.FindStringSubmatch(got)
	require.NotNil(t, m, "output file:\n%s", got)
	assert.Equal(t, m[1], m[2], "heredoc delimiters must match")
}

func TestSetOutputRejectsBadName(t *testing.T) {
	a, _ := newRunner(t, true)
	for _, name := range []string{"", "a=b", "a<<b", "a\nb"} {
		assert.Error(t, a.SetOutput(name, "v"), name)
	}
}

func TestDisabledIsNoop(t *testing.T) {
	a, r := newRunner(t, false)
	require.NoError(t, a.SetOutput("version", "1.0.0"))
	require.NoError(t, a.AddSummary("# hi"))
	a.Annotate(Annotation{File: "a.go", Line: 1, Message: "m"})
	a.Mask("s3cret")
	a.Group("g")()
	assert.Empty(t, read(t, r.output))
	assert.Empty(t, read(t, r.summary))
	assert.Empty(t, r.log.String())
	var nilActions *Actions
	assert.False(t, nilActions.Enabled())
}

func TestAddSummaryAppends(t *testing.T) {
	a, r := newRunner(t, true)
	require.NoError(t, a.AddSummary("### Version"))
	require.NoError(t, a.AddSummary("1.2.0\n"))
	assert.Equal(t, "### Version\n1.2.0\n", read(t, r.summary))
}

func TestCommands(t *testing.T) {
	tests := []struct {
		name string
		do   func(a *Actions)
		want string
	}{
		{"error with file and line", func(a *Actions) {
			a.Annotate(Annotation{File: "migrations/0001_init.up.sql", Line: 3, Message: "CREATE INDEX locks writes"})
		}, "::error file=migrations/0001_init.up.sql,line=3::CREATE INDEX locks writes\n"},
		{"warning escapes properties and data", func(a *Actions) {
			a.Annotate(Annotation{Level: Warning, File: "a,b:c.go", Line: 1, EndLine: 2, Col: 4, Title: "50% covered", Message: "line one\nline two 100%"})
		}, "::warning file=a%2Cb%3Ac.go,line=1,endLine=2,col=4,title=50%25 covered::line one%0Aline two 100%25\n"},
		{"notice without location", func(a *Actions) {
			a.Annotate(Annotation{Level: Notice, Message: "nothing to do"})
		}, "::notice::nothing to do\n"},
		{"group", func(a *Actions) {
			end := a.Group("go test")
			end()
		}, "::group::go test\n::endgroup::\n"},
		{"mask", func(a *Actions) { a.Mask("hunter2") }, "::add-mask::hunter2\n"},
		{"mask multi-line secret line by line", func(a *Actions) { a.Mask("-----BEGIN\nabc\n-----END") },
			"::add-mask::-----BEGIN%0Aabc%0A-----END\n::add-mask::-----BEGIN\n::add-mask::abc\n::add-mask::-----END\n"},
		{"empty secret is not masked", func(a *Actions) { a.Mask("") }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, r := newRunner(t, true)
			tt.do(a)
			assert.Equal(t, tt.want, r.log.String())
		})
	}
}
