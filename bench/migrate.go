package main

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // pgx/v5
)

const (
	migrateRows   = 2_000_000
	migrateRate   = 300 // writes per second
	migrateAdmin  = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	writerAppName = "shipyard-bench-writer"
)

// The change, done three ways: email_lower, NOT NULL, computed from email.
const (
	liveOperation = "operation: add_column\ntable: accounts\ncolumn: email_lower\ntype: text\nnot_null: true\nup: lower(email)\n"
	naiveUp       = "ALTER TABLE accounts ADD COLUMN email_lower text;\nUPDATE accounts SET email_lower = lower(email);\nALTER TABLE accounts ALTER COLUMN email_lower SET NOT NULL;\n"
	naiveDown     = "ALTER TABLE accounts DROP COLUMN email_lower;\n"
)

// writeStats is what the service saw while a way of migrating ran.
type writeStats struct {
	way             string
	writes, failed  int
	p50, p99, max   time.Duration
	longestLockWait time.Duration
	migration       time.Duration
	firstFailure    string
	checkpoints     int    // checkpoints PostgreSQL started while it ran
	checkpointsAt   string // the seconds of the run they started in
	slow            string // the writes over 20 ms in each second of the run ("12:40" is 40 in second 12)
}

// benchMigrate adds a NOT NULL column computed from another to a 2,000,000-row table while a service
// writes ~300 times a second: with the naive ALTER TABLE; UPDATE; SET NOT NULL through golang-migrate's
// CLI, with shipyard's live migration (expand, backfill, contract) unthrottled (--max-load off), and
// three times with its defaults (a backfill that yields), each right after a run without a migration
// (the baseline it is held to: this machine's latencies drift from minute to minute).
func benchMigrate(ctx context.Context, b *bench) error {
	golangMigrate, err := golangMigrateCLI()
	if err != nil {
		return err
	}
	admin, err := pgAdmin(ctx)
	if err != nil {
		return err
	}
	defer admin.Close()
	fmt.Printf("\nmigrate: add email_lower NOT NULL = lower(email) to %d rows under ~%d writes/s\n", migrateRows, migrateRate)
	// Each way calls deployed when the new version of the service would start: it writes email_lower
	// from then on, the old version did not.
	type way struct {
		name string
		live bool
		run  func(ctx context.Context, url, dir string, deployed func()) error
	}
	baseline := way{"no migration (baseline)", false, func(ctx context.Context, _, _ string, _ func()) error { return sleepCtx(ctx, 15*time.Second) }}
	shipyard := func(name string, backfillArgs ...string) way {
		return way{name, true, func(ctx context.Context, url, dir string, deployed func()) error {
			for _, phase := range []string{"expand", "backfill", "contract"} {
				args := []string{"migrate", "up", "--phase", phase, "--database", url, "--dir", dir}
				if phase == "backfill" {
					args = append(args, backfillArgs...)
				}
				out, err := runQuiet(ctx, b.shipyard, args...)
				if err != nil {
					return err
				}
				if phase == "expand" {
					deployed()
				}
				for _, line := range strings.Split(out, "\n") {
					if strings.HasPrefix(line, "backfill ") || strings.HasPrefix(line, "up ") {
						fmt.Printf("      %s\n", line)
					}
				}
			}
			return nil
		}}
	}
	ways := []way{
		baseline,
		{"golang-migrate, ALTER+UPDATE", false, func(ctx context.Context, url, dir string, deployed func()) error {
			defer deployed()
			_, err := runQuiet(ctx, golangMigrate, "-path", dir, "-database", strings.Replace(url, "postgres://", "pgx5://", 1), "up")
			return err
		}},
		shipyard("shipyard live, unthrottled", "--max-load", "off"),
	}
	for i := 1; i <= 3; i++ {
		ways = append(ways, baseline, shipyard(fmt.Sprintf("shipyard live, yielding (run %d)", i)))
	}
	var results []writeStats
	for i, w := range ways {
		fmt.Printf("    %s\n", w.name)
		dir := filepath.Join(b.scratch, fmt.Sprintf("migrate-%d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		files := map[string]string{"1_email_lower.up.sql": naiveUp, "1_email_lower.down.sql": naiveDown}
		if w.live {
			files = map[string]string{"1_email_lower.live.yaml": liveOperation}
		}
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				return err
			}
		}
		st, err := migrateUnderLoad(ctx, admin, dir, w.name, w.run)
		if err != nil {
			return fmt.Errorf("%s: %w", w.name, err)
		}
		results = append(results, st)
	}
	fmt.Printf("  %-36s %7s %6s %8s %8s %8s %12s %10s %s\n", "way", "writes", "failed", "p50", "p99", "max", "longest wait", "migration", "checkpoints (started at second), slow writes (>20ms) by second")
	for _, r := range results {
		fmt.Printf("  %-36s %7d %6d %8s %8s %8s %12s %10s %d (%s), %s\n", r.way, r.writes, r.failed, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond),
			r.max.Round(time.Millisecond), r.longestLockWait.Round(time.Millisecond), r.migration.Round(100*time.Millisecond), r.checkpoints, r.checkpointsAt, r.slow)
		if r.firstFailure != "" {
			fmt.Printf("      first failed write: %s\n", r.firstFailure)
		}
	}
	check := func(what string, ok bool) string {
		if !ok {
			b.failed = true
			return what + ": MISSED"
		}
		return what + ": met"
	}
	unthrottled := results[2]
	for i := 4; i < len(results); i += 2 {
		base, live := results[i-1], results[i]
		ratio, slower := float64(live.p99)/float64(base.p99), float64(live.migration)/float64(unthrottled.migration)
		fmt.Printf("  targets for %s: %s; %s; %s; %s\n", live.way, check("0 failed writes", live.failed == 0),
			check(fmt.Sprintf("p99 <= 2x the baseline before it (%.2fx)", ratio), ratio <= 2),
			check("no write waits > 200ms for a lock", live.longestLockWait <= 200*time.Millisecond),
			check(fmt.Sprintf("< 3x the unthrottled migration's time (%.2fx)", slower), slower < 3))
	}
	fmt.Printf("  (the unthrottled live migration: p99 %.2fx its baseline)\n", float64(unthrottled.p99)/float64(results[0].p99))
	return nil
}

// migrateUnderLoad makes a fresh database with the table, starts the service's writes, runs the
// migration after a second, and stops the writes a second after it ended.
func migrateUnderLoad(ctx context.Context, admin *sql.DB, dir, way string, migrate func(ctx context.Context, url, dir string, deployed func()) error) (writeStats, error) {
	name := fmt.Sprintf("shipyard_bench_%d", time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return writeStats{}, err
	}
	defer admin.ExecContext(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:5432/%s?sslmode=disable", name)
	db, err := sql.Open("pgx/v5", url+"&application_name="+writerAppName)
	if err != nil {
		return writeStats{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(64)
	seed := fmt.Sprintf(`CREATE TABLE accounts (id BIGSERIAL PRIMARY KEY, email TEXT NOT NULL);
INSERT INTO accounts (email) SELECT 'User' || i || '@Example.com' FROM generate_series(1, %d) i;
VACUUM ANALYZE accounts;
CHECKPOINT`, migrateRows)
	for _, q := range strings.Split(seed, ";\n") {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return writeStats{}, fmt.Errorf("seeding: %w", err)
		}
	}

	lctx, stop := context.WithCancel(ctx)
	var mu sync.Mutex
	st := writeStats{way: way}
	var latencies []time.Duration
	var slowAt []time.Time
	checkpoints := func() (n int) {
		_ = admin.QueryRowContext(ctx, "SELECT checkpoints_req + checkpoints_timed FROM pg_stat_bgwriter").Scan(&n)
		return n
	}
	checkpointsBefore := checkpoints()
	var newVersion atomic.Bool
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // the service: a write every 1/300 s, each on its own goroutine as requests come
		defer wg.Done()
		tick := time.NewTicker(time.Second / migrateRate)
		defer tick.Stop()
		var writes sync.WaitGroup
		defer writes.Wait()
		for i := 0; ; i++ {
			select {
			case <-lctx.Done():
				return
			case at := <-tick.C:
				writes.Add(1)
				go func() {
					defer writes.Done()
					var err error
					email, id := fmt.Sprintf("User%d@Example.com", migrateRows+i), 1+rand.IntN(migrateRows)
					switch {
					case i%2 == 0 && newVersion.Load():
						_, err = db.ExecContext(ctx, `INSERT INTO accounts (email, email_lower) VALUES ($1, lower($1))`, email)
					case i%2 == 0:
						_, err = db.ExecContext(ctx, `INSERT INTO accounts (email) VALUES ($1)`, email)
					case newVersion.Load():
						_, err = db.ExecContext(ctx, `UPDATE accounts SET email = $1, email_lower = lower($1) WHERE id = $2`, email, id)
					default:
						_, err = db.ExecContext(ctx, `UPDATE accounts SET email = $1 WHERE id = $2`, email, id)
					}
					took := time.Since(at)
					mu.Lock()
					defer mu.Unlock()
					if took > 20*time.Millisecond {
						slowAt = append(slowAt, at)
					}
					st.writes++
					latencies = append(latencies, took)
					if err != nil {
						st.failed++
						if st.firstFailure == "" {
							st.firstFailure = err.Error()
						}
					}
				}()
			}
		}
	}()
	var checkpointAt []time.Time
	go func() { // the longest a write of the service has waited for a lock, and when checkpoints start, sampled
		defer wg.Done()
		last := checkpointsBefore
		for i := 0; lctx.Err() == nil; i++ {
			if i%10 == 0 {
				if n := checkpoints(); n > last {
					last = n
					mu.Lock()
					checkpointAt = append(checkpointAt, time.Now())
					mu.Unlock()
				}
			}
			var wait float64
			err := admin.QueryRowContext(lctx, `SELECT COALESCE(EXTRACT(EPOCH FROM MAX(now() - query_start)), 0) FROM pg_stat_activity
				WHERE application_name = $1 AND wait_event_type = 'Lock'`, writerAppName).Scan(&wait)
			if err == nil {
				mu.Lock()
				st.longestLockWait = max(st.longestLockWait, time.Duration(wait*float64(time.Second)))
				mu.Unlock()
			}
			_ = sleepCtx(lctx, 10*time.Millisecond)
		}
	}()
	_ = sleepCtx(ctx, time.Second)
	start := time.Now()
	merr := migrate(ctx, url, dir, func() { newVersion.Store(true) })
	st.migration = time.Since(start)
	_ = sleepCtx(ctx, time.Second)
	stop()
	wg.Wait()
	st.checkpoints = checkpoints() - checkpointsBefore
	var at []string
	for _, t := range checkpointAt {
		at = append(at, strconv.Itoa(int(t.Sub(start).Seconds())))
	}
	st.checkpointsAt = strings.Join(at, " ")
	perSecond := map[int]int{}
	for _, at := range slowAt {
		perSecond[int(at.Sub(start).Seconds())]++
	}
	var slow []string
	for _, sec := range slices.Sorted(maps.Keys(perSecond)) {
		slow = append(slow, fmt.Sprintf("%d:%d", sec, perSecond[sec]))
	}
	st.slow = strings.Join(slow, " ")
	if merr != nil {
		return st, merr
	}
	slices.Sort(latencies)
	if n := len(latencies); n > 0 {
		st.p50, st.p99, st.max = latencies[n/2], latencies[n*99/100], latencies[n-1]
	}
	return st, nil
}

// runQuiet runs a command and returns its output, which an error carries.
func runQuiet(ctx context.Context, name string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
