// Package npmtest starts a real npm registry, Verdaccio, for the tests of what reads and publishes npm
// packages.
package npmtest

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

	"github.com/shipyardci/shipyard/internal/testenv"
)

// verdaccioPackage is what the test set-up installs from the npm registry: verdaccio 5 (6 needs Node
// 22), with node-fetch pinned because this registry's copy of it lacks the "cjs" dist-tag verdaccio's
// audit middleware asks for.
const verdaccioPackage = `{"name":"shipyard-verdaccio","private":true,"dependencies":{"verdaccio":"5.33.0"},"overrides":{"node-fetch":"2.7.0"}}`

// Verdaccio installs verdaccio (once per machine, in the user's cache) and starts it on loopback with
// storage in a temporary directory; it returns its URL and a token of a user it created.
func Verdaccio(t testing.TB) (url, token string) {
	t.Helper()
	testenv.Tool(t, "npm", "apt-get install npm") // skips without npm, fails in CI
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
