package cmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/registrytest"
	"github.com/shipyardci/shipyard/registry"
)

// protectedRegistry is the embedded registry with htpasswd and TLS from a test CA.
func protectedRegistry(t *testing.T) *registrytest.Registry {
	t.Helper()
	r := registrytest.Files(t, t.TempDir(), registrytest.Config{TLS: true, Auth: true})
	s, err := registry.Start(context.Background(), registry.ServeOptions{Addr: "127.0.0.1:0", Root: r.Root, Htpasswd: r.Htpasswd, TLSCert: r.TLSCert, TLSKey: r.TLSKey})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	r.Host = s.Host()
	return r
}

func TestPush(t *testing.T) {
	r := protectedRegistry(t)
	dir := t.TempDir()
	layoutDir, img := registrytest.Image(t, 16<<10, 2)
	want, err := img.Digest()
	require.NoError(t, err)
	env, output, _ := actionsEnv(t)
	env["DOCKER_CONFIG"] = t.TempDir()
	env["SHIPYARD_REGISTRY_USERNAME"] = registrytest.User
	env["SHIPYARD_REGISTRY_PASSWORD"] = registrytest.Password

	res := cli(t, dir, env, "-o", "json", "push", layoutDir, r.Host+"/api:1.4.2", "--tag", "sha-abc1234", "--ca-cert", r.CACert)
	require.Equal(t, 0, res.code, res.stderr)
	var out struct {
		Digest        string
		Tags          []string
		BytesUploaded int64 `json:"bytes_uploaded"`
		BlobsSkipped  int64 `json:"blobs_skipped"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &out), res.stdout)
	assert.Equal(t, want.String(), out.Digest)
	assert.Equal(t, []string{"1.4.2", "1.4", "1", "latest", "sha-abc1234"}, out.Tags)
	assert.Greater(t, out.BytesUploaded, int64(32<<10))
	assert.Contains(t, res.stderr, "::add-mask::"+registrytest.Password, "the password is masked in the runner's log")
	assert.Equal(t, 1, strings.Count(res.stdout+res.stderr, registrytest.Password), "and appears nowhere else")
	assert.Contains(t, readFile(t, output), "digest="+want.String())

	res = cli(t, dir, env, "push", layoutDir, r.Host+"/api:1.4.2", "--ca-cert", r.CACert)
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, r.Host+"/api@"+want.String()+"\n", res.stdout, "text output is the reference by digest")
	assert.Contains(t, res.stderr, "(0 B uploaded, 0 blobs uploaded, 0 mounted, 3 already there)")

	res = cli(t, dir, env, "registry", "tags", r.Host+"/api", "--ca-cert", r.CACert)
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, "1.4.2\n1.4\n1\nlatest\nsha-abc1234\n", res.stdout)

	// A released version is immutable: another image for 1.4.2 fails with exit 1, unless --force.
	otherDir, otherImg := registrytest.Image(t, 1024, 1)
	other, err := otherImg.Digest()
	require.NoError(t, err)
	res = cli(t, dir, env, "push", otherDir, r.Host+"/api:1.4.2", "--ca-cert", r.CACert)
	require.Equal(t, 1, res.code, res.stderr)
	assert.Contains(t, res.stderr, "error: "+r.Host+"/api:1.4.2 already names "+want.String()+", and a released version is immutable: pushing "+other.String()+" there would replace it (push a new version, or --force to replace it)")
	assert.Empty(t, res.stdout)
	res = cli(t, dir, env, "push", otherDir, r.Host+"/api:1.4.2", "--ca-cert", r.CACert, "--force")
	require.Equal(t, 0, res.code, res.stderr)
	assert.Equal(t, r.Host+"/api@"+other.String()+"\n", res.stdout)
}

func TestPushErrors(t *testing.T) {
	r := protectedRegistry(t)
	dir := t.TempDir()
	layoutDir, _ := registrytest.Image(t, 1024, 1)
	env := map[string]string{"DOCKER_CONFIG": t.TempDir()}

	res := executeWithStdin(context.Background(), t, dir, env, false, "wrong-Pa55word\n", "push", layoutDir, r.Host+"/api:1", "--ca-cert", r.CACert, "-u", registrytest.User, "--password-stdin")
	assert.Equal(t, 1, res.code)
	assert.Contains(t, res.stderr, "authentication failed")
	assert.NotContains(t, res.stdout+res.stderr, "wrong-Pa55word")

	res = cli(t, dir, env, "push", layoutDir, r.Host+"/api:1")
	assert.Equal(t, 1, res.code)
	assert.Contains(t, res.stderr, "TLS: the registry's certificate is signed by an unknown authority (trust it with --ca-cert FILE)")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"push", filepath.Join(dir, "nope"), r.Host + "/api:1"}, "SRC: " + filepath.Join(dir, "nope")},
		{[]string{"push", dir, r.Host + "/api:1"}, "is not an OCI layout: it has no oci-layout file"},
		{[]string{"push", layoutDir, "Not A Reference"}, `reference: "Not A Reference" is not an image reference`},
		{[]string{"push", layoutDir, r.Host + "/../../etc:1"}, `the repository "../../etc" is not a name a registry takes`},
		{[]string{"registry", "tags", r.Host + "/a//b"}, `the repository "a//b" is not a name a registry takes`},
		{[]string{"push", layoutDir, r.Host + "/api", "--tag", "bad tag"}, `--tag: "bad tag" is not a valid tag`},
		{[]string{"push", layoutDir, r.Host + "/api", "--ca-cert", filepath.Join(dir, "missing.pem")}, "--ca-cert: reading "},
		{[]string{"registry", "prune", r.Host + "/api"}, "--keep: say how many images to keep"},
		{[]string{"registry", "serve", "--addr", "0.0.0.0:0", "--root", t.TempDir(), "--htpasswd", r.Htpasswd}, "the passwords would cross the network in the clear"},
	} {
		res := cli(t, dir, env, tc.args...)
		assert.Equal(t, 2, res.code, "%v: %s", tc.args, res.stderr)
		assert.Contains(t, res.stderr, tc.want)
	}
}

// TestRegistryLogin: login writes Docker's config.json, which push then reads; logout removes it.
func TestRegistryLogin(t *testing.T) {
	r := protectedRegistry(t)
	dir := t.TempDir()
	dockerConfig := t.TempDir()
	env := map[string]string{"DOCKER_CONFIG": dockerConfig}
	res := executeWithStdin(context.Background(), t, dir, env, false, registrytest.Password+"\n", "registry", "login", r.Host, "-u", registrytest.User, "--password-stdin")
	require.Equal(t, 0, res.code, res.stderr)
	assert.NotContains(t, res.stdout+res.stderr, registrytest.Password)
	var cfg struct {
		Auths map[string]struct{ Auth string }
	}
	require.NoError(t, json.Unmarshal([]byte(readFile(t, filepath.Join(dockerConfig, "config.json"))), &cfg))
	assert.NotEmpty(t, cfg.Auths[r.Host].Auth, "docker's format: base64 user:password under auths")

	layoutDir, _ := registrytest.Image(t, 1024, 1)
	res = cli(t, dir, env, "push", layoutDir, r.Host+"/api:1", "--ca-cert", r.CACert)
	assert.Equal(t, 0, res.code, res.stderr)

	res = cli(t, dir, env, "registry", "logout", r.Host)
	require.Equal(t, 0, res.code, res.stderr)
	data, err := os.ReadFile(filepath.Join(dockerConfig, "config.json"))
	require.NoError(t, err)
	assert.NotContains(t, string(data), r.Host)
	res = cli(t, dir, env, "push", layoutDir, r.Host+"/api:1", "--ca-cert", r.CACert)
	assert.Equal(t, 1, res.code)
	assert.Contains(t, res.stderr, "authentication failed")
}

// TestCredentialHelper: a credHelpers entry in Docker's config.json is asked for the credentials, as
// docker does (docker-credential-NAME get, the server on stdin, JSON on stdout).
func TestCredentialHelper(t *testing.T) {
	r := protectedRegistry(t)
	bin := t.TempDir()
	helper := "#!/bin/sh\nread server\n[ \"$1\" = get ] || exit 1\nprintf '{\"ServerURL\":\"%s\",\"Username\":\"" + registrytest.User + "\",\"Secret\":\"" + registrytest.Password + "\"}' \"$server\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "docker-credential-shipyardtest"), []byte(helper), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH")) // the helper is found on the process's PATH
	dockerConfig := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dockerConfig, "config.json"), []byte(`{"credHelpers":{"`+r.Host+`":"shipyardtest"}}`), 0o600))

	layoutDir, _ := registrytest.Image(t, 1024, 1)
	res := cli(t, t.TempDir(), map[string]string{"DOCKER_CONFIG": dockerConfig}, "push", layoutDir, r.Host+"/api:1", "--ca-cert", r.CACert)
	assert.Equal(t, 0, res.code, res.stderr)
	assert.NotContains(t, res.stdout+res.stderr, registrytest.Password)
}
