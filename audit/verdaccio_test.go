package audit

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/npmtest"
)

// verdaccio starts a registry for the test: npmtest.Verdaccio.
func verdaccio(t *testing.T) (url, token string) { return npmtest.Verdaccio(t) }

// publish publishes name@version to the registry with npm itself.
func publish(t *testing.T, npmrc, name, version string) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"`+name+`","version":"`+version+`"}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".npmrc"), []byte(npmrc), 0o600))
	npm(t, dir, nil, "publish", "--ignore-scripts")
}

// TestOutdatedNpmAgainstVerdaccio: against a real registry, verdaccio, with packages npm published:
// shipyard's outdated report equals npm outdated's.
func TestOutdatedNpmAgainstVerdaccio(t *testing.T) {
	if testing.Short() {
		t.Skip("installs and starts verdaccio")
	}
	url, token := verdaccio(t)
	host := url[len("http:"):]
	npmrc := "registry=" + url + "/\n" + host + "/:_authToken=" + token + "\n"
	for name, versions := range map[string][]string{
		"shipyard-left":         {"1.0.0", "1.1.0", "2.0.0"},
		"shipyard-zero":         {"0.1.0", "0.1.1", "0.2.0"},
		"@shipyard-test/scoped": {"1.0.0", "1.0.5", "1.1.0"},
		"shipyard-tagged":       {"1.0.0", "1.0.3", "1.1.0"},
	} {
		for _, v := range versions {
			publish(t, npmrc, name, v)
		}
	}
	tagDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(tagDir, ".npmrc"), []byte(npmrc), 0o600))
	npm(t, tagDir, nil, "dist-tag", "add", "shipyard-tagged@1.0.3", "latest")

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".npmrc"), []byte(npmrc), 0o600))
	deps := func(ranges map[string]string) {
		data, err := json.Marshal(map[string]any{"name": "app", "version": "1.0.0", "private": true, "dependencies": ranges})
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "package.json"), data, 0o644))
	}
	deps(map[string]string{"shipyard-left": "1.0.0", "shipyard-zero": "0.1.0", "@shipyard-test/scoped": "1.0.0", "shipyard-tagged": "1.0.0"})
	npm(t, dir, nil, "install", "--ignore-scripts")
	deps(map[string]string{"shipyard-left": "^1.0.0", "shipyard-zero": "^0.1.0", "@shipyard-test/scoped": "~1.0.0", "shipyard-tagged": "^1.0.0"})

	reg, err := NewNpmRegistry(dir, env(nil), http.DefaultClient)
	require.NoError(t, err)
	got := compareWithNpmOutdated(t, dir, reg)
	require.Len(t, got, 4)
}
