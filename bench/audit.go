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

const auditModules = 150

// benchAudit times `shipyard audit` beside `go list -m -u -json all` on a go.mod of 150 requirements,
// each with 20 versions on a file:// GOPROXY, a third of them with a newer major path.
func benchAudit(ctx context.Context, b *bench) error {
	proxy := filepath.Join(b.scratch, "goproxy")
	dir := filepath.Join(b.scratch, "audit-module")
	modules := map[string][]goproxytest.Version{}
	var req strings.Builder
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range auditModules {
		path := fmt.Sprintf("example.com/dep%03d", i)
		for v := range 20 {
			modules[path] = append(modules[path], goproxytest.Version{Version: fmt.Sprintf("v1.%d.%d", v/5, v%5), Time: start.AddDate(0, 0, v)})
		}
		if i%3 == 0 {
			modules[path+"/v2"] = []goproxytest.Version{{Version: "v2.0.0", Time: start.AddDate(0, 1, 0)}}
		}
		fmt.Fprintf(&req, "\t%s v1.0.%d\n", path, i%5)
	}
	if err := goproxytest.Write(proxy, modules); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	gomod := "module example.com/bench\n\ngo 1.22\n\nrequire (\n" + req.String() + ")\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		return err
	}
	// The runs' environment, never this process's: a benchmark run after this one sees its own.
	env := append(os.Environ(), "GOPROXY=file://"+filepath.ToSlash(proxy), "GOSUMDB=off", "GOFLAGS=-mod=mod -modcacherw", "GOTOOLCHAIN=local",
		"GOMODCACHE="+filepath.Join(b.scratch, "audit-modcache"), "GOPRIVATE=", "GONOPROXY=", "GOWORK=off")
	fmt.Printf("generated a go.mod of %d requirements and a file:// GOPROXY of %d module paths\n", auditModules, len(modules))
	ours, err := b.run(ctx, nil, env, dir, b.shipyard, "audit", "--vuln-db", "off", "--fail-on", "none", "-o", "json")
	if err != nil {
		return err
	}
	// shipyard keeps no module cache: beside it, go list starts from an empty one, as on a fresh CI
	// runner, and again with the cache its previous run filled.
	modcache := filepath.Join(b.scratch, "audit-modcache")
	cold, err := b.run(ctx, func() error { return os.RemoveAll(modcache) }, env, dir, "go", "list", "-m", "-u", "-json", "all")
	if err != nil {
		return err
	}
	warm, err := b.run(ctx, nil, env, dir, "go", "list", "-m", "-u", "-json", "all")
	if err != nil {
		return err
	}
	title := fmt.Sprintf("audit: %d requirements, file:// GOPROXY", auditModules)
	b.report(title, ours, cold, "go list -m -u (empty cache)", 0, 0.5)
	b.report(title, ours, warm, "go list -m -u (warm cache)", 0, 0)
	return nil
}
