package main

import (
	"database/sql"
	"fmt"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// openDB opens a database URL of the forms shipyard migrate takes: sqlite://PATH or postgres://….
func openDB(url string) (*sql.DB, error) {
	switch {
	case strings.HasPrefix(url, "sqlite://"):
		return sql.Open("sqlite", strings.TrimPrefix(url, "sqlite://"))
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return sql.Open("pgx", url)
	}
	return nil, fmt.Errorf("DATABASE_URL: unsupported scheme in %q (want sqlite:// or postgres://)", redact(url))
}

// redact hides the password of a URL, so that it never reaches a log.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	creds, host, ok := strings.Cut(rest, "@")
	if !ok {
		return url
	}
	user, _, hasPassword := strings.Cut(creds, ":")
	if !hasPassword {
		return url
	}
	return scheme + "://" + user + ":xxxxx@" + host
}
