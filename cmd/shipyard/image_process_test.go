package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/dbtest"
	"github.com/shipyardci/shipyard/internal/testenv"
	"github.com/shipyardci/shipyard/registry"
)

// podman runs podman, failing the test with its output; it returns stdout.
func podman(t *testing.T, args ...string) string {
	t.Helper()
	return stdout(t, "podman", args...)
}

// stdout runs name, failing the test with its stderr; it returns stdout.
func stdout(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stderr strings.Builder
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s %v: %s", filepath.Base(name), args, stderr.String())
	return string(out)
}

// needPodman skips (fails in CI) without a podman that runs containers.
func needPodman(t *testing.T) {
	t.Helper()
	testenv.Tool(t, "podman", "apt-get install podman runc, runtime runc in /etc/containers/containers.conf (.ci/run)")
}

// helloImage builds examples/hello at version with shipyard build and pushes it to a registry started
// for the test; it returns the pushed reference, by digest.
func helloImage(t *testing.T, version string) (dir, ref string) {
	t.Helper()
	s, err := registry.Start(context.Background(), registry.ServeOptions{Addr: "127.0.0.1:0", Root: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	dir = filepath.Join(t.TempDir(), "hello")
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(testenv.Root(t), "examples", "hello"))))
	out := stdout(t, binary, "-C", dir, "-o", "json", "build", "--app-version", version, "--push", s.Host()+"/hello:"+version)
	var rec struct{ Pushed struct{ Reference string } }
	require.NoError(t, json.Unmarshal([]byte(out), &rec), out)
	require.Contains(t, rec.Pushed.Reference, "@sha256:")
	t.Cleanup(func() { _ = exec.Command("podman", "rmi", "-f", rec.Pushed.Reference).Run() })
	return dir, rec.Pushed.Reference
}

// freePort is a TCP port of 127.0.0.1 that nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestHelloImageRunsInARealRuntime: the image shipyard build makes of examples/hello runs under podman
// with a read-only root file system as its non-root user: the service serves /healthz and /version,
// the same image's shipyard applies its migrations to PostgreSQL (the pre-deploy Job's command), /tmp
// is writable, and the CA certificates let it verify an HTTPS server.
func TestHelloImageRunsInARealRuntime(t *testing.T) {
	needPodman(t)
	_, ref := helloImage(t, "1.0.0")
	db := dbtest.Postgres(t)

	inspect := podman(t, "pull", "--tls-verify=false", "-q", ref)
	require.NotEmpty(t, inspect)
	assert.Equal(t, "65532:65532\n", podman(t, "image", "inspect", "--format", "{{.User}}", ref))

	migrated := podman(t, "run", "--rm", "--network", "host", "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
		"-e", "DATABASE_URL="+db, "--entrypoint", "shipyard", ref, "migrate", "up", "--phase", "expand", "-o", "json")
	var res struct{ To uint64 }
	require.NoError(t, json.Unmarshal([]byte(migrated), &res), migrated)
	assert.Equal(t, uint64(20260101000000), res.To, "the image's own migrations, from SHIPYARD_MIGRATE_DIR")

	// /tmp is the non-root user's to write, without --read-only's tmpfs on it.
	out := podman(t, "run", "--rm", "--entrypoint", "shipyard", ref, "migrate", "up", "--database", "sqlite:///tmp/hello.db", "-o", "json")
	assert.Contains(t, out, `"to": 20260101000000`)

	// The CA certificates: the image's shipyard reaches an HTTPS server that the host's trust store
	// vouches for, where a shipyard without them cannot.
	if _, err := http.Head("https://registry.npmjs.org/"); err != nil {
		testenv.Missing(t, "registry.npmjs.org cannot be reached: "+err.Error())
	}
	podman(t, "run", "--rm", "--network", "host", "--read-only", "--entrypoint", "shipyard", ref, "registry", "tags", "registry.npmjs.org/left-pad")
	untrusting := exec.Command(binary, "registry", "tags", "registry.npmjs.org/left-pad")
	untrusting.Env = append(os.Environ(), "SSL_CERT_FILE=/dev/null", "SSL_CERT_DIR=/nonexistent")
	msg, err := untrusting.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(msg), "certificate signed by unknown authority", "the check can fail")

	port := freePort(t)
	name := fmt.Sprintf("shipyard-hello-%d", port)
	podman(t, "run", "-d", "--name", name, "--network", "host", "--read-only", "--cap-drop", "ALL",
		"-e", fmt.Sprintf("ADDR=127.0.0.1:%d", port), "-e", "DATABASE_URL="+db, ref)
	t.Cleanup(func() { _ = exec.Command("podman", "rm", "-f", "-t", "2", name).Run() })
	assert.Equal(t, `{"status":"ok"}`, get(t, port, "/healthz"))
	assert.Equal(t, `{"version":"1.0.0"}`, get(t, port, "/version"))
	assert.Equal(t, "65532:65532\n", podman(t, "inspect", "--format", "{{.Config.User}}", name), "not root")
}

// get asks the service on port for path, until it answers (for 20 s), and returns the body.
func get(t *testing.T, port int, path string) string {
	t.Helper()
	var last error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
		if err != nil {
			last = err
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return strings.TrimSpace(string(body))
		}
		last = fmt.Errorf("%s: %s", resp.Status, body)
	}
	t.Fatalf("GET %s: %v", path, last)
	return ""
}
