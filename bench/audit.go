package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shipyardci/shipyard/internal/goproxytest"
)

const (
	auditModules = 150 // go.mod's requirements
	auditDeep    = 300 // the modules they require in turn, in two layers of 150
	// proxyRoundTrip is how long the HTTP proxy takes to answer: about a CI runner's round trip to a
	// public module proxy.
	proxyRoundTrip = 10 * time.Millisecond
)

// benchAudit times `shipyard audit` beside `go list -m -u -json all` on a real-shaped module graph: a
// go.mod of 150 requirements, each requiring three modules of a first layer of 150 that require two of
// a second layer of 150 in turn, 450 modules in the build list (as go 1.16 modules, whose go.mod need
// not list what they require indirectly). Each module has 20 versions on a file:// GOPROXY, a third a
// newer major path; the proxy is read as a file:// directory and over HTTP.
func benchAudit(ctx context.Context, b *bench) error {
	proxy := filepath.Join(b.scratch, "goproxy")
	dir := filepath.Join(b.scratch, "audit-module")
	modules := map[string][]goproxytest.Version{}
	var req strings.Builder
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	layer := func(n, i int) string { return fmt.Sprintf("example.com/l%d/dep%03d", n, i) }
	for n := range 3 {
		for i := range auditModules {
			path := layer(n, i)
			for v := range 20 {
				version := fmt.Sprintf("v1.%d.%d", v/5, v%5)
				var requires strings.Builder
				if n < 2 { // each version requires the next layer's modules, at a version that moves with it
					for k := range 3 - n {
						fmt.Fprintf(&requires, "require %s v1.%d.%d\n", layer(n+1, (i*7+k*31)%auditModules), v/5, (v+k)%5)
					}
				}
				modules[path] = append(modules[path], goproxytest.Version{Version: version, Time: start.AddDate(0, 0, v), Go: "1.16", GoMod: requires.String()})
			}
			if i%3 == 0 {
				modules[path+"/v2"] = []goproxytest.Version{{Version: "v2.0.0", Time: start.AddDate(0, 1, 0), Go: "1.16"}}
			}
			if n == 0 {
				fmt.Fprintf(&req, "\t%s v1.0.%d\n", path, i%5)
			}
		}
	}
	if err := goproxytest.Write(proxy, modules); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	gomod := "module example.com/bench\n\ngo 1.16\n\nrequire (\n" + req.String() + ")\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		return err
	}
	fmt.Printf("generated a go.mod of %d requirements (%d more below them) and a GOPROXY of %d module paths\n", auditModules, auditDeep, len(modules))
	// The same proxy directory over HTTP, as proxy.golang.org, Athens or a company's proxy serve it,
	// each answer after a CI runner's round trip to a public proxy.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	files := http.FileServer(http.Dir(proxy))
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(proxyRoundTrip)
		files.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	modcache := filepath.Join(b.scratch, "audit-modcache")
	empty := func() error { return os.RemoveAll(modcache) }
	audit := []string{b.shipyard, "audit", "--vuln-db", "off", "--runtime-db", "off", "--fail-on", "none", "-o", "json"}
	golist := []string{"go", "list", "-m", "-u", "-json", "all"}
	for _, p := range []struct{ name, url string }{
		{"file:// GOPROXY", "file://" + filepath.ToSlash(proxy)},
		{fmt.Sprintf("HTTP GOPROXY, %s a request", proxyRoundTrip), "http://" + ln.Addr().String()},
	} {
		// The runs' environment, never this process's: a benchmark run after this one sees its own.
		env := append(os.Environ(), "GOPROXY="+p.url, "GOSUMDB=off", "GOFLAGS=-mod=mod -modcacherw", "GOTOOLCHAIN=local",
			"GOMODCACHE="+modcache, "GOPRIVATE=", "GONOPROXY=", "GOWORK=off")
		// Both from an empty module cache, as on a fresh CI runner (shipyard's build list is the go
		// command's, which fills it), and again with the cache a previous run filled, taking turns.
		// shipyard does the same work as the peer: the dependencies alone, no vulnerability or runtime
		// data.
		cold, err := b.alternate(ctx, empty, env, dir, audit, golist)
		if err != nil {
			return err
		}
		warm, err := b.alternate(ctx, nil, env, dir, audit, golist)
		if err != nil {
			return err
		}
		title := fmt.Sprintf("audit: %d requirements, %d modules in the build list, %s", auditModules, auditModules+auditDeep, p.name)
		b.report(title, cold[0], cold[1], "go list -m -u (empty cache)", 0, 0.5)
		b.report(title, warm[0], warm[1], "go list -m -u (warm cache)", 0, 1.0)
	}
	return nil
}
