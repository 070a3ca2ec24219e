package pipeline

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/npmtest"
	"github.com/shipyardci/shipyard/semver"
)

// npmRepo is a git repository of npm packages (files: path → content), committed as feat: first.
func npmRepo(t *testing.T, files map[string]string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644))
	}
	environ := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com"}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-q", "-m", "feat: first"}} {
		runGit(t, dir, environ, args...)
	}
	return dir, environ
}

// versions is what npm view says of a package in the registry.
func versions(t *testing.T, reg, name string) (vs []string, tags map[string]string) {
	t.Helper()
	cmd := exec.Command("npm", "view", name, "versions", "dist-tags", "--json", "--registry", reg)
	cmd.Env = append(os.Environ(), "npm_config_cache="+filepath.Join(t.TempDir(), "c"), "npm_config_userconfig="+filepath.Join(t.TempDir(), "none"))
	out, err := cmd.Output()
	require.NoError(t, err)
	var v struct {
		Versions json.RawMessage   `json:"versions"`
		DistTags map[string]string `json:"dist-tags"`
	}
	require.NoError(t, json.Unmarshal(out, &v), string(out))
	if json.Unmarshal(v.Versions, &vs) != nil {
		var one string
		_ = json.Unmarshal(v.Versions, &one)
		vs = []string{one}
	}
	return vs, v.DistTags
}

// TestPublishFromCommits: the version comes from the commits, the release is tagged with its
// changelog, published under latest or next, and written to package.json; the same commit again is a
// no-op; in a workspace monorepo only the packages changed since their last tag get a new version.
func TestPublishFromCommits(t *testing.T) {
	if testing.Short() {
		t.Skip("installs and starts verdaccio")
	}
	reg, token := npmtest.Verdaccio(t)
	npmrc := "registry=" + reg + "/\n//" + strings.TrimPrefix(reg, "http://") + "/:_authToken=${NPM_TOKEN}\n"
	getenv := func(k string) string { return map[string]string{"NPM_TOKEN": token}[k] }

	t.Run("one package", func(t *testing.T) {
		lock := "{\n  \"name\": \"solo\",\n  \"version\": \"0.0.0\",\n  \"lockfileVersion\": 3,\n  \"packages\": {\n    \"\": {\n      \"name\": \"solo\",\n      \"version\": \"0.0.0\"\n    }\n  }\n}\n"
		dir, environ := npmRepo(t, map[string]string{"package.json": "{\n  \"name\": \"solo\",\n  \"version\": \"0.0.0\"\n}\n", "index.js": "", ".npmrc": npmrc, "package-lock.json": lock})
		out, err := Publish(context.Background(), PublishInput{Dir: dir, Getenv: getenv})
		require.NoError(t, err)
		require.Len(t, out, 1)
		assert.Equal(t, "0.1.0", out[0].Version)
		assert.True(t, out[0].Published)
		assert.True(t, out[0].Tagged)
		assert.Contains(t, runGit(t, dir, environ, "tag", "-n9", "-l", "v0.1.0"), "Features")
		data, _ := os.ReadFile(filepath.Join(dir, "package.json"))
		assert.Equal(t, "{\n  \"name\": \"solo\",\n  \"version\": \"0.1.0\"\n}\n", string(data))
		data, _ = os.ReadFile(filepath.Join(dir, "package-lock.json"))
		assert.Equal(t, strings.ReplaceAll(lock, "0.0.0", "0.1.0"), string(data), "the lock file says the version too, and nothing else changed")

		again, err := Publish(context.Background(), PublishInput{Dir: dir, Getenv: getenv})
		require.NoError(t, err)
		assert.True(t, again[0].Already, "the same commit again: nothing new")
		assert.False(t, again[0].Tagged)

		runGit(t, dir, environ, "checkout", "package.json", "package-lock.json")
		require.NoError(t, os.WriteFile(filepath.Join(dir, "index.js"), []byte("x"), 0o644))
		runGit(t, dir, environ, "commit", "-qam", "feat: more (#12)")
		rc, err := Publish(context.Background(), PublishInput{Dir: dir, Getenv: getenv, Bump: []semver.Option{semver.WithPre("rc")}})
		require.NoError(t, err)
		assert.Equal(t, "0.2.0-rc.1", rc[0].Version)
		assert.Equal(t, "next", rc[0].Tag)
		vs, tags := versions(t, reg, "solo")
		assert.Equal(t, []string{"0.1.0", "0.2.0-rc.1"}, vs)
		assert.Equal(t, map[string]string{"latest": "0.1.0", "next": "0.2.0-rc.1"}, tags)

		dry, err := Publish(context.Background(), PublishInput{Dir: dir, Getenv: getenv, DryRun: true})
		require.NoError(t, err)
		assert.False(t, dry[0].Published)
	})

	t.Run("workspaces", func(t *testing.T) {
		dir, environ := npmRepo(t, map[string]string{
			"package.json":            `{"name":"root","private":true,"workspaces":["packages/*"]}`,
			"packages/a/package.json": `{"name":"@ws/a","version":"0.0.0"}`, "packages/a/index.js": "",
			"packages/b/package.json": `{"name":"@ws/b","version":"0.0.0"}`, "packages/b/index.js": "",
			"packages/a/.npmrc": npmrc, "packages/b/.npmrc": npmrc,
		})
		out, err := Publish(context.Background(), PublishInput{Dir: dir, Getenv: getenv})
		require.NoError(t, err)
		require.Len(t, out, 2)
		assert.Equal(t, []string{"@ws/a@v0.1.0", "@ws/b@v0.1.0"}, []string{out[0].GitTag, out[1].GitTag}, "a workspace's tags are NAME@VERSION")
		runGit(t, dir, environ, "checkout", ".")
		require.NoError(t, os.WriteFile(filepath.Join(dir, "packages", "a", "index.js"), []byte("fixed"), 0o644))
		runGit(t, dir, environ, "commit", "-qam", "fix: a only")
		out, err = Publish(context.Background(), PublishInput{Dir: dir, Getenv: getenv})
		require.NoError(t, err)
		assert.Equal(t, "0.1.1", out[0].Version)
		assert.True(t, out[0].Published)
		assert.Equal(t, "0.1.0", out[1].Version)
		assert.True(t, out[1].Already, "b did not change: not published again")
	})
}
