package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shipyardci/shipyard/internal/goproxytest"
)

const (
	auditModules = 150 // go.mod's requirements
	auditDeep    = 300 // the modules they require in turn, in two layers of 150
)

// benchAudit times `shipyard audit` beside `go list -m -u -json all` on a real-shaped module graph: a
// go.mod of 150 requirements, each requiring three modules of a first layer of 150 that require two of
// a second layer of 150 in turn, 450 modules in the build list (as go 1.16 modules, whose go.mod need
// not list what they require indirectly). Each module has 20 versions on a file:// GOPROXY, a third a
// newer major path.
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
	// The runs' environment, never this process's: a benchmark run after this one sees its own.
	env := append(os.Environ(), "GOPROXY=file://"+filepath.ToSlash(proxy), "GOSUMDB=off", "GOFLAGS=-mod=mod -modcacherw", "GOTOOLCHAIN=local",
		"GOMODCACHE="+filepath.Join(b.scratch, "audit-modcache"), "GOPRIVATE=", "GONOPROXY=", "GOWORK=off")
	fmt.Printf("generated a go.mod of %d requirements (%d more below them) and a file:// GOPROXY of %d module paths\n", auditModules, auditDeep, len(modules))
	// Both from an empty module cache, as on a fresh CI runner (shipyard's build list is the go
	// command's, which fills it), and again with the cache a previous run filled. shipyard does the same
	// work as the peer: the dependencies alone, no vulnerability or runtime data.
	modcache := filepath.Join(b.scratch, "audit-modcache")
	empty := func() error { return os.RemoveAll(modcache) }
	audit := []string{"audit", "--vuln-db", "off", "--runtime-db", "off", "--fail-on", "none", "-o", "json"}
	ours, err := b.run(ctx, empty, env, dir, b.shipyard, audit...)
	if err != nil {
		return err
	}
	cold, err := b.run(ctx, empty, env, dir, "go", "list", "-m", "-u", "-json", "all")
	if err != nil {
		return err
	}
	oursWarm, err := b.run(ctx, nil, env, dir, b.shipyard, audit...)
	if err != nil {
		return err
	}
	warm, err := b.run(ctx, nil, env, dir, "go", "list", "-m", "-u", "-json", "all")
	if err != nil {
		return err
	}
	title := fmt.Sprintf("audit: %d requirements, %d modules in the build list, file:// GOPROXY", auditModules, auditModules+auditDeep)
	b.report(title, ours, cold, "go list -m -u (empty cache)", 0, 0.5)
	b.report(title, oursWarm, warm, "go list -m -u (warm cache)", 0, 1.0)
	return nil
}
