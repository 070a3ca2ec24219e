package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

const (
	shardPackages = 200
	shardCount    = 4
	shardGoal     = 1.15 // the slowest shard at most this times the mean
)

// benchShard splits a generated suite of 200 packages with skewed durations (most quick, a few slow, two
// of them far longer than a shard's share) into 4 shards: once without history (by name), merged to
// record the timings, then balanced by them. It reports the slowest shard against the mean (each shard
// run alone, so that they do not share the cores), and 4 shards in parallel against one run.
func benchShard(ctx context.Context, b *bench) error {
	dir := filepath.Join(b.scratch, "shard-suite")
	total, err := generateShardSuite(dir)
	if err != nil {
		return err
	}
	fmt.Printf("generated %d packages whose tests sleep %.1fs in all\n", shardPackages, total.Seconds())
	// -count=1: go test's cache would replay results instead of running them; -p 1: one package at a
	// time, so that a shard's time is its packages' and not go test's parallelism.
	flags := []string{"--", "-count=1", "-p", "1"}
	shard := func(round string, k int) []string {
		return append([]string{b.shipyard, "test", "--quiet", "--shard", fmt.Sprintf("%d/%d", k, shardCount), "--shard-dir", round}, flags...)
	}
	if _, err := parallelShards(ctx, dir, shard, "round1"); err != nil { // no history: by name
		return err
	}
	if _, err := b.once(ctx, nil, nil, dir, b.shipyard, "test", "merge", "round1", "--quiet"); err != nil {
		return err
	}
	var times []time.Duration
	for k := 1; k <= shardCount; k++ {
		c := shard("round2", k)
		t, err := b.once(ctx, nil, nil, dir, c[0], c[1:]...)
		if err != nil {
			return err
		}
		times = append(times, t)
	}
	var sum time.Duration
	for _, t := range times {
		sum += t
	}
	mean, slowest := sum/time.Duration(len(times)), slices.Max(times)
	ratio := float64(slowest) / float64(mean)
	fmt.Printf("\ntest --shard K/%d: %d packages, balanced by the recorded timings (each shard alone)\n", shardCount, shardPackages)
	for k, t := range times {
		fmt.Printf("  shard %d/%d %27s\n", k+1, shardCount, t.Round(time.Millisecond))
	}
	verdict := "met"
	if ratio > shardGoal {
		verdict, b.failed = "MISSED", true
	}
	fmt.Printf("  %-28s %10.2f\n  %-28s %10s  %s\n", "slowest / mean", ratio, "target", fmt.Sprintf("<= %.2f", shardGoal), verdict)

	wall, err := parallelShards(ctx, dir, shard, "round3")
	if err != nil {
		return err
	}
	one, err := b.once(ctx, nil, nil, dir, b.shipyard, append([]string{"test", "--quiet"}, flags...)...)
	if err != nil {
		return err
	}
	fmt.Printf("\n%d shards in parallel beside one run (2 cores; the tests sleep, so shards overlap)\n", shardCount)
	fmt.Printf("  %-28s %10s\n  %-28s %10s\n  %-28s %10.2f\n", "4 shards, in parallel", wall.Round(time.Millisecond), "one run", one.Round(time.Millisecond),
		"ratio (shards / one run)", float64(wall)/float64(one))
	return nil
}

// parallelShards runs every shard of round at once and returns the wall time until the last ended.
func parallelShards(ctx context.Context, dir string, shard func(string, int) []string, round string) (time.Duration, error) {
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, shardCount)
	for k := 1; k <= shardCount; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := shard(round, k)
			cmd := exec.CommandContext(ctx, c[0], c[1:]...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[k-1] = fmt.Errorf("%s: %v\n%s", strings.Join(c[1:], " "), err, out)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// generateShardSuite writes a module of shardPackages packages whose tests sleep skewed durations: most
// a few milliseconds, some a few hundred, two packages of 12 tests of 250ms each. It returns the sleeps'
// total.
func generateShardSuite(dir string) (time.Duration, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/suite\n\ngo 1.24\n"), 0o644); err != nil {
		return 0, err
	}
	r := rand.New(rand.NewPCG(1, 2))
	var total time.Duration
	for i := range shardPackages {
		p := fmt.Sprintf("p%03d", i)
		var tests []time.Duration
		switch {
		case i == 17 || i == 131:
			for range 12 {
				tests = append(tests, 250*time.Millisecond)
			}
		case r.IntN(10) == 0:
			tests = []time.Duration{time.Duration(100+r.IntN(400)) * time.Millisecond, time.Duration(r.IntN(100)) * time.Millisecond}
		default:
			tests = []time.Duration{time.Duration(5+r.IntN(40)) * time.Millisecond}
		}
		src := fmt.Sprintf("package %s\n\n// F is covered.\nfunc F(x int) int {\n\tif x > 0 {\n\t\treturn x\n\t}\n\treturn -x\n}\n", p)
		test := fmt.Sprintf("package %s\n\nimport (\n\t\"testing\"\n\t\"time\"\n)\n", p)
		for j, d := range tests {
			total += d
			test += fmt.Sprintf("\nfunc Test%d(t *testing.T) {\n\ttime.Sleep(%d * time.Millisecond)\n\tif F(%d) != %d {\n\t\tt.Fatal()\n\t}\n}\n", j, d.Milliseconds(), j+1, j+1)
		}
		if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
			return 0, err
		}
		if err := os.WriteFile(filepath.Join(dir, p, "f.go"), []byte(src), 0o644); err != nil {
			return 0, err
		}
		if err := os.WriteFile(filepath.Join(dir, p, "f_test.go"), []byte(test), 0o644); err != nil {
			return 0, err
		}
	}
	return total, nil
}
