package cmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/shipyardci/shipyard/internal/exitcode"
	"github.com/shipyardci/shipyard/internal/gittest"
	"github.com/shipyardci/shipyard/internal/textreport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func releasedRepo(t *testing.T) *gittest.Repo {
	t.Helper()
	repo := gittest.New(t)
	repo.Script("c feat: first", "t v1.2.0", "c fix(api): nil body", "c feat(ui): dark mode")
	return repo
}

func TestVersionNextText(t *testing.T) {
	repo := releasedRepo(t)
	r := cli(t, repo.Dir, nil, "version", "next")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "1.3.0\n", r.stdout, "stdout has the version alone, for $(shipyard version next)")
	assert.Equal(t, "v1.3.0: minor bump from v1.2.0, 2 commits\n", r.stderr)
}

func TestVersionNextJSON(t *testing.T) {
	repo := releasedRepo(t)
	r := cli(t, repo.Dir, nil, "version", "next", "-o", "json")
	require.Equal(t, 0, r.code, r.stderr)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
	assert.Equal(t, "1.3.0", got["version"])
	assert.Equal(t, "v1.3.0", got["tag"])
	assert.Equal(t, "v1.2.0", got["previous"])
	assert.Equal(t, "minor", got["bump"])
	assert.Equal(t, true, got["changed"])
	assert.Equal(t, float64(2), got["commits"])
	assert.Equal(t, repo.Git("rev-parse", "HEAD"), got["commit"])
}

func TestVersionNextUnderGitHubActions(t *testing.T) {
	repo := releasedRepo(t)
	env, output, summary := actionsEnv(t)
	r := cli(t, repo.Dir, env, "version", "next")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "1.3.0\n", r.stdout, "workflow commands never go to stdout")
	assert.Equal(t, "version=1.3.0\ntag=v1.3.0\nbump=minor\nchanged=true\n", readFile(t, output))
	assert.Equal(t, "**Next version:** `1.3.0` (minor from `v1.2.0`, 2 commits)\n", readFile(t, summary))
}

func TestVersionNextNothingToRelease(t *testing.T) {
	repo := gittest.New(t)
	repo.Script("c feat: a", "t v1.0.0", "c docs: readme")
	r := cli(t, repo.Dir, nil, "version", "next", "-o", "json")
	require.Equal(t, 0, r.code, "nothing to release is not a failure")
	var got textreport.VersionResult
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	assert.Equal(t, "1.0.0", got.Version)
	assert.False(t, got.Changed)
	assert.Contains(t, got.Reason, "no commit since v1.0.0 asks for a release")
}

func TestVersionFlags(t *testing.T) {
	repo := releasedRepo(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"version", "next", "--pre", "rc"}, "1.3.0-rc.1\n"},
		{[]string{"version", "next", "--bump", "major"}, "2.0.0\n"},
		{[]string{"version", "next", "--build", "ci.7"}, "1.3.0+ci.7\n"},
		{[]string{"version", "next", "--ref", "HEAD~1"}, "1.2.1\n"},
		{[]string{"version", "current"}, "1.2.0\n"},
		{[]string{"version", "describe"}, "1.3.0-dev.2+g" + repo.Git("rev-parse", "--short=7", "HEAD") + "\n"},
	}
	for _, tt := range tests {
		r := cli(t, repo.Dir, nil, tt.args...)
		assert.Equal(t, 0, r.code, "%v: %s", tt.args, r.stderr)
		assert.Equal(t, tt.want, r.stdout, "%v", tt.args)
	}
}

func TestVersionCurrentWithoutTags(t *testing.T) {
	repo := gittest.New(t)
	repo.Commit("a")
	r := cli(t, repo.Dir, nil, "version", "current")
	assert.Equal(t, 0, r.code)
	assert.Equal(t, "0.0.0\n", r.stdout)
	assert.Equal(t, "no version tag reachable from HEAD\n", r.stderr)
}

func TestVersionCheck(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string
		stderrLike string
	}{
		{"satisfied", []string{"1.4.2", ">=1.2 <2"}, 0, "1.4.2 satisfies >=1.2 <2\n", "^$"},
		{"not satisfied", []string{"2.0.0", ">=1.2 <2"}, 1, "2.0.0 does not satisfy >=1.2 <2: \"2.0.0\" is greater than or equal to \"2\"\n", "^$"},
		{"malformed version", []string{"1.4.x", ">=1.2 <2"}, 2, "", `error: invalid version "1\.4\.x": `},
		{"malformed constraint", []string{"1.4.2", ">=!1"}, 2, "", `error: invalid constraint ">=!1": `},
		{"one argument", []string{"1.4.2"}, 2, "", `error: accepts 2 arg\(s\), received 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cli(t, dir, nil, append([]string{"version", "check"}, tt.args...)...)
			assert.Equal(t, tt.code, r.code)
			assert.Equal(t, tt.stdout, r.stdout)
			assert.Regexp(t, tt.stderrLike, r.stderr)
		})
	}
	r := cli(t, dir, nil, "version", "check", "1.4.2", ">=1.2 <2", "-o", "json")
	assert.JSONEq(t, `{"version":"1.4.2","constraint":">=1.2 <2","satisfied":true,"reasons":[]}`, r.stdout)
}

func TestVersionTag(t *testing.T) {
	repo := releasedRepo(t)
	r := cli(t, repo.Dir, nil, "version", "tag")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "v1.3.0\n", r.stdout)
	assert.Equal(t, "tagged v1.3.0\n", r.stderr)
	msg := repo.Git("tag", "-l", "--format=%(contents)", "v1.3.0")
	assert.Regexp(t, regexp.MustCompile(`(?s)^Release v1\.3\.0\n\n## 1\.3\.0 \(2026-01-02\)\n\n### Features\n\n- \*\*ui:\*\* dark mode \([0-9a-f]{7}\)\n\n### Bug Fixes\n\n- \*\*api:\*\* nil body`), msg)

	r = cli(t, repo.Dir, nil, "version", "tag", "-o", "json")
	require.Equal(t, 0, r.code, "nothing to tag is success")
	assert.Contains(t, r.stdout, `"tagged": false`)
	assert.Contains(t, r.stdout, `"reason": "`)
}

func TestVersionTagRefusals(t *testing.T) {
	repo := gittest.New(t)
	repo.Script("f app.go feat: a", "t v1.0.0", "f app.go fix: b")
	repo.WriteFile("app.go", "edited\n")
	r := cli(t, repo.Dir, nil, "version", "tag")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "error: the working tree has uncommitted changes (app.go)")

	repo.Git("checkout", "--", "app.go")
	repo.Script("b other", "c fix: c", "t v1.0.1", "o main")
	r = cli(t, repo.Dir, nil, "version", "tag")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "error: tag v1.0.1 already exists")
}

func TestUsageErrors(t *testing.T) {
	repo := releasedRepo(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"version", "next", "--bogus"}, "error: unknown flag: --bogus\nRun 'shipyard version next --help' for usage.\n"},
		{[]string{"version", "nxt"}, "error: unknown command \"nxt\" for \"shipyard version\" (did you mean \"next\"?)\n"},
		{[]string{"deploy"}, "error: unknown command \"deploy\" for \"shipyard\"\n"},
		{[]string{"version", "next", "extra"}, "error: unknown command \"extra\" for \"shipyard version next\"\n"},
		{[]string{"-o", "yaml", "version", "next"}, "error: invalid argument \"yaml\" for \"-o, --output\" flag: must be text or json, not \"yaml\"\n"},
		{[]string{"version", "next", "--bump", "mayor"}, "error: --bump: invalid bump \"mayor\": want one of major, minor, patch, premajor, preminor, prepatch, prerelease\n"},
		{[]string{"version", "next", "--initial", "one"}, "error: --initial: \"one\" is not a semantic version (like 0.1.0)\n"},
		{[]string{"version", "next", "--pre", "r_c"}, "error: --pre: \"r_c\" is not a pre-release identifier (letters, digits and hyphens)\n"},
		{[]string{"--config", "missing.yaml", "version", "next"}, "missing.yaml: cannot read configuration: no such file or directory\n"},
	}
	for _, tt := range tests {
		r := cli(t, repo.Dir, nil, tt.args...)
		assert.Equal(t, 2, r.code, "%v", tt.args)
		assert.Empty(t, r.stdout, "%v", tt.args)
		assert.Contains(t, r.stderr, tt.want, "%v", tt.args)
	}
}

func TestConfigFileAndEnvironment(t *testing.T) {
	repo := gittest.New(t)
	repo.Script("c feat: a", "t api/v1.0.0", "t v7.0.0", "c fix: b")
	require.NoError(t, os.WriteFile(filepath.Join(repo.Dir, "shipyard.yaml"), []byte("version:\n  tag_prefix: api/\n"), 0o644))
	sub := filepath.Join(repo.Dir, "services", "api")
	require.NoError(t, os.MkdirAll(sub, 0o755))

	r := cli(t, sub, nil, "version", "next")
	assert.Equal(t, "1.0.1\n", r.stdout, "shipyard.yaml at the repository root applies in a subdirectory: %s", r.stderr)

	r = cli(t, repo.Dir, map[string]string{"SHIPYARD_VERSION_TAG_PREFIX": ""}, "version", "next")
	assert.Equal(t, "7.0.1\n", r.stdout, "the environment overrides the file")

	r = cli(t, repo.Dir, map[string]string{"SHIPYARD_VERSION_TAG_PREFIX": "web/"}, "version", "next", "--tag-prefix", "api/")
	assert.Equal(t, "1.0.1\n", r.stdout, "a flag overrides the environment")

	require.NoError(t, os.WriteFile(filepath.Join(repo.Dir, "shipyard.yaml"), []byte("version:\n  tag_prefix: api/\n  tagprefix: web/\n"), 0o644))
	r = cli(t, repo.Dir, nil, "version", "next")
	assert.Equal(t, 2, r.code)
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, filepath.Join(repo.Dir, "shipyard.yaml")+`:3: unknown key "version.tagprefix" (did you mean "tag_prefix"?)`)
}

func TestQuiet(t *testing.T) {
	repo := releasedRepo(t)
	r := cli(t, repo.Dir, nil, "--quiet", "version", "next")
	assert.Equal(t, "1.3.0\n", r.stdout)
	assert.Empty(t, r.stderr)
}

func TestChangelogCommand(t *testing.T) {
	repo := releasedRepo(t)
	env, output, summary := actionsEnv(t)
	r := cli(t, repo.Dir, env, "changelog", "--file", "CHANGELOG.md")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "## 1.3.0 (2026-01-02)\n\n### Features\n\n- **ui:** dark mode")
	assert.Contains(t, readFile(t, filepath.Join(repo.Dir, "CHANGELOG.md")), "# Changelog\n\n## 1.3.0")
	assert.Regexp(t, `^version=1\.3\.0\nchangelog<<ghadelimiter_[0-9a-f]+\n## 1\.3\.0 \(2026-01-02\)\n`, readFile(t, output), "a multi-line output")
	assert.Contains(t, readFile(t, summary), "### Bug Fixes")

	r = cli(t, repo.Dir, nil, "changelog", "--file", "CHANGELOG.md", "-o", "json")
	require.Equal(t, 0, r.code)
	assert.Contains(t, r.stderr, "CHANGELOG.md already has 1.3.0: left unchanged")
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	assert.Equal(t, "1.3.0", got["version"])
}

func TestErrorAnnotationUnderActions(t *testing.T) {
	env, _, _ := actionsEnv(t)
	r := cli(t, t.TempDir(), env, "version", "next")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "::error title=shipyard version next::")
	assert.Contains(t, r.stderr, "is not inside a git working tree")
}

// TestShallowClone: version next and version tag refuse a shallow clone that lacks the last version tag
// (actions/checkout's default), with exit 1 and the remedy; --allow-shallow versions it with a warning.
func TestShallowClone(t *testing.T) {
	origin := releasedRepo(t)
	clone := filepath.Join(t.TempDir(), "clone")
	origin.Git("clone", "-q", "--depth=1", "file://"+origin.Dir, clone)
	env, _, _ := actionsEnv(t)
	for _, args := range [][]string{{"version", "next"}, {"version", "tag"}} {
		r := cli(t, clone, env, args...)
		assert.Equal(t, 1, r.code, r.stderr)
		assert.Contains(t, r.stderr, "error: this is a shallow clone without a version tag in its history")
		assert.Contains(t, r.stderr, "fetch-depth: 0 in actions/checkout, or git fetch --unshallow --tags; --allow-shallow to version it anyway")
		assert.Empty(t, r.stdout)
	}
	assert.Empty(t, gittest.Open(t, clone).Git("tag", "--list"), "nothing tagged")

	r := cli(t, clone, env, "version", "next", "--allow-shallow")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "0.1.0\n", r.stdout)
	assert.Contains(t, r.stderr, "warning: this is a shallow clone")
	assert.Contains(t, r.stderr, "::warning title=shipyard version::this is a shallow clone")

	deep := filepath.Join(t.TempDir(), "deep")
	origin.Git("clone", "-q", "--depth=3", "file://"+origin.Dir, deep)
	r = cli(t, deep, env, "version", "next")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "1.3.0\n", r.stdout, "a shallow clone that holds the tag and the commits since is versioned")
	assert.NotContains(t, r.stderr, "warning")
}

func TestInterrupted(t *testing.T) {
	repo := releasedRepo(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := execute(ctx, t, repo.Dir, nil, false, "version", "next")
	assert.Equal(t, exitcode.Interrupted, r.code)
	assert.Equal(t, "error: interrupted\n", r.stderr)
}

func TestColourOnlyOnATerminalAndNeverWithNoColor(t *testing.T) {
	dir := t.TempDir()
	r := execute(context.Background(), t, dir, nil, true, "version", "next")
	assert.Contains(t, r.stderr, "\x1b[31merror:\x1b[0m", "a terminal gets colour")
	r = execute(context.Background(), t, dir, nil, true, "--no-color", "version", "next")
	assert.NotContains(t, r.stderr, "\x1b[")
	r = execute(context.Background(), t, dir, nil, false, "version", "next")
	assert.NotContains(t, r.stderr, "\x1b[", "a pipe gets none")
}

func TestVersionFlag(t *testing.T) {
	r := cli(t, t.TempDir(), nil, "--version")
	assert.Equal(t, 0, r.code)
	assert.Equal(t, "shipyard 1.2.3\ncommit: abc1234\nbuilt:  2026-11-23T10:00:00Z\n", r.stdout)
}

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		r := cli(t, t.TempDir(), nil, "completion", shell)
		assert.Equal(t, 0, r.code, shell)
		assert.Contains(t, r.stdout, "shipyard", shell)
	}
	r := cli(t, t.TempDir(), nil, "completion", "tcsh")
	assert.Equal(t, 2, r.code)
}

func TestGroupWithoutSubcommandPrintsHelp(t *testing.T) {
	r := cli(t, t.TempDir(), nil, "version")
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "Available Commands:")
	assert.Contains(t, r.stdout, "describe")
}
