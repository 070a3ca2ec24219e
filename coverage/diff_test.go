package coverage

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/gittest"
)

const diffBase = `package m

func Old(x int) int {
	return x
}
`

// diffHead changes Old's line 4 and adds New (lines 7-12) after the branch left main.
const diffHead = `package m

func Old(x int) int {
	return x + 1
}

func New(x int) int {
	if x > 0 {
		return x
	}
	return -x
}
`

func TestDiffCoverage(t *testing.T) {
	ctx := context.Background()
	repo := gittest.New(t)
	repo.CommitFile("go.mod", "module example.com/m\n\ngo 1.26\n", "chore: module")
	repo.CommitFile("m.go", diffBase, "feat: old")
	repo.Git("checkout", "-q", "-b", "feature")
	repo.CommitFile("m.go", diffHead, "feat: new")
	repo.CommitFile("README.md", "not go\n", "docs: readme")
	repo.Git("checkout", "-q", "main")
	repo.Commit("chore: main moves on") // the merge base, not main's tip, is the base
	repo.Git("checkout", "-q", "feature")
	repo.WriteFile("extra.go", "package m\n\nfunc Extra() int {\n\treturn 1\n}\n") // uncommitted, untracked: not in the diff
	repo.Git("add", "extra.go")                                                    // staged: in the diff

	changed, err := ChangedLines(ctx, repo.Dir, "main")
	require.NoError(t, err)
	top, _ := filepath.EvalSymlinks(repo.Dir)
	assert.Equal(t, map[string][]int{
		filepath.Join(top, "m.go"):     {4, 5, 6, 7, 8, 9, 10, 11}, // git pairs New's closing brace with Old's
		filepath.Join(top, "extra.go"): {1, 2, 3, 4, 5},
	}, changed)

	profile := `mode: set
example.com/m/m.go:3.21,5.2 1 1
example.com/m/m.go:7.21,8.11 1 1
example.com/m/m.go:8.11,10.3 1 0
example.com/m/m.go:11.2,11.11 1 1
example.com/m/extra.go:3.18,5.2 1 0
`
	p, err := ParseProfile(strings.NewReader(profile), "cover.out")
	require.NoError(t, err)
	r, err := Analyze(ctx, p, WithDir(top))
	require.NoError(t, err)
	d := r.Diff(p, changed)
	// m.go: 4-5 (Old's block ran), 6 (blank: no block), 7-8 (ran), 9-10 (the if body: never ran), 11 (ran).
	// extra.go: 3-5 never ran; 1-2 lie in no block.
	require.Len(t, d.Files, 2)
	assert.Equal(t, DiffFile{Path: "extra.go", LineCounts: LineCounts{Lines: 3, Covered: 0}, Uncovered: []int{3, 4, 5}}, d.Files[0])
	assert.Equal(t, "m.go", d.Files[1].Path)
	assert.Equal(t, []int{9, 10}, d.Files[1].Uncovered)
	assert.Equal(t, LineCounts{Lines: 10, Covered: 5}, d.LineCounts, "7 lines of m.go, 5 covered; 3 of extra.go")

	f, ok := d.CheckDiff(80)
	assert.False(t, ok)
	assert.Equal(t, "changed lines 50.0% < 80% (5 of 10 lines covered)", f.Message)
	assert.Equal(t, LineCounts{Lines: 7, Covered: 5}, d.Files[1].LineCounts)
	_, ok = d.CheckDiff(50)
	assert.True(t, ok)

	_, err = ChangedLines(ctx, repo.Dir, "no-such-branch")
	assert.ErrorContains(t, err, "finding where HEAD left no-such-branch")
}

func TestParseDiff(t *testing.T) {
	diff := `diff --git a/a.go b/a.go
--- a/a.go
+++ b/a.go
@@ -3 +3 @@ func A() {
-	old
+	new
@@ -10,2 +10,0 @@
-	gone
-	gone
diff --git "a/sp ace.go" "b/sp ace.go"
--- "a/sp ace.go"
+++ "b/sp ace.go"
@@ -0,0 +1,2 @@
+package m
+
diff --git a/del.go b/del.go
--- a/del.go
+++ /dev/null
@@ -1,3 +0,0 @@
`
	got, err := parseDiff([]byte(diff), "/r")
	require.NoError(t, err)
	assert.Equal(t, map[string][]int{"/r/a.go": {3}, "/r/sp ace.go": {1, 2}}, got)

	_, err = parseDiff([]byte("+++ b/a.go\n@@ -1 +x @@\n"), "/r")
	assert.ErrorContains(t, err, `bad hunk header "@@ -1 +x @@"`)
}
