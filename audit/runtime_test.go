package audit

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRuntimes: the project's Go (go and toolchain lines) and Node.js (engines.node, .nvmrc,
// .node-version) against their support windows, from the release data of testdata/runtime, on
// 2026-12-01: Go supports its two newest releases, 1.27 and 1.26; Node.js 26 is the active LTS.
func TestRuntimes(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "go.mod"), "module example.com/app\n\ngo 1.22\n\ntoolchain go1.26.3\n")
	write(t, filepath.Join(dir, "package.json"), "{\n  \"name\": \"app\",\n  \"engines\": {\n    \"node\": \">=18\"\n  }\n}\n")
	write(t, filepath.Join(dir, ".nvmrc"), "lts/jod\n")
	write(t, filepath.Join(dir, ".node-version"), "v26.1.0\n")
	o := Options{Dir: dir, RuntimeDB: "file://" + filepath.Join("testdata", "runtime"), Now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	got, note, err := runtimes(context.Background(), o)
	require.NoError(t, err)
	assert.Empty(t, note)
	assert.Equal(t, []Runtime{
		{Name: "go", Version: "1.22", Source: "go", Release: "1.22", Status: "end-of-life", MoveTo: "go1.27.4", File: "go.mod", Line: 3},
		{Name: "go", Version: "go1.26.3", Source: "toolchain", Release: "1.26", Status: "supported", MoveTo: "go1.26.11", File: "go.mod", Line: 5},
		{Name: "node", Version: ">=18", Source: "engines.node", Release: "18", Status: "end-of-life", EOL: "2025-04-30", MoveTo: "26", File: "package.json", Line: 4},
		{Name: "node", Version: "lts/jod", Source: ".nvmrc", Release: "22", Status: "maintenance-lts", EOL: "2027-04-30", MoveTo: "26", File: ".nvmrc", Line: 1},
		{Name: "node", Version: "v26.1.0", Source: ".node-version", Release: "26", Status: "active-lts", EOL: "2029-04-30", File: ".node-version", Line: 1},
	}, got)

	write(t, filepath.Join(dir, "go.mod"), "module example.com/app\n\ngo 1.26.2\n")
	os.Remove(filepath.Join(dir, "package.json"))
	os.Remove(filepath.Join(dir, ".nvmrc"))
	os.Remove(filepath.Join(dir, ".node-version"))
	got, _, err = runtimes(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, []Runtime{{Name: "go", Version: "1.26.2", Source: "go", Release: "1.26", Status: "supported", File: "go.mod", Line: 3}}, got,
		"a supported go line needs no move")

	o.RuntimeDB = "off"
	got, note, err = runtimes(context.Background(), o)
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.Equal(t, "runtimes: not checked (the runtime database is off)", note)

	o.RuntimeDB = filepath.Join(dir, "nowhere")
	_, _, err = runtimes(context.Background(), o)
	var in *InputError
	require.ErrorAs(t, err, &in)
	assert.Equal(t, "audit.RuntimeDB", in.InputOption())
}

// FuzzLowestMajor: any .nvmrc or engines.node gives a major version number or "", never a panic.
func FuzzLowestMajor(f *testing.F) {
	for _, s := range []string{"20", "v20.11.1", ">=18", "^20.1.0", "20.x", "lts/iron", "node", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if m := lowestMajor(v); m != "" {
			if _, err := strconv.Atoi(m); err != nil {
				t.Fatalf("lowestMajor(%q) = %q, not a number", v, m)
			}
		}
	})
}

// TestRuntimesFromTheLiveSources: with no --runtime-db, the release data comes over HTTPS from go.dev's
// release list and the nodejs/Release schedule, which a TLS server in the test answers for (with the
// fixture files, in the sources' formats); a source that fails leaves the runtimes not checked, saying
// which source and why.
func TestRuntimesFromTheLiveSources(t *testing.T) {
	var asked []string
	status := http.StatusOK
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.Host+r.URL.RequestURI())
		file := map[string]string{"go.dev": "go.json", "raw.githubusercontent.com": "node.json"}[r.Host]
		if file == "" {
			http.NotFound(w, r)
			return
		}
		if status != http.StatusOK {
			http.Error(w, "unavailable", status)
			return
		}
		http.ServeFile(w, r, filepath.Join("testdata", "runtime", file))
	}))
	defer srv.Close()
	transport := srv.Client().Transport.(*http.Transport).Clone()
	transport.TLSClientConfig.ServerName = "example.com" // the test certificate's name, whichever host is asked
	transport.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "go.mod"), "module example.com/app\n\ngo 1.22\n")
	write(t, filepath.Join(dir, ".nvmrc"), "22\n")
	o := Options{Dir: dir, Client: &http.Client{Transport: transport}, Now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	got, note, err := runtimes(context.Background(), o)
	require.NoError(t, err)
	assert.Empty(t, note)
	assert.Equal(t, []string{"go.dev/dl/?mode=json&include=all", "raw.githubusercontent.com/nodejs/Release/main/schedule.json"}, asked)
	assert.Equal(t, []Runtime{
		{Name: "go", Version: "1.22", Source: "go", Release: "1.22", Status: "end-of-life", MoveTo: "go1.27.4", File: "go.mod", Line: 3},
		{Name: "node", Version: "22", Source: ".nvmrc", Release: "22", Status: "maintenance-lts", EOL: "2027-04-30", MoveTo: "26", File: ".nvmrc", Line: 1},
	}, got)

	status = http.StatusBadGateway
	got, note, err = runtimes(context.Background(), o)
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.Equal(t, "runtimes: not checked: reading https://go.dev/dl/?mode=json&include=all: 502 Bad Gateway", note)
}
