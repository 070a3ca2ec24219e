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
