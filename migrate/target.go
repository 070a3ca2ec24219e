package migrate

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
)

// Dialect is the kind of database.
type Dialect string

// The databases shipyard migrates.
const (
	Postgres Dialect = "postgres"
	MySQL    Dialect = "mysql"
	SQLite   Dialect = "sqlite"
)

// DefaultURL is the embedded database of a laptop with nothing configured.
const DefaultURL = "sqlite://.shipyard/dev.db"

// Target is a parsed database URL: what golang-migrate opens, and what shipyard's own connection (lock,
// history) opens.
type Target struct {
	Dialect Dialect
	// MigrateURL is the URL for golang-migrate's driver.
	MigrateURL string
	// SQLDriver and DSN open shipyard's own connection with database/sql.
	SQLDriver, DSN string
	// Database is the database name, or the SQLite file.
	Database string
	redacted string
}

// Redacted is the URL with its password hidden, for messages and logs.
func (t *Target) Redacted() string { return t.redacted }

// URLError is a database URL that cannot be used. It never holds the password.
type URLError struct {
	URL string // redacted
	Msg string
}

func (e *URLError) Error() string { return fmt.Sprintf("database URL %s: %s", e.URL, e.Msg) }

// InputError says that the database URL is the user's to fix: the command exits 2.
func (e *URLError) InputError() bool { return true }

// mysqlTCP is golang-migrate's MySQL form, user:pass@tcp(host:port)/db.
var mysqlTCP = regexp.MustCompile(`^mysql://(?:([^@]*)@)?tcp\(([^)]*)\)/([^?]*)(?:\?(.*))?$`)

// ParseURL reads a database URL: postgres://user:pass@host:5432/db?sslmode=disable (or postgresql://),
// mysql://user:pass@host:3306/db (or golang-migrate's mysql://user:pass@tcp(host:3306)/db), and
// sqlite://path/to/file.db (relative to dir) or sqlite:///absolute/file.db.
func ParseURL(raw, dir string) (*Target, error) {
	red := Redact(raw)
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, &URLError{red, "no scheme: want postgres://, mysql:// or sqlite://"}
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		u, err := url.Parse(raw)
		if err != nil {
			return nil, &URLError{red, "not a URL"}
		}
		db := strings.TrimPrefix(u.Path, "/")
		if db == "" {
			return nil, &URLError{red, "no database name after the host"}
		}
		own := *u
		own.Scheme = "postgres"
		own.RawQuery = withoutCustom(u.Query()).Encode()
		mig := *u
		mig.Scheme = "pgx5"
		return &Target{Dialect: Postgres, MigrateURL: mig.String(), SQLDriver: "pgx/v5", DSN: own.String(), Database: db, redacted: red}, nil
	case "mysql":
		return parseMySQL(raw, red)
	case "sqlite", "sqlite3":
		rest := raw[len(scheme)+3:]
		path, query, _ := strings.Cut(rest, "?")
		if path == "" {
			return nil, &URLError{red, "no file: want sqlite://path/to/file.db"}
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		mig := "sqlite://" + path
		if query != "" {
			mig += "?" + query
		}
		return &Target{Dialect: SQLite, MigrateURL: mig, SQLDriver: "sqlite", DSN: path, Database: path, redacted: red}, nil
	}
	return nil, &URLError{red, fmt.Sprintf("unsupported database %q: want postgres, mysql or sqlite", scheme)}
}

func parseMySQL(raw, red string) (*Target, error) {
	var user, host, db, query string
	if m := mysqlTCP.FindStringSubmatch(raw); m != nil {
		user, host, db, query = m[1], m[2], m[3], m[4]
	} else {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, &URLError{red, "not a URL"}
		}
		if u.User != nil {
			user = u.User.String()
		}
		host, db, query = u.Host, strings.TrimPrefix(u.Path, "/"), u.RawQuery
	}
	if db == "" {
		return nil, &URLError{red, "no database name after the host"}
	}
	if host == "" {
		host = "127.0.0.1:3306"
	}
	if !strings.Contains(host, ":") {
		host += ":3306"
	}
	// user is user or user:pass, URL-escaped; the go-sql-driver DSN wants them raw.
	name, pass, hasPass := strings.Cut(user, ":")
	name, _ = url.PathUnescape(name)
	pass, _ = url.PathUnescape(pass)
	creds := name
	if hasPass {
		creds += ":" + pass
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, &URLError{red, "bad query parameters"}
	}
	own := withoutCustom(q)
	own.Set("multiStatements", "true")
	own.Set("parseTime", "true")
	mig := fmt.Sprintf("mysql://%s@tcp(%s)/%s", creds, host, db)
	if query != "" {
		mig += "?" + query
	}
	return &Target{Dialect: MySQL, MigrateURL: mig, SQLDriver: "mysql", DSN: fmt.Sprintf("%s@tcp(%s)/%s?%s", creds, host, db, own.Encode()), Database: db, redacted: red}, nil
}

// withoutCustom drops golang-migrate's x- parameters, which the database itself would refuse.
func withoutCustom(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		if !strings.HasPrefix(k, "x-") {
			out[k] = v
		}
	}
	return out
}

// userinfo matches "user:password@" at the start of a URL, with or without a scheme; the password runs to
// the last "@" before the path, since golang-migrate's MySQL form allows a raw "@" in it.
var userinfo = regexp.MustCompile(`^([a-zA-Z0-9+.-]+://)?([^:@/]*):([^/]*)@`)

// Redact hides the password of a database URL ("postgres://app:xxxxx@db/app").
func Redact(raw string) string {
	out := userinfo.ReplaceAllString(raw, "${1}${2}:xxxxx@")
	if u, err := url.Parse(out); err == nil {
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
			out = u.String()
		}
	}
	return out
}

// ErrNoDatabase means no database URL was configured.
var ErrNoDatabase = errors.New("no database URL")

// table is golang-migrate's version table: schema_migrations, or the URL's x-migrations-table.
func (t *Target) table() string {
	_, query, _ := strings.Cut(t.MigrateURL, "?")
	if q, err := url.ParseQuery(query); err == nil && q.Get("x-migrations-table") != "" {
		return q.Get("x-migrations-table")
	}
	return "schema_migrations"
}
