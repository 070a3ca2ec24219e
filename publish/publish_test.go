package publish

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/npmtest"
)

// npmIn runs npm in dir with its own cache and no user configuration.
func npmIn(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("npm", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "npm_config_cache="+filepath.Join(t.TempDir(), "cache"), "npm_config_update_notifier=false",
		"npm_config_userconfig="+filepath.Join(t.TempDir(), "none"), "npm_config_audit=false", "npm_config_fund=false")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestPublishToVerdaccio: against a real registry: stable and pre-release versions land under latest
// and next, npm installs what shipyard published with the files npm pack lists, a second publish is a
// no-op, the same version with other content is refused, a dry run publishes nothing, a scoped package
// goes to its scope's registry with its token, and the token shows nowhere.
func TestPublishToVerdaccio(t *testing.T) {
	if testing.Short() {
		t.Skip("installs and starts verdaccio")
	}
	reg, token := npmtest.Verdaccio(t)
	host := strings.TrimPrefix(reg, "http://")
	env := map[string]string{"NPM_TOKEN": token}
	getenv := func(k string) string { return env[k] }
	dir := tree(t, map[string]string{
		"package.json": `{"name":"greet","version":"1.0.0","description":"says hello","main":"lib/index.js","files":["lib"]}`,
		"lib/index.js": "module.exports = () => 'hello'\n", "test/t.js": "", "README.md": "# greet\n",
		".npmrc": "registry=" + reg + "/\n//" + host + "/:_authToken=${NPM_TOKEN}\n",
	})
	var said []string
	do := func(r Request) (*Result, error) {
		res, err := Publish(context.Background(), r)
		out, _ := json.Marshal(res)
		said = append(said, string(out))
		if err != nil {
			said = append(said, err.Error())
		}
		return res, err
	}
	dry, err := do(Request{Dir: dir, Getenv: getenv, DryRun: true})
	require.NoError(t, err)
	assert.False(t, dry.Published)
	_, err = npmIn(t, dir, "view", "greet", "--registry", reg)
	assert.Error(t, err, "a dry run publishes nothing")

	res, err := do(Request{Dir: dir, Getenv: getenv})
	require.NoError(t, err)
	assert.True(t, res.Published)
	assert.Equal(t, "latest", res.Tag)
	assert.Equal(t, npmPackFiles(t, dir), res.Files)

	again, err := do(Request{Dir: dir, Getenv: getenv})
	require.NoError(t, err)
	assert.True(t, again.Already)
	assert.False(t, again.Published)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "lib", "index.js"), []byte("module.exports = () => 'changed'\n"), 0o644))
	_, err = do(Request{Dir: dir, Getenv: getenv})
	var conflict *ConflictError
	require.ErrorAs(t, err, &conflict)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"greet","version":"1.1.0-rc.1","main":"lib/index.js","files":["lib"]}`), 0o644))
	rc, err := do(Request{Dir: dir, Getenv: getenv})
	require.NoError(t, err)
	assert.Equal(t, "next", rc.Tag)

	out, err := npmIn(t, dir, "view", "greet", "versions", "dist-tags", "--json", "--registry", reg)
	require.NoError(t, err, out)
	var view struct {
		Versions []string          `json:"versions"`
		DistTags map[string]string `json:"dist-tags"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &view), out)
	assert.Equal(t, []string{"1.0.0", "1.1.0-rc.1"}, view.Versions)
	assert.Equal(t, map[string]string{"latest": "1.0.0", "next": "1.1.0-rc.1"}, view.DistTags)

	// npm installs it from the registry, and it holds what npm pack lists.
	app := tree(t, map[string]string{"package.json": `{"name":"app","version":"0.0.0","private":true}`, ".npmrc": "registry=" + reg + "/\n"})
	out, err = npmIn(t, app, "install", "greet@1.0.0")
	require.NoError(t, err, out)
	run := exec.Command("node", "-e", "console.log(require('greet')())")
	run.Dir = app
	out2, err := run.CombinedOutput()
	require.NoError(t, err, string(out2))
	assert.Equal(t, "hello\n", string(out2))
	var installed []string
	root := filepath.Join(app, "node_modules", "greet")
	require.NoError(t, filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			installed = append(installed, filepath.ToSlash(rel))
		}
		return err
	}))
	slices.Sort(installed)
	assert.Equal(t, res.Files, installed)

	// A scoped package, its scope's registry and token in .npmrc (the default registry is elsewhere).
	scoped := tree(t, map[string]string{"package.json": `{"name":"@acme/util","version":"0.1.0"}`, "index.js": "",
		".npmrc": "registry=https://registry.invalid/\n@acme:registry=" + reg + "/\n//" + host + "/:_authToken=${NPM_TOKEN}\n"})
	sres, err := do(Request{Dir: scoped, Getenv: getenv})
	require.NoError(t, err)
	assert.Equal(t, reg+"/", sres.Registry)
	out, err = npmIn(t, scoped, "view", "@acme/util", "version", "--registry", reg)
	require.NoError(t, err, out)
	assert.Equal(t, "0.1.0", strings.TrimSpace(out))

	// publishConfig names the registry (the default one is elsewhere), and --dist-tag the tag.
	configured := tree(t, map[string]string{"package.json": `{"name":"configured","version":"3.0.0","publishConfig":{"registry":"` + reg + `"}}`,
		".npmrc": "registry=https://registry.invalid/\n//" + host + "/:_authToken=${NPM_TOKEN}\n"})
	cres, err := do(Request{Dir: configured, Getenv: getenv, Tag: "beta"})
	require.NoError(t, err)
	assert.True(t, cres.Published)
	out, err = npmIn(t, configured, "view", "configured", "dist-tags.beta", "--registry", reg)
	require.NoError(t, err, out)
	assert.Equal(t, "3.0.0", strings.TrimSpace(out))

	// Without a token: an input error naming where it goes, nothing published.
	nokey := tree(t, map[string]string{"package.json": `{"name":"nokey","version":"1.0.0"}`, ".npmrc": "registry=" + reg + "/\n"})
	_, err = do(Request{Dir: nokey, Getenv: getenv})
	var ie interface{ InputError() bool }
	require.True(t, errors.As(err, &ie), "%v", err)
	assert.Contains(t, err.Error(), "_authToken")

	all := strings.Join(said, "\n")
	assert.NotContains(t, all, token)
	u, _ := url.Parse(reg)
	assert.Contains(t, all, u.Host, "the outputs were collected")
}
