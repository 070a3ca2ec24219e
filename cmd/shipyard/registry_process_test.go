package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shipyardci/shipyard/internal/testenv"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/registrytest"
)

// serve starts `shipyard registry serve` as a process on r's files, and waits until it listens.
func serve(t *testing.T, r *registrytest.Registry) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(binary, "registry", "serve", "--addr", r.Host, "--root", r.Root, "--htpasswd", r.Htpasswd, "--tls-cert", r.TLSCert, "--tls-key", r.TLSKey)
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
	})
	registrytest.WaitReady(t, r.Host)
	return cmd, &stderr
}

// peer runs a peer tool (crane, skopeo), failing in CI and skipping elsewhere when it is not installed.
func peer(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	testenv.Tool(t, name, ".ci/run installs it")
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %v: %s", name, args, out)
	return strings.TrimSpace(string(out))
}

// TestRegistryServeProcess: `shipyard registry serve` with htpasswd and TLS serves shipyard, crane and
// skopeo; SIGTERM stops it gracefully, and its data is there after a restart.
func TestRegistryServeProcess(t *testing.T) {
	dir := t.TempDir()
	r := registrytest.Files(t, dir, registrytest.Config{TLS: true, Auth: true})
	r.Host = fmt.Sprintf("127.0.0.1:%d", registrytest.FreePort(t))
	cmd, stderr := serve(t, r)

	layoutDir, img := registrytest.Image(t, 8<<10, 2)
	want, err := img.Digest()
	require.NoError(t, err)
	dockerConfig := t.TempDir()
	env := []string{"DOCKER_CONFIG=" + dockerConfig, "SSL_CERT_FILE=" + r.CACert}

	login := exec.Command(binary, "registry", "login", r.Host, "-u", registrytest.User, "--password-stdin")
	login.Env, login.Stdin = append(os.Environ(), env...), strings.NewReader(registrytest.Password)
	out, err := login.CombinedOutput()
	require.NoError(t, err, string(out))

	push := exec.Command(binary, "push", layoutDir, r.Host+"/app:1.0.0", "--ca-cert", r.CACert)
	push.Env = append(os.Environ(), env...)
	out, err = push.Output()
	require.NoError(t, err, string(out))
	assert.Equal(t, r.Host+"/app@"+want.String(), strings.TrimSpace(string(out)))

	assert.Equal(t, want.String(), peer(t, env, "crane", "digest", r.Host+"/app:1"), "crane reads shipyard's credentials and registry")
	certs := t.TempDir()
	ca, err := os.ReadFile(r.CACert)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(certs, "ca.crt"), ca, 0o644))
	assert.Equal(t, want.String(), peer(t, nil, "skopeo", "inspect", "--format", "{{.Digest}}", "--cert-dir", certs,
		"--creds", registrytest.User+":"+registrytest.Password, "docker://"+r.Host+"/app:latest"))
	peer(t, env, "crane", "copy", r.Host+"/app:1.0.0", r.Host+"/copied:1")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		assert.NoError(t, err, "exit 0 on SIGTERM: %s", stderr)
	case <-time.After(10 * time.Second):
		t.Fatalf("the registry did not stop on SIGTERM: %s", stderr)
	}
	assert.Contains(t, stderr.String(), "registry stopped")

	serve(t, r)
	assert.Equal(t, want.String(), peer(t, env, "crane", "digest", r.Host+"/copied:1"), "the data survived the restart")
}

// TestConcurrentReleaseCreate: five shipyard processes creating a release of one environment at once
// get five distinct consecutive numbers.
func TestConcurrentReleaseCreate(t *testing.T) {
	dir := t.TempDir()
	image := "registry.example.com/api@sha256:" + strings.Repeat("a", 64)
	var wg sync.WaitGroup
	outs := make([]string, 5)
	errs := make([]error, 5)
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(binary, "-C", dir, "release", "create", "--env", "staging", "--image", image, "--no-tag")
			out, err := cmd.CombinedOutput()
			outs[i], errs[i] = string(out), err
		}()
	}
	wg.Wait()
	var names []string
	for i := range 5 {
		require.NoError(t, errs[i], outs[i])
		names = append(names, strings.TrimSuffix(strings.Fields(outs[i])[1], ":"))
	}
	slices.Sort(names)
	assert.Equal(t, []string{"v1", "v2", "v3", "v4", "v5"}, names)
}
