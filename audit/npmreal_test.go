package audit

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/testenv"
)

// TestOutdatedNpmEqualsNpmOutdatedOnARealProject: a real service's package.json and lockfile
// (gothinkster/node-express-realworld-example-app, January 2024), installed from the public npm
// registry: every row of shipyard's outdated report, Current, Wanted and Latest, is npm outdated's,
// asked at the same moment.
func TestOutdatedNpmEqualsNpmOutdatedOnARealProject(t *testing.T) {
	if testing.Short() {
		t.Skip("installs a real project from the npm registry")
	}
	resp, err := http.Head("https://registry.npmjs.org/express")
	if err != nil {
		testenv.Missing(t, "the npm registry cannot be reached: "+err.Error())
	} else {
		resp.Body.Close()
	}
	dir := t.TempDir()
	for _, f := range []string{"package.json", "package-lock.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "npm", "realworld", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), data, 0o644))
	}
	npm(t, dir, nil, "ci", "--ignore-scripts")
	reg, err := NewNpmRegistry(dir, env(nil), http.DefaultClient)
	require.NoError(t, err)
	got := compareWithNpmOutdated(t, dir, reg)
	require.GreaterOrEqual(t, len(got), 30, "a project two years old has most of its 39 packages outdated")
}
