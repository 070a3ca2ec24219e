package cmd

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra/doc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/ghactions"
	"github.com/shipyardci/shipyard/internal/iostreams"
)

var updateDocs = flag.Bool("update-docs", false, "regenerate the CLI reference under docs/cli")

// TestCLIReference keeps docs/cli, the generated reference of every command, in step with the code.
// Regenerate it with: go test ./cmd/shipyard/cmd -run TestCLIReference -update-docs
func TestCLIReference(t *testing.T) {
	io, _, _, _ := iostreams.Test()
	f := &Factory{IO: io, Getenv: func(string) string { return "" }, Environ: os.Environ}
	f.Actions = ghactions.New(f.Getenv, io.ErrOut)
	root := NewRoot(f, BuildInfo{})
	root.DisableAutoGenTag = true

	gen := t.TempDir()
	require.NoError(t, doc.GenMarkdownTree(root, gen))
	want := filepath.Join("..", "..", "..", "docs", "cli")
	if *updateDocs {
		require.NoError(t, os.RemoveAll(want))
		require.NoError(t, os.CopyFS(want, os.DirFS(gen)))
	}
	generated, err := os.ReadDir(gen)
	require.NoError(t, err)
	committed, err := os.ReadDir(want)
	require.NoError(t, err, "run: go test ./cmd/shipyard/cmd -run TestCLIReference -update-docs")
	assert.Equal(t, names(generated), names(committed), "docs/cli is stale: run go test ./cmd/shipyard/cmd -run TestCLIReference -update-docs")
	for _, e := range generated {
		got, _ := os.ReadFile(filepath.Join(gen, e.Name()))
		have, _ := os.ReadFile(filepath.Join(want, e.Name()))
		assert.Equal(t, string(got), string(have), "docs/cli/%s is stale: run go test ./cmd/shipyard/cmd -run TestCLIReference -update-docs", e.Name())
	}
}

func names(entries []os.DirEntry) []string {
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
