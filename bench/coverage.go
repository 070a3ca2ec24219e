package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const (
	coveragePackages = 50
	coverageFiles    = 10   // a package
	coverageFuncs    = 1000 // a file: one block each, 500,000 profile lines in all
	coverageBinaries = 10   // test binaries of -coverpkg=./..., each writing every block: 5,000,000 lines
)

// benchCoverage times `shipyard test --profile` beside `go tool cover -func` on a generated module whose
// profile has 500,000 blocks; both read the same sources to find the functions.
func benchCoverage(ctx context.Context, b *bench) error {
	// Once each block, and as go test -coverpkg=./... writes it: every block once per test binary.
	for _, copies := range []int{1, coverageBinaries} {
		dir := filepath.Join(b.scratch, fmt.Sprintf("coverage-module-%d", copies))
		start := time.Now()
		lines, err := generateCoverageModule(dir, copies)
		if err != nil {
			return fmt.Errorf("generating the module: %w", err)
		}
		fmt.Printf("generated %d files and a %d-line profile (%d copies of each block) in %s\n", coveragePackages*coverageFiles, lines, copies, time.Since(start).Round(time.Millisecond))
		ours, err := b.timed(ctx, dir, b.shipyard, "test", "--profile", "cover.out", "--quiet")
		if err != nil {
			return err
		}
		peer, err := b.timed(ctx, dir, "go", "tool", "cover", "-func=cover.out")
		if err != nil {
			return err
		}
		title := fmt.Sprintf("test --profile: %d-line profile, %d copies of each block", lines, copies)
		b.report(title, ours, peer, "go tool cover -func", 0, 0.5)
		if err := reportRSS(ctx, b, title, dir, 500<<20, b.shipyard, "test", "--profile", "cover.out", "--quiet"); err != nil {
			return err
		}
	}
	return nil
}

// reportRSS runs the command once and reports its peak resident memory against limit.
func reportRSS(ctx context.Context, b *bench, title, dir string, limit int64, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", name, err, out)
	}
	usage, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return nil
	}
	rss := usage.Maxrss << 10 // kilobytes on Linux
	verdict := "met"
	if rss > limit {
		verdict, b.failed = "MISSED", true
	}
	fmt.Printf("  %-28s %7d MB  (%s)\n  %-28s %7d MB  %s\n", "peak RSS", rss>>20, title, "target", limit>>20, verdict)
	return nil
}

// generateCoverageModule writes the module and its profile, each block copies times, and returns the
// profile's line count.
func generateCoverageModule(dir string, copies int) (int, error) {
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
	for c := range copies {
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
					fmt.Fprintf(profile, "example.com/bench/%s/%s:%d.%d,%d.%d 1 %d\n", pkg, name, line, open, line, len(code)+1, (i%3)*(i%7)*(c%2))
					lines++
				}
				if c > 0 {
					continue // the sources once
				}
				if err := os.WriteFile(filepath.Join(dir, pkg, name), []byte(src.String()), 0o644); err != nil {
					return 0, err
				}
			}
		}
	}
	if err := profile.Flush(); err != nil {
		return 0, err
	}
	return lines + 1, pf.Close()
}
