package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The backfill.
//
// It walks the table in the order of its key, a batch at a time (keyset pagination: each batch starts
// after the last key of the one before, so no batch scans what others did). Each batch is one short
// transaction that updates its key range and writes the checkpoint, so a killed run resumes after the
// last batch that committed and nothing is done twice. It ends at the largest key the table had when it
// started: rows written since went through expand's triggers, so a busy table cannot keep it running.
// The batch size adapts to a target duration, which bounds how long the batch holds its rows' locks.

// LiveOptions tune how live migrations run: the backfill, and the lock_timeout of their parts. Zero
// values take the defaults of DefaultLiveOptions.
type LiveOptions struct {
	// BatchSize is the rows of the first batch (default: backfill.yaml's batch_size, else 1000).
	BatchSize int
	// BatchTime is the duration each batch aims at; the size adapts to it. Negative keeps the size fixed
	// (and a backfill that yields to MaxLoad then only pauses).
	BatchTime time.Duration
	// MaxRate caps the rows per second (0: no cap).
	MaxRate float64
	// LockTimeout is the lock_timeout on PostgreSQL of each backfill batch and each transaction of a live
	// migration's parts; what hits it rolls back and runs again after a growing pause.
	LockTimeout time.Duration
	// MaxLag pauses the backfill while a replica replays more than this behind (PostgreSQL; negative: off).
	MaxLag time.Duration
	// MaxLockWait pauses the backfill while another session waits longer than this for a lock
	// (PostgreSQL, MySQL; negative: off): the database is busy enough without it.
	MaxLockWait time.Duration
	// MaxLoad is the load the backfill yields to (nil: DefaultMaxLoad; &MaxLoad{}: none).
	MaxLoad *MaxLoad
	// Progress is called after each batch.
	Progress func(BackfillProgress)
}

// DefaultLiveOptions are the defaults: batches of about 100 ms, a 500 ms lock_timeout, pauses for
// a replica 10 s behind or a lock wait of 1 s, and a backfill that yields when the probe takes twice
// its time at rest.
var DefaultLiveOptions = LiveOptions{BatchSize: 1000, BatchTime: 100 * time.Millisecond, LockTimeout: 500 * time.Millisecond, MaxLag: 10 * time.Second, MaxLockWait: time.Second, MaxLoad: &DefaultMaxLoad}

// WithLive sets how live migrations and their backfills run, in migrate backfill and in an up that goes through every phase.
func WithLive(l LiveOptions) Option { return func(o *Options) { o.Live = l } }

// BackfillProgress is where a running backfill is, after a batch.
type BackfillProgress struct {
	Table     string        `json:"table"`
	Rows      int64         `json:"rows"` // done, in every run
	Total     int64         `json:"total"`
	Batches   int64         `json:"batches"`
	BatchSize int           `json:"batch_size"`
	Rate      float64       `json:"rows_per_second"` // of this run
	ETA       time.Duration `json:"eta_ns"`
	// Paused says why the backfill waits before its next batch, "" when it does not.
	Paused string `json:"paused,omitempty"`
	// Yielding says why the backfill slows down for the application, "" when it does not.
	Yielding string `json:"yielding,omitempty"`
}

// BackfillResult is what a backfill run did.
type BackfillResult struct {
	Version uint64 `json:"version"`
	Name    string `json:"name"`
	Table   string `json:"table"`
	// Rows are the rows this run went through, Updated those its UPDATEs changed (where matched).
	Rows    int64 `json:"rows"`
	Updated int64 `json:"updated"`
	// Done and Total are the rows of the whole backfill, over every run.
	Done    int64         `json:"done"`
	Total   int64         `json:"total"`
	Batches int64         `json:"batches"`
	Retries int           `json:"retries"`
	Paused  time.Duration `json:"paused_ns"`
	// Yielded is the time the backfill held back between batches for the application (MaxLoad).
	Yielded time.Duration `json:"yielded_ns"`
	// ResumedAt is the checkpoint this run started from (the last key done), "" for a first run.
	ResumedAt   string        `json:"resumed_at,omitempty"`
	ResumedRows int64         `json:"resumed_rows,omitempty"`
	Duration    time.Duration `json:"duration_ns"`
}

// keyset is the SQL of one backfill on one dialect.
type keyset struct {
	spec     *Backfill
	param    string // a key value given as text, cast to the key's type
	textType string // the type that casts a key to text
}

// asText casts expr, a key, to text: checkpoints keep keys of any type as text.
func (k *keyset) asText(expr string) string { return "CAST(" + expr + " AS " + k.textType + ")" }

// newKeyset checks the table and key of spec against the database and prepares the batch SQL.
func (r *Runner) newKeyset(ctx context.Context, spec *Backfill) (*keyset, error) {
	k := &keyset{spec: spec}
	var err error
	k.param, k.textType, err = r.d.keyType(ctx, r.db, spec.Table, spec.Key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &FileError{File: spec.File, Msg: fmt.Sprintf("the database has no column %s in table %s", spec.Key, spec.Table)}
	}
	if err != nil {
		return nil, fmt.Errorf("reading the key of %s: %w", spec.Table, err)
	}
	return k, nil
}

// bounds reads the largest key and the number of rows up to it, when the backfill starts.
func (k *keyset) bounds(ctx context.Context, r *Runner) (upper sql.NullString, total int64, err error) {
	err = r.db.QueryRowContext(ctx, "SELECT "+k.asText("MAX("+k.spec.Key+")")+", COUNT(*) FROM "+k.spec.Table).Scan(&upper, &total)
	if err != nil {
		return upper, 0, fmt.Errorf("reading the size of %s: %w", k.spec.Table, err)
	}
	return upper, total, nil
}

// batch runs one batch in tx: the next size keys after last (all keys when last is ""), up to upper.
// It returns the batch's last key, how many keys it had, and how many rows the UPDATE changed.
func (k *keyset) batch(ctx context.Context, r *Runner, tx *sql.Tx, last, upper string, size int) (hi string, n, updated int64, err error) {
	lower, args := "", []any{}
	if last != "" {
		lower, args = k.spec.Key+" > "+k.param+" AND ", append(args, last)
	}
	args = append(args, upper, size)
	var max sql.NullString
	q := "SELECT COUNT(*), " + k.asText("MAX("+k.spec.Key+")") + " FROM (SELECT " + k.spec.Key + " FROM " + k.spec.Table +
		" WHERE " + lower + k.spec.Key + " <= " + k.param + " ORDER BY " + k.spec.Key + " LIMIT ?) batch"
	if err := tx.QueryRowContext(ctx, r.query(q), args...).Scan(&n, &max); err != nil {
		return "", 0, 0, fmt.Errorf("reading the next batch of %s: %w", k.spec.Table, err)
	}
	if n == 0 {
		return last, 0, 0, nil
	}
	where := ""
	if k.spec.Where != "" {
		where = " AND (" + k.spec.Where + ")"
	}
	args = append(args[:len(args)-2], max.String)
	res, err := tx.ExecContext(ctx, r.query("UPDATE "+k.spec.Table+" SET "+k.spec.Set+" WHERE "+lower+k.spec.Key+" <= "+k.param+where), args...)
	if err != nil {
		return "", 0, 0, err
	}
	updated, _ = res.RowsAffected()
	return max.String, n, updated, nil
}

// sql is one batch's UPDATE, for plan.
func (k *keyset) sql() string {
	where := ""
	if k.spec.Where != "" {
		where = " AND (" + k.spec.Where + ")"
	}
	return fmt.Sprintf("UPDATE %s SET %s WHERE %s > :last AND %s <= :batch_end%s;", k.spec.Table, k.spec.Set, k.spec.Key, k.spec.Key, where)
}

// backfill runs, or resumes, the backfill of live migration m, whose state is st.
func (r *Runner) backfill(ctx context.Context, m Migration, st *LiveState) (*BackfillResult, error) {
	start := time.Now()
	o := r.liveOptions(m.Live.Backfill)
	spec := m.Live.Backfill
	res := &BackfillResult{Version: m.Version, Name: m.Name, Table: spec.Table}
	k, err := r.newKeyset(ctx, spec)
	if err != nil {
		return nil, err
	}
	b := st.Backfill
	if b.Started() {
		res.ResumedAt, res.ResumedRows = b.Last, b.Rows
		r.opts.Logger.Info("resuming the backfill", "table", spec.Table, "after_key", b.Last, "rows_done", b.Rows, "total", b.Total)
		b.Runs++
		if _, err := r.db.ExecContext(ctx, r.query("UPDATE "+r.tbl(phaseTable)+" SET backfill_runs = ? WHERE version = ?"), b.Runs, int64(m.Version)); err != nil {
			return nil, fmt.Errorf("recording the backfill's run: %w", err)
		}
	} else {
		upper, total, err := k.bounds(ctx, r)
		if err != nil {
			return nil, err
		}
		b.Upper, b.Total, b.Runs = upper.String, total, 1
		if _, err := r.db.ExecContext(ctx, r.query("UPDATE "+r.tbl(phaseTable)+" SET backfill_upper = ?, backfill_total = ?, backfill_runs = 1 WHERE version = ?"), upper, total, int64(m.Version)); err != nil {
			return nil, fmt.Errorf("recording the backfill's start: %w", err)
		}
		if !upper.Valid { // an empty table
			return res, r.setPhase(ctx, r.db, m, PhaseBackfill)
		}
	}
	res.Total = b.Total
	y, err := r.newYielder(ctx, *o.MaxLoad)
	if err != nil {
		return res, err
	}
	defer y.close()
	size := o.BatchSize
	for {
		if err := r.backfillPause(ctx, o, res, b); err != nil {
			return res, err
		}
		t0 := time.Now()
		var hi string
		var n, updated int64
		err := r.batchTx(ctx, o, func(tx *sql.Tx) (err error) {
			if hi, n, updated, err = k.batch(ctx, r, tx, b.Last, b.Upper, size); err != nil {
				return err
			}
			done := n < int64(size)
			phase := PhaseExpand
			if done {
				phase = PhaseBackfill
			}
			_, err = tx.ExecContext(ctx, r.query("UPDATE "+r.tbl(phaseTable)+" SET phase = ?, backfill_last = ?, backfill_rows = backfill_rows + ?, backfill_batches = backfill_batches + 1, updated_at = ? WHERE version = ?"),
				string(phase), hi, n, time.Now().UTC().Truncate(time.Second), int64(m.Version))
			return err
		}, &res.Retries)
		if err != nil {
			res.Duration = time.Since(start)
			return res, fmt.Errorf("backfilling %s after key %q (%d of %d rows done; run `shipyard migrate backfill` again to resume): %w", spec.Table, b.Last, b.Rows, b.Total, err)
		}
		took := time.Since(t0)
		b.Last, b.Rows, b.Batches = hi, b.Rows+n, b.Batches+1
		res.Rows, res.Updated, res.Batches, res.Done = res.Rows+n, res.Updated+updated, res.Batches+1, b.Rows
		res.Duration = time.Since(start)
		if n < int64(size) {
			if o.Progress != nil {
				o.Progress(r.progress(res, b, size))
			}
			return res, nil
		}
		floor := max(o.BatchSize/10, 1)
		if o.BatchTime < 0 {
			floor = size // a fixed size: yielding only pauses
		}
		pause, next, why, err := y.afterBatch(ctx, took, func(target time.Duration) int { return adapt(size, took, target, o) }, o.BatchTime, size, floor)
		if err != nil {
			return res, err
		}
		if o.Progress != nil {
			p := r.progress(res, b, size)
			if why != "" {
				p.Yielding = fmt.Sprintf("%s: pausing %s after each batch, batches of %d", why, pause.Round(time.Millisecond), next)
			}
			o.Progress(p)
		}
		size = next
		if pause > 0 {
			if err := sleep(ctx, pause); err != nil {
				return res, err
			}
			res.Yielded += pause
		}
		if err := throttle(ctx, o.MaxRate, res.Rows, time.Since(start)-res.Paused); err != nil {
			return res, err
		}
	}
}

// liveOptions fills the defaults in, the batch size from spec when it has one.
func (r *Runner) liveOptions(spec *Backfill) LiveOptions {
	o, d := r.opts.Live, DefaultLiveOptions
	if o.BatchSize <= 0 {
		o.BatchSize = d.BatchSize
		if spec != nil && spec.BatchSize > 0 {
			o.BatchSize = spec.BatchSize
		}
	}
	if o.BatchTime == 0 {
		o.BatchTime = d.BatchTime
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = d.LockTimeout
	}
	if o.MaxLag == 0 {
		o.MaxLag = d.MaxLag
	}
	if o.MaxLockWait == 0 {
		o.MaxLockWait = d.MaxLockWait
	}
	if o.MaxLoad == nil {
		o.MaxLoad = d.MaxLoad
	}
	return o
}

// batchTx runs one batch in a transaction with a short lock_timeout, again after a pause when it hit
// the timeout, a deadlock or a serialization failure (the transaction rolled back: nothing was done).
func (r *Runner) batchTx(ctx context.Context, o LiveOptions, fn func(tx *sql.Tx) error, retries *int) error {
	opts, settings := r.d.batchTx(o.LockTimeout)
	for attempt := 1; ; attempt++ {
		err := func() error {
			tx, err := r.db.BeginTx(ctx, opts)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			for _, set := range settings {
				if _, err := tx.ExecContext(ctx, set); err != nil {
					return err
				}
			}
			if err := fn(tx); err != nil {
				return err
			}
			return tx.Commit()
		}()
		if err == nil || !r.d.retryable(err) || attempt > max(r.opts.LockRetries, 10) {
			return err
		}
		*retries++
		wait := backoff(100*time.Millisecond, attempt)
		r.opts.Logger.Warn("backfill batch rolled back, running it again", "reason", err, "in", wait.Round(time.Millisecond))
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// adapt is the next batch size: the one that would have taken target (o.BatchTime, or less while the
// service is at work), within half and double of the last, and between a tenth and 100 times the
// first. The floor matters on a busy server: each batch has a fixed cost (its commit's fsync above
// all), and a size that chased a target below that cost would shrink to nothing.
func adapt(size int, took, target time.Duration, o LiveOptions) int {
	if target < 0 || took <= 0 {
		return size
	}
	next := int(float64(size) * float64(target) / float64(took))
	return min(max(next, size/2, o.BatchSize/10, 1), size*2, o.BatchSize*100)
}

// throttle sleeps until rows in elapsed is no more than rate rows per second.
func throttle(ctx context.Context, rate float64, rows int64, elapsed time.Duration) error {
	if rate <= 0 {
		return nil
	}
	want := time.Duration(float64(rows) / rate * float64(time.Second))
	if want <= elapsed {
		return nil
	}
	return sleep(ctx, want-elapsed)
}

// backfillPause waits while a replica lags, sessions wait for locks, or too many run a statement,
// beyond the bounds.
func (r *Runner) backfillPause(ctx context.Context, o LiveOptions, res *BackfillResult, b *BackfillState) error {
	if o.MaxLag < 0 && o.MaxLockWait < 0 && o.MaxLoad.Active == 0 {
		return nil
	}
	var logged time.Time
	for {
		l, err := r.d.pressure(ctx, r.db, r.runID)
		if err != nil {
			return fmt.Errorf("reading the database's load (replication lag, lock waits, active sessions): %w", err)
		}
		reason := ""
		switch {
		case o.MaxLag >= 0 && l.lag > o.MaxLag:
			reason = fmt.Sprintf("a replica is %s behind (above %s)", l.lag.Round(time.Millisecond), o.MaxLag)
		case o.MaxLockWait >= 0 && l.lockWait > o.MaxLockWait:
			reason = fmt.Sprintf("a session has waited %s for a lock (above %s)", l.lockWait.Round(time.Millisecond), o.MaxLockWait)
		case o.MaxLoad.Active > 0 && l.active > o.MaxLoad.Active:
			reason = fmt.Sprintf("%d other sessions are running a statement (above %d)", l.active, o.MaxLoad.Active)
		}
		if reason == "" {
			return nil
		}
		if time.Since(logged) > 10*time.Second {
			r.opts.Logger.Warn("backfill paused: "+reason, "table", res.Table)
			if o.Progress != nil {
				p := r.progress(res, b, 0)
				p.Paused = reason
				o.Progress(p)
			}
			logged = time.Now()
		}
		pause := 250 * time.Millisecond
		if err := sleep(ctx, pause); err != nil {
			return err
		}
		res.Paused += pause
	}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// progress is the BackfillProgress of a run.
func (r *Runner) progress(res *BackfillResult, b *BackfillState, size int) BackfillProgress {
	p := BackfillProgress{Table: res.Table, Rows: b.Rows, Total: b.Total, Batches: b.Batches, BatchSize: size}
	if secs := (res.Duration - res.Paused).Seconds(); secs > 0 {
		p.Rate = float64(res.Rows) / secs
	}
	if p.Rate > 0 && b.Total > b.Rows {
		p.ETA = time.Duration(float64(b.Total-b.Rows) / p.Rate * float64(time.Second))
	}
	return p
}
