package semver

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/gittest"
)

// TestShallowClone: a shallow clone is versioned only when it holds the version tag and every commit
// since it; otherwise Next refuses (actions/checkout's default depth of 1 would give v0.1.0 where the
// project is at v0.1.4), unless allowed.
func TestShallowClone(t *testing.T) {
	origin := gittest.New(t)
	origin.Script("c feat: first", "t v0.1.0", "c fix: a", "t v0.1.1", "c fix: b", "t v0.1.4", "c fix: c", "c docs: d", "c feat: e")
	for _, tc := range []struct {
		name    string
		clone   []string // git clone options
		fetch   []string // a git fetch after the clone, or none
		allow   bool
		want    string
		wantErr string
	}{
		{name: "full clone", want: "0.2.0"},
		{name: "depth 1", clone: []string{"--depth=1"}, wantErr: "this is a shallow clone without a version tag in its history"},
		{name: "depth 1 with the tags", clone: []string{"--depth=1"}, fetch: []string{"--tags", "--depth=1"}, wantErr: "without a version tag"},
		{name: "cut off just after the tag", clone: []string{"--depth=3"}, wantErr: "without a version tag"},
		{name: "deep enough", clone: []string{"--depth=4"}, want: "0.2.0"},
		{name: "depth 1, allowed", clone: []string{"--depth=1"}, allow: true, want: "0.1.0"},
		{name: "unshallowed", clone: []string{"--depth=1"}, fetch: []string{"--unshallow", "--tags"}, want: "0.2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "clone")
			origin.Git(append(append([]string{"clone", "-q"}, tc.clone...), "file://"+origin.Dir, dir)...)
			clone := gittest.Open(t, dir)
			if tc.fetch != nil {
				clone.Git(append([]string{"fetch", "-q"}, tc.fetch...)...)
			}
			r, err := Next(context.Background(), WithDir(clone.Dir), WithAllowShallow(tc.allow))
			if tc.wantErr != "" {
				var se *ShallowError
				require.ErrorAs(t, err, &se)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, r.Version.String())
			assert.Equal(t, tc.allow, r.Shallow, "marked only when the history is missing")
		})
	}
}

// TestShallowCloneCutInABranch: the tag is there, but a merged branch's older commits are not: their
// feat would be missed.
func TestShallowCloneCutInABranch(t *testing.T) {
	origin := gittest.New(t)
	origin.Script("c feat: first", "t v1.0.0", "b feature", "c feat: f1", "c fix: f2", "c fix: f3", "o main", "c fix: m1", "m feature")
	dir := filepath.Join(t.TempDir(), "clone")
	origin.Git("clone", "-q", "--depth=3", "file://"+origin.Dir, dir)
	_, err := Next(context.Background(), WithDir(dir))
	var se *ShallowError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "this is a shallow clone that lacks commits since v1.0.0: the version would miss what they ask for", err.Error())

	r, err := Next(context.Background(), WithDir(dir), WithAllowShallow(true))
	require.NoError(t, err)
	assert.True(t, r.Shallow)
	assert.Equal(t, "1.0.1", r.Version.String(), "the feat of the missing commit is missed, as the error said")
}
