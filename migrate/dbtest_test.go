package migrate

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// testDB is a fresh database on one of the real servers, dropped when the test ends.
type testDB struct {
	name string // sqlite, postgres, mariadb
	url  string
}

// Servers on this machine and in CI (.ci/run starts them): PostgreSQL with trust auth, MariaDB as root
// without a password.
const (
	postgresAdmin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	mariadbAdmin  = "root@tcp(127.0.0.1:3306)/"
)

// databases returns one fresh database of each kind.
func databases(t *testing.T) []testDB {
	t.Helper()
	name := "shipyard_" + randomHex(t)
	return []testDB{
		{"sqlite", "sqlite://" + filepath.Join(t.TempDir(), "test.db")},
		{"postgres", createDB(t, "pgx/v5", postgresAdmin, name, "DROP DATABASE IF EXISTS %s WITH (FORCE)", fmt.Sprintf("postgres://postgres@127.0.0.1:5432/%s?sslmode=disable", name))},
		{"mariadb", createDB(t, "mysql", mariadbAdmin, name, "DROP DATABASE IF EXISTS %s", fmt.Sprintf("mysql://root@127.0.0.1:3306/%s", name))},
	}
}

func randomHex(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// createDB creates database name on a server and drops it at the end of the test. Without the server, the
// test fails in CI and is skipped elsewhere.
func createDB(t *testing.T, driver, adminDSN, name, dropFmt, url string) string {
	t.Helper()
	admin, err := sql.Open(driver, adminDSN)
	if err == nil {
		err = admin.PingContext(context.Background())
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not reachable (.ci/run starts it): %v", driver, err)
		}
		t.Skipf("%s is not reachable: %v", driver, err)
	}
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("creating %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(fmt.Sprintf(dropFmt, name)); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
		admin.Close()
	})
	return url
}
