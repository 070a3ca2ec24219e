package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/dbtest"
)

// loadRows is the size of the busy table in the write-load tests.
const loadRows = 200_000

// service is the writes and reads one version of the application makes, over and over, counting what
// failed.
type service struct {
	name             string
	write            func(ctx context.Context, db *sql.DB, i int) error
	writes, failures atomic.Int64
	mu               sync.Mutex
	errs             []string
	cancel           context.CancelFunc
	done             sync.WaitGroup
}

// start runs the service's writes in two connections until stop.
func (s *service) start(t *testing.T, db *sql.DB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	for w := range 2 {
		s.done.Add(1)
		go func() {
			defer s.done.Done()
			for i := w; ctx.Err() == nil; i += 2 {
				err := s.write(ctx, db, i)
				if ctx.Err() != nil {
					return
				}
				s.writes.Add(1)
				if err != nil {
					s.failures.Add(1)
					s.mu.Lock()
					if len(s.errs) < 5 {
						s.errs = append(s.errs, err.Error())
					}
					s.mu.Unlock()
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
}

func (s *service) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	s.done.Wait()
	assert.Zero(t, s.failures.Load(), "%s service: %d of %d writes failed: %v", s.name, s.failures.Load(), s.writes.Load(), s.errs)
	assert.Positive(t, s.writes.Load(), "%s service wrote", s.name)
}

// randomID is a row of the seeded table.
func randomID(int) int64 { return 1 + int64(rand.IntN(loadRows)) }

// workload is one generated operation under the writes of the old and the new service.
type workload struct {
	op string
	// mariadb runs the workload on MariaDB, from testdata/ops-mysql, instead of PostgreSQL.
	mariadb bool
	seed    string // fills the table with loadRows rows
	// oldWrite and newWrite are a write of the service before and after the change: an insert or an
	// update in turn.
	oldWrite, newWrite func(ctx context.Context, db *sql.DB, i int) error
	// oldRead is a query of the old service, which must work until the contract.
	oldRead string
	// oldInsert is an insert of the old service that returns the new row's id ($1: a number).
	oldInsert string
	// inconsistent counts the rows whose old and new shape differ, after the backfill.
	inconsistent string
	// after checks the table once the contract ran.
	after func(t *testing.T, db *sql.DB)
}

func run(ctx context.Context, db *sql.DB, q string, args ...any) error {
	_, err := db.ExecContext(ctx, q, args...)
	return err
}

var workloads = []workload{
	{
		op: "add_unique", mariadb: true,
		seed: `INSERT INTO tokens (code) SELECT MD5(seq) FROM seq_1_to_200000`, // MariaDB's sequence engine
		oldWrite: func(ctx context.Context, db *sql.DB, i int) error {
			if i%2 == 0 {
				return run(ctx, db, `INSERT INTO tokens (code) VALUES (?)`, fmt.Sprintf("old-%d-%d", i, rand.Int64()))
			}
			return run(ctx, db, `DELETE FROM tokens WHERE id = ?`, randomID(i))
		},
		newWrite: func(ctx context.Context, db *sql.DB, i int) error {
			return run(ctx, db, `INSERT IGNORE INTO tokens (code) VALUES (?)`, fmt.Sprintf("new-%d-%d", i, rand.Int64()))
		},
		oldRead:      `SELECT id, code FROM tokens WHERE id = 17`,
		inconsistent: `SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'tokens' AND index_name = 'tokens_code_key' AND non_unique = 1`,
		after: func(t *testing.T, db *sql.DB) {
			assert.Equal(t, 1, count(t, db, `SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'tokens' AND index_name = 'tokens_code_key' AND non_unique = 0`))
			assert.Error(t, run(context.Background(), db, `INSERT INTO tokens (code) VALUES (MD5(1))`))
		},
	},
	{
		op:        "add_column",
		oldInsert: `INSERT INTO accounts (email) VALUES ('Window' || $1::int || '@Example.com') RETURNING id`,
		seed:      `INSERT INTO accounts (email) SELECT 'User' || i || '@Example.com' FROM generate_series(1, 200000) i`,
		oldWrite: func(ctx context.Context, db *sql.DB, i int) error {
			if i%2 == 0 {
				return run(ctx, db, `INSERT INTO accounts (email) VALUES ($1)`, fmt.Sprintf("Old%d@Example.com", i))
			}
			return run(ctx, db, `UPDATE accounts SET email = $1 WHERE id = $2`, fmt.Sprintf("Changed%d@Example.com", i), randomID(i))
		},
		newWrite: func(ctx context.Context, db *sql.DB, i int) error {
			e := fmt.Sprintf("New%d@Example.com", i)
			if i%2 == 0 {
				return run(ctx, db, `INSERT INTO accounts (email, email_lower) VALUES ($1, lower($1))`, e)
			}
			return run(ctx, db, `UPDATE accounts SET email = $1, email_lower = lower($1) WHERE id = $2`, e, randomID(i))
		},
		oldRead:      `SELECT id, email FROM accounts WHERE id = 17`,
		inconsistent: `SELECT COUNT(*) FROM accounts WHERE email_lower IS DISTINCT FROM lower(email)`,
		after: func(t *testing.T, db *sql.DB) {
			assert.Error(t, run(context.Background(), db, `UPDATE accounts SET email_lower = NULL WHERE id = 1`), "email_lower is NOT NULL")
		},
	},
	{
		op:        "add_column_default",
		oldInsert: `INSERT INTO accounts (email) VALUES ('Window' || $1::int || '@Example.com') RETURNING id`,
		seed:      `INSERT INTO accounts (email) SELECT 'User' || i || '@Example.com' FROM generate_series(1, 200000) i`,
		oldWrite: func(ctx context.Context, db *sql.DB, i int) error {
			if i%2 == 0 {
				return run(ctx, db, `INSERT INTO accounts (email) VALUES ($1)`, fmt.Sprintf("Old%d@Example.com", i))
			}
			return run(ctx, db, `UPDATE accounts SET email = $1 WHERE id = $2`, fmt.Sprintf("Changed%d@Example.com", i), randomID(i))
		},
		newWrite: func(ctx context.Context, db *sql.DB, i int) error {
			if i%2 == 0 {
				return run(ctx, db, `INSERT INTO accounts (email, plan) VALUES ($1, 'pro')`, fmt.Sprintf("New%d@Example.com", i))
			}
			return run(ctx, db, `UPDATE accounts SET plan = 'team' WHERE id = $1`, randomID(i))
		},
		oldRead:      `SELECT id, email FROM accounts WHERE id = 17`,
		inconsistent: `SELECT COUNT(*) FROM accounts WHERE plan IS NULL`,
		after: func(t *testing.T, db *sql.DB) {
			assert.Error(t, run(context.Background(), db, `UPDATE accounts SET plan = NULL WHERE id = 1`), "plan is NOT NULL")
		},
	},
	{
		op:        "add_index",
		oldInsert: `INSERT INTO events (kind, at) VALUES ('window-' || $1::int, now()) RETURNING id`,
		seed:      `INSERT INTO events (kind, at) SELECT 'kind-' || (i % 100), now() - i * interval '1 second' FROM generate_series(1, 200000) i`,
		oldWrite: func(ctx context.Context, db *sql.DB, i int) error {
			if i%2 == 0 {
				return run(ctx, db, `INSERT INTO events (kind, at) VALUES ($1, now())`, fmt.Sprintf("kind-%d", i%100))
			}
			return run(ctx, db, `UPDATE events SET at = now() WHERE id = $1`, randomID(i))
		},
		newWrite: func(ctx context.Context, db *sql.DB, i int) error {
			if i%2 == 0 {
				return run(ctx, db, `INSERT INTO events (kind, at) VALUES ($1, now())`, fmt.Sprintf("new-%d", i%100))
			}
			return run(ctx, db, `SELECT COUNT(*) FROM events WHERE kind = 'kind-7' AND at > now() - interval '1 hour'`)
		},
		oldRead:      `SELECT id, kind FROM events WHERE id = 17`,
		inconsistent: `SELECT COUNT(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'events_kind_at_idx' AND NOT i.indisvalid`,
		after: func(t *testing.T, db *sql.DB) {
			assert.Equal(t, 1, count(t, db, `SELECT COUNT(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'events_kind_at_idx' AND i.indisvalid`))
		},
	},
	{
		op:        "rename_column",
		oldInsert: `INSERT INTO people (name) VALUES ('Window ' || $1::int) RETURNING id`,
		seed:      `INSERT INTO people (name) SELECT 'Person ' || i FROM generate_series(1, 200000) i`,
		oldWrite: func(ctx context.Context, db *sql.DB, i int) error {
			if i%2 == 0 {
				return run(ctx, db, `INSERT INTO people (name) VALUES ($1)`, fmt.Sprintf("Old %d", i))
			}
			return run(ctx, db, `UPDATE people SET name = $1 WHERE id = $2`, fmt.Sprintf("Old renamed %d", i), randomID(i))
		},
		newWrite: func(ctx context.Context, db *sql.DB, i int) error {
			if i%2 == 0 {
				return run(ctx, db, `INSERT INTO people (full_name) VALUES ($1)`, fmt.Sprintf("New %d", i))
			}
			return run(ctx, db, `UPDATE people SET full_name = $1 WHERE id = $2`, fmt.Sprintf("New renamed %d", i), randomID(i))
		},
		oldRead:      `SELECT id, name FROM people WHERE id = 17`,
		inconsistent: `SELECT COUNT(*) FROM people WHERE full_name IS DISTINCT FROM name`,
		after: func(t *testing.T, db *sql.DB) {
			assert.Equal(t, 0, count(t, db, `SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'people' AND column_name = 'name'`))
			assert.Equal(t, 0, count(t, db, `SELECT COUNT(*) FROM people WHERE full_name IS NULL`))
		},
	},
	{
		op:        "change_column_type",
		oldInsert: `INSERT INTO payments (amount) VALUES ($1) RETURNING id`,
		seed:      `INSERT INTO payments (amount) SELECT i FROM generate_series(1, 200000) i`,
		oldWrite: func(ctx context.Context, db *sql.DB, i int) error {
			if i%2 == 0 {
				return run(ctx, db, `INSERT INTO payments (amount) VALUES ($1)`, i)
			}
			return run(ctx, db, `UPDATE payments SET amount = amount + 1 WHERE id = $1`, randomID(i))
		},
		newWrite: func(ctx context.Context, db *sql.DB, i int) error {
			if i%2 == 0 {
				return run(ctx, db, `INSERT INTO payments (amount) VALUES ($1)`, 1_000_000+i)
			}
			return run(ctx, db, `UPDATE payments SET amount = $1 WHERE id = $2`, 2_000_000+i, randomID(i))
		},
		oldRead:      `SELECT id, amount FROM payments WHERE id = 17`,
		inconsistent: `SELECT COUNT(*) FROM payments WHERE amount_shipyard_new IS DISTINCT FROM amount`,
		after: func(t *testing.T, db *sql.DB) {
			var typ string
			require.NoError(t, db.QueryRow(`SELECT data_type FROM information_schema.columns WHERE table_name = 'payments' AND column_name = 'amount'`).Scan(&typ))
			assert.Equal(t, "bigint", typ)
			assert.NoError(t, run(context.Background(), db, `INSERT INTO payments (amount) VALUES (5000000000)`), "amount takes a bigint")
		},
	},
	{
		op:        "add_foreign_key",
		oldInsert: `INSERT INTO orders (account_id) VALUES (1 + $1::int % 1000) RETURNING id`,
		seed:      `INSERT INTO accounts SELECT FROM generate_series(1, 1000); INSERT INTO orders (account_id) SELECT 1 + i % 1000 FROM generate_series(1, 200000) i`,
		oldWrite: func(ctx context.Context, db *sql.DB, i int) error {
			if i%2 == 0 {
				return run(ctx, db, `INSERT INTO orders (account_id) VALUES ($1)`, 1+i%1000)
			}
			return run(ctx, db, `UPDATE orders SET account_id = $1 WHERE id = $2`, 1+(i*7)%1000, randomID(i))
		},
		newWrite: func(ctx context.Context, db *sql.DB, i int) error {
			if i%2 == 0 {
				return run(ctx, db, `INSERT INTO orders (account_id) VALUES ($1)`, 1+(i*3)%1000)
			}
			return run(ctx, db, `INSERT INTO accounts DEFAULT VALUES`)
		},
		oldRead:      `SELECT id, account_id FROM orders WHERE id = 17`,
		inconsistent: `SELECT COUNT(*) FROM orders o LEFT JOIN accounts a ON a.id = o.account_id WHERE a.id IS NULL`,
		after: func(t *testing.T, db *sql.DB) {
			assert.Equal(t, 1, count(t, db, `SELECT COUNT(*) FROM pg_constraint WHERE conname = 'orders_account_id_fkey' AND convalidated`))
			assert.Error(t, run(context.Background(), db, `INSERT INTO orders (account_id) VALUES (99999999)`))
		},
	},
	{
		op:        "add_unique",
		oldInsert: `INSERT INTO tokens (code) VALUES ('window-' || $1::int) RETURNING id`,
		seed:      `INSERT INTO tokens (code) SELECT md5(i::text) FROM generate_series(1, 200000) i`,
		oldWrite: func(ctx context.Context, db *sql.DB, i int) error {
			if i%2 == 0 {
				return run(ctx, db, `INSERT INTO tokens (code) VALUES ($1)`, fmt.Sprintf("old-%d-%d", i, rand.Int64()))
			}
			return run(ctx, db, `DELETE FROM tokens WHERE id = $1`, randomID(i))
		},
		newWrite: func(ctx context.Context, db *sql.DB, i int) error {
			return run(ctx, db, `INSERT INTO tokens (code) VALUES ($1) ON CONFLICT DO NOTHING`, fmt.Sprintf("new-%d-%d", i, rand.Int64()))
		},
		oldRead:      `SELECT id, code FROM tokens WHERE id = 17`,
		inconsistent: `SELECT COUNT(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'tokens_code_key' AND NOT i.indisvalid`,
		after: func(t *testing.T, db *sql.DB) {
			assert.Equal(t, 1, count(t, db, `SELECT COUNT(*) FROM pg_constraint WHERE conname = 'tokens_code_key' AND contype = 'u'`))
			assert.Error(t, run(context.Background(), db, `INSERT INTO tokens (code) VALUES (md5('1'))`))
		},
	},
}

func (w workload) name() string {
	if w.mariadb {
		return w.op + "/mariadb"
	}
	return w.op
}

// database makes the workload's database and returns its URL and migrations directory.
func (w workload) database(t *testing.T) (url, dir string) {
	if w.mariadb {
		return dbtest.MariaDB(t), filepath.Join("testdata", "ops-mysql", w.op)
	}
	return dbtest.Postgres(t), filepath.Join("testdata", "ops", w.op)
}

// TestLiveOperationsUnderLoad: for each generated operation, the old service writes and reads a table of
// 200,000 rows from before expand until the contract, the new service writes from expand to the end;
// no write fails, the backfill leaves every row consistent, and the contract leaves the new shape.
func TestLiveOperationsUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("write load on 200,000 rows")
	}
	for _, w := range workloads {
		t.Run(w.name(), func(t *testing.T) {
			ctx := context.Background()
			url, dir := w.database(t)
			r := open(t, url, dir, WithLive(LiveOptions{BatchTime: 50 * time.Millisecond}))
			db := sqlDB(t, r.Target().SQLDriver, r.Target().DSN)
			db.SetMaxOpenConns(8)
			_, err := r.Up(ctx, 1)
			require.NoError(t, err)
			require.NoError(t, run(ctx, db, w.seed))

			old := &service{name: "old", write: func(ctx context.Context, db *sql.DB, i int) error {
				if i%5 == 4 {
					return run(ctx, db, w.oldRead)
				}
				return w.oldWrite(ctx, db, i)
			}}
			old.start(t, db)
			time.Sleep(100 * time.Millisecond)
			res, err := r.Expand(ctx)
			require.NoError(t, err)
			require.Len(t, res.Steps, 1)

			// The deploy: the new service starts beside the old one.
			next := &service{name: "new", write: w.newWrite}
			next.start(t, db)
			res, err = r.Backfill(ctx)
			require.NoError(t, err)
			if res.Backfill != nil {
				assert.GreaterOrEqual(t, res.Backfill.Done, int64(loadRows))
			}
			assert.Equal(t, 0, count(t, db, w.inconsistent), "every row has both shapes alike after the backfill")

			// Every instance runs the new code: the old service is gone, then the contract.
			time.Sleep(100 * time.Millisecond)
			old.stop(t)
			res, err = r.Contract(ctx)
			require.NoError(t, err)
			assert.Nil(t, res.Live)
			time.Sleep(100 * time.Millisecond)
			next.stop(t)
			w.after(t, db)
		})
	}
}

// TestLiveRollbackUnderLoad: rolling back each generated operation after expand, and in the middle of its
// backfill, while the old service writes, leaves the schema dump as it was before expand and every row
// the service wrote in the window.
func TestLiveRollbackUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("write load on 200,000 rows")
	}
	for _, w := range workloads {
		if w.mariadb {
			continue
		}
		for _, stopAt := range []string{"expand", "mid-backfill"} {
			t.Run(w.op+"/"+stopAt, func(t *testing.T) {
				ctx := context.Background()
				pg := dbtest.DB{Name: "postgres", URL: dbtest.Postgres(t)}
				db := sqlDB(t, "pgx/v5", pg.URL)
				dir := filepath.Join("testdata", "ops", w.op)
				r := open(t, pg.URL, dir)
				_, err := r.Up(ctx, 1)
				require.NoError(t, err)
				require.NoError(t, run(ctx, db, w.seed))
				before := dumpSchema(t, pg)

				var mu sync.Mutex
				var written []int64
				old := &service{name: "old", write: func(ctx context.Context, db *sql.DB, i int) error {
					if i%2 == 1 {
						return w.oldWrite(ctx, db, i)
					}
					var id int64
					if err := db.QueryRowContext(ctx, w.oldInsert, i).Scan(&id); err != nil {
						return err
					}
					mu.Lock()
					written = append(written, id)
					mu.Unlock()
					return nil
				}}
				old.start(t, db)
				_, err = r.Expand(ctx)
				require.NoError(t, err)
				if stopAt == "mid-backfill" {
					if liveOf(t, r.Source()).Live.Backfill == nil {
						t.Skip("no backfill")
					}
					bctx, cancel := context.WithCancel(ctx)
					half := open(t, pg.URL, dir, WithLive(LiveOptions{BatchSize: 2000, BatchTime: -1, Progress: func(p BackfillProgress) {
						if p.Rows >= p.Total/2 {
							cancel()
						}
					}}))
					_, err := half.Backfill(bctx)
					require.ErrorIs(t, err, context.Canceled)
					st, err := r.Status(ctx)
					require.NoError(t, err)
					assert.InDelta(t, 50, st.Live.Backfill.Percent(), 2)
				}
				time.Sleep(50 * time.Millisecond)
				res, err := r.Rollback(ctx)
				require.NoError(t, err)
				assert.Equal(t, []string{"2 down expand"}, phases(res.Steps))
				time.Sleep(50 * time.Millisecond)
				old.stop(t)

				assert.Equal(t, before, dumpSchema(t, pg), "the schema is as it was before expand")
				mu.Lock()
				defer mu.Unlock()
				require.NotEmpty(t, written)
				ids := make([]any, len(written))
				for i, id := range written {
					ids[i] = id
				}
				table := liveOf(t, r.Source()).Live.Operation.Table
				var found int
				require.NoError(t, db.QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE id = ANY($1)", table), written).Scan(&found))
				assert.Equal(t, len(written), found, "every row written in the window is there")
			})
		}
	}
}
