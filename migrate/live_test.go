package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/dbtest"
)

func phases(steps []Step) []string {
	out := []string{}
	for _, s := range steps {
		out = append(out, fmt.Sprintf("%d %s %s", s.Version, s.Direction, s.Phase))
	}
	return out
}

func sqlDB(t *testing.T, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(q).Scan(&n))
	return n
}

// TestLivePhases walks a live migration through its phases one job at a time, as a deploy runs them,
// with a plain migration after it that waits for the contract.
func TestLivePhases(t *testing.T) {
	ctx := context.Background()
	pg := dbtest.DB{Name: "postgres", URL: dbtest.Postgres(t)}
	db := sqlDB(t, "pgx/v5", pg.URL)
	r := open(t, pg.URL, "testdata/live", WithLive(LiveOptions{BatchSize: 300, BatchTime: -1}))

	_, err := r.Up(ctx, 1)
	require.NoError(t, err)
	before := dumpSchema(t, pg)
	_, err = db.Exec(`INSERT INTO users (email) SELECT 'User' || i || '@Example.COM' FROM generate_series(1, 2000) i`)
	require.NoError(t, err)

	res, err := r.Expand(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"20260101000002 up expand"}, phases(res.Steps))
	require.NotNil(t, res.Live)
	assert.Equal(t, "expanded, awaiting backfill and contract", res.Live.Summary())
	assert.EqualValues(t, 20260101000002, res.To, "the sessions migration waits for the contract")

	res, err = r.Expand(ctx)
	require.NoError(t, err, "the pre-deploy job runs again: nothing to do")
	assert.Empty(t, res.Steps)

	_, err = r.Contract(ctx)
	var pending *BackfillPendingError
	require.ErrorAs(t, err, &pending)
	assert.Contains(t, err.Error(), "run `shipyard migrate backfill` before the contract")

	_, err = db.Exec(`INSERT INTO users (email) VALUES ('New@Example.COM')`)
	require.NoError(t, err)
	assert.Equal(t, 1, count(t, db, `SELECT COUNT(*) FROM users WHERE email_lower = 'new@example.com'`), "the trigger writes the new shape")

	res, err = r.Backfill(ctx)
	require.NoError(t, err)
	require.NotNil(t, res.Backfill)
	assert.EqualValues(t, 2001, res.Backfill.Total, "every row up to the largest key at the start")
	assert.EqualValues(t, 2000, res.Backfill.Updated, "the trigger did the row written after expand")
	assert.EqualValues(t, 7, res.Backfill.Batches)
	assert.Equal(t, 0, count(t, db, `SELECT COUNT(*) FROM users WHERE email_lower IS DISTINCT FROM lower(email)`))
	assert.Equal(t, "expanded and backfilled, awaiting contract", res.Live.Summary())
	res, err = r.Backfill(ctx)
	require.NoError(t, err, "a backfill that is done does nothing")
	assert.Empty(t, res.Steps)
	assert.Nil(t, res.Backfill)

	st, err := r.Status(ctx)
	require.NoError(t, err)
	require.NotNil(t, st.Live)
	assert.Equal(t, PhaseBackfill, st.Live.Phase)
	assert.EqualValues(t, 2001, st.Live.Backfill.Rows)

	res, err = r.Contract(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"20260101000002 up contract"}, phases(res.Steps))
	assert.Nil(t, res.Live)
	_, err = db.Exec(`INSERT INTO users (email) VALUES (NULL)`)
	require.Error(t, err)

	res, err = r.Contract(ctx)
	require.NoError(t, err, "the post-deploy job runs again: nothing to do")
	assert.Empty(t, res.Steps)

	_, err = r.Rollback(ctx)
	var complete *CompleteError
	require.ErrorAs(t, err, &complete)

	res, err = r.Expand(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"20260101000003 up "}, phases(res.Steps), "after the contract, later migrations go on")

	res, err = r.Down(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, []string{"20260101000003 down ", "20260101000002 down contract", "20260101000002 down expand"}, phases(res.Steps))
	assert.EqualValues(t, 20260101000001, res.To)
	assert.Equal(t, before, dumpSchema(t, pg))
	assert.Equal(t, 2001, count(t, db, `SELECT COUNT(*) FROM users`))
}

// TestLiveUpRunsEveryPhase: a plain up (a laptop, a test database) takes live migrations through all
// their phases, in order with the others.
func TestLiveUpRunsEveryPhase(t *testing.T) {
	ctx := context.Background()
	url := dbtest.Postgres(t)
	r := open(t, url, "testdata/live")
	res, err := r.Up(ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"20260101000001 up ", "20260101000002 up expand", "20260101000002 up backfill", "20260101000002 up contract", "20260101000003 up "}, phases(res.Steps))
	st, err := r.Status(ctx)
	require.NoError(t, err)
	assert.Empty(t, st.Pending)
	assert.Empty(t, st.Findings)
	assert.Nil(t, st.Live, "the current version is a plain migration")

	res, err = r.Down(ctx, 0)
	require.NoError(t, err)
	assert.EqualValues(t, 0, res.To)
}

// TestLiveRollback: rollback after expand, and in the middle of the backfill, leaves the schema as it was
// and every row written meanwhile.
func TestLiveRollback(t *testing.T) {
	for _, stopAt := range []string{"expand", "mid-backfill"} {
		t.Run(stopAt, func(t *testing.T) {
			ctx := context.Background()
			pg := dbtest.DB{Name: "postgres", URL: dbtest.Postgres(t)}
			db := sqlDB(t, "pgx/v5", pg.URL)
			r := open(t, pg.URL, "testdata/live", WithLive(LiveOptions{BatchSize: 100, BatchTime: -1}))
			_, err := r.Up(ctx, 1)
			require.NoError(t, err)
			before := dumpSchema(t, pg)
			_, err = db.Exec(`INSERT INTO users (email) SELECT 'u' || i || '@x' FROM generate_series(1, 1000) i`)
			require.NoError(t, err)

			_, err = r.Expand(ctx)
			require.NoError(t, err)
			_, err = db.Exec(`INSERT INTO users (email) VALUES ('during@x')`)
			require.NoError(t, err)
			if stopAt == "mid-backfill" {
				bctx, cancel := context.WithCancel(ctx)
				r2 := open(t, pg.URL, "testdata/live", WithLive(LiveOptions{BatchSize: 100, BatchTime: -1, Progress: func(p BackfillProgress) {
					if p.Rows >= 500 {
						cancel()
					}
				}}))
				_, err := r2.Backfill(bctx)
				require.ErrorIs(t, err, context.Canceled)
				st, err := r.Status(ctx)
				require.NoError(t, err)
				assert.Equal(t, 49, st.Live.Backfill.Percent(), "500 of 1001 rows")
				assert.Equal(t, "expanded, backfill 49%, awaiting contract", st.Live.Summary())
			}

			res, err := r.Rollback(ctx)
			require.NoError(t, err)
			assert.Equal(t, []string{"20260101000002 down expand"}, phases(res.Steps))
			assert.EqualValues(t, 20260101000001, res.To)
			assert.Nil(t, res.Live)
			assert.Equal(t, before, dumpSchema(t, pg))
			assert.Equal(t, 1001, count(t, db, `SELECT COUNT(*) FROM users`))

			res, err = r.Rollback(ctx)
			require.NoError(t, err, "nothing in progress: nothing to roll back")
			assert.Empty(t, res.Steps)
		})
	}
}

// TestLiveOnEveryDatabase: a live migration in portable SQL goes through its phases, its rollback and
// its down on SQLite, PostgreSQL and MariaDB, ordered with the plain migrations around it.
func TestLiveOnEveryDatabase(t *testing.T) {
	for _, db := range dbtest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			r := open(t, db.URL, "testdata/live-portable", WithLive(LiveOptions{BatchTime: -1}))
			_, err := r.Up(ctx, 1)
			require.NoError(t, err)
			before := dumpSchema(t, db)
			conn := sqlDB(t, r.Target().SQLDriver, r.Target().DSN)
			for i := 1; i <= 250; i++ {
				_, err := conn.Exec(r.query("INSERT INTO users (id, email) VALUES (?, ?)"), i, fmt.Sprintf("User%d@Example.COM", i))
				require.NoError(t, err)
			}

			res, err := r.Expand(ctx)
			require.NoError(t, err)
			assert.Equal(t, []string{"2 up expand"}, phases(res.Steps))
			res, err = r.Rollback(ctx)
			require.NoError(t, err)
			assert.Equal(t, []string{"2 down expand"}, phases(res.Steps))
			assert.Equal(t, before, dumpSchema(t, db), "rollback leaves the schema as it was")

			_, err = r.Expand(ctx)
			require.NoError(t, err)
			res, err = r.Backfill(ctx)
			require.NoError(t, err)
			assert.EqualValues(t, 250, res.Backfill.Updated)
			assert.EqualValues(t, 3, res.Backfill.Batches, "batch_size 100 from backfill.yaml")
			assert.Equal(t, 0, count(t, conn, "SELECT COUNT(*) FROM users WHERE email_lower IS NULL OR email_lower <> LOWER(email)"))
			res, err = r.Contract(ctx)
			require.NoError(t, err)
			assert.Equal(t, []string{"2 up contract"}, phases(res.Steps))
			res, err = r.Up(ctx, 0)
			require.NoError(t, err)
			assert.Equal(t, []string{"3 up "}, phases(res.Steps))

			res, err = r.Down(ctx, 0)
			require.NoError(t, err)
			assert.Equal(t, []string{"3 down ", "2 down contract", "2 down expand", "1 down "}, phases(res.Steps))
		})
	}
}

func TestAdapt(t *testing.T) {
	o := LiveOptions{BatchSize: 1000, BatchTime: 100 * time.Millisecond}
	for _, tc := range []struct {
		size int
		took time.Duration
		want int
	}{
		{1000, 50 * time.Millisecond, 2000},    // twice as fast as the target: double
		{1000, 10 * time.Millisecond, 2000},    // at most double at a time
		{1000, 200 * time.Millisecond, 500},    // twice as slow: half
		{1000, 2 * time.Second, 500},           // at most half at a time
		{150, time.Second, 100},                // never below a tenth of the first size
		{90000, 10 * time.Millisecond, 100000}, // never above 100 times the first size
		{1000, 100 * time.Millisecond, 1000},
	} {
		assert.Equal(t, tc.want, adapt(tc.size, tc.took, o.BatchTime, o), "%d rows in %s", tc.size, tc.took)
	}
	assert.Equal(t, 1000, adapt(1000, time.Second, -1, LiveOptions{BatchSize: 1000, BatchTime: -1}), "a fixed size")
}

// TestBackfillThrottles: --max-rate holds the backfill to its rows per second.
func TestBackfillThrottles(t *testing.T) {
	ctx := context.Background()
	db := dbtest.DB{Name: "sqlite", URL: dbtest.SQLite(t)}
	r := open(t, db.URL, "testdata/live-portable", WithLive(LiveOptions{BatchSize: 100, BatchTime: -1, MaxRate: 1000}))
	_, err := r.Up(ctx, 1)
	require.NoError(t, err)
	conn := sqlDB(t, "sqlite", r.Target().DSN)
	_, err = conn.Exec(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 600) INSERT INTO users (id, email) SELECT i, 'U' || i FROM s`)
	require.NoError(t, err)
	_, err = r.Expand(ctx)
	require.NoError(t, err)
	start := time.Now()
	res, err := r.Backfill(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 600, res.Backfill.Rows)
	assert.GreaterOrEqual(t, time.Since(start), 500*time.Millisecond, "600 rows at 1000 rows/s: the pauses after the first 5 batches")
}

// TestBackfillPausesWhileSessionsWaitForLocks: while a session of the service waits for a lock longer
// than MaxLockWait, the backfill adds no batch; it goes on once the wait is over.
func TestBackfillPausesWhileSessionsWaitForLocks(t *testing.T) {
	ctx := context.Background()
	url := dbtest.Postgres(t)
	var paused []string
	r := open(t, url, "testdata/live", WithLive(LiveOptions{BatchSize: 100, BatchTime: -1, MaxLockWait: 200 * time.Millisecond,
		Progress: func(p BackfillProgress) {
			if p.Paused != "" {
				paused = append(paused, p.Paused)
			}
		}}))
	_, err := r.Up(ctx, 1)
	require.NoError(t, err)
	db := sqlDB(t, "pgx/v5", url)
	_, err = db.Exec(`INSERT INTO users (email) SELECT 'u' || i || '@x' FROM generate_series(1, 300) i; CREATE TABLE elsewhere (id INT)`)
	require.NoError(t, err)
	_, err = r.Expand(ctx)
	require.NoError(t, err)

	// A long transaction holds a lock on another table, and a session of the service waits for it.
	holder, err := db.Begin()
	require.NoError(t, err)
	_, err = holder.Exec(`LOCK TABLE elsewhere IN ACCESS EXCLUSIVE MODE`)
	require.NoError(t, err)
	waiter := make(chan error, 1)
	go func() {
		_, err := db.Exec(`SELECT COUNT(*) FROM elsewhere`)
		waiter <- err
	}()
	time.AfterFunc(1500*time.Millisecond, func() { _ = holder.Rollback() })
	time.Sleep(300 * time.Millisecond) // the service's query has waited past MaxLockWait

	start := time.Now()
	res, err := r.Backfill(ctx)
	require.NoError(t, err)
	require.NoError(t, <-waiter)
	assert.EqualValues(t, 300, res.Backfill.Rows)
	require.NotEmpty(t, paused, "the backfill said it paused")
	assert.Contains(t, paused[0], "a session has waited")
	assert.Positive(t, res.Backfill.Paused)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "no batch until the wait ended")
}
