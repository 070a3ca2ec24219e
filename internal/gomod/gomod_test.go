package gomod

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name, gomod string
		want        string // "" parses
	}{
		{"valid", "module example.com/a\n\ngo 1.22\n\nrequire example.com/b v1.0.0\n", ""},
		{"a require without a version", "module example.com/a\n\ngo 1.22\n\nrequire example.com/b\n", "go.mod:5: usage: require module/path v1.2.3"},
		{"an unknown directive", "module example.com/a\n\ngo 1.22\nrequires example.com/b v1.0.0\n", "go.mod:4: unknown directive: requires"},
		{"a bad go version", "module example.com/a\n\ngo one\n", `go.mod:3: invalid go version 'one': must match format 1.23.0`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(tc.gomod), 0o644))
			t.Chdir(dir)
			err := Check(".")
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.want, err.Error())
			assert.True(t, e.InputError())
		})
	}
}

func TestCheckFindsTheModuleAbove(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/a\nrequire x\n"), 0o644))
	sub := filepath.Join(dir, "pkg", "sub")
	require.NoError(t, os.MkdirAll(sub, 0o755))
	err := Check(sub)
	require.Error(t, err)
	assert.Equal(t, filepath.Join(sub, "..", "..", "go.mod")+":2: usage: require module/path v1.2.3", err.Error())

	assert.NoError(t, Check(t.TempDir()), "no go.mod: the go command says what it needs")
	var e *Error
	assert.False(t, errors.As(Check(t.TempDir()), &e))
}
