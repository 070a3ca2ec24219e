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
	url, token, stop, err := Start(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() {
		if logs := stop(); t.Failed() {
			t.Logf("verdaccio: %s", logs)
		}
	})
	return url, token
}

// Start installs verdaccio when it is not yet (in the user's cache) and starts it on a free loopback
// port with its storage in dir; stop ends it and returns its log. For the tests and the benchmarks.
func Start(dir string) (url, token string, stop func() string, err error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", "", nil, err
	}
	home := filepath.Join(cache, "shipyard-test", "verdaccio-5.33.0")
	bin := filepath.Join(home, "node_modules", ".bin", "verdaccio")
	if _, err := os.Stat(bin); err != nil {
		if err := os.MkdirAll(home, 0o755); err != nil {
			return "", "", nil, err
		}
		if err := os.WriteFile(filepath.Join(home, "package.json"), []byte(verdaccioPackage), 0o644); err != nil {
			return "", "", nil, err
		}
		cmd := exec.Command("npm", "install", "--no-audit", "--no-fund", "--ignore-scripts")
		cmd.Dir = home
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", "", nil, fmt.Errorf("installing verdaccio: %v\n%s", err, out)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", "", nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	config := fmt.Sprintf("storage: %s\nauth:\n  htpasswd:\n    file: %s\n    max_users: 10\nuplinks: {}\npackages:\n  '**':\n    access: $all\n    publish: $authenticated\nmax_body_size: 200mb\nlog: { type: stdout, format: pretty, level: warn }\n",
		filepath.Join(dir, "storage"), filepath.Join(dir, "htpasswd"))
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(config), 0o644); err != nil {
		return "", "", nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "verdaccio.log")) // a file: the process writes it while the caller reads
	if err != nil {
		return "", "", nil, err
	}
	logs := func() string { data, _ := os.ReadFile(logFile.Name()); return string(data) }
	cmd := exec.Command(bin, "--config", filepath.Join(dir, "config.yaml"), "--listen", addr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return "", "", nil, err
	}
	stop = func() string {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
		return logs()
	}
	url = "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(url + "/-/ping")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			return "", "", nil, fmt.Errorf("verdaccio did not start: %s", stop())
		}
		time.Sleep(200 * time.Millisecond)
	}
	body := bytes.NewBufferString(`{"name":"shipyard","password":"shipyard-test-pass"}`)
	req, err := http.NewRequest(http.MethodPut, url+"/-/user/org.couchdb.user:shipyard", body)
	if err != nil {
		stop()
		return "", "", nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		stop()
		return "", "", nil, err
	}
	defer resp.Body.Close()
	var created struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || created.Token == "" {
		stop()
		return "", "", nil, fmt.Errorf("creating a user of verdaccio: %s %v", resp.Status, err)
	}
	return url, created.Token, stop, nil
}
