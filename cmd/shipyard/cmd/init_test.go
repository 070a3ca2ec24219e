package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/golden"
)

func TestInit(t *testing.T) {
	for _, example := range []string{"hello", "node-hello"} {
		t.Run(example, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), example)
			require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "..", "examples", example))))
			r := cli(t, dir, goEnv(nil), "init")
			assert.Equal(t, 2, r.code, "the example has a shipyard.yaml")
			assert.Contains(t, r.stderr, "shipyard.yaml exists: --force to replace it")

			require.NoError(t, os.Remove(filepath.Join(dir, "shipyard.yaml")))
			r = cli(t, dir, goEnv(nil), "init")
			require.Equal(t, 0, r.code, r.stderr)
			assert.Equal(t, "wrote shipyard.yaml\n", r.stdout)
			written := readFile(t, filepath.Join(dir, "shipyard.yaml"))
			golden.Assert(t, "init-"+example+".yaml", []byte(written))
			_, err := config.Load(filepath.Join(dir, "shipyard.yaml"), true, nil)
			assert.NoError(t, err, "what init writes, shipyard reads")

			r = cli(t, dir, goEnv(nil), "init", "--print")
			assert.Equal(t, written, r.stdout)
		})
	}
}

// TestInitConventions: the diff base follows the repository's default branch, .shipyard/ is added to
// .gitignore once, and -o json --print prints JSON.
func TestInitConventions(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/m\n\ngo 1.22\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("/bin"), 0o644))
	env := commitAll(t, dir, "master", "feat: m")

	r := cli(t, dir, env, "-o", "json", "init", "--print")
	require.Equal(t, 0, r.code, r.stderr)
	var printed struct{ File, Content string }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &printed), r.stdout)
	assert.Equal(t, "shipyard.yaml", printed.File)
	assert.Contains(t, printed.Content, "# diff_base: origin/master\n", "the repository's branch is master")
	assert.NoFileExists(t, filepath.Join(dir, "shipyard.yaml"), "--print writes nothing")

	r = cli(t, dir, env, "init")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "wrote shipyard.yaml\nadded .shipyard/ to .gitignore\n", r.stdout)
	assert.Equal(t, "/bin\n# shipyard's local state: the embedded registry, the SQLite database, build records\n.shipyard/\n", readFile(t, filepath.Join(dir, ".gitignore")))
	r = cli(t, dir, env, "init", "--force")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "wrote shipyard.yaml\n", r.stdout, "already ignored")
	assert.Equal(t, 1, strings.Count(readFile(t, filepath.Join(dir, ".gitignore")), ".shipyard/"))
}
