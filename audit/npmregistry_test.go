package audit

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shipyardci/shipyard/internal/testenv"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// npmVersion is one version of a package in the fixture registry.
type npmVersion struct {
	version    string
	deprecated string
	day        int
}

// npmPackage is a package of the fixture registry.
type npmPackage struct {
	versions []npmVersion
	tags     map[string]string
}

// npmFixture is served by fakeNpmRegistry: ranges, carets on 0.x, a scoped package behind a token, a
// latest dist-tag below the highest version, pre-releases under next, and deprecations.
var npmFixture = map[string]npmPackage{
	"left-pad":   {versions: []npmVersion{{"1.1.0", "", 1}, {"1.2.0", "", 2}, {"2.0.0", "", 3}}, tags: map[string]string{"latest": "2.0.0"}},
	"@acme/util": {versions: []npmVersion{{"1.0.0", "", 1}, {"1.0.5", "", 2}, {"1.1.0", "", 3}}, tags: map[string]string{"latest": "1.1.0"}},
	"beta-pkg":   {versions: []npmVersion{{"1.0.0", "", 1}, {"1.1.0", "", 2}, {"2.0.0-rc.1", "", 3}}, tags: map[string]string{"latest": "1.1.0", "next": "2.0.0-rc.1"}},
	"pinned":     {versions: []npmVersion{{"1.0.0", "", 1}, {"1.0.1", "", 2}}, tags: map[string]string{"latest": "1.0.1"}},
	"tagged":     {versions: []npmVersion{{"1.0.0", "", 1}, {"1.0.3", "", 2}, {"1.1.0", "", 3}}, tags: map[string]string{"latest": "1.0.3"}},
	"dev-tool":   {versions: []npmVersion{{"0.1.0", "", 1}, {"0.1.1", "", 2}, {"0.2.0", "", 3}}, tags: map[string]string{"latest": "0.2.0"}},
	"old-lib":    {versions: []npmVersion{{"1.0.0", "no longer maintained, use left-pad", 1}, {"1.0.1", "", 2}, {"1.0.2", "broken build", 3}}, tags: map[string]string{"latest": "1.0.1"}},
	// engined's latest dist-tag needs a Node that no runner has: npm outdated shows the newest version
	// the Node on PATH can run.
	"engined": {versions: []npmVersion{{"1.0.0", "", 1}, {"1.1.0", "", 2}, {"1.2.0", "", 3}, {"2.0.0", "", 4}}, tags: map[string]string{"latest": "2.0.0"}},
	// lodash has a real advisory (testdata/osv), which the registry's bulk advisory endpoint serves.
	"lodash": {versions: []npmVersion{{"4.17.20", "", 1}, {"4.17.21", "", 2}}, tags: map[string]string{"latest": "4.17.21"}},
	// wrapper brings lodash in as a dependency of a dependency.
	"wrapper": {versions: []npmVersion{{"1.0.0", "", 1}}, tags: map[string]string{"latest": "1.0.0"}},
}

// npmDependencies are the dependencies of fixture versions, by name@version.
var npmDependencies = map[string]map[string]string{"wrapper@1.0.0": {"lodash": "4.17.20"}}

// npmEngines are the engines.node of fixture versions, by name@version.
var npmEngines = map[string]string{"engined@1.2.0": ">=99", "engined@2.0.0": ">=99.1"}

// The project installs the first versions exactly, then loosens its ranges, so that what is
// installed lags behind what the ranges allow.
var npmInstalled = map[string]string{"left-pad": "1.1.0", "@acme/util": "1.0.0", "beta-pkg": "1.0.0", "pinned": "1.0.0", "tagged": "1.0.0", "dev-tool": "0.1.0", "old-lib": "1.0.0", "engined": "1.0.0"}
var npmRanges = map[string]string{"left-pad": "^1.1.0", "@acme/util": "~1.0.0", "beta-pkg": "^1.0.0", "pinned": "1.0.0", "tagged": "^1.0.0", "dev-tool": "^0.1.0", "old-lib": "^1.0.0", "engined": "^1.0.0"}

const npmToken = "npm-test-token-0123456789"

// fakeNpmRegistry serves packuments and tarballs in the registry's real format; the scoped packages
// live under /scoped/ and need the token.
func fakeNpmRegistry(t *testing.T) *httptest.Server {
	t.Helper()
	tarballs := map[string][]byte{}
	var mu sync.Mutex
	var srv *httptest.Server
	packument := func(name string) []byte {
		p := npmFixture[name]
		base := srv.URL + "/"
		if strings.HasPrefix(name, "@") {
			base += "scoped/"
		}
		versions := map[string]any{}
		times := map[string]string{}
		for _, v := range p.versions {
			tgz := tarball(t, name, v.version)
			file := strings.ReplaceAll(name, "/", "-") + "-" + v.version + ".tgz"
			mu.Lock()
			tarballs[file] = tgz
			mu.Unlock()
			sha := sha1.Sum(tgz)
			sum := sha512.Sum512(tgz)
			doc := map[string]any{"name": name, "version": v.version, "dist": map[string]any{
				"tarball": base + "-/" + file, "shasum": hex.EncodeToString(sha[:]), "integrity": "sha512-" + base64.StdEncoding.EncodeToString(sum[:])}}
			if v.deprecated != "" {
				doc["deprecated"] = v.deprecated
			}
			if e := npmEngines[name+"@"+v.version]; e != "" {
				doc["engines"] = map[string]string{"node": e}
			}
			if deps := npmDependencies[name+"@"+v.version]; deps != nil {
				doc["dependencies"] = deps
			}
			versions[v.version] = doc
			times[v.version] = time.Date(2026, 3, v.day, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
		}
		data, err := json.Marshal(map[string]any{"name": name, "dist-tags": p.tags, "versions": versions, "time": times})
		require.NoError(t, err)
		return data
	}
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.EscapedPath()
		if rest, ok := strings.CutPrefix(path, "/scoped/"); ok {
			if r.Header.Get("Authorization") != "Bearer "+npmToken {
				http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
				return
			}
			path = "/" + rest
		}
		if path == "/-/npm/v1/security/advisories/bulk" && r.Method == http.MethodPost {
			bulkAdvisories(t, w, r)
			return
		}
		if file, ok := strings.CutPrefix(path, "/-/"); ok {
			mu.Lock()
			data, found := tarballs[file]
			mu.Unlock()
			if !found {
				http.NotFound(w, r)
				return
			}
			_, _ = w.Write(data)
			return
		}
		name := strings.ReplaceAll(strings.TrimPrefix(path, "/"), "%2f", "/")
		name = strings.ReplaceAll(name, "%2F", "/")
		if _, ok := npmFixture[name]; !ok {
			http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(packument(name))
	}))
	t.Cleanup(srv.Close)
	// Fill the tarballs before anyone asks for one.
	for name := range npmFixture {
		packument(name)
	}
	return srv
}

// tarball is a package tarball: package/package.json.
func tarball(t *testing.T, name, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	manifest := map[string]any{"name": name, "version": version}
	if deps := npmDependencies[name+"@"+version]; deps != nil {
		manifest["dependencies"] = deps
	}
	body, err := json.Marshal(manifest)
	require.NoError(t, err)
	require.NoError(t, tw.WriteHeader(&tar.Header{Name: "package/package.json", Mode: 0o644, Size: int64(len(body)), ModTime: time.Unix(499162500, 0)}))
	_, err = tw.Write(body)
	require.NoError(t, err)
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	return buf.Bytes()
}

// npmProject writes a project using the fixture registry through its .npmrc, with deps.
func npmProject(t *testing.T, srv *httptest.Server, deps map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	host := strings.TrimPrefix(srv.URL, "http:")
	npmrc := "registry=" + srv.URL + "/\n@acme:registry=" + srv.URL + "/scoped/\n" + host + "/scoped/:_authToken=${TEST_NPM_TOKEN}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".npmrc"), []byte(npmrc), 0o600))
	writePackageJSON(t, dir, deps)
	return dir
}

func writePackageJSON(t *testing.T, dir string, deps map[string]string) {
	t.Helper()
	prod, dev := map[string]string{}, map[string]string{}
	for name, spec := range deps {
		if name == "dev-tool" {
			dev[name] = spec
		} else {
			prod[name] = spec
		}
	}
	data, err := json.MarshalIndent(map[string]any{"name": "app", "version": "1.0.0", "private": true, "dependencies": prod, "devDependencies": dev}, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "package.json"), data, 0o644))
}

// npm runs the npm CLI in dir, failing in CI and skipping elsewhere when it is not installed.
func npm(t *testing.T, dir string, okCodes []int, args ...string) []byte {
	t.Helper()
	testenv.Tool(t, "npm", "apt-get install npm")
	cmd := exec.Command("npm", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TEST_NPM_TOKEN="+npmToken, "npm_config_cache="+filepath.Join(dir, ".npm-cache"),
		"npm_config_userconfig="+filepath.Join(dir, ".no-user-npmrc"), "npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		for _, c := range okCodes {
			if exit.ExitCode() == c {
				return out
			}
		}
	}
	require.NoError(t, err, "npm %v: %s", args, stderr.String())
	return out
}

// TestOutdatedNpmEqualsNpmOutdated: on a project installed from the fixture registry, shipyard's
// Current, Wanted and Latest are those of `npm outdated --json`.
func TestOutdatedNpmEqualsNpmOutdated(t *testing.T) {
	srv := fakeNpmRegistry(t)
	dir := npmProject(t, srv, npmInstalled)
	npm(t, dir, nil, "install", "--ignore-scripts")
	writePackageJSON(t, dir, npmRanges)
	reg, err := NewNpmRegistry(dir, env(map[string]string{"TEST_NPM_TOKEN": npmToken}), srv.Client())
	require.NoError(t, err)
	got := compareWithNpmOutdated(t, dir, reg)
	assert.Equal(t, "no longer maintained, use left-pad", got["old-lib"].Deprecated)
	assert.Equal(t, Dev, got["dev-tool"].Type)
	assert.Equal(t, UpdateMajor, got["left-pad"].Update)
	assert.Equal(t, "1.1.0", got["engined"].Latest, "the newest version the Node on PATH runs, as npm outdated shows")
	assert.Equal(t, "2.0.0", got["engined"].LatestTag, "and the dist-tag beside it")
}

// compareWithNpmOutdated runs npm outdated --json in dir and checks that shipyard finds the same
// packages outdated, with the same current, wanted and latest versions; it returns shipyard's.
func compareWithNpmOutdated(t *testing.T, dir string, reg *NpmRegistry) map[string]Dependency {
	t.Helper()
	var want map[string]struct{ Current, Wanted, Latest string }
	require.NoError(t, json.Unmarshal(npm(t, dir, []int{1}, "outdated", "--json"), &want))
	require.NotEmpty(t, want)
	t.Logf("npm outdated: %+v", want)
	p, err := ReadNpmProject(dir)
	require.NoError(t, err)
	deps, err := OutdatedNpm(context.Background(), p, reg)
	require.NoError(t, err)
	got := map[string]Dependency{}
	for _, d := range deps {
		require.Empty(t, d.Error, d.Name)
		if d.Current != d.Wanted || d.Current != d.Latest {
			got[d.Name] = d
		}
	}
	assert.Len(t, got, len(want), "the same packages are outdated")
	for name, w := range want {
		d, ok := got[name]
		if !assert.True(t, ok, "npm outdated lists %s", name) {
			continue
		}
		assert.Equal(t, w.Current, d.Current, name+" current")
		assert.Equal(t, w.Wanted, d.Wanted, name+" wanted")
		assert.Equal(t, w.Latest, d.Latest, name+" latest")
	}
	return got
}
