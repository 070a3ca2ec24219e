package audit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/shipyardci/shipyard/internal/goproxytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingProxy serves dir over HTTP and counts the requests of each path.
func countingProxy(t *testing.T, dir string) (*httptest.Server, func() map[string]int) {
	t.Helper()
	var mu sync.Mutex
	hits := map[string]int{}
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := map[string]int{}
		for k, v := range hits {
			out[k] = v
		}
		return out
	}
}

func TestGoProxyAsksOnce(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		n := hits
		mu.Unlock()
		if n == 1 {
			<-release // the first answer comes only after its caller gave up
		}
		_, _ = w.Write([]byte("v1.0.0\nv1.1.0\n"))
	}))
	defer srv.Close()
	p, err := NewGoProxy(env(map[string]string{"GOPROXY": srv.URL}), srv.Client())
	require.NoError(t, err)

	// An answer cut short by its caller's context is asked again by the next.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := p.Versions(ctx, "example.com/a")
		done <- err
	}()
	for {
		mu.Lock()
		n := hits
		mu.Unlock()
		if n == 1 {
			break
		}
	}
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	close(release)

	// Many at once, and again later: one request.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := p.Versions(context.Background(), "example.com/a")
			assert.NoError(t, err)
			assert.Equal(t, []string{"v1.0.0", "v1.1.0"}, got)
		}()
	}
	wg.Wait()
	_, err = p.Versions(context.Background(), "example.com/a")
	require.NoError(t, err)
	mu.Lock()
	assert.Equal(t, 2, hits, "the cancelled request, then one for all the others")
	mu.Unlock()
}

// graphModules is a module graph of old (go 1.16) and new (go 1.21) modules, whose versions move up.
func graphModules() map[string][]goproxytest.Version {
	v := func(version, goVersion, requires string) goproxytest.Version {
		return goproxytest.Version{Version: version, Time: day(1), Go: goVersion, GoMod: requires}
	}
	return map[string][]goproxytest.Version{
		"example.com/old/a": {v("v1.0.0", "1.16", "require example.com/old/b v1.0.0\n"), v("v1.1.0", "1.16", "require example.com/old/b v1.2.0\n")},
		"example.com/old/b": {v("v1.0.0", "1.16", "require example.com/old/c v1.0.0\n"), v("v1.2.0", "1.16", "require example.com/old/c v1.1.0\nrequire example.com/new/q v1.0.0\n")},
		"example.com/old/c": {v("v1.0.0", "1.16", ""), v("v1.1.0", "1.16", "require example.com/old/d v1.0.0\n")},
		"example.com/old/d": {v("v1.0.0", "1.16", "")},
		"example.com/new/p": {v("v1.0.0", "1.21", "require example.com/new/q v1.1.0\n")},
		"example.com/new/q": {v("v1.0.0", "1.21", "require example.com/new/r v1.0.0\n"), v("v1.1.0", "1.21", "require example.com/new/r v1.0.0\n")},
		"example.com/new/r": {v("v1.0.0", "1.21", "require example.com/new/s v1.0.0\n")},
		"example.com/new/s": {v("v1.0.0", "1.21", "")},
	}
}

// TestWalkGraphReadsWhatTheGoCommandReads: the modules the read-ahead reaches, at their highest versions,
// are the go command's build list on these graphs, pruned or not.
func TestWalkGraphReadsWhatTheGoCommandReads(t *testing.T) {
	proxyDir := writeGoProxy(t, graphModules())
	for _, tc := range []struct {
		name, gomod string
		want        []string
	}{
		{"an old main module: the whole graph, at the highest versions (the build list)", "go 1.16\n\nrequire (\n\texample.com/old/a v1.1.0\n\texample.com/new/p v1.0.0\n)\n",
			[]string{"example.com/new/p v1.0.0", "example.com/new/q v1.1.0", "example.com/new/r v1.0.0", "example.com/new/s v1.0.0",
				"example.com/old/a v1.1.0", "example.com/old/b v1.2.0", "example.com/old/c v1.1.0", "example.com/old/d v1.0.0"}},
		{"a new main module: all below an old module, one level below a new one", "go 1.21\n\nrequire (\n\texample.com/old/a v1.1.0\n\texample.com/new/p v1.0.0\n)\n",
			[]string{"example.com/new/p v1.0.0", "example.com/new/q v1.1.0",
				"example.com/new/r v1.0.0", // below q v1.0.0, which old/b requires: read in old/a's whole graph
				"example.com/new/s v1.0.0",
				"example.com/old/a v1.1.0", "example.com/old/b v1.2.0", "example.com/old/c v1.1.0", "example.com/old/d v1.0.0"}},
		{"a new main module of new modules: one level", "go 1.21\n\nrequire example.com/new/p v1.0.0\n",
			[]string{"example.com/new/p v1.0.0", "example.com/new/q v1.1.0"}},
		{"a replaced module is not read", "go 1.16\n\nrequire example.com/old/a v1.1.0\n\nreplace example.com/old/a => ./a\n",
			[]string{"example.com/old/a v1.1.0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseGoMod("go.mod", []byte("module example.com/main\n\n"+tc.gomod))
			require.NoError(t, err)
			p, err := NewGoProxy(env(map[string]string{"GOPROXY": "file://" + proxyDir}), nil)
			require.NoError(t, err)
			var got []string
			for _, r := range p.walkGraph(context.Background(), m, t.TempDir()) {
				got = append(got, r.Path+" "+r.Version)
			}
			sort.Strings(got)
			assert.Equal(t, tc.want, got)
			if strings.Contains(tc.gomod, "replace") {
				return
			}
			// What the go command selects, on these graphs: the same.
			dir := t.TempDir()
			write(t, filepath.Join(dir, "go.mod"), "module example.com/main\n\n"+tc.gomod)
			list, err := buildList(context.Background(), dir, m, env(map[string]string{"GOPROXY": "file://" + proxyDir, "GOSUMDB": "off",
				"GOFLAGS": "-mod=mod -modcacherw", "GOMODCACHE": t.TempDir(), "GOTOOLCHAIN": "local", "GOWORK": "off"}))
			require.NoError(t, err)
			var selected []string
			for _, r := range list {
				selected = append(selected, r.Path+" "+r.Version)
			}
			sort.Strings(selected)
			assert.Equal(t, tc.want, selected, "go list -m all")
		})
	}
}

// TestReadAheadServesTheGoCommand runs the go command's build list through the read-ahead's local proxy:
// the same build list and the same lookups as without it, and the upstream proxy asked each thing once.
func TestReadAheadServesTheGoCommand(t *testing.T) {
	proxyDir := writeGoProxy(t, graphModules())
	srv, hits := countingProxy(t, proxyDir)
	gomod := "module example.com/main\n\ngo 1.16\n\nrequire (\n\texample.com/old/a v1.1.0\n\texample.com/new/p v1.0.0\n)\n"
	dir := t.TempDir()
	write(t, filepath.Join(dir, "go.mod"), gomod)
	ctx := context.Background()
	run := func(ahead bool) ([]GoRequire, []Dependency) {
		vars := map[string]string{"GOPROXY": srv.URL, "GOSUMDB": "off", "GOFLAGS": "-mod=mod -modcacherw",
			"GOMODCACHE": t.TempDir(), "GOTOOLCHAIN": "local", "GOWORK": "off", "GOPRIVATE": "", "GONOPROXY": ""}
		getenv := env(vars)
		m, err := ParseGoMod("go.mod", []byte(gomod))
		require.NoError(t, err)
		p, err := NewGoProxy(getenv, srv.Client())
		require.NoError(t, err)
		goenv := getenv
		var ra *readAhead
		if ahead {
			ra = p.startReadAhead(ctx, m, getenv)
			require.NotNil(t, ra.srv, "a proxy on the network is read ahead")
			goenv = ra.getenv
			assert.True(t, strings.HasPrefix(goenv("GOPROXY"), "http://127.0.0.1:"))
			assert.True(t, strings.HasSuffix(goenv("GOPROXY"), ","+srv.URL))
		}
		list, err := buildList(ctx, dir, m, goenv)
		require.NoError(t, err)
		m.Requires = list
		deps, err := OutdatedGo(ctx, m, p)
		require.NoError(t, err)
		if ra != nil {
			ra.end()
		}
		return list, deps
	}
	plainList, plainDeps := run(false)
	before := hits()
	list, deps := run(true)
	assert.Equal(t, plainList, list)
	assert.Equal(t, plainDeps, deps)
	require.Len(t, list, 8)
	for path, n := range hits() {
		if n-before[path] > 1 {
			t.Errorf("the proxy was asked %s %d times", path, n-before[path])
		}
		if strings.HasSuffix(path, ".mod") && n-before[path] == 0 && before[path] > 0 {
			t.Errorf("the go command read %s without the read-ahead, not with it", path)
		}
	}
}

// TestReadAheadKeepsItsSecret: when the go command fails, its message does not show the local proxy's
// address and secret.
func TestReadAheadKeepsItsSecret(t *testing.T) {
	srv, _ := countingProxy(t, writeGoProxy(t, graphModules()))
	gomod := "module example.com/main\n\ngo 1.16\n\nrequire example.com/nowhere v1.0.0\n"
	dir := t.TempDir()
	write(t, filepath.Join(dir, "go.mod"), gomod)
	getenv := env(map[string]string{"GOPROXY": srv.URL, "GOSUMDB": "off", "GOFLAGS": "-mod=mod", "GOMODCACHE": t.TempDir(), "GOTOOLCHAIN": "local", "GOWORK": "off"})
	m, err := ParseGoMod("go.mod", []byte(gomod))
	require.NoError(t, err)
	p, err := NewGoProxy(getenv, srv.Client())
	require.NoError(t, err)
	ra := p.startReadAhead(context.Background(), m, getenv)
	_, err = buildList(context.Background(), dir, m, ra.getenv)
	ra.end()
	require.Error(t, err)
	secret := strings.TrimPrefix(ra.url, "http://")
	_, secret, _ = strings.Cut(secret, "/")
	require.NotEmpty(t, secret)
	assert.NotContains(t, ra.scrub(err.Error()), secret)
	assert.NotContains(t, ra.scrub("reading "+ra.url+"/x/@v/list: 404"), secret)
}

func TestReadAheadIsOnlyForProxiesOnTheNetwork(t *testing.T) {
	m, err := ParseGoMod("go.mod", []byte("module example.com/main\n\ngo 1.16\n"))
	require.NoError(t, err)
	for _, goproxy := range []string{"file://" + t.TempDir(), "off", "direct"} {
		getenv := env(map[string]string{"GOPROXY": goproxy})
		p, err := NewGoProxy(getenv, nil)
		require.NoError(t, err)
		ahead := p.startReadAhead(context.Background(), m, getenv)
		assert.Nil(t, ahead.srv, goproxy)
		assert.Equal(t, goproxy, ahead.getenv("GOPROXY"))
		ahead.end()
	}
}

func TestLocalProxyAnswersOnlyWhatTheProxyHas(t *testing.T) {
	proxyDir := writeGoProxy(t, graphModules())
	p, err := NewGoProxy(env(map[string]string{"GOPROXY": "file://" + proxyDir}), nil)
	require.NoError(t, err)
	ctx := context.Background()
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{"/s3cret/example.com/old/a/@v/list", true},
		{"/s3cret/example.com/old/a/@v/v1.0.0.mod", true},
		{"/s3cret/example.com/old/a/@v/v1.0.0.info", true},
		{"/wrong/example.com/old/a/@v/list", false},             // not under the secret
		{"/s3cret/example.com/old/a/@v/v1.0.0.zip", false},      // zips are the go command's to fetch
		{"/s3cret/example.com/nowhere/@v/list", false},          // the proxy has no such module
		{"/s3cret/example.com/old/a/@v/v9.0.0.mod", false},      // nor version
		{"/s3cret/sumdb/sum.golang.org/supported", false},       // nor a checksum database
		{"/s3cret/example.com/!u!p!p!e!r/@v/list", false},       // unescaped, and unknown
		{"/s3cret/example.com/Upper/@v/list", false},            // not an escaped path
		{"/s3cret/example.com/old/a/@v/../../b/@v/list", false}, // not a module path
		{"/s3cret/example.com/old/a", false},
	} {
		_, ok := p.localAnswer(ctx, "/s3cret/", tc.path)
		assert.Equal(t, tc.ok, ok, tc.path)
	}
}

func TestGoCommandEnvReadsTheGoEnvFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "env")
	write(t, file, "GOPROXY=https://proxy.corp.example/go\nGOPRIVATE=corp.example/*\n")
	for _, k := range []string{"GOPROXY", "GOPRIVATE", "GONOPROXY", "GOFLAGS"} {
		t.Setenv(k, "")
	}
	t.Setenv("GOENV", file)
	getenv := goCommandEnv(context.Background(), t.TempDir(), env(map[string]string{"GOMODCACHE": "/tmp/modcache"}))
	assert.Equal(t, "https://proxy.corp.example/go", getenv("GOPROXY"))
	assert.Equal(t, "corp.example/*", getenv("GONOPROXY"))
	assert.Equal(t, "/tmp/modcache", getenv("GOMODCACHE"))
	p, err := NewGoProxy(getenv, nil)
	require.NoError(t, err)
	_, err = p.Versions(context.Background(), "corp.example/private")
	assert.ErrorIs(t, err, ErrDirect, "a private module is never asked of a proxy")
}
