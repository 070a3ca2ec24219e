package publish

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/testenv"
)

// npmPackFiles is the file list of npm pack --dry-run --json in dir: the peer.
func npmPackFiles(t *testing.T, dir string) []string {
	t.Helper()
	testenv.Tool(t, "npm", "apt-get install npm")
	cmd := exec.Command("npm", "pack", "--dry-run", "--json", "--ignore-scripts")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "npm_config_cache="+filepath.Join(t.TempDir(), "cache"), "npm_config_update_notifier=false",
		"npm_config_userconfig="+filepath.Join(t.TempDir(), "none"))
	out, err := cmd.Output()
	require.NoError(t, err)
	var packed []struct{ Files []struct{ Path string } }
	require.NoError(t, json.Unmarshal(out, &packed), string(out))
	var files []string
	for _, f := range packed[0].Files {
		files = append(files, f.Path)
	}
	slices.Sort(files)
	return files
}

// tree writes files (path → content; a path ending in / is a directory) under a new directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, p)
		if strings.HasSuffix(p, "/") {
			require.NoError(t, os.MkdirAll(full, 0o755))
			continue
		}
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(content), 0o644))
	}
	return dir
}

func TestFilesAsNpmPacks(t *testing.T) {
	litter := map[string]string{"README.md": "r", "LICENSE": "l", "CHANGELOG.md": "c", ".npmrc": "x=1", "package-lock.json": "{}",
		"node_modules/x/i.js": "", ".git/HEAD": "", "lib/.DS_Store": "", "npm-debug.log": "", "lib/a.js.orig": "", "test/t.js": "",
		"lib/index.js": "", "lib/sub/x.js": "", "lib/.hidden": "", "docs/a.md": "", "docs/b.txt": "", "bin/cli.js": "", "src/index.ts": "",
		"Readme.txt~": "", "licence.txt": ""}
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range litter {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	for name, files := range map[string]map[string]string{
		"files array":                  with(map[string]string{"package.json": `{"name":"a","version":"1.0.0","main":"lib/index.js","bin":{"a":"bin/cli.js"},"files":["lib","docs/*.md"]}`}),
		"files with a file and a glob": with(map[string]string{"package.json": `{"name":"a","version":"1.0.0","files":["lib/sub/x.js","src/**/*.ts","./docs/"]}`}),
		"npmignore":                    with(map[string]string{"package.json": `{"name":"a","version":"1.0.0","main":"./lib/index.js"}`, ".npmignore": "test/\n*.md\n!README.md\nsrc\n"}),
		"gitignore when no npmignore":  with(map[string]string{"package.json": `{"name":"a","version":"1.0.0","bin":"bin/cli.js"}`, ".gitignore": "docs/\n/lib/sub\n*.txt\n"}),
		"nested npmignore":             with(map[string]string{"package.json": `{"name":"a","version":"1.0.0"}`, "lib/.npmignore": "sub/\n.hidden\n"}),
		"no rules at all":              with(map[string]string{"package.json": `{"name":"a","version":"1.0.0"}`}),
	} {
		t.Run(name, func(t *testing.T) {
			dir := tree(t, files)
			var m Manifest
			require.NoError(t, json.Unmarshal([]byte(files["package.json"]), &m))
			got, err := Files(dir, m)
			require.NoError(t, err)
			assert.Equal(t, npmPackFiles(t, dir), got)
		})
	}
}

// TestPackInstalls: the tarball reproduces byte for byte, keeps bin executable, and npm installs it.
func TestPackInstalls(t *testing.T) {
	dir := tree(t, map[string]string{"package.json": `{"name":"@acme/greet","version":"1.2.3","main":"lib/index.js","bin":{"greet":"bin/greet.js"},"files":["lib","bin"]}`,
		"lib/index.js": "module.exports = () => 'hello'\n", "bin/greet.js": "#!/usr/bin/env node\nconsole.log(require('../lib')())\n", "test/x.js": "", "README.md": "# greet\n"})
	require.NoError(t, os.Chmod(filepath.Join(dir, "bin", "greet.js"), 0o755))
	a, err := Pack(dir)
	require.NoError(t, err)
	b, err := Pack(dir)
	require.NoError(t, err)
	assert.Equal(t, a.Data, b.Data, "packing twice gives the same bytes")
	assert.Equal(t, a.Integrity, b.Integrity)
	assert.Equal(t, "acme-greet-1.2.3.tgz", a.Filename())
	assert.Equal(t, []string{"README.md", "bin/greet.js", "lib/index.js", "package.json"}, a.Files)

	tgz := filepath.Join(t.TempDir(), a.Filename())
	require.NoError(t, os.WriteFile(tgz, a.Data, 0o644))
	app := tree(t, map[string]string{"package.json": `{"name":"app","version":"0.0.0","private":true}`})
	testenv.Tool(t, "npm", "apt-get install npm")
	cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", tgz)
	cmd.Dir = app
	cmd.Env = append(os.Environ(), "npm_config_cache="+filepath.Join(t.TempDir(), "cache"), "npm_config_update_notifier=false")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	run := exec.Command(filepath.Join(app, "node_modules", ".bin", "greet"))
	out, err = run.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, "hello\n", string(out))
}
