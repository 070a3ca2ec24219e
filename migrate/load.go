package migrate

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A backfill that yields to the application.
//
// Left alone, a backfill takes what the database has: on a busy server its batches slow the service's
// own queries down. So while it runs, a probe (a statement as small as the service's, on a connection
// of its own: on PostgreSQL one that commits, and so waits for the WAL flush every write of the service
// waits for, and that reads how long the service's own running statements have taken so far) measures
// what the service sees. Before the first batch the probe's latency is measured at rest. While a probe
// of the last second saw the service at work, batches aim at busyBatchTime at most (a batch holds its
// rows' locks until it commits); and while the slowest tenth of the last second of probes is over the
// limit (twice the probes' latency at rest by default, or a latency given), the backfill backs off: the
// pause after each batch doubles (as a share of the batch's time, so that the backfill still ends
// within a bounded multiple of its time) and the batch is halved. Under it, the pause shrinks again and
// the batch grows back to its target duration. Like gh-ost's and pt-online-schema-change's --max-load,
// the number of sessions running a statement can be bounded too (PostgreSQL's active sessions,
// MySQL's Threads_running): over it, the backfill waits.

// MaxLoad is how much load the backfill may leave on the database. The zero value bounds nothing.
type MaxLoad struct {
	// Probe is the latency of the probe above which the backfill yields (0: see ProbeFactor).
	Probe time.Duration
	// ProbeFactor is the same bound as a multiple of the probe's latency before the backfill started.
	ProbeFactor float64
	// Active is the number of other sessions running a statement above which the backfill waits
	// (PostgreSQL: active sessions; MySQL: Threads_running; 0: no bound).
	Active int
}

// DefaultMaxLoad is the bound of a backfill that was given none: the probe at twice its latency at rest.
var DefaultMaxLoad = MaxLoad{ProbeFactor: 2}

// Set reads s into l (ParseMaxLoad): MaxLoad is a flag's value.
func (l *MaxLoad) Set(s string) error {
	parsed, err := ParseMaxLoad(s)
	if err == nil {
		*l = parsed
	}
	return err
}

// Type names the flag's value in help.
func (*MaxLoad) Type() string { return "bounds" }

// probing says whether the bound needs the probe.
func (l MaxLoad) probing() bool { return l.Probe > 0 || l.ProbeFactor > 0 }

// String writes l as ParseMaxLoad reads it.
func (l MaxLoad) String() string {
	var parts []string
	switch {
	case l.Probe > 0:
		parts = append(parts, "probe="+l.Probe.String())
	case l.ProbeFactor > 0:
		parts = append(parts, "probe="+strconv.FormatFloat(l.ProbeFactor, 'f', -1, 64)+"x")
	}
	if l.Active > 0 {
		parts = append(parts, "active="+strconv.Itoa(l.Active))
	}
	if len(parts) == 0 {
		return "off"
	}
	return strings.Join(parts, ",")
}

// ParseMaxLoad reads a bound as --max-load gives it: comma-separated name=value, with probe=DURATION
// (probe=25ms) or probe=FACTORx (probe=2x, of the latency at rest), and active=N (Threads_running=N,
// as gh-ost spells it, is the same); "off" bounds nothing.
func ParseMaxLoad(s string) (MaxLoad, error) {
	var l MaxLoad
	s = strings.TrimSpace(s)
	if s == "off" || s == "" {
		return l, nil
	}
	for _, part := range strings.Split(s, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || value == "" {
			return l, fmt.Errorf("%q: want name=value (probe=2x, probe=25ms, active=50)", part)
		}
		switch strings.ToLower(name) {
		case "probe":
			if f, ok := strings.CutSuffix(value, "x"); ok {
				factor, err := strconv.ParseFloat(f, 64)
				if err != nil || factor < 1 {
					return l, fmt.Errorf("%q: want a factor of at least 1 (probe=2x)", part)
				}
				l.Probe, l.ProbeFactor = 0, factor
				continue
			}
			d, err := time.ParseDuration(value)
			if err != nil || d <= 0 {
				return l, fmt.Errorf("%q: want a latency (probe=25ms) or a factor of the latency at rest (probe=2x)", part)
			}
			l.Probe, l.ProbeFactor = d, 0
		case "active", "threads_running":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 {
				return l, fmt.Errorf("%q: want a number of sessions, at least 1", part)
			}
			l.Active = n
		default:
			return l, fmt.Errorf("%q: unknown bound %q (want probe or active)", part, name)
		}
	}
	return l, nil
}

// yielder keeps the backfill under its MaxLoad: it probes the database all along the backfill and
// says, after each batch, how long to pause and how to size the next one.
type yielder struct {
	limit time.Duration // the probe latency above which the backfill yields; 0: no probe
	rest  time.Duration // the probe's latency before the backfill started
	share float64       // the pause after a batch, as a share of the batch's time

	mu     sync.Mutex
	probes []probe       // the probes since the last batch
	window []probe       // the last probeWindow probes, judged after each batch
	err    error         // the first probe that failed
	probed chan struct{} // a probe was added
	stop   func()
}

// probe is one probe's latency, and whether it saw the service at work: another session of the
// database running a statement (or it could not tell). With nobody there, the backfill has nobody to
// yield to.
type probe struct {
	took   time.Duration
	served bool
}

const (
	probeEvery   = 20 * time.Millisecond
	probesAtRest = 25
	// probeWindow is how many of the last probes are judged after each batch: a second of them. The
	// service's tail is what a backfill hurts first, and a batch's few probes cannot see a tail.
	probeWindow = 50
	// A backfill that yields pauses at least a quarter of its batch's time after it, doubling while
	// the probe stays over its bound, and at most one and a half times it: however busy the database,
	// the backfill takes at most 2.5 times as long as it would unthrottled (and halved batches).
	minYieldShare = 0.25
	maxYieldShare = 1.5
	// busyBatchTime is the most a batch aims at while the service is at work: a batch holds its rows'
	// locks, and a core, until it commits, and the service's requests wait behind it. Short batches
	// let them through between two.
	busyBatchTime = 20 * time.Millisecond
)

// newYielder measures the probe at rest and starts probing, on a connection of db's of its own; call
// close when the backfill ends. With no probe to make (no bound asks for it, or the dialect has none)
// it never yields.
func (r *Runner) newYielder(ctx context.Context, l MaxLoad) (*yielder, error) {
	y := &yielder{stop: func() {}, probed: make(chan struct{}, 1)}
	if !l.probing() || !r.d.probes() {
		return y, nil
	}
	conn, err := r.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting the backfill's probe: %w", err)
	}
	measure := func(ctx context.Context) (probe, error) {
		start := time.Now()
		running, oldest, err := r.d.probe(ctx, conn, r.runID)
		return probe{took: max(time.Since(start), oldest), served: running != 0}, err
	}
	var rest []probe
	for range probesAtRest {
		p, err := measure(ctx)
		if err == nil {
			rest = append(rest, p)
			err = sleep(ctx, probeEvery)
		}
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("probing the database before the backfill: %w", err)
		}
	}
	y.rest = tail(rest)
	y.limit = l.Probe
	if y.limit == 0 {
		// A floor under the bound: on a quiet server the probe takes well under a millisecond at rest,
		// and twice that is noise.
		y.limit = max(time.Duration(l.ProbeFactor*float64(y.rest)), y.rest+time.Millisecond)
	}
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer conn.Close()
		for pctx.Err() == nil {
			p, err := measure(pctx)
			if pctx.Err() != nil {
				return
			}
			y.mu.Lock()
			if err != nil && y.err == nil {
				y.err = err
			}
			y.probes = append(y.probes, p)
			y.mu.Unlock()
			select {
			case y.probed <- struct{}{}:
			default:
			}
			_ = sleep(pctx, probeEvery)
		}
	}()
	y.stop = func() { cancel(); <-done }
	return y, nil
}

// close stops the probe.
func (y *yielder) close() { y.stop() }

// take moves the probes since the last batch into the window, and says how many there were.
func (y *yielder) take() (int, error) {
	y.mu.Lock()
	defer y.mu.Unlock()
	n := len(y.probes)
	y.window = append(y.window, y.probes...)
	y.window = y.window[max(len(y.window)-probeWindow, 0):]
	y.probes = nil
	return n, y.err
}

// tail is how slow the service's slow requests are, from probes ps: the 90th percentile (the second
// slowest of 3 to 19, the slowest of fewer), 0 for none. The tail is what a backfill hurts first (the
// median hardly moves while the 99th percentile doubles); one probe's bad luck is not.
func tail(ps []probe) time.Duration {
	if len(ps) == 0 {
		return 0
	}
	ds := make([]time.Duration, len(ps))
	for i, p := range ps {
		ds[i] = p.took
	}
	slices.Sort(ds)
	if len(ds) < 3 {
		return ds[len(ds)-1]
	}
	return ds[len(ds)-1-max(1, len(ds)/10)]
}

// atWork says whether a probe of the window saw the service run a statement.
func atWork(ps []probe) bool {
	return slices.ContainsFunc(ps, func(p probe) bool { return p.served })
}

// afterBatch judges the window of probes after a batch, which took took and had last rows, and
// decides: the pause before the next batch, the size of the next (from adapt, the size that would take
// a batch time, and never below floor), and why it yields ("" when it does not). While the service is at
// work the batches aim at busyBatchTime at most; while the window's tail (tail) is over the limit, the
// backfill backs off. A backfill on a database nobody uses slows nobody down, and never yields.
func (y *yielder) afterBatch(ctx context.Context, took time.Duration, adapt func(target time.Duration) int, batchTime time.Duration, last, floor int) (pause time.Duration, next int, why string, err error) {
	if y.limit == 0 {
		return 0, adapt(batchTime), "", nil
	}
	n, perr := y.take()
	for n == 0 && perr == nil { // a batch quicker than the probe's pace: wait for the next
		select {
		case <-y.probed:
		case <-ctx.Done():
			return 0, adapt(batchTime), "", ctx.Err()
		}
		n, perr = y.take()
	}
	if perr != nil {
		return 0, adapt(batchTime), "", fmt.Errorf("probing the database during the backfill: %w", perr)
	}
	if !atWork(y.window) {
		y.share = 0
		return 0, adapt(batchTime), "", nil
	}
	target := min(batchTime, busyBatchTime)
	if batchTime < 0 {
		target = batchTime
	}
	if m := tail(y.window); m > y.limit {
		y.share = min(max(2*y.share, minYieldShare), maxYieldShare)
		pause = time.Duration(y.share * float64(took))
		why = fmt.Sprintf("the probe takes %s, above %s (%s at rest)", m.Round(100*time.Microsecond), y.limit.Round(100*time.Microsecond), y.rest.Round(100*time.Microsecond))
		return pause, max(last/2, floor), why, nil
	}
	y.share -= y.share / 4
	if y.share < minYieldShare/4 {
		y.share = 0
	}
	return time.Duration(y.share * float64(took)), adapt(target), "", nil
}
