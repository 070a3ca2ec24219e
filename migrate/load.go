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
// what the service sees. Before the first batch the probe's latency is measured
// at rest; while the backfill runs, the slow probes during each batch are compared with the limit
// (twice the slow probes' latency at rest by default, or a latency given). Over it, the backfill backs off:
// the pause after each batch doubles (as a share of the batch's time, so that the backfill still ends
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
	probes []time.Duration // the probes since the last batch
	// served says a probe since the last batch saw the service run a statement (or could not tell):
	// with nobody there, the backfill has nobody to yield to.
	served bool
	err    error         // the first probe that failed
	probed chan struct{} // a probe was added
	stop   func()
}

const (
	probeEvery   = 20 * time.Millisecond
	probesAtRest = 25
	// A backfill that yields pauses at least a quarter of its batch's time after it, doubling while
	// the probe stays over its bound, and at most one and a half times it: however busy the database,
	// the backfill takes at most 2.5 times as long as it would unthrottled (and halved batches).
	minYieldShare = 0.25
	maxYieldShare = 1.5
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
	probe := func(ctx context.Context) (time.Duration, bool, error) {
		start := time.Now()
		running, oldest, err := r.d.probe(ctx, conn, r.runID)
		return max(time.Since(start), oldest), running != 0, err
	}
	var rest []time.Duration
	for range probesAtRest {
		d, _, err := probe(ctx)
		if err == nil {
			rest = append(rest, d)
			err = sleep(ctx, probeEvery)
		}
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("probing the database before the backfill: %w", err)
		}
	}
	y.rest = slow(rest)
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
			d, served, err := probe(pctx)
			if pctx.Err() != nil {
				return
			}
			y.mu.Lock()
			if err != nil && y.err == nil {
				y.err = err
			}
			y.probes = append(y.probes, d)
			y.served = y.served || served
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

// take empties the probes since the last batch.
func (y *yielder) take() ([]time.Duration, bool, error) {
	y.mu.Lock()
	defer y.mu.Unlock()
	probes, served := y.probes, y.served
	y.probes, y.served = nil, false
	return probes, served, y.err
}

// slow is how slow the service's slow requests are, from probes ds (which it sorts): the second
// slowest of three or more, the slowest of fewer, 0 for none. The tail is what a backfill hurts first
// (the median hardly moves while the 99th percentile doubles); one probe's bad luck is not.
func slow(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	if len(ds) < 3 {
		return ds[len(ds)-1]
	}
	return ds[len(ds)-2]
}

// afterBatch takes the probes since the last batch, which took took, and decides: the pause before the
// next batch, the size of the next batch (from adapted, the one that would take the batch time, and
// last, the one that ran; never below floor), and why it yields ("" when it does not). The slow probes
// are what count (slow): the service's tail while the batch ran, not one probe's luck; and
// only when a probe saw the service at work (on PostgreSQL: another session of the database running a
// statement), since a backfill on a database nobody uses slows nobody down.
func (y *yielder) afterBatch(ctx context.Context, took time.Duration, adapted, last, floor int) (pause time.Duration, next int, why string, err error) {
	if y.limit == 0 {
		return 0, adapted, "", nil
	}
	probes, served, perr := y.take()
	for len(probes) == 0 && perr == nil { // a batch quicker than the probe's pace: wait for the next
		select {
		case <-y.probed:
		case <-ctx.Done():
			return 0, adapted, "", ctx.Err()
		}
		probes, served, perr = y.take()
	}
	if perr != nil {
		return 0, adapted, "", fmt.Errorf("probing the database during the backfill: %w", perr)
	}
	if m := slow(probes); m > y.limit && served {
		y.share = min(max(2*y.share, minYieldShare), maxYieldShare)
		pause = time.Duration(y.share * float64(took))
		why = fmt.Sprintf("the probe takes %s, above %s (%s at rest)", m.Round(100*time.Microsecond), y.limit.Round(100*time.Microsecond), y.rest.Round(100*time.Microsecond))
		return pause, max(last/2, floor), why, nil
	}
	y.share -= y.share / 4
	if y.share < minYieldShare/4 {
		y.share = 0
	}
	return time.Duration(y.share * float64(took)), adapted, "", nil
}
