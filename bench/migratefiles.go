package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// migrateFiles is how many plain migrations the migrate-up benchmark applies.
const migrateFiles = 200

// benchMigrateUp applies 200 plain migration files (a table and its index each) to an empty database,
// with shipyard migrate up and with golang-migrate's CLI up, on SQLite and on PostgreSQL, taking turns.
// Every timed run starts from an empty database (made untimed before it): the cost measured is the
// migrations' and their bookkeeping's, the work a deploy's migration Job does.
func benchMigrateUp(ctx context.Context, b *bench) error {
	golangMigrate, err := golangMigrateCLI()
	if err != nil {
		return err
	}
	dir := filepath.Join(b.scratch, "migrate-up")
	if err := writePlainMigrations(dir, migrateFiles); err != nil {
		return err
	}
	admin, err := pgAdmin(ctx)
	if err != nil {
		return err
	}
	defer admin.Close()
	const pgName = "shipyard_bench_up"
	pgURL := "postgres://postgres@127.0.0.1:5432/" + pgName + "?sslmode=disable"
	freshPG := func() error {
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pgName+" WITH (FORCE)"); err != nil {
			return err
		}
		_, err := admin.ExecContext(ctx, "CREATE DATABASE "+pgName)
		return err
	}
	defer admin.ExecContext(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+pgName+" WITH (FORCE)")
	dbFile := filepath.Join(b.scratch, "migrate-up.db")
	freshSQLite := func() error {
		for _, f := range []string{dbFile, dbFile + "-journal", dbFile + "-wal", dbFile + "-shm", dbFile + ".lock"} {
			if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
		return nil
	}
	for _, db := range []struct {
		name, ours, peer string
		fresh            func() error
	}{
		{"SQLite", "sqlite://" + dbFile, "sqlite://" + dbFile, freshSQLite},
		{"PostgreSQL", pgURL, strings.Replace(pgURL, "postgres://", "pgx5://", 1), freshPG},
	} {
		t, err := b.alternate(ctx, db.fresh, nil, dir,
			[]string{b.shipyard, "migrate", "up", "--database", db.ours, "--dir", dir},
			[]string{golangMigrate, "-path", dir, "-database", db.peer, "up"})
		if err != nil {
			return err
		}
		ours, peer := t[0], t[1]
		b.report(fmt.Sprintf("migrate up: %d plain migration files on an empty %s database", migrateFiles, db.name), ours, peer, "golang-migrate up", 0, 1.1)
	}
	return nil
}

// writePlainMigrations writes n pairs of up and down files to dir, each a table and an index, the
// shape of a service's schema history.
func writePlainMigrations(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		up := fmt.Sprintf("CREATE TABLE t%04d (id BIGINT PRIMARY KEY, name VARCHAR(255) NOT NULL, created_at TIMESTAMP);\nCREATE INDEX t%04d_name ON t%04d (name);\n", i, i, i)
		down := fmt.Sprintf("DROP TABLE t%04d;\n", i)
		for suffix, body := range map[string]string{"up": up, "down": down} {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%04d_table_%04d.%s.sql", i, i, suffix)), []byte(body), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// golangMigrateCLI finds golang-migrate's CLI on PATH or where go install puts it.
func golangMigrateCLI() (string, error) {
	if p, err := exec.LookPath("migrate"); err == nil {
		return p, nil
	}
	p := filepath.Join(os.Getenv("HOME"), "go", "bin", "migrate")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("golang-migrate's CLI is not on PATH (go install -tags 'pgx5 mysql sqlite' github.com/golang-migrate/migrate/v4/cmd/migrate@v4.20.1)")
	}
	return p, nil
}

// pgAdmin connects to the PostgreSQL server's postgres database, where the benchmarks make theirs.
func pgAdmin(ctx context.Context) (*sql.DB, error) {
	admin, err := sql.Open("pgx/v5", migrateAdmin)
	if err != nil {
		return nil, err
	}
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		return nil, fmt.Errorf("PostgreSQL at 127.0.0.1:5432: %w", err)
	}
	return admin, nil
}
