package migrate

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
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

// ParseURL reads a database URL: postgres://user:pass@host:5432/db?sslmode=disable (or postgresql://,
// or golang-migrate's pgx://, pgx4:// and pgx5://, or libpq's keyword form host=h user=u dbname=db),
// mysql://user:pass@host:3306/db (or golang-migrate's mysql://user:pass@tcp(host:3306)/db), and
// sqlite://path/to/file.db (relative to dir) or sqlite:///absolute/file.db.
func ParseURL(raw, dir string) (*Target, error) {
	red := Redact(raw)
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		if keywordDSN.MatchString(raw) {
			u, err := keywordURL(raw)
			if err != nil {
				return nil, &URLError{red, err.Error()}
			}
			t, err := ParseURL(u, dir)
			var uerr *URLError
			if errors.As(err, &uerr) {
				return nil, &URLError{red, strings.ReplaceAll(uerr.Msg, "after the host", "(dbname=)")}
			}
			if t != nil {
				t.redacted = red
			}
			return t, err
		}
		return nil, &URLError{red, "no scheme: want postgres://, mysql:// or sqlite://"}
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql", "pgx", "pgx4", "pgx5":
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
	if q.Has("password") { // the driver would send it to the server as SET password=…
		if !hasPass {
			creds += ":" + q.Get("password")
		}
		q.Del("password")
		query = q.Encode()
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

// passwordParam matches a password given as a query parameter (?password=, &sslpassword=) or as a
// keyword of libpq's form (password=s3cret, password = 'a b'), up to its end.
var passwordParam = regexp.MustCompile(`(?i)(^|[?&;\s])((?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'?|[^&;\s]*)`)

// Redact hides the passwords of a database URL or DSN, in every form it can carry them
// ("postgres://app:xxxxx@db/app", "host=db password=xxxxx", "mysql://u@tcp(db)/x?password=xxxxx").
func Redact(raw string) string {
	out := userinfo.ReplaceAllString(raw, "${1}${2}:xxxxx@")
	return passwordParam.ReplaceAllString(out, "${1}${2}xxxxx")
}

// Secrets are the passwords the database URLs or DSNs hold, as written and decoded: what a message must
// never show, and what GitHub Actions masks.
func Secrets(raws ...string) []string {
	var out []string
	for _, raw := range raws {
		out = secrets(raw, out)
	}
	return out
}

// secrets adds the passwords of raw to out.
func secrets(raw string, out []string) []string {
	add := func(s string) { // with the escaped forms a URL made of it would show
		for _, form := range []string{s, url.PathEscape(s), url.QueryEscape(s)} {
			if form != "" && !slices.Contains(out, form) {
				out = append(out, form)
			}
		}
	}
	if m := userinfo.FindStringSubmatch(raw); m != nil {
		add(m[3])
		if s, err := url.PathUnescape(m[3]); err == nil {
			add(s)
		}
	}
	for _, m := range passwordParam.FindAllStringSubmatch(raw, -1) {
		add(m[3])
		if v := m[3]; strings.HasPrefix(v, "'") {
			add(unquoteKeyword(v))
		} else if s, err := url.QueryUnescape(v); err == nil {
			add(s)
		}
	}
	return out
}

// keywordDSN is libpq's keyword/value form of a connection string: "host=db user=app dbname=shop".
var keywordDSN = regexp.MustCompile(`^\s*[a-z_]+\s*=`)

// keywordPair is one keyword=value of a keyword DSN, the value bare or single-quoted with \' and \\.
var keywordPair = regexp.MustCompile(`\s*([a-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']*)`)

// keywordURL writes libpq's keyword form as the postgres:// URL golang-migrate's driver wants.
func keywordURL(raw string) (string, error) {
	u := url.URL{Scheme: "postgres"}
	q := url.Values{}
	var user, password string
	var hasPassword bool
	host, port := "", ""
	rest := raw
	for strings.TrimSpace(rest) != "" {
		loc := keywordPair.FindStringSubmatchIndex(rest)
		if loc == nil || loc[0] != 0 {
			return "", fmt.Errorf("not a keyword=value connection string near %q", Redact(strings.TrimSpace(rest)))
		}
		key, value := rest[loc[2]:loc[3]], rest[loc[4]:loc[5]]
		if strings.HasPrefix(value, "'") {
			value = unquoteKeyword(value)
		}
		rest = rest[loc[1]:]
		switch key {
		case "host":
			host = value
		case "port":
			port = value
		case "user":
			user = value
		case "password":
			password, hasPassword = value, true
		case "dbname":
			u.Path = "/" + value
		default:
			q.Set(key, value)
		}
	}
	if strings.HasPrefix(host, "/") { // a Unix socket directory goes in the query
		q.Set("host", host)
		host = ""
	}
	if port != "" {
		if host == "" {
			q.Set("port", port)
		} else {
			host += ":" + port
		}
	}
	u.Host = host
	switch {
	case hasPassword:
		u.User = url.UserPassword(user, password)
	case user != "":
		u.User = url.User(user)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// unquoteKeyword reads a single-quoted keyword value: 'it\'s' is it's.
func unquoteKeyword(v string) string {
	v = strings.TrimSuffix(strings.TrimPrefix(v, "'"), "'")
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
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
