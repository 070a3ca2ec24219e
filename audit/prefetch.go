package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/sync/errgroup"
)

// maxPrefetchMods bounds how many go.mod files a read-ahead reads.
const maxPrefetchMods = 20000

// readAhead reads, while the go command computes the build list, what the go command and the lookups
// will ask the proxy: the module graph's go.mod files, many at a time, and then each module's list,
// newest go.mod and .info. The go command reads them from a proxy this process serves on the loopback
// interface, in front of GOPROXY, so that it waits for no round trip twice. (It reads at most as many
// at a time as the machine has cores, one level of the graph after another; on a 2-core runner against
// a public proxy that is most of its time.)
//
// The go command still checks every go.mod against go.sum and the checksum database, so serving it
// changes nothing it trusts. The local proxy answers only what the proxies answered; anything else (an
// error, a zip, a private module) it leaves to GOPROXY, as the go command would have asked it. Its
// address carries a random secret, so nobody else on the machine reads through it.
type readAhead struct {
	stop   context.CancelFunc
	done   chan struct{}
	srv    *http.Server
	url    string              // the local proxy's, with its secret
	getenv func(string) string // the go command's environment
}

// startReadAhead starts reading ahead for m; getenv is the go command's environment, with the GOPROXY
// go env reports. Only a proxy on the network is worth it: a file:// one answers at once, and reading
// ahead would only take the cores from the go command.
func (p *GoProxy) startReadAhead(ctx context.Context, m *GoModule, getenv func(string) string) *readAhead {
	ra := &readAhead{done: make(chan struct{}), getenv: getenv}
	if len(p.entries) == 0 || !strings.HasPrefix(p.entries[0].url, "http") {
		ra.stop = func() {}
		close(ra.done)
		return ra
	}
	ctx, ra.stop = context.WithCancel(ctx)
	if url, srv, err := p.serveLocal(ctx); err == nil {
		ra.srv, ra.url = srv, url
		// The local proxy first; when it has no answer, GOPROXY as it was.
		ra.getenv = func(k string) string {
			if k == "GOPROXY" {
				return url + "," + getenv(k)
			}
			return getenv(k)
		}
	}
	go func() {
		defer close(ra.done)
		p.prefetch(ctx, m, goModCache(getenv))
	}()
	return ra
}

// end stops reading ahead and the local proxy, and waits for both.
func (ra *readAhead) end() {
	ra.stop()
	<-ra.done
	if ra.srv != nil {
		_ = ra.srv.Close()
	}
}

// scrub keeps the local proxy's address, and its secret, out of a message of the go command's.
func (ra *readAhead) scrub(msg string) string {
	if ra.url == "" {
		return msg
	}
	return strings.ReplaceAll(msg, ra.url, "(shipyard's read-ahead proxy)")
}

// serveLocal serves the proxy's answers on 127.0.0.1 under a secret path, and returns that URL.
func (p *GoProxy) serveLocal(ctx context.Context) (string, *http.Server, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	prefix := "/" + hex.EncodeToString(secret) + "/"
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := p.localAnswer(r.Context(), prefix, r.URL.Path)
		if !ok {
			http.NotFound(w, r) // the go command asks GOPROXY next
			return
		}
		_, _ = w.Write(data)
	})}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + strings.TrimSuffix(prefix, "/"), srv, nil
}

// localAnswer is the proxy's answer to a request of the go command: PREFIX/ESCAPED-PATH/@v/list,
// @v/VERSION.info, @v/VERSION.mod or @latest.
func (p *GoProxy) localAnswer(ctx context.Context, prefix, urlPath string) ([]byte, bool) {
	rest, ok := strings.CutPrefix(urlPath, prefix)
	if !ok {
		return nil, false
	}
	escaped, what, ok := strings.Cut(rest, "/@")
	if !ok {
		return nil, false
	}
	switch {
	case what == "v/list", what == "latest", strings.HasPrefix(what, "v/") && (strings.HasSuffix(what, ".info") || strings.HasSuffix(what, ".mod")):
	default:
		return nil, false // zips, and anything this proxy never reads
	}
	path, err := module.UnescapePath(escaped)
	if err != nil {
		return nil, false
	}
	data, err := p.get(ctx, path, "@"+what)
	return data, err == nil
}

// prefetch reads the module graph of m (the go.mod files the go command will read: every module below
// one of a go.mod older than go 1.17, one level below the others), from the module cache where it has
// them, else from the proxy, then looks up each module at the highest version met, which is what the
// go command selects. It only fills the proxy's answers: what is reported is looked up again on the
// build list itself, mostly answered by then.
func (p *GoProxy) prefetch(ctx context.Context, m *GoModule, modcache string) {
	highest := p.walkGraph(ctx, m, modcache)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(lookups)
	for _, r := range highest {
		g.Go(func() error {
			_, _ = p.Info(gctx, r.Path, r.Version) // the go command's Time of each module
			_, _ = goDependency(gctx, m, p, r)     // an error is met again, and reported, on the build list
			return nil
		})
	}
	_ = g.Wait()
}

// walkGraph reads m's module graph, many go.mod files at a time, and returns each module path it
// reaches at the highest version it met, go.mod's requirements first.
func (p *GoProxy) walkGraph(ctx context.Context, m *GoModule, modcache string) []GoRequire {
	replaced := map[string]bool{}
	mainPruned := true
	if m.parsed != nil {
		for _, r := range m.parsed.Replace {
			replaced[r.Old.Path] = true
		}
		mainPruned = m.parsed.Go != nil && semver.Compare("v"+m.parsed.Go.Version, "v1.17") >= 0
	}
	var (
		mu      sync.Mutex
		seen    = map[module.Version]bool{}
		highest = map[string]int{} // index in found
		found   []GoRequire
		wg      sync.WaitGroup
		reads   atomic.Int64
		slots   = make(chan struct{}, 2*lookups)
	)
	// meet notes a module version, and says whether it is new.
	meet := func(r GoRequire) bool {
		mu.Lock()
		defer mu.Unlock()
		mv := module.Version{Path: r.Path, Version: r.Version}
		if seen[mv] {
			return false
		}
		seen[mv] = true
		if i, ok := highest[r.Path]; !ok {
			highest[r.Path] = len(found)
			found = append(found, r)
		} else if semver.Compare(r.Version, found[i].Version) > 0 {
			found[i].Version = r.Version
		}
		return true
	}
	var visit func(mv module.Version, root bool)
	visit = func(mv module.Version, root bool) {
		defer wg.Done()
		if replaced[mv.Path] || reads.Add(1) > maxPrefetchMods {
			return // a replacement's go.mod counts, which neither the cache nor the proxy holds
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		f := p.goModOf(ctx, modcache, mv)
		<-slots
		if f == nil {
			return
		}
		// Below a module older than go 1.17 the go command reads the whole graph; below a newer one
		// that a main module of go 1.17 or later requires, only that module's own requirements.
		deeper := !mainPruned || !root || f.Go == nil || semver.Compare("v"+f.Go.Version, "v1.17") < 0
		for _, req := range f.Require {
			if meet(GoRequire{Path: req.Mod.Path, Version: req.Mod.Version, Indirect: true}) && deeper {
				wg.Add(1)
				go visit(req.Mod, false)
			}
		}
	}
	for _, r := range m.Requires {
		if meet(r) {
			wg.Add(1)
			go visit(module.Version{Path: r.Path, Version: r.Version}, true)
		}
	}
	wg.Wait()
	return found
}

// goModOf is the go.mod of a module version, from the module cache where it holds it, else from the
// proxy; nil when neither has it.
func (p *GoProxy) goModOf(ctx context.Context, modcache string, mv module.Version) *modfile.File {
	data, err := cachedGoMod(modcache, mv)
	if err != nil {
		if data, err = p.Mod(ctx, mv.Path, mv.Version); err != nil {
			return nil
		}
	}
	f, err := modfile.ParseLax(mv.String()+"/go.mod", data, nil)
	if err != nil {
		return nil
	}
	return f
}

// cachedGoMod is the go.mod of a module version as the module cache holds it.
func cachedGoMod(modcache string, mv module.Version) ([]byte, error) {
	if modcache == "" {
		return nil, os.ErrNotExist
	}
	path, err := module.EscapePath(mv.Path)
	if err != nil {
		return nil, err
	}
	version, err := module.EscapeVersion(mv.Version)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(modcache, "cache", "download", filepath.FromSlash(path), "@v", version+".mod"))
}

// goModCache is where the go command keeps its modules: GOMODCACHE (which go env reports), else the
// first GOPATH's pkg/mod, else ~/go/pkg/mod.
func goModCache(getenv func(string) string) string {
	if dir := getenv("GOMODCACHE"); dir != "" {
		return dir
	}
	if gopath, _, _ := strings.Cut(getenv("GOPATH"), string(os.PathListSeparator)); gopath != "" {
		return filepath.Join(gopath, "pkg", "mod")
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, "go", "pkg", "mod")
	}
	return ""
}
