package pipeline

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/audit"
	"github.com/shipyardci/shipyard/build"
	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/testenv"
)

// TestAuditImage: audit --image on an image that shipyard build made gives the findings that
// govulncheck -mode binary gives on the binary inside it, each named by its path in the image.
func TestAuditImage(t *testing.T) {
	bin := testenv.Tool(t, "govulncheck", "go install golang.org/x/vuln/cmd/govulncheck@v1.9.0")
	dir := filepath.Join(t.TempDir(), "replaced")
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(testenv.Root(t), "audit", "testdata", "modules", "replaced"))))
	env := map[string]string{"GOPROXY": "off", "GOFLAGS": "-mod=mod", "GOWORK": "off", "SOURCE_DATE_EPOCH": "1790000000"}
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	environ := append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off")
	spec, done, err := BuildSpec(context.Background(), BuildInput{Dir: dir, Platforms: []build.Platform{{OS: "linux", Arch: "amd64"}},
		Version: "1.0.0", Getenv: getenv, Environ: environ})
	require.NoError(t, err)
	defer done()
	res, err := build.Run(context.Background(), spec)
	require.NoError(t, err)
	require.Len(t, res.Binaries, 1)

	r, err := AuditImage(context.Background(), "oci:.shipyard/image", audit.Options{Dir: dir, VulnDB: testenv.VulnDB(t), Getenv: getenv}, nil)
	require.NoError(t, err)
	assert.Equal(t, "binary", r.GoScan)
	var got []string
	for _, v := range r.Vulnerabilities {
		got = append(got, v.ID+" "+v.Name)
		assert.Equal(t, "/app/replaced", v.File, "named by its path in the image")
	}
	slices.Sort(got)
	assert.Contains(t, got, "GO-2020-0036 gopkg.in/yaml.v2", "the yaml.v2 that the binary holds")

	cmd := exec.Command(bin, "-mode", "binary", "-db", testenv.VulnDB(t), "-format", "json", res.Binaries[0].Path)
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		require.Equal(t, 3, ee.ExitCode(), "%s", ee.Stderr)
	} else {
		require.NoError(t, err)
	}
	var want []string
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var m struct {
			Finding *struct {
				OSV   string
				Trace []struct{ Module string }
			}
		}
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else {
			require.NoError(t, err)
		}
		if m.Finding != nil && !slices.Contains(want, m.Finding.OSV+" "+m.Finding.Trace[0].Module) {
			want = append(want, m.Finding.OSV+" "+m.Finding.Trace[0].Module)
		}
	}
	slices.Sort(want)
	assert.Equal(t, want, got, "the findings of govulncheck -mode binary on the binary")
	var names []string
	for _, d := range r.Dependencies {
		names = append(names, d.Name)
	}
	assert.Contains(t, names, "gopkg.in/yaml.v2", "the modules the binary holds")
}

// TestAuditImageNode: audit --image on a Node.js image that shipyard build made of the node-hello
// example (its dependency layer installed by npm ci) reads the application's package.json and npm's
// record of what it installed, and finds the advisory of the lodash inside.
func TestAuditImageNode(t *testing.T) {
	testenv.Tool(t, "npm", "apt-get install npm")
	dir := filepath.Join(t.TempDir(), "node-hello")
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(testenv.Root(t), "examples", "node-hello"))))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name": "node-hello", "version": "1.0.0", "private": true,
  "dependencies": {"lodash": "4.17.20"}}`+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "package-lock.json"), []byte(`{"name": "node-hello", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
  "packages": {"": {"name": "node-hello", "version": "1.0.0", "dependencies": {"lodash": "4.17.20"}},
    "node_modules/lodash": {"version": "4.17.20", "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz",
      "integrity": "sha512-PlhdFcillOINfeV7Ni6oF1TAEayyZBoZ8bcshTHqOYJYlrqzRK5hagpagky5o4HfCzzd1TRkXPMFq6cKk9rGmA==", "license": "MIT"}}}`+"\n"), 0o644))
	cfg, err := config.Load(filepath.Join(dir, "shipyard.yaml"), true, nil)
	require.NoError(t, err)
	getenv := func(k string) string {
		if k == "SOURCE_DATE_EPOCH" {
			return "1790000000"
		}
		return os.Getenv(k)
	}
	spec, done, err := BuildSpec(context.Background(), BuildInput{Dir: dir, Build: cfg.Build, Platforms: []build.Platform{{OS: "linux", Arch: "amd64"}},
		Version: "1.0.0", Getenv: getenv, Environ: os.Environ()})
	require.NoError(t, err)
	defer done()
	_, err = build.Run(context.Background(), spec)
	require.NoError(t, err, "npm ci reaches the npm registry")

	osv := "file://" + filepath.Join(testenv.Root(t), "audit", "testdata", "osv")
	r, err := AuditImage(context.Background(), "oci:.shipyard/image", audit.Options{Dir: dir, VulnDB: osv, Getenv: getenv}, nil)
	require.NoError(t, err)
	require.Len(t, r.Dependencies, 1)
	assert.Equal(t, "lodash", r.Dependencies[0].Name)
	assert.Equal(t, "4.17.20", r.Dependencies[0].Current, "the version installed in the image")
	assert.Equal(t, "/app/package.json", r.Dependencies[0].File)
	require.Len(t, r.Vulnerabilities, 1)
	assert.Equal(t, "GHSA-35jh-r3h4-6jhm", r.Vulnerabilities[0].ID)
	assert.Equal(t, osv, r.VulnSources[audit.Npm])
}
