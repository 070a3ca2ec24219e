package migrate

import (
	"context"
	"database/sql"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shipyardci/shipyard/internal/dbtest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMaxLoad(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want MaxLoad
		str  string
		err  string
	}{
		{in: "probe=2x", want: MaxLoad{ProbeFactor: 2}, str: "probe=2x"},
		{in: "probe=1.5x", want: MaxLoad{ProbeFactor: 1.5}, str: "probe=1.5x"},
		{in: "probe=25ms", want: MaxLoad{Probe: 25 * time.Millisecond}, str: "probe=25ms"},
		{in: "probe=25ms, active=40", want: MaxLoad{Probe: 25 * time.Millisecond, Active: 40}, str: "probe=25ms,active=40"},
		{in: "Threads_running=25", want: MaxLoad{Active: 25}, str: "active=25"},
		{in: "off", want: MaxLoad{}, str: "off"},
		{in: "", want: MaxLoad{}, str: "off"},
		{in: "probe=0.5x", err: `"probe=0.5x": want a factor of at least 1`},
		{in: "probe=fast", err: `"probe=fast": want a latency`},
		{in: "probe=-1s", err: `"probe=-1s": want a latency`},
		{in: "active=0", err: `"active=0": want a number of sessions`},
		{in: "cpu=80", err: `unknown bound "cpu" (want probe or active)`},
		{in: "probe", err: `"probe": want name=value`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseMaxLoad(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.str, got.String())
			again, err := ParseMaxLoad(got.String())
			require.NoError(t, err)
			assert.Equal(t, got, again, "String reads back")
		})
	}
}

func FuzzParseMaxLoad(f *testing.F) {
	for _, s := range []string{"probe=2x", "probe=25ms,active=40", "Threads_running=25", "off", "probe=", "=,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseMaxLoad(s)
		if err != nil {
			return
		}
		again, err := ParseMaxLoad(l.String())
		if err != nil {
			t.Fatalf("%q read as %+v, written as %q, which does not read: %v", s, l, l.String(), err)
		}
		if again != l {
			t.Fatalf("%q read as %+v, written as %q, read back as %+v", s, l, l.String(), again)
		}
	})
}

// The yielder's decisions after each batch, from the tail of the last probes (a window of a second of
// them): over the limit it doubles the pause (a share of the batch's time, up to its ceiling) and halves
// the batch (down to the floor); under it, the pause shrinks by a quarter until it is gone. While a probe
// of the window saw the service at work the batches aim at busyBatchTime; with nobody at work, at the
// batch time, and it never yields.
func TestYielderBacksOffAndRecovers(t *testing.T) {
	const took = 100 * time.Millisecond
	const batchTime = 100 * time.Millisecond
	newYielder := func() *yielder {
		return &yielder{limit: 10 * time.Millisecond, rest: 5 * time.Millisecond, stop: func() {}, probed: make(chan struct{}, 1)}
	}
	// adapt stands for the backfill's: a size of 100 rows a millisecond of the target.
	adapt := func(target time.Duration) int { return int(target / time.Millisecond * 100) }
	ms := func(served bool, ns ...int) []probe {
		var out []probe
		for _, n := range ns {
			out = append(out, probe{took: time.Duration(n) * time.Millisecond, served: served})
		}
		return out
	}
	step := func(y *yielder, probes []probe, last int) (time.Duration, int, string) {
		t.Helper()
		if probes != nil {
			y.probes = probes
		}
		pause, next, why, err := y.afterBatch(context.Background(), took, adapt, batchTime, last, 10)
		require.NoError(t, err)
		assert.Empty(t, y.probes, "each decision takes the probes since the last")
		return pause, next, why
	}

	y := newYielder()
	pause, next, why := step(y, ms(false, 30, 40, 50), 1000)
	assert.Equal(t, time.Duration(0), pause, "slow, but no probe saw the service run anything: nobody to yield to")
	assert.Equal(t, 10000, next, "the batch time's size")
	assert.Empty(t, why)
	y = newYielder()
	pause, next, why = step(y, ms(true, 4, 50, 3), 1000)
	assert.Equal(t, time.Duration(0), pause, "one slow probe is bad luck, not the service's tail")
	assert.Equal(t, 2000, next, "the service is at work: batches of busyBatchTime")
	assert.Empty(t, why)

	y = newYielder()
	var pauses []time.Duration
	size := 2000
	for range 6 {
		pause, size, why = step(y, ms(true, 30, 4, 12), size)
		pauses = append(pauses, pause)
		assert.Contains(t, why, "above 10ms (5ms at rest)")
	}
	assert.Equal(t, "the probe takes 30ms, above 10ms (5ms at rest)", why)
	assert.Equal(t, []time.Duration{25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond, 150 * time.Millisecond, 150 * time.Millisecond},
		pauses, "a quarter of the batch's time, doubling, up to one and a half")
	assert.Equal(t, 31, size, "halved")
	for range 3 {
		_, size, _ = step(y, ms(true, 30), size)
	}
	assert.Equal(t, 10, size, "down to the floor")

	y.probed <- struct{}{}                       // a stale signal: its probe was taken with the last batch
	time.AfterFunc(10*time.Millisecond, func() { // a probe comes in after the batch
		y.mu.Lock()
		y.probes = ms(true, 30)
		y.mu.Unlock()
		y.probed <- struct{}{}
	})
	_, next, why = step(y, nil, size)
	assert.Equal(t, 10, next, "no probe during the batch: it waited for one, and judged with it")
	assert.Contains(t, why, "the probe takes 30ms")

	// The window remembers the slow probes: good ones push them out, a second of them.
	var good int
	for why != "" {
		pause, size, why = step(y, ms(true, 6), size)
		good++
		require.Less(t, good, probeWindow, "the slow probes leave the window")
	}
	assert.Greater(t, good, 20, "a tenth of the window was slow")
	assert.Equal(t, 2000, size, "the size the busy batch time wants")
	recovering := []time.Duration{pause}
	for pause > 0 {
		pause, _, why = step(y, ms(true, 6), size)
		assert.Empty(t, why)
		recovering = append(recovering, pause)
	}
	assert.Equal(t, 112500*time.Microsecond, recovering[0], "a quarter less each good batch")
	for i := 1; i < len(recovering); i++ {
		assert.Less(t, recovering[i], recovering[i-1])
	}
	assert.Less(t, len(recovering), 15, "the pause is gone in a few good batches")

	y = newYielder()
	y.probes = ms(true, 30, 30, 30)
	pause, next, _, err := y.afterBatch(context.Background(), took, func(time.Duration) int { return 700 }, -1, 700, 700)
	require.NoError(t, err)
	assert.Equal(t, 25*time.Millisecond, pause)
	assert.Equal(t, 700, next, "a fixed size only pauses")

	off := &yielder{stop: func() {}}
	off.probes = ms(true, 3600_000)
	pause, next, why, err = off.afterBatch(context.Background(), took, adapt, batchTime, 100, 10)
	require.NoError(t, err)
	assert.Equal(t, time.Duration(0), pause)
	assert.Equal(t, 10000, next, "with no limit the batch time, however busy the service")
	assert.Empty(t, why, "with no limit it never yields")
}

// backfillUsers runs the backfill of testdata/live over rows users on a fresh PostgreSQL database,
// with opts (whose Progress, if any, sees each report too), after during, and returns its result and
// the progress it reported.
func backfillUsers(t *testing.T, rows int, opts LiveOptions, during func(db *sql.DB)) (*BackfillResult, []BackfillProgress) {
	t.Helper()
	ctx := context.Background()
	url := dbtest.Postgres(t)
	var mu sync.Mutex
	var reported []BackfillProgress
	also := opts.Progress
	opts.Progress = func(p BackfillProgress) {
		mu.Lock()
		reported = append(reported, p)
		mu.Unlock()
		if also != nil {
			also(p)
		}
	}
	r := open(t, url, "testdata/live", WithLive(opts))
	_, err := r.Up(ctx, 1)
	require.NoError(t, err)
	db := sqlDB(t, "pgx/v5", url)
	_, err = db.Exec(`INSERT INTO users (email) SELECT 'u' || i || '@x' FROM generate_series(1, $1::int) i`, rows)
	require.NoError(t, err)
	_, err = r.Expand(ctx)
	require.NoError(t, err)
	if during != nil {
		during(db)
	}
	res, err := r.Backfill(ctx)
	require.NoError(t, err)
	require.NotNil(t, res.Backfill)
	assert.EqualValues(t, rows, res.Backfill.Rows)
	var left int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM users WHERE email_lower IS NULL`).Scan(&left))
	assert.Zero(t, left, "every row was backfilled")
	return res.Backfill, reported
}

// execer is a connection, a pool or a transaction.
type execer interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}

// busySession runs a slow statement on q until ctx ends, as a session of the service stuck in a slow
// request, and waits until db's database runs n of them; the channel closes when it has ended.
func busySession(t *testing.T, ctx context.Context, q execer, db *sql.DB, n int) <-chan struct{} {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = q.ExecContext(ctx, "SELECT pg_sleep(60)")
	}()
	require.Eventually(t, func() bool {
		var active int
		require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM pg_stat_activity
			WHERE query = 'SELECT pg_sleep(60)' AND state = 'active' AND datname = current_database()`).Scan(&active))
		return active == n
	}, 10*time.Second, 10*time.Millisecond)
	return done
}

// serviceAtWork starts a session of the service that runs a statement until the test ends.
func serviceAtWork(t *testing.T) func(db *sql.DB) {
	return func(db *sql.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		done := busySession(t, ctx, db, db, 1)
		t.Cleanup(func() { cancel(); <-done })
	}
}

// A probe bound no probe can meet makes the backfill yield after every batch while the service is at
// work, and say so in its progress; one every probe meets, none, or nobody at work, never does. Either
// way the backfill completes.
func TestBackfillYieldsToTheProbe(t *testing.T) {
	t.Run("over the bound", func(t *testing.T) {
		// The batch time would have the batches grow: yielding halves them instead.
		res, reported := backfillUsers(t, 200, LiveOptions{BatchSize: 100, BatchTime: time.Hour, MaxLoad: &MaxLoad{Probe: time.Nanosecond}}, serviceAtWork(t))
		assert.Positive(t, res.Yielded)
		var sizes []int
		for _, p := range reported[:len(reported)-1] {
			assert.Contains(t, p.Yielding, "the probe takes")
			assert.Contains(t, p.Yielding, "above 0s")
			sizes = append(sizes, p.BatchSize)
		}
		assert.Equal(t, []int{100, 50, 25, 12, 10}, sizes, "each batch halved, down to a tenth of the first")
	})
	t.Run("over the bound with a fixed size", func(t *testing.T) {
		res, reported := backfillUsers(t, 300, LiveOptions{BatchSize: 100, BatchTime: -1, MaxLoad: &MaxLoad{Probe: time.Nanosecond}}, serviceAtWork(t))
		assert.Positive(t, res.Yielded)
		for _, p := range reported {
			assert.Equal(t, 100, p.BatchSize, "it only pauses")
		}
		assert.Contains(t, reported[0].Yielding, "batches of 100")
	})
	for name, tc := range map[string]struct {
		l       MaxLoad
		working bool
	}{"under the bound": {MaxLoad{Probe: time.Hour}, true}, "no bound": {MaxLoad{}, true}, "nobody at work": {MaxLoad{Probe: time.Nanosecond}, false}} {
		t.Run(name, func(t *testing.T) {
			var during func(*sql.DB)
			if tc.working {
				during = serviceAtWork(t)
			}
			res, reported := backfillUsers(t, 300, LiveOptions{BatchSize: 100, BatchTime: -1, MaxLoad: &tc.l}, during)
			assert.Zero(t, res.Yielded)
			for _, p := range reported {
				assert.Empty(t, p.Yielding)
				assert.Equal(t, 100, p.BatchSize)
			}
		})
	}
}

// While more sessions than MaxLoad.Active run a statement, the backfill adds no batch, and says why;
// it goes on once they are done.
func TestBackfillPausesWhileTooManySessionsAreActive(t *testing.T) {
	ctx, release := context.WithCancel(context.Background())
	defer release()
	var once sync.Once
	var busy []<-chan struct{}
	opts := LiveOptions{BatchSize: 100, BatchTime: -1, MaxLoad: &MaxLoad{Active: 1}, Progress: func(p BackfillProgress) {
		if p.Paused != "" {
			once.Do(release) // the service's sessions finish once the backfill said it waits for them
		}
	}}
	res, reported := backfillUsers(t, 300, opts, func(db *sql.DB) {
		for n := 1; n <= 2; n++ { // two sessions of the service, busy until released
			busy = append(busy, busySession(t, ctx, db, db, n))
		}
	})
	for _, done := range busy {
		<-done
	}
	assert.Positive(t, res.Paused)
	var paused []string
	for _, p := range reported {
		if p.Paused != "" {
			paused = append(paused, p.Paused)
		}
	}
	require.NotEmpty(t, paused)
	assert.Equal(t, "2 other sessions are running a statement (above 1)", paused[0])
	assert.EqualValues(t, 0, reported[0].Rows, "no batch ran before they were done")
}

// On PostgreSQL the probe reads how long the service's running statements have taken so far: a
// session stuck in a slow statement shows, the backfill's own sessions do not.
func TestProbeSeesTheServicesRunningStatements(t *testing.T) {
	ctx := context.Background()
	url := dbtest.Postgres(t)
	r := open(t, url, "testdata/live")
	conn, err := r.db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	running, oldest, err := r.d.probe(ctx, conn, r.runID)
	require.NoError(t, err)
	assert.Equal(t, 0, running)
	assert.Equal(t, time.Duration(0), oldest, "nothing else runs")

	sctx, cancel := context.WithCancel(ctx)
	var busy []<-chan struct{}
	defer func() { // before the connections close
		cancel()
		for _, done := range busy {
			<-done
		}
	}()
	service := sqlDB(t, "pgx/v5", url)
	own, err := r.db.Conn(ctx) // a session of this run, the backfill's own: the older statement
	require.NoError(t, err)
	t.Cleanup(func() { own.Close() })
	busy = append(busy, busySession(t, sctx, own, service, 1), busySession(t, sctx, service, service, 2))
	running, oldest, err = r.d.probe(ctx, conn, r.runID)
	require.NoError(t, err)
	assert.Equal(t, 1, running, "the service's statement, not the backfill's")
	assert.Positive(t, oldest, "the service's slow statement")
	var serviceAge float64
	require.NoError(t, service.QueryRow(`SELECT EXTRACT(EPOCH FROM clock_timestamp() - query_start) FROM pg_stat_activity
		WHERE query = 'SELECT pg_sleep(60)' AND application_name <> $1`, applicationName(r.runID)).Scan(&serviceAge))
	assert.LessOrEqual(t, oldest, seconds(serviceAge), "the service's statement, not the older one of the backfill's")
}

func TestTailOfProbes(t *testing.T) {
	probes := func(ds ...time.Duration) []probe {
		var out []probe
		for _, d := range ds {
			out = append(out, probe{took: d})
		}
		return out
	}
	n := func(count int, d time.Duration) []time.Duration { return slices.Repeat([]time.Duration{d}, count) }
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5}, 5},
		{[]time.Duration{1, 5}, 5},
		{[]time.Duration{9, 1, 3}, 3},
		{[]time.Duration{100, 1, 2, 3}, 3},
		{append(n(22, 1), 7, 8, 9), 7},              // 25 at rest: the third slowest
		{append(n(44, 1), 2, 6, 7, 8, 9, 10), 2},    // 50: the sixth slowest, the 90th percentile
		{append(n(43, 1), 2, 3, 6, 7, 8, 9, 10), 3}, // one more slow one moves it
	} {
		assert.Equal(t, tc.want, tail(probes(tc.in...)), "%v", tc.in)
	}
}
