package migrate

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shipyardci/shipyard/internal/dbtest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// copyDir copies the basic migrations, without the ones left out, to a directory the test may change.
func copyDir(t *testing.T, leaveOut ...string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS("testdata/basic")))
	for _, name := range leaveOut {
		require.NoError(t, os.Remove(filepath.Join(dir, name)))
	}
	return dir
}

func TestHistory(t *testing.T) {
	for _, db := range dbtest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			r := open(t, db.URL, "testdata/basic", WithAppliedBy("ci@runner-7"), WithToolVersion("1.2.3"))
			_, err := r.Up(ctx, 0)
			require.NoError(t, err)
			h, err := r.History(ctx)
			require.NoError(t, err)
			require.Len(t, h, 3)
			m, _ := r.Source().Find(2)
			assert.Equal(t, uint64(2), h[1].Version)
			assert.Equal(t, "add_name", h[1].Name)
			assert.Equal(t, m.Checksum, h[1].Checksum)
			assert.Equal(t, "ci@runner-7", h[1].AppliedBy)
			assert.Equal(t, "1.2.3", h[1].Tool)
			assert.WithinDuration(t, time.Now(), h[1].AppliedAt, time.Minute)

			_, err = r.Down(ctx, 1)
			require.NoError(t, err)
			h, err = r.History(ctx)
			require.NoError(t, err)
			assert.Len(t, h, 2, "a reverted migration leaves the history")

			findings, err := r.Verify(ctx)
			require.NoError(t, err)
			assert.Empty(t, findings)
		})
	}
}

func TestVerify(t *testing.T) {
	for _, db := range dbtest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			dir := copyDir(t, "2_add_name.up.sql", "2_add_name.down.sql")
			r := open(t, db.URL, dir)
			_, err := r.Up(ctx, 0) // 1 and 3
			require.NoError(t, err)
			r.Close()

			// A branch merged late brings 2; someone edits 1; 3 disappears.
			for _, f := range []string{"2_add_name.up.sql", "2_add_name.down.sql"} {
				data, err := os.ReadFile(filepath.Join("testdata", "basic", f))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(dir, f), data, 0o644))
			}
			require.NoError(t, os.WriteFile(filepath.Join(dir, "1_create_users.up.sql"), []byte("CREATE TABLE users (id INTEGER);\n"), 0o644))
			require.NoError(t, os.Remove(filepath.Join(dir, "3_create_orders.up.sql")))
			require.NoError(t, os.Remove(filepath.Join(dir, "3_create_orders.down.sql")))

			r = open(t, db.URL, dir)
			findings, err := r.Verify(ctx)
			require.NoError(t, err)
			kinds := map[string]uint64{}
			for _, f := range findings {
				kinds[f.Kind] = f.Version
			}
			assert.Equal(t, map[string]uint64{"edited": 1, "deleted": 3, "out_of_order": 2}, kinds, "%+v", findings)
			for _, f := range findings {
				switch f.Kind {
				case "edited":
					assert.Contains(t, f.Message, "restore it, and put the change in a new migration")
				case "out_of_order":
					assert.Contains(t, f.Message, "golang-migrate skips it; give it a version above 3")
				case "deleted":
					assert.Equal(t, "3_create_orders.up.sql", f.File)
				}
			}
		})
	}
}

// TestStatusOnlyReads: status and verify create nothing, so a read-only database user can run them.
func TestStatusOnlyReads(t *testing.T) {
	for _, db := range dbtest.All(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			r := open(t, db.URL, "testdata/basic")
			st, err := r.Status(ctx)
			require.NoError(t, err)
			assert.Empty(t, st.Findings)
			for _, table := range []string{historyTable, "schema_migrations"} {
				exists, err := r.tableExists(ctx, table)
				require.NoError(t, err)
				assert.False(t, exists, "%s was created by status", table)
			}
		})
	}
}
