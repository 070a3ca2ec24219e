// Command bench runs each shipyard capability side by side with its peer tool on the same input and prints
// the ratio. It measures; it is not a test. Usage: go run ./bench [-runs N] CAPABILITY…
//
//	version   shipyard version next beside git describe --tags, 20,000 commits and 2,000 tags
//	coverage  shipyard test --profile beside go tool cover -func, a 500,000-line profile
//	shard     shipyard test --shard K/4 on 200 packages of skewed durations: the slowest shard against the mean
//	registry  shipyard push beside crane push and skopeo copy, a 200 MiB image of 20 layers
//	registry-ui  the first pages of registry serve's UI, 1,000 repositories and 10,000 tags, beside crane catalog and ls
//	audit     shipyard audit beside go list -m -u -json all, 150 requirements and 450 modules on a file:// GOPROXY
//	build     shipyard build --push beside ko build, examples/hello to a local registry
//	publish   shipyard publish beside npm pack and npm publish, a package of 2,000 files, Verdaccio
//	migrate   a live migration (unthrottled, then yielding 3 times) beside golang-migrate's ALTER+UPDATE and no migration, 2,000,000 rows under writes
//	migrate-up  shipyard migrate up beside golang-migrate up, 200 plain files on SQLite and PostgreSQL
//
// go run ./bench version-replay DIR… replays the release history of git repositories instead: how often
// shipyard version next gives the version the project actually released.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

type capability struct {
	name string
	run  func(ctx context.Context, b *bench) error
}

var capabilities = []capability{
	{"version", benchVersion},
	{"coverage", benchCoverage},
	{"shard", benchShard},
	{"registry", benchRegistry},
	{"registry-ui", benchRegistryUI},
	{"audit", benchAudit},
	{"build", benchBuild},
	{"publish", benchPublish},
	{"migrate", benchMigrate},
	{"migrate-up", benchMigrateUp},
}

// bench is one run of the benchmarks: a shipyard binary built once, a scratch directory, and settings.
type bench struct {
	shipyard string
	scratch  string
	runs     int
	failed   bool
}

func main() {
	runs := flag.Int("runs", 5, "timed runs of each command; the median is reported")
	keep := flag.Bool("keep", false, "keep the generated inputs and print where they are")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: go run ./bench [-runs N] [capability…]\ncapabilities:")
		for _, c := range capabilities {
			fmt.Fprintf(os.Stderr, " %s", c.name)
		}
		fmt.Fprintln(os.Stderr)
	}
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	run := run
	if flag.Arg(0) == "version-replay" {
		run = func(ctx context.Context, _ int, keep bool, dirs []string) error {
			return withScratch(keep, func(scratch string) error { return versionReplay(ctx, scratch, dirs[1:]) })
		}
	}
	if err := run(ctx, *runs, *keep, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// withScratch runs f with a scratch directory, removed afterwards unless keep.
func withScratch(keep bool, f func(scratch string) error) error {
	scratch, err := os.MkdirTemp("", "shipyard-bench-")
	if err != nil {
		return err
	}
	if keep {
		defer fmt.Printf("\ninputs kept in %s\n", scratch)
	} else {
		defer os.RemoveAll(scratch)
	}
	return f(scratch)
}

func run(ctx context.Context, runs int, keep bool, names []string) error {
	return withScratch(keep, func(scratch string) error { return runIn(ctx, scratch, runs, names) })
}

func runIn(ctx context.Context, scratch string, runs int, names []string) error {
	b := &bench{shipyard: filepath.Join(scratch, "shipyard"), scratch: scratch, runs: runs}
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", b.shipyard, "./cmd/shipyard").CombinedOutput(); err != nil {
		return fmt.Errorf("building shipyard: %v\n%s", err, out)
	}
	for _, c := range capabilities {
		if len(names) > 0 && !slices.Contains(names, c.name) {
			continue
		}
		if err := c.run(ctx, b); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
	}
	if b.failed {
		return fmt.Errorf("a target was missed")
	}
	return nil
}

// timed runs a command b.runs times after one warm-up run and returns the median wall time.
func (b *bench) timed(ctx context.Context, dir string, name string, args ...string) (time.Duration, error) {
	return b.timedAfter(ctx, nil, dir, name, args...)
}

// timedAfter is timed with before run ahead of each run, untimed: to start each run from a cold cache.
func (b *bench) timedAfter(ctx context.Context, before func() error, dir string, name string, args ...string) (time.Duration, error) {
	return b.run(ctx, before, nil, dir, name, args...)
}

func (b *bench) run(ctx context.Context, before func() error, env []string, dir string, name string, args ...string) (time.Duration, error) {
	var times []time.Duration
	for i := 0; i <= b.runs; i++ {
		if before != nil {
			if err := before(); err != nil {
				return 0, err
			}
		}
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir, cmd.Env = dir, env
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		if i > 0 { // the first run warms the page cache
			times = append(times, time.Since(start))
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return times[len(times)/2], nil
}

// alternate runs each command b.runs times, taking turns (one warm-up round first), each after before,
// untimed, and returns the median wall time of each: on a noisy disk the turns share its moods. The
// commands run in env (nil: this process's environment).
func (b *bench) alternate(ctx context.Context, before func() error, env []string, dir string, cmds ...[]string) ([]time.Duration, error) {
	times := make([][]time.Duration, len(cmds))
	for round := 0; round <= b.runs; round++ {
		for i, c := range cmds {
			t, err := b.once(ctx, before, env, dir, c[0], c[1:]...)
			if err != nil {
				return nil, err
			}
			if round > 0 {
				times[i] = append(times[i], t)
			}
		}
	}
	medians := make([]time.Duration, len(cmds))
	for i, ts := range times {
		slices.Sort(ts)
		medians[i] = ts[len(ts)/2]
	}
	return medians, nil
}

// once runs a command once after before, untimed, and returns its wall time.
func (b *bench) once(ctx context.Context, before func() error, env []string, dir string, name string, args ...string) (time.Duration, error) {
	if before != nil {
		if err := before(); err != nil {
			return 0, err
		}
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return time.Since(start), nil
}

// report prints one side-by-side comparison and checks it against its target: at most maxTime for
// shipyard, or at most maxRatio of the peer's time (a zero target is not checked).
func (b *bench) report(title string, ours, peer time.Duration, peerName string, maxTime time.Duration, maxRatio float64) {
	ratio := float64(ours) / float64(peer)
	fmt.Printf("\n%s\n", title)
	fmt.Printf("  %-28s %10s\n", "shipyard", ours.Round(time.Millisecond))
	fmt.Printf("  %-28s %10s\n", peerName, peer.Round(time.Millisecond))
	fmt.Printf("  %-28s %10.2f\n", "ratio (shipyard / peer)", ratio)
	target, met := "", true
	if maxTime > 0 {
		target, met = "time < "+maxTime.String(), ours < maxTime
	}
	if maxRatio > 0 {
		target, met = fmt.Sprintf("ratio <= %.2f", maxRatio), ratio <= maxRatio
	}
	verdict := "met"
	if !met {
		verdict, b.failed = "MISSED", true
	}
	fmt.Printf("  %-28s %10s  %s (median of %d runs)\n", "target", target, verdict, b.runs)
}
