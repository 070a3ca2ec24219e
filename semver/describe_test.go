package semver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipyardci/shipyard/internal/gittest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDescribe(t *testing.T) {
	tests := []struct {
		name    string
		history []string
		pre     string
		dirty   bool
		want    string // %s is the abbreviated HEAD
	}{
		{"tagged commit", []string{"c feat: a", "t v1.2.0"}, "", false, "1.2.0"},
		{"five commits after a tag, one feat", []string{"c feat: a", "t v1.2.0", "c fix: a", "c feat: b", "c docs: c", "c chore: d", "c fix: e"}, "", false, "1.3.0-dev.5+g%s"},
		{"nothing releasable: the next patch", []string{"c feat: a", "t v1.2.0", "c docs: a"}, "", false, "1.2.1-dev.1+g%s"},
		{"no tags", []string{"c a", "c b"}, "", false, "0.1.0-dev.2+g%s"},
		{"after a release candidate", []string{"c feat: a", "t v1.2.0", "c feat: b", "t v1.3.0-rc.1", "c fix: c", "c fix: d"}, "", false, "1.3.0-rc.1.dev.2+g%s"},
		{"other identifier", []string{"c feat: a", "t v1.2.0", "c fix: b"}, "snapshot", false, "1.2.1-snapshot.1+g%s"},
		{"dirty tree", []string{"f a.txt feat: a", "t v1.2.0", "f a.txt fix: b"}, "", true, "1.2.1-dev.1+g%s.dirty"},
		{"dirty tree at a tag", []string{"f a.txt feat: a", "t v1.2.0-rc.1+b7"}, "", true, "1.2.0-rc.1+dirty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo := gittest.New(t)
			repo.Script(tt.history...)
			if tt.dirty {
				repo.WriteFile("a.txt", "changed\n")
			}
			r, err := Describe(context.Background(), WithDir(repo.Dir), WithPre(tt.pre))
			require.NoError(t, err)
			want := tt.want
			if strings.Contains(want, "%s") {
				want = fmt.Sprintf(want, repo.Git("rev-parse", "--short=7", "HEAD"))
			}
			assert.Equal(t, want, r.Version.String())
			assert.False(t, r.Changed, "describe never asks for a release")
		})
	}
}

func TestDescribeUntrackedFilesAreNotDirty(t *testing.T) {
	repo := gittest.New(t)
	repo.Script("c feat: a", "t v1.0.0", "c fix: b")
	require.NoError(t, os.WriteFile(filepath.Join(repo.Dir, "new.txt"), []byte("x"), 0o644))
	r, err := Describe(context.Background(), WithDir(repo.Dir))
	require.NoError(t, err)
	assert.NotContains(t, r.Version.String(), "dirty")
}
