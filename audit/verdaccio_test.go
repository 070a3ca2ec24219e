package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// verdaccioPackage is what the test set-up installs from the npm registry: verdaccio 5 (6 needs Node
// 22), with node-fetch pinned because this registry's copy of it lacks the "cjs" dist-tag verdaccio's
// audit middleware asks for.
const verdaccioPackage = `{"name":"shipyard-verdaccio","private":true,"dependencies":{"verdaccio":"5.33.0"},"overrides":{"node-fetch":"2.7.0"}}`

// verdaccio installs verdaccio (once per machine, in the user's cache) and starts it on loopback with
// storage in a temporary directory; it returns its URL and a token of a user it created.
func verdaccio(t *testing.T) (url, token string) {
	t.Helper()
	npm(t, t.TempDir(), nil, "--version") // skips without npm
	cache, err := os.UserCacheDir()
	require.NoError(t, err)
	home := filepath.Join(cache, "shipyard-test", "verdaccio-5.33.0")
	bin := filepath.Join(home, "node_modules", ".bin", "verdaccio")
	if _, err := os.Stat(bin); err != nil {
		require.NoError(t, os.MkdirAll(home, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(home, "package.json"), []byte(verdaccioPackage), 0o644))
		cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--ignore-scripts")
		cmd.Dir = home
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "installing verdaccio: %s", out)
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	config := fmt.Sprintf("storage: %s\nauth:\n  htpasswd:\n    file: %s\n    max_users: 10\nuplinks: {}\npackages:\n  '**':\n    access: $all\n    publish: $authenticated\nlog: { type: stdout, format: pretty, level: warn }\n",
		filepath.Join(dir, "storage"), filepath.Join(dir, "htpasswd"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(config), 0o644))
	logFile, err := os.Create(filepath.Join(dir, "verdaccio.log")) // a file: the process writes it while the test reads
	require.NoError(t, err)
	defer logFile.Close()
	logs := func() string { data, _ := os.ReadFile(logFile.Name()); return string(data) }
	cmd := exec.Command(bin, "--config", filepath.Join(dir, "config.yaml"), "--listen", addr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("verdaccio: %s", logs())
		}
	})
	url = "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/-/ping")
		if err == nil {
			resp.Body.Close()
			break
		}
		require.True(t, time.Now().Before(deadline), "verdaccio did not start: %s", logs())
		time.Sleep(200 * time.Millisecond)
	}
	body := bytes.NewBufferString(`{"name":"shipyard","password":"shipyard-test-pass"}`)
	req, err := http.NewRequest(http.MethodPut, url+"/-/user/org.couchdb.user:shipyard", body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var created struct{ Token string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&created))
	require.NotEmpty(t, created.Token, "creating a user: %s", resp.Status)
	return url, created.Token
}

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
