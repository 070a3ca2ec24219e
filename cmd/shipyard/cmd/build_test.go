package cmd

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipyardci/shipyard/internal/testenv"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/registry"
)

// helloProject copies examples/hello into a new directory, its build.shipyard the static shipyard that
// build.migrations puts in the image (this test binary, built with cgo, cannot go in).
func helloProject(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hello")
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "..", "examples", "hello"))))
	config := filepath.Join(dir, "shipyard.yaml")
	data, err := os.ReadFile(config)
	require.NoError(t, err)
	data = []byte(strings.Replace(string(data), "\n  migrations: migrations\n", "\n  migrations: migrations\n  shipyard: "+testenv.StaticShipyard(t)+"\n", 1))
	require.Contains(t, string(data), "shipyard: /")
	require.NoError(t, os.WriteFile(config, data, 0o644))
	return dir
}

// goEnv is the environment the go command needs inside cli.
func goEnv(extra map[string]string) map[string]string {
	env := map[string]string{"PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME"), "GOCACHE": os.Getenv("GOCACHE"), "GOMODCACHE": os.Getenv("GOMODCACHE"),
		"GOFLAGS": os.Getenv("GOFLAGS"), "GOPROXY": os.Getenv("GOPROXY"), "SOURCE_DATE_EPOCH": "1790000000"}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func TestBuild(t *testing.T) {
	dir := helloProject(t)
	s, err := registry.Start(context.Background(), registry.ServeOptions{Addr: "127.0.0.1:0", Root: t.TempDir()})
	require.NoError(t, err)
	defer s.Close()

	r := cli(t, dir, goEnv(nil), "-o", "json", "build", "--app-version", "1.4.2", "--push", s.Host()+"/hello:1.4.2")
	require.Equal(t, 0, r.code, r.stderr)
	var rec struct {
		Digest    string
		Platforms []string
		Binaries  []struct{ Name, Platform, Path, SHA256 string }
		Version   string
		SBOMs     []string
		Pushed    struct {
			Digest string
			Tags   []string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rec), r.stdout)
	assert.True(t, strings.HasPrefix(rec.Digest, "sha256:"))
	assert.Equal(t, []string{"linux/amd64"}, rec.Platforms)
	require.Len(t, rec.Binaries, 1)
	assert.Equal(t, "hello", rec.Binaries[0].Name)
	assert.Equal(t, ".shipyard/bin/linux_amd64/hello", rec.Binaries[0].Path)
	assert.Equal(t, "1.4.2", rec.Version)
	assert.Equal(t, rec.Digest, rec.Pushed.Digest, "the pushed index is the built one")
	assert.Equal(t, []string{"1.4.2", "1.4", "1", "latest"}, rec.Pushed.Tags)
	assert.Equal(t, []string{".shipyard/sbom/hello_linux_amd64.spdx.json"}, rec.SBOMs)
	assert.FileExists(t, filepath.Join(dir, ".shipyard", "sbom", "hello_linux_amd64.spdx.json"))
	indexRef, err := name.NewDigest(s.Host() + "/hello@" + rec.Digest)
	require.NoError(t, err)
	idx, err := remote.Index(indexRef)
	require.NoError(t, err)
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	referrers, err := remote.Referrers(indexRef.Context().Digest(im.Manifests[0].Digest.String()))
	require.NoError(t, err)
	rm, err := referrers.IndexManifest()
	require.NoError(t, err)
	require.Len(t, rm.Manifests, 1, "the SBOM refers to the amd64 image")
	assert.Equal(t, "application/spdx+json", rm.Manifests[0].ArtifactType)
	assert.FileExists(t, filepath.Join(dir, ".shipyard", "image", "index.json"))
	assert.JSONEq(t, r.stdout, readFile(t, filepath.Join(dir, ".shipyard", "build.json")), "the build record")

	again := cli(t, dir, goEnv(nil), "build", "--app-version", "1.4.2")
	require.Equal(t, 0, again.code, again.stderr)
	assert.Equal(t, rec.Digest+"\n", again.stdout, "the same sources and SOURCE_DATE_EPOCH give the same digest")

	r = cli(t, dir, goEnv(nil), "build", "--app-version", "1.4.2", "--dest", "tar:hello.tar")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, rec.Digest+"\n", r.stdout, "the tar holds the same build")

	// The tar round-trips: pushed by shipyard, or read by skopeo as an OCI archive, it is the digest the
	// build reported; read as a docker save archive (docker load, skopeo's docker-archive:), it is the
	// same image.
	tarFile := filepath.Join(dir, "hello.tar")
	push := cli(t, dir, nil, "push", tarFile, s.Host()+"/from-tar:1.4.2")
	require.Equal(t, 0, push.code, push.stderr)
	assert.Equal(t, s.Host()+"/from-tar@"+rec.Digest+"\n", push.stdout)
	testenv.Tool(t, "skopeo", "apt-get install skopeo")
	raw, err := exec.Command("skopeo", "inspect", "--raw", "oci-archive:"+tarFile).Output()
	require.NoError(t, err)
	assert.Equal(t, rec.Digest, fmt.Sprintf("sha256:%x", sha256.Sum256(raw)), "skopeo reads the index the build reported")
	out, err := exec.Command("skopeo", "inspect", "--config", "docker-archive:"+tarFile).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), `"org.opencontainers.image.version": "1.4.2"`, "docker-archive: reads the image")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), ".tar-", "no temporary directory is left")
	}
}

func TestBuildInputErrors(t *testing.T) {
	dir := helloProject(t)
	for _, tc := range []struct {
		args []string
		yaml string
		want string
	}{
		{[]string{"build", "--platform", "linux/sparc"}, "", "--platform: linux/sparc is not a platform Go builds for (go tool dist list)"},
		{[]string{"build", "--platform", "linux"}, "", `--platform: "linux" is not os/arch[/variant], as linux/amd64`},
		{[]string{"build"}, "build:\n  platforms: [linux/amd64, plan9/risc]\n", "build.platforms: plan9/risc is not a platform Go builds for"},
		{[]string{"build", "--main", "./nope"}, "", "build.main: ./nope is not a package of"},
		{[]string{"build"}, "build:\n  main: ./migrations\n", "build.main: ./migrations is not a package of"},
		{[]string{"build", "--dest", "zip:x"}, "", `--dest: "zip:x" is not oci:DIR or tar:FILE`},
		{[]string{"build", "--base", "oci:" + t.TempDir()}, "", "--base: "},
		{[]string{"build"}, "build:\n  plaforms: [linux/amd64]\n", `unknown key "build.plaforms" (did you mean "platforms"?)`},
	} {
		os.Remove(filepath.Join(dir, "shipyard.yaml"))
		if tc.yaml != "" {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "shipyard.yaml"), []byte(tc.yaml), 0o644))
		}
		r := cli(t, dir, goEnv(nil), tc.args...)
		assert.Equal(t, 2, r.code, "%v: %s", tc.args, r.stderr)
		assert.Contains(t, r.stderr, tc.want, tc.args)
	}
	os.Remove(filepath.Join(dir, "shipyard.yaml"))
	r := cli(t, dir, goEnv(map[string]string{"SOURCE_DATE_EPOCH": "yesterday"}), "build")
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, `SOURCE_DATE_EPOCH: "yesterday" is not a number of seconds`)
}

// TestBuildNode: a project without go.mod builds from build.layers alone.
func TestBuildNode(t *testing.T) {
	testenv.Tool(t, "npm", "apt-get install npm")
	dir := filepath.Join(t.TempDir(), "node-hello")
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "..", "examples", "node-hello"))))
	require.NoError(t, os.RemoveAll(filepath.Join(dir, "node_modules")))
	env := goEnv(map[string]string{"npm_config_update_notifier": "false"})
	r := cli(t, dir, env, "-o", "json", "build", "--app-version", "1.0.0")
	require.Equal(t, 0, r.code, r.stderr)
	var rec struct {
		Digest    string
		Platforms []string
		Binaries  []any
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rec), r.stdout)
	assert.Equal(t, []string{"linux/amd64", "linux/arm64"}, rec.Platforms, "build.platforms of the example")
	assert.Empty(t, rec.Binaries)
	assert.Contains(t, r.stderr, "built node-hello for linux/amd64, linux/arm64: "+rec.Digest)

	r = cli(t, t.TempDir(), env, "build")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "nothing to build in ")
}
