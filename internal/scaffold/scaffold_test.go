package scaffold

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInit: a module with two main packages and migrations gives a configuration naming them; Print
// writes nothing, and an existing shipyard.yaml is kept unless Force.
func TestInit(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":                   "module example.com/m\n\ngo 1.22\n",
		"main.go":                  "package main\n\nfunc main() {}\n",
		"cmd/tool/main.go":         "package main\n\nfunc main() {}\n",
		"lib/lib.go":               "package lib\n",
		"db/migrations/1_a.up.sql": "CREATE TABLE a (id int);\n",
	}
	for name, content := range files {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	r, err := Init(context.Background(), Options{Dir: dir, Env: os.Environ(), Print: true})
	require.NoError(t, err)
	assert.Equal(t, &Project{Go: true, Main: ".", Mains: []string{".", "./cmd/tool"}, Migrations: "db/migrations", DiffBase: "origin/main"}, r.Project)
	assert.Contains(t, r.Text, "  main: .\n")
	assert.Contains(t, r.Text, "  dir: db/migrations\n")
	assert.False(t, r.Written)
	assert.NoFileExists(t, filepath.Join(dir, "shipyard.yaml"))

	r, err = Init(context.Background(), Options{Dir: dir, Env: os.Environ()})
	require.NoError(t, err)
	assert.True(t, r.Written)
	assert.True(t, r.Gitignore)
	_, err = Init(context.Background(), Options{Dir: dir, Env: os.Environ()})
	assert.ErrorIs(t, err, ErrExists)
	r, err = Init(context.Background(), Options{Dir: dir, Env: os.Environ(), Force: true})
	require.NoError(t, err)
	assert.False(t, r.Gitignore, ".shipyard/ is ignored already")
}
