// Package dbtest gives tests fresh databases on the real servers of this machine and of CI (.ci/run
// starts them): PostgreSQL with trust auth, MariaDB as root without a password, and SQLite files. Each
// database is dropped when its test ends. Without a server a test fails in CI and is skipped elsewhere.
package dbtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/shipyardci/shipyard/internal/testenv"

	_ "github.com/go-sql-driver/mysql" // mysql
	_ "github.com/jackc/pgx/v5/stdlib" // pgx/v5
)

// DB is a fresh database: its kind (sqlite, postgres, mariadb) and URL.
type DB struct {
	Name string
	URL  string
}

// All returns one fresh database of each kind.
func All(t testing.TB) []DB {
	t.Helper()
	return []DB{{"sqlite", SQLite(t)}, {"postgres", Postgres(t)}, {"mariadb", MariaDB(t)}}
}

// SQLite returns the URL of a database file in a temporary directory.
func SQLite(t testing.TB) string {
	t.Helper()
	return "sqlite://" + filepath.Join(t.TempDir(), "test.db")
}

// Postgres creates a database on the PostgreSQL server.
func Postgres(t testing.TB) string {
	t.Helper()
	name := newName(t)
	create(t, "pgx/v5", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", name, "DROP DATABASE IF EXISTS %s WITH (FORCE)")
	return fmt.Sprintf("postgres://postgres@127.0.0.1:5432/%s?sslmode=disable", name)
}

// MariaDB creates a database on the MariaDB server.
func MariaDB(t testing.TB) string {
	t.Helper()
	name := newName(t)
	create(t, "mysql", "root@tcp(127.0.0.1:3306)/", name, "DROP DATABASE IF EXISTS %s")
	return fmt.Sprintf("mysql://root@127.0.0.1:3306/%s", name)
}

func newName(t testing.TB) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "shipyard_" + hex.EncodeToString(b)
}

func create(t testing.TB, driver, adminDSN, name, dropFmt string) {
	t.Helper()
	admin, err := sql.Open(driver, adminDSN)
	if err == nil {
		err = admin.Ping()
	}
	if err != nil {
		testenv.Missing(t, fmt.Sprintf("%s is not reachable (.ci/run starts it): %v", driver, err))
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
}
