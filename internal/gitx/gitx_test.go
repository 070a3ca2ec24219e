package gitx

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpenAndRun(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r := &Repo{Dir: dir}
	_, err := r.Run(ctx, "init", "-q", "-b", "main")
	require.NoError(t, err)

	sub := filepath.Join(dir, "a", "b")
	require.NoError(t, os.MkdirAll(sub, 0o755))
	opened, err := Open(ctx, sub)
	require.NoError(t, err)
	want, _ := filepath.EvalSymlinks(dir)
	got, _ := filepath.EvalSymlinks(opened.Dir)
	assert.Equal(t, want, got, "Open finds the top of the working tree")

	_, err = opened.Output(ctx, "rev-parse", "--verify", "HEAD")
	require.Error(t, err, "an empty repository has no HEAD")
	assert.Contains(t, err.Error(), "git rev-parse --verify HEAD: fatal:")
	assert.Equal(t, 128, ExitCode(err))
}

func TestOpenOutsideRepository(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(context.Background(), dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not inside a git working tree")
}

func TestRunHonoursCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := (&Repo{Dir: t.TempDir()}).Run(ctx, "init", "-q")
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, -1, ExitCode(err))
}
