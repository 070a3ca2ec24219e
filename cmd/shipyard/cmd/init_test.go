package cmd

import (
	"os"
	"path/filepath"
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
