package semver

import (
	"context"
	"fmt"
	"testing"

	mm "github.com/Masterminds/semver/v3"
	"github.com/shipyardci/shipyard/internal/gittest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNext(t *testing.T) {
	tests := []struct {
		name     string
		history  []string
		opts     []Option
		want     string
		wantTag  string
		wantBump string
		changed  bool
		previous string
	}{
		// Repositories without a version tag.
		{name: "no tags: the initial version", history: []string{"c feat: first"}, want: "0.1.0", wantTag: "v0.1.0", wantBump: "minor", changed: true},
		{name: "no tags, no conventional commits", history: []string{"c initial import"}, want: "0.1.0", wantTag: "v0.1.0", wantBump: "none", changed: true},
		{name: "no tags, configured initial version", history: []string{"c feat: first"}, opts: []Option{WithInitial(mm.MustParse("1.0.0"))}, want: "1.0.0", wantTag: "v1.0.0", wantBump: "minor", changed: true},
		{name: "no tags, pre-release", history: []string{"c feat: first"}, opts: []Option{WithPre("rc")}, want: "0.1.0-rc.1", wantTag: "v0.1.0-rc.1", wantBump: "minor", changed: true},

		// Conventional Commits after a stable tag.
		{name: "fix after tag", history: []string{"c feat: a", "t v1.0.0", "c fix: b"}, want: "1.0.1", wantTag: "v1.0.1", wantBump: "patch", changed: true, previous: "v1.0.0"},
		{name: "perf after tag", history: []string{"c feat: a", "t v1.0.0", "c perf(db): faster"}, want: "1.0.1", wantBump: "patch", changed: true, previous: "v1.0.0"},
		{name: "feat after tag", history: []string{"c feat: a", "t v1.0.0", "c feat(api): b"}, want: "1.1.0", wantBump: "minor", changed: true, previous: "v1.0.0"},
		{name: "feat and fix: the highest wins", history: []string{"t v1.0.0", "c fix: a", "c feat: b", "c fix: c"}, want: "1.1.0", wantBump: "minor", changed: true, previous: "v1.0.0"},
		{name: "breaking with !", history: []string{"t v1.2.3", "c feat!: new API"}, want: "2.0.0", wantBump: "major", changed: true, previous: "v1.2.3"},
		{name: "breaking with footer", history: []string{"t v1.2.3", `c fix: x\n\nBREAKING CHANGE: removes y`}, want: "2.0.0", wantBump: "major", changed: true, previous: "v1.2.3"},
		{name: "breaking in 0.x bumps minor", history: []string{"t v0.3.1", "c feat(api)!: rename"}, want: "0.4.0", wantBump: "minor", changed: true, previous: "v0.3.1"},
		{name: "fix in 0.x bumps patch", history: []string{"t v0.3.1", "c fix: a"}, want: "0.3.2", wantBump: "patch", changed: true, previous: "v0.3.1"},
		{name: "only chores: nothing to release", history: []string{"t v1.0.0", "c docs: a", "c chore: b", "c Merge branch 'x'"}, want: "1.0.0", wantTag: "v1.0.0", wantBump: "none", changed: false, previous: "v1.0.0"},
		{name: "HEAD already tagged", history: []string{"c feat: a", "t v1.0.0"}, want: "1.0.0", wantBump: "none", changed: false, previous: "v1.0.0"},

		// Tag names.
		{name: "tags without v keep that style", history: []string{"t 1.0.0", "c fix: a"}, want: "1.0.1", wantTag: "1.0.1", wantBump: "patch", changed: true, previous: "1.0.0"},
		{name: "annotated tags count", history: []string{"a v2.1.0", "c feat: a"}, want: "2.2.0", wantTag: "v2.2.0", wantBump: "minor", changed: true, previous: "v2.1.0"},
		{name: "non-semver tags are ignored", history: []string{"t v1.0.0", "c fix: a", "t v1", "t latest", "t release-2026", "t v1.1"}, want: "1.0.1", wantBump: "patch", changed: true, previous: "v1.0.0"},
		{name: "tag with build metadata", history: []string{"t v1.0.0+build.5", "c feat: a"}, want: "1.1.0", wantTag: "v1.1.0", wantBump: "minor", changed: true, previous: "v1.0.0+build.5"},
		{name: "highest tag wins, not the newest", history: []string{"t v2.0.0", "c fix: a", "t v1.9.9", "c fix: b"}, want: "2.0.1", wantBump: "patch", changed: true, previous: "v2.0.0"},
		{name: "unreachable tag is ignored", history: []string{"t v1.0.0", "b other", "c feat!: x", "t v2.0.0", "o main", "c fix: a"}, want: "1.0.1", wantBump: "patch", changed: true, previous: "v1.0.0"},

		// Squash merges, reverts and merges as real histories have them.
		{name: "squash-merged fix", history: []string{"t v1.0.0", "c fix: handle the thing (#2416)"}, want: "1.0.1", wantBump: "patch", changed: true, previous: "v1.0.0"},
		{name: "squash-merged breaking change", history: []string{"t v1.0.0", "c feat!: require node 18+ (#2069)"}, want: "2.0.0", wantBump: "major", changed: true, previous: "v1.0.0"},
		{name: "git revert is a patch", history: []string{"t v1.0.0", `c Revert "feat: a"\n\nThis reverts commit 0123abc.`}, want: "1.0.1", wantBump: "patch", changed: true, previous: "v1.0.0"},
		{name: "a merge subject is no release reason", history: []string{"t v1.0.0", "b docs", "c docs: a", "o main", "c chore: b", "m docs feat: docs"}, want: "1.0.0", wantBump: "none", changed: false, previous: "v1.0.0"},

		// Merges.
		{name: "feature merged with a merge commit", history: []string{"t v1.0.0", "b feature", "c feat: login", "o main", "c chore: deps", "m feature"}, want: "1.1.0", wantBump: "minor", changed: true, previous: "v1.0.0"},
		{name: "branch tagged, then merged", history: []string{"c feat: a", "t v1.0.0", "b hotfix", "c fix: a", "t v1.0.1", "o main", "c docs: x", "m hotfix", "c fix: b"}, want: "1.0.2", wantBump: "patch", changed: true, previous: "v1.0.1"},

		// Monorepos.
		{name: "tag prefix", history: []string{"t api/v1.0.0", "t web/v3.0.0", "t v9.0.0", "c feat(api): a"}, opts: []Option{WithTagPrefix("api/")}, want: "1.1.0", wantTag: "api/v1.1.0", wantBump: "minor", changed: true, previous: "api/v1.0.0"},
		{name: "tag prefix, no tag of that component", history: []string{"t web/v3.0.0", "c feat: a"}, opts: []Option{WithTagPrefix("api/")}, want: "0.1.0", wantTag: "api/v0.1.0", wantBump: "minor", changed: true},
		{name: "paths: commits elsewhere do not count", history: []string{"t api/v1.0.0", "f web/x.go feat(web): a", "f api/y.go fix(api): b"}, opts: []Option{WithTagPrefix("api/"), WithPaths("api")}, want: "1.0.1", wantTag: "api/v1.0.1", wantBump: "patch", changed: true, previous: "api/v1.0.0"},
		{name: "paths: nothing touched", history: []string{"t api/v1.0.0", "f web/x.go feat(web): a"}, opts: []Option{WithTagPrefix("api/"), WithPaths("api")}, want: "1.0.0", wantBump: "none", changed: false, previous: "api/v1.0.0"},

		// Pre-releases.
		{name: "first release candidate", history: []string{"t v1.0.0", "c feat: a"}, opts: []Option{WithPre("rc")}, want: "1.1.0-rc.1", wantTag: "v1.1.0-rc.1", wantBump: "minor", changed: true, previous: "v1.0.0"},
		{name: "second release candidate", history: []string{"t v1.0.0", "c feat: a", "t v1.1.0-rc.1", "c fix: b"}, opts: []Option{WithPre("rc")}, want: "1.1.0-rc.2", wantBump: "minor", changed: true, previous: "v1.0.0"},
		{name: "release candidate counter counts unreachable tags", history: []string{"t v1.0.0", "b other", "c feat: x", "t v1.1.0-rc.4", "o main", "c feat: a"}, opts: []Option{WithPre("rc")}, want: "1.1.0-rc.5", wantBump: "minor", changed: true, previous: "v1.0.0"},
		{name: "release candidate already at HEAD", history: []string{"t v1.0.0", "c feat: a", "t v1.1.0-rc.1"}, opts: []Option{WithPre("rc")}, want: "1.1.0-rc.1", wantBump: "minor", changed: false, previous: "v1.0.0"},
		{name: "graduate the release candidate", history: []string{"t v1.0.0", "c feat: a", "t v1.1.0-rc.1", "c fix: b"}, want: "1.1.0", wantTag: "v1.1.0", wantBump: "minor", changed: true, previous: "v1.0.0"},
		{name: "graduate on the same commit", history: []string{"t v1.0.0", "c feat: a", "t v1.1.0-rc.2"}, want: "1.1.0", wantBump: "minor", changed: true, previous: "v1.0.0"},
		{name: "breaking change during candidates", history: []string{"t v1.0.0", "c feat: a", "t v1.1.0-rc.1", "c feat!: b"}, opts: []Option{WithPre("rc")}, want: "2.0.0-rc.1", wantBump: "major", changed: true, previous: "v1.0.0"},
		{name: "another pre-release channel", history: []string{"t v1.0.0", "c feat: a", "t v1.1.0-beta.2"}, opts: []Option{WithPre("rc")}, want: "1.1.0-rc.1", wantBump: "minor", changed: true, previous: "v1.0.0"},
		{name: "only pre-release tags", history: []string{"t v1.0.0-rc.1", "c fix: a"}, want: "1.0.0", wantTag: "v1.0.0", wantBump: "patch", changed: true},
		{name: "pending major train beats a fix", history: []string{"t v1.0.0", "c feat!: a", "t v2.0.0-rc.1", "c fix: b"}, want: "2.0.0", wantBump: "major", changed: true, previous: "v1.0.0"},

		// Explicit bumps, npm version semantics.
		{name: "bump patch", history: []string{"t v1.2.3", "c docs: a"}, opts: []Option{WithBump(BumpPatch)}, want: "1.2.4", wantBump: "patch", changed: true, previous: "v1.2.3"},
		{name: "bump minor of a candidate releases it", history: []string{"t v1.2.0", "c feat: a", "t v1.3.0-rc.1"}, opts: []Option{WithBump(BumpMinor)}, want: "1.3.0", wantBump: "minor", changed: true, previous: "v1.3.0-rc.1"},
		{name: "bump prerelease of a stable version", history: []string{"t v1.2.3"}, opts: []Option{WithBump(BumpPrerelease), WithPre("rc")}, want: "1.2.4-rc.1", wantBump: "prerelease", changed: true, previous: "v1.2.3"},
		{name: "bump prerelease of a candidate", history: []string{"t v1.2.4-rc.1"}, opts: []Option{WithBump(BumpPrerelease)}, want: "1.2.4-rc.2", wantBump: "prerelease", changed: true, previous: "v1.2.4-rc.1"},
		{name: "bump premajor", history: []string{"t v1.2.3"}, opts: []Option{WithBump(BumpPremajor), WithPre("beta")}, want: "2.0.0-beta.1", wantBump: "premajor", changed: true, previous: "v1.2.3"},
		{name: "bump minor with --pre counts candidates", history: []string{"t v1.2.0", "b x", "c feat: x", "t v1.3.0-rc.1", "o main", "c feat: a"}, opts: []Option{WithBump(BumpMinor), WithPre("rc")}, want: "1.3.0-rc.2", wantBump: "minor", changed: true, previous: "v1.2.0"},
		{name: "bump with no tags starts at 0.0.0", history: []string{"c a"}, opts: []Option{WithBump(BumpMinor)}, want: "0.1.0", wantTag: "v0.1.0", wantBump: "minor", changed: true},

		// Build metadata.
		{name: "build metadata stays out of the tag", history: []string{"t v1.0.0", "c feat: a"}, opts: []Option{WithBuild("ci.42")}, want: "1.1.0+ci.42", wantTag: "v1.1.0", wantBump: "minor", changed: true, previous: "v1.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo := gittest.New(t)
			if op := tt.history[0][0]; op == 't' || op == 'a' {
				repo.Commit("chore: init") // a tag needs a commit
			}
			repo.Script(tt.history...)
			r, err := Next(context.Background(), append([]Option{WithDir(repo.Dir)}, tt.opts...)...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, r.Version.String(), "version")
			if tt.wantTag != "" {
				assert.Equal(t, tt.wantTag, r.Tag, "tag")
			}
			assert.Equal(t, tt.wantBump, r.Bump, "bump")
			assert.Equal(t, tt.changed, r.Changed, "changed (reason: %s)", r.Reason)
			if tt.changed {
				assert.Empty(t, r.Reason)
			} else {
				assert.NotEmpty(t, r.Reason)
			}
			if tt.previous == "" {
				assert.Nil(t, r.Previous)
			} else if assert.NotNil(t, r.Previous) {
				assert.Equal(t, tt.previous, r.Previous.Name)
			}
			assert.Equal(t, repo.Git("rev-parse", "HEAD"), r.Head)
		})
	}
}

func TestNextErrors(t *testing.T) {
	ctx := context.Background()
	empty := gittest.New(t)
	_, err := Next(ctx, WithDir(empty.Dir))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "has no commits yet")

	_, err = Next(ctx, WithDir(t.TempDir()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not inside a git working tree")

	repo := gittest.New(t)
	repo.Commit("feat: a")
	for _, opt := range []Option{WithBump("huge"), WithPre("r c"), WithBuild("a+b")} {
		_, err = Next(ctx, WithDir(repo.Dir), opt)
		assert.Error(t, err)
	}
	_, err = Next(ctx, WithDir(repo.Dir), WithRef("nope"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "resolving nope")
}

func TestNextCommitsAreTheRange(t *testing.T) {
	repo := gittest.New(t)
	repo.Script("c feat: a", "t v1.0.0", "c fix: b", "c docs: c")
	r, err := Next(context.Background(), WithDir(repo.Dir))
	require.NoError(t, err)
	require.Len(t, r.Commits, 2)
	assert.Equal(t, "docs: c", r.Commits[0].Subject(), "newest first")
	assert.Equal(t, "fix", r.Commits[1].Conventional.Type)
	assert.Equal(t, "Ada Lovelace", r.Commits[0].Author)
	assert.False(t, r.Shallow)
}

// More tags than the first reachability question covers (firstCandidates): the answer must not depend on
// whether the highest tags are reachable.
func TestNextWithManyTags(t *testing.T) {
	ctx := context.Background()
	t.Run("highest tags unreachable", func(t *testing.T) {
		repo := gittest.New(t)
		for i := 0; i < 5; i++ {
			repo.Commit("fix: main")
			repo.Git("tag", fmt.Sprintf("v1.0.%d", i))
		}
		repo.Git("checkout", "-q", "-b", "next")
		for i := 0; i < firstCandidates+4; i++ {
			repo.Commit("feat: next")
			repo.Git("tag", fmt.Sprintf("v2.%d.0", i))
		}
		repo.Git("checkout", "-q", "main")
		repo.Commit("fix: more")
		r, err := Next(ctx, WithDir(repo.Dir))
		require.NoError(t, err)
		assert.Equal(t, "1.0.5", r.Version.String())
		assert.Equal(t, "v1.0.4", r.Previous.Name)
	})
	t.Run("highest reachable tags are all pre-releases", func(t *testing.T) {
		repo := gittest.New(t)
		repo.Script("c feat: a", "t v1.5.0", "c feat!: b")
		for i := 1; i <= firstCandidates+4; i++ {
			repo.Commit("fix: candidate")
			repo.Git("tag", fmt.Sprintf("v2.0.0-rc.%d", i))
		}
		repo.Commit("fix: after")
		r, err := Next(ctx, WithDir(repo.Dir))
		require.NoError(t, err)
		assert.Equal(t, "v1.5.0", r.Previous.Name, "the stable tag is found past the first candidates")
		assert.Equal(t, "2.0.0", r.Version.String())
		cur, err := Current(ctx, WithDir(repo.Dir))
		require.NoError(t, err)
		assert.Equal(t, "v2.0.0-rc.20", cur.Name)
		r, err = Next(ctx, WithDir(repo.Dir), WithPre("rc"))
		require.NoError(t, err)
		assert.Equal(t, "2.0.0-rc.21", r.Version.String())
	})
}
