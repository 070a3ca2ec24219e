package cmd

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/gittest"
	"github.com/shipyardci/shipyard/internal/npmtest"
)

// TestPublishCommand: shipyard publish --dry-run lists the files and the integrity and publishes
// nothing; publish publishes, sets the step outputs, tags; the token shows in no output.
func TestPublishCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("installs and starts verdaccio")
	}
	reg, token := npmtest.Verdaccio(t)
	repo := gittest.New(t)
	repo.WriteFile("package.json", `{"name":"cli-pkg","version":"0.0.0","files":["lib"]}`)
	repo.WriteFile("lib/index.js", "module.exports = 1\n")
	repo.WriteFile("test/x.js", "")
	repo.WriteFile(".npmrc", "registry="+reg+"/\n//"+strings.TrimPrefix(reg, "http://")+"/:_authToken=${NPM_TOKEN}\n")
	repo.Commit("feat: the first")
	output := filepath.Join(t.TempDir(), "output")
	env := map[string]string{"NPM_TOKEN": token, "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": output}

	dry := cli(t, repo.Dir, env, "publish", "--dry-run")
	require.Equal(t, 0, dry.code, dry.stderr)
	assert.Contains(t, dry.stdout, "cli-pkg@0.1.0 would publish under latest: 2 files, sha512-")
	assert.Contains(t, dry.stdout, "  lib/index.js\n")
	assert.NotContains(t, dry.stdout, "test/x.js")
	assert.Empty(t, repo.Git("tag", "-l"), "a dry run tags nothing")

	r := cli(t, repo.Dir, env, "-o", "json", "publish")
	require.Equal(t, 0, r.code, r.stderr)
	var res []struct {
		Name, Version, Tag string
		Published          bool
		GitTag             string `json:"git_tag"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &res), r.stdout)
	require.Len(t, res, 1)
	assert.True(t, res[0].Published)
	assert.Equal(t, "v0.1.0", res[0].GitTag)
	assert.Equal(t, "v0.1.0", strings.TrimSpace(repo.Git("tag", "-l")))
	outputs := readOutputs(t, output)
	assert.Equal(t, "0.1.0", outputs["version"])
	assert.Equal(t, "true", outputs["published"])

	again := cli(t, repo.Dir, env, "publish")
	require.Equal(t, 0, again.code, again.stderr)
	assert.Contains(t, again.stdout, "cli-pkg@0.1.0 already published")
	for _, out := range []string{dry.stdout, dry.stderr, r.stdout, r.stderr, again.stdout, again.stderr} {
		assert.NotContains(t, out, token)
	}

	bad := cli(t, repo.Dir, env, "publish", "--bump", "sideways")
	assert.Equal(t, 2, bad.code)
	assert.Contains(t, bad.stderr, "--bump")
}
