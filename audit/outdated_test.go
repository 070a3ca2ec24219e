package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipyardci/shipyard/internal/goproxytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goListModule is what `go list -m -u -json` prints of a module.
type goListModule struct {
	Path       string
	Version    string
	Update     *struct{ Version string }
	Deprecated string
	Retracted  []string
	Indirect   bool
	Main       bool
}

// goListUpdates runs `go list -m -u -json all` in dir against the proxy.
func goListUpdates(t *testing.T, dir, proxy string) map[string]goListModule {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-u", "-json", "all")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=file://"+filepath.ToSlash(proxy), "GOSUMDB=off", "GOFLAGS=-mod=mod -modcacherw",
		"GOMODCACHE="+t.TempDir(), "GOTOOLCHAIN=local", "GOPRIVATE=", "GONOPROXY=", "GOWORK=off")
	out, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		t.Fatalf("go list: %v\n%s", err, exit.Stderr)
	}
	require.NoError(t, err)
	mods := map[string]goListModule{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var m goListModule
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else {
			require.NoError(t, err)
		}
		mods[m.Path] = m
	}
	return mods
}

// TestOutdatedGoEqualsGoList: on a GOPROXY of majors, retractions, a deprecation, pre-releases and
// pseudo-versions, shipyard's upgrade, deprecation and retraction of each requirement are those of
// `go list -m -u -json all` on the same go.mod and proxy.
func TestOutdatedGoEqualsGoList(t *testing.T) {
	proxy := writeGoProxy(t, goFixture)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "go.mod"), goFixtureMod)
	want := goListUpdates(t, dir, proxy)

	m, err := ReadGoMod(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	p, err := NewGoProxy(func(k string) string { return map[string]string{"GOPROXY": "file://" + proxy}[k] }, http.DefaultClient)
	require.NoError(t, err)
	deps, err := OutdatedGo(context.Background(), m, p)
	require.NoError(t, err)
	require.Len(t, deps, 8)
	for _, d := range deps {
		t.Run(d.Name, func(t *testing.T) {
			g, ok := want[d.Name]
			require.True(t, ok, "go list lists %s", d.Name)
			assert.Empty(t, d.Error)
			goUpdate := ""
			if g.Update != nil {
				goUpdate = g.Update.Version
			}
			assert.Equal(t, goUpdate, d.Upgrade, "the upgrade")
			assert.Equal(t, cmpOr(goUpdate, g.Version), d.Wanted, "wanted is go list's Update, else the version in use")
			assert.Equal(t, g.Deprecated, d.Deprecated, "the deprecation")
			if len(g.Retracted) > 0 {
				assert.Contains(t, g.Retracted, d.Retracted, "the retraction")
			} else {
				assert.Empty(t, d.Retracted)
			}
			assert.Equal(t, g.Indirect, d.Type == Indirect)
		})
	}

	byName := map[string]Dependency{}
	for _, d := range deps {
		byName[d.Name] = d
	}
	alpha := byName["example.com/alpha"]
	assert.Equal(t, "v1.2.0", alpha.Wanted, "the newest v1, not the retracted one, not the rc")
	assert.Equal(t, "example.com/alpha/v2", alpha.LatestName, "v3 has only a pre-release")
	assert.Equal(t, "v2.1.0", alpha.Latest)
	assert.Equal(t, UpdateMajor, alpha.Update)
	assert.Equal(t, "data loss on restart", alpha.Retracted)
	beta := byName["example.com/beta"]
	assert.Equal(t, "v0.3.0-beta.1", beta.Wanted, "a pre-release newer than every release stays")
	assert.Equal(t, UpdateNone, beta.Update)
	assert.Equal(t, "v0.0.0-20260201000000-123456789abc", byName["example.com/gamma"].Latest, "no tags: the proxy's @latest")
	zeta := byName["example.com/zeta"]
	assert.Equal(t, "v1.5.0", zeta.Latest, "v2.0.0+incompatible is no upgrade of a module with a go.mod")
	assert.True(t, zeta.Backport, "v1.5.0 was published before v1.4.9, the version in use")
	assert.False(t, alpha.Backport)
	eta := byName["example.com/eta"]
	assert.Equal(t, "v1.1.0", eta.Wanted, "the go command's upgrade: v0 and v1 are one module path")
	assert.Equal(t, "v1.1.0", eta.Latest)
	assert.Equal(t, Indirect, eta.Type)
	assert.Equal(t, "v2.1.0+incompatible", byName["example.com/theta"].Upgrade, "a listed pseudo-version does not decide which tags exist")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestBuildListEqualsGoList: the Go dependencies are the whole build list (a module that only a
// requirement requires is there, indirect), with the versions go list selects, and for each the
// upgrade and deprecation go list -m -u reports; go.mod and go.sum are not written.
func TestBuildListEqualsGoList(t *testing.T) {
	fixture := maps.Clone(goFixture)
	fixture["example.com/eta"] = []goproxytest.Version{{Version: "v0.9.0", Time: day(1), GoMod: "require example.com/iota v1.0.0\n"},
		{Version: "v1.0.0", Time: day(2)}, {Version: "v1.1.0", Time: day(3)}}
	fixture["example.com/iota"] = []goproxytest.Version{{Version: "v1.0.0", Time: day(1)}, {Version: "v1.2.0", Time: day(4)}}
	proxy := writeGoProxy(t, fixture)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "go.mod"), goFixtureMod)
	want := goListUpdates(t, dir, proxy)
	write(t, filepath.Join(dir, "go.mod"), goFixtureMod)
	os.Remove(filepath.Join(dir, "go.sum"))

	env := map[string]string{"GOPROXY": "file://" + proxy, "GOSUMDB": "off", "GOMODCACHE": t.TempDir(), "GOTOOLCHAIN": "local", "GOWORK": "off"}
	r, err := Scan(context.Background(), Options{Dir: dir, VulnDB: VulnDBOff, Getenv: func(k string) string { return env[k] }})
	require.NoError(t, err)
	assert.Empty(t, r.BuildListNote)
	got := map[string]Dependency{}
	for _, d := range r.Dependencies {
		got[d.Name] = d
	}
	for path, g := range want {
		if g.Main {
			continue
		}
		d, ok := got[path]
		if !assert.True(t, ok, "%s is in the build list", path) {
			continue
		}
		assert.Equal(t, g.Version, d.Current, path)
		goUpdate := ""
		if g.Update != nil {
			goUpdate = g.Update.Version
		}
		assert.Equal(t, cmpOr(goUpdate, g.Version), d.Wanted, path)
		assert.Equal(t, g.Deprecated, d.Deprecated, path)
	}
	assert.Len(t, got, len(want)-1, "the build list, and nothing else")
	iota := got["example.com/iota"]
	assert.Equal(t, Indirect, iota.Type, "only eta requires it")
	assert.Zero(t, iota.Line, "go.mod has no line of it")
	assert.Equal(t, "v1.2.0", iota.Wanted)
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	require.NoError(t, err)
	assert.Equal(t, goFixtureMod, string(data), "go.mod untouched")
	assert.NoFileExists(t, filepath.Join(dir, "go.sum"), "no go.sum written")
}

// TestNewMajorProbeRefused: a proxy that refuses the probe of a next major path (403, as some do for a
// module they do not know) leaves the dependency checked, with no new major.
func TestNewMajorProbeRefused(t *testing.T) {
	proxy := writeGoProxy(t, map[string][]goproxytest.Version{"example.com/alpha": {{Version: "v1.0.0", Time: day(1)}, {Version: "v1.1.0", Time: day(2)}}})
	files := http.FileServer(http.Dir(proxy))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/example.com/alpha/v") {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	p, err := NewGoProxy(func(k string) string { return map[string]string{"GOPROXY": srv.URL}[k] }, srv.Client())
	require.NoError(t, err)
	deps, err := OutdatedGo(context.Background(), &GoModule{File: "go.mod", Requires: []GoRequire{{Path: "example.com/alpha", Version: "v1.0.0", Line: 5}}}, p)
	require.NoError(t, err)
	require.Len(t, deps, 1)
	assert.Empty(t, deps[0].Error)
	assert.Equal(t, "v1.1.0", deps[0].Latest)
	assert.Empty(t, deps[0].LatestName)
}
