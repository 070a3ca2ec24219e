package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	coveragePackages = 50
	coverageFiles    = 10   // a package
	coverageFuncs    = 1000 // a file: one block each, 500,000 profile lines in all
)

// benchCoverage times `shipyard test --profile` beside `go tool cover -func` on a generated module whose
// profile has 500,000 blocks; both read the same sources to find the functions.
func benchCoverage(ctx context.Context, b *bench) error {
	dir := filepath.Join(b.scratch, "coverage-module")
	start := time.Now()
	lines, err := generateCoverageModule(dir)
	if err != nil {
		return fmt.Errorf("generating the module: %w", err)
	}
	fmt.Printf("generated %d files and a %d-line profile in %s\n", coveragePackages*coverageFiles, lines, time.Since(start).Round(time.Millisecond))
	ours, err := b.timed(ctx, dir, b.shipyard, "test", "--profile", "cover.out", "--quiet")
	if err != nil {
		return err
	}
	peer, err := b.timed(ctx, dir, "go", "tool", "cover", "-func=cover.out")
	if err != nil {
		return err
	}
	b.report(fmt.Sprintf("test --profile: %d-line profile", lines), ours, peer, "go tool cover -func", 0, 0.5)
	return nil
}

// generateCoverageModule writes the module and its profile and returns the profile's line count.
func generateCoverageModule(dir string) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/bench\n\ngo 1.26\n"), 0o644); err != nil {
		return 0, err
	}
	pf, err := os.Create(filepath.Join(dir, "cover.out"))
	if err != nil {
		return 0, err
	}
	defer pf.Close()
	profile := bufio.NewWriter(pf)
	profile.WriteString("mode: atomic\n")
	lines := 0
	for p := range coveragePackages {
		pkg := fmt.Sprintf("p%02d", p)
		if err := os.MkdirAll(filepath.Join(dir, pkg), 0o755); err != nil {
			return 0, err
		}
		for f := range coverageFiles {
			var src strings.Builder
			fmt.Fprintf(&src, "package %s\n\n", pkg)
			name := fmt.Sprintf("f%02d.go", f)
			for i := range coverageFuncs {
				line := 3 + i
				code := fmt.Sprintf("func f%02d_%04d(x int) int { return x + %d }", f, i, i)
				src.WriteString(code + "\n")
				open := strings.IndexByte(code, '{') + 2
				fmt.Fprintf(profile, "example.com/bench/%s/%s:%d.%d,%d.%d 1 %d\n", pkg, name, line, open, line, len(code)+1, (i%3)*(i%7))
				lines++
			}
			if err := os.WriteFile(filepath.Join(dir, pkg, name), []byte(src.String()), 0o644); err != nil {
				return 0, err
			}
		}
	}
	if err := profile.Flush(); err != nil {
		return 0, err
	}
	return lines + 1, pf.Close()
}
