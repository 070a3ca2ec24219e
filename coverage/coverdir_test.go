package coverage

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadCoverDirs builds a program with -cover, runs it twice with GOCOVERDIR (as integration tests
// would), and reads what both runs covered.
func TestReadCoverDirs(t *testing.T) {
	ctx := context.Background()
	mod := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module example.com/app\n\ngo 1.26\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(mod, "main.go"), []byte(`package main

import "os"

func main() {
	if len(os.Args) > 1 {
		greet(os.Args[1])
		return
	}
	println("nobody")
}

func greet(name string) { println("hello", name) }

func unused() int { return 1 }
`), 0o644))
	bin := filepath.Join(t.TempDir(), "app")
	build := exec.Command("go", "build", "-cover", "-o", bin, ".")
	build.Dir = mod
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))

	dirs := []string{t.TempDir(), t.TempDir()}
	for i, args := range [][]string{nil, {"ada"}} {
		run := exec.Command(bin, args...)
		run.Env = append(os.Environ(), "GOCOVERDIR="+dirs[i])
		out, err := run.CombinedOutput()
		require.NoError(t, err, string(out))
	}

	p, err := ReadCoverDirs(ctx, dirs...)
	require.NoError(t, err)
	r, err := Analyze(ctx, p, WithDir(mod))
	require.NoError(t, err)
	require.Len(t, r.Files, 1)
	fns := map[string]int{}
	for _, f := range r.Files[0].Functions {
		fns[f.Name] = f.Covered
	}
	assert.Equal(t, map[string]int{"main": 4, "greet": 1, "unused": 0}, fns, "both runs count")

	_, err = ReadCoverDirs(ctx, t.TempDir())
	assert.ErrorContains(t, err, "no coverage data found")
}
