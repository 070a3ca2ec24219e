package semver

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/shipyardci/shipyard/internal/gittest"
	"github.com/shipyardci/shipyard/internal/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hashes makes commit hashes stable for golden files.
var hashes = regexp.MustCompile(`\([0-9a-f]{7}\)`)

func changelogFixture(t *testing.T) *Result {
	t.Helper()
	repo := gittest.New(t)
	repo.Script(
		"c feat: first", "t v1.4.0",
		"c fix(api): handle empty bodies",
		"c feat(ui): dark mode",
		`c feat(config)!: read shipyard.yaml\n\nBREAKING CHANGE: config.json is no longer read;\nrename it to shipyard.yaml`,
		"c docs: explain releases",
		"c perf: cache tags",
		"c chore(deps): bump cobra",
		"c revert: feat: experimental flag",
		"c wip: something",
		"c Merge branch 'feature'",
		"c fix: handle\nmulti-line bodies",
	)
	r, err := Next(context.Background(), WithDir(repo.Dir))
	require.NoError(t, err)
	require.Equal(t, "2.0.0", r.Version.String())
	return r
}

func TestChangelogMarkdown(t *testing.T) {
	r := changelogFixture(t)
	for _, tt := range []struct {
		name string
		all  bool
	}{{"changelog", false}, {"changelog-all", true}} {
		t.Run(tt.name, func(t *testing.T) {
			c := NewChangelog(r, tt.all)
			assert.Equal(t, "v1.4.0", c.Previous)
			golden.Assert(t, tt.name+".md", hashes.ReplaceAll([]byte(c.Markdown()), []byte("(abc1234)")))
		})
	}
}

func TestChangelogEmpty(t *testing.T) {
	repo := gittest.New(t)
	repo.Script("c feat: a", "t v1.0.0", "c docs: a")
	r, err := Next(context.Background(), WithDir(repo.Dir), WithBump(BumpPatch))
	require.NoError(t, err)
	assert.Equal(t, "## 1.0.1 (2026-01-02)\n\nNo notable changes.\n", NewChangelog(r, false).Markdown())
}

func TestChangelogPrepend(t *testing.T) {
	r := changelogFixture(t)
	c := NewChangelog(r, false)
	heading := "## 2.0.0 (2026-01-02)\n"
	tests := []struct {
		name, before, after string
		written             bool
	}{
		{"new file gets a title", "", "# Changelog\n\n" + heading, true},
		{"below the existing title", "# Changes\n\n## 1.4.0\n\n- old\n", "# Changes\n\n" + heading, true},
		{"file without a title", "## 1.4.0\n\n- old\n", heading, true},
		{"version already there", "# Changelog\n\n## 2.0.0 (2026-01-01)\n\n- kept\n", "# Changelog\n\n## 2.0.0 (2026-01-01)\n\n- kept\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "CHANGELOG.md")
			if tt.before != "" {
				require.NoError(t, os.WriteFile(path, []byte(tt.before), 0o600))
			}
			written, err := c.Prepend(path)
			require.NoError(t, err)
			assert.Equal(t, tt.written, written)
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Contains(t, string(got), tt.after)
			if tt.written && tt.before != "" {
				assert.Contains(t, string(got), "\n## 1.4.0\n\n- old\n", "older entries are kept below")
				info, err := os.Stat(path)
				require.NoError(t, err)
				assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the file mode is kept")
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		version, constraint string
		ok                  bool
		wantErr             string
	}{
		{"1.4.2", ">=1.2 <2", true, ""},
		{"v1.4.2", "^1.4", true, ""},
		{"2.0.0", ">=1.2 <2", false, ""},
		{"1.3.0-rc.1", ">=1.2 <2", false, ""},
		{"1.3.0-rc.1", ">=1.3.0-rc.0", true, ""},
		{"1.2.3", "~1.2.0 || 2.x", true, ""},
		{"1.4.x", ">=1.2", false, `invalid version "1.4.x": `},
		{"1.4.2", ">=>1.2", false, `invalid constraint ">=>1.2": `},
	}
	for _, tt := range tests {
		t.Run(tt.version+" "+tt.constraint, func(t *testing.T) {
			ok, reasons, err := Check(tt.version, tt.constraint)
			if tt.wantErr != "" {
				var inv *InvalidError
				require.ErrorAs(t, err, &inv)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, !tt.ok, len(reasons) > 0, "a failed check says why: %v", reasons)
		})
	}
}
