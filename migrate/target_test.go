package migrate

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw                     string
		dialect                 Dialect
		migrateURL, driver, dsn string
		database, redacted      string
	}{
		{"postgres://app:s3cret@db:5432/shop?sslmode=disable&x-migrations-table=m", Postgres,
			"pgx5://app:s3cret@db:5432/shop?sslmode=disable&x-migrations-table=m", "pgx/v5",
			"postgres://app:s3cret@db:5432/shop?sslmode=disable", "shop", "postgres://app:xxxxx@db:5432/shop?sslmode=disable&x-migrations-table=m"},
		{"postgresql://postgres@127.0.0.1/test", Postgres, "pgx5://postgres@127.0.0.1/test", "pgx/v5", "postgres://postgres@127.0.0.1/test", "test", "postgresql://postgres@127.0.0.1/test"},
		{"mysql://root:p%40ss@127.0.0.1:3306/shop", MySQL, "mysql://root:p@ss@tcp(127.0.0.1:3306)/shop", "mysql",
			"root:p@ss@tcp(127.0.0.1:3306)/shop?multiStatements=true&parseTime=true", "shop", "mysql://root:xxxxx@127.0.0.1:3306/shop"},
		{"mysql://root@tcp(localhost:3307)/shop?x-no-lock=true", MySQL, "mysql://root@tcp(localhost:3307)/shop?x-no-lock=true", "mysql",
			"root@tcp(localhost:3307)/shop?multiStatements=true&parseTime=true", "shop", "mysql://root@tcp(localhost:3307)/shop?x-no-lock=true"},
		{"mysql://root@tcp(db:3306)/shop?password=p%40ss&tls=true", MySQL, "mysql://root:p@ss@tcp(db:3306)/shop?tls=true", "mysql",
			"root:p@ss@tcp(db:3306)/shop?multiStatements=true&parseTime=true&tls=true", "shop", "mysql://root@tcp(db:3306)/shop?password=xxxxx&tls=true"},
		{"mysql://root@db/shop", MySQL, "mysql://root@tcp(db:3306)/shop", "mysql", "root@tcp(db:3306)/shop?multiStatements=true&parseTime=true", "shop", "mysql://root@db/shop"},
		{"sqlite://.shipyard/dev.db", SQLite, "sqlite:///work/.shipyard/dev.db", "sqlite", "/work/.shipyard/dev.db", "/work/.shipyard/dev.db", "sqlite://.shipyard/dev.db"},
		{"pgx5://app:s3cret@db/shop", Postgres, "pgx5://app:s3cret@db/shop", "pgx/v5", "postgres://app:s3cret@db/shop", "shop", "pgx5://app:xxxxx@db/shop"},
		{"pgx://app@db/shop", Postgres, "pgx5://app@db/shop", "pgx/v5", "postgres://app@db/shop", "shop", "pgx://app@db/shop"},
		{"pgx4://app@db/shop", Postgres, "pgx5://app@db/shop", "pgx/v5", "postgres://app@db/shop", "shop", "pgx4://app@db/shop"},
		{"host=db port=5433 user=app password='s3 cret' dbname=shop sslmode=disable", Postgres,
			"pgx5://app:s3%20cret@db:5433/shop?sslmode=disable", "pgx/v5", "postgres://app:s3%20cret@db:5433/shop?sslmode=disable", "shop",
			"host=db port=5433 user=app password=xxxxx dbname=shop sslmode=disable"},
		{"host=/var/run/postgresql dbname=shop", Postgres, "pgx5:///shop?host=%2Fvar%2Frun%2Fpostgresql", "pgx/v5",
			"postgres:///shop?host=%2Fvar%2Frun%2Fpostgresql", "shop", "host=/var/run/postgresql dbname=shop"},
		{"sqlite:///tmp/x.db?x-no-tx-wrap=true", SQLite, "sqlite:///tmp/x.db?x-no-tx-wrap=true", "sqlite", "/tmp/x.db", "/tmp/x.db", "sqlite:///tmp/x.db?x-no-tx-wrap=true"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := ParseURL(tt.raw, "/work")
			require.NoError(t, err)
			assert.Equal(t, tt.dialect, got.Dialect)
			assert.Equal(t, tt.migrateURL, got.MigrateURL)
			assert.Equal(t, tt.driver, got.SQLDriver)
			assert.Equal(t, tt.dsn, got.DSN)
			assert.Equal(t, tt.database, got.Database)
			assert.Equal(t, tt.redacted, got.Redacted())
		})
	}
}

func TestParseURLErrorsNeverShowThePassword(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"redis://u:hunter2@host/0", `database URL redis://u:xxxxx@host/0: unsupported database "redis": want postgres, mysql or sqlite`},
		{"postgres://u:hunter2@host", "database URL postgres://u:xxxxx@host: no database name after the host"},
		{"mysql://u:hunter2@host:3306/", "database URL mysql://u:xxxxx@host:3306/: no database name after the host"},
		{"u:hunter2@host/db", "database URL u:xxxxx@host/db: no scheme: want postgres://, mysql:// or sqlite://"},
		{"sqlite://", "database URL sqlite://: no file: want sqlite://path/to/file.db"},
		{"host=db password=hunter2", "database URL host=db password=xxxxx: no database name (dbname=)"},
		{"host=db password=hunter2 'x", `database URL host=db password=xxxxx 'x: not a keyword=value connection string near "'x"`},
	}
	for _, tt := range tests {
		_, err := ParseURL(tt.raw, ".")
		var uerr *URLError
		require.ErrorAs(t, err, &uerr, tt.raw)
		assert.Equal(t, tt.want, err.Error())
	}
}

func TestRedact(t *testing.T) {
	assert.Equal(t, "postgres://app:xxxxx@db/x", Redact("postgres://app:pa:ss@db/x"))
	for _, tc := range []struct{ raw, want string }{
		{"postgres://db/x?user=app&password=hunter2", "postgres://db/x?user=app&password=xxxxx"},
		{"postgres://app@db/x?sslmode=verify-full&sslpassword=hunter2&sslkey=k.pem", "postgres://app@db/x?sslmode=verify-full&sslpassword=xxxxx&sslkey=k.pem"},
		{"mysql://root@tcp(db:3306)/x?password=hunter2&tls=true", "mysql://root@tcp(db:3306)/x?password=xxxxx&tls=true"},
		{"host=db user=app password=hunter2 dbname=shop", "host=db user=app password=xxxxx dbname=shop"},
		{"host=db password = 'hunt er\\'2' dbname=shop", "host=db password = xxxxx dbname=shop"},
		{"host=db PASSWORD=hunter2", "host=db PASSWORD=xxxxx"},
		{"host=db password='unterminated", "host=db password=xxxxx"},
	} {
		assert.Equal(t, tc.want, Redact(tc.raw), tc.raw)
		for _, s := range Secrets(tc.raw) {
			assert.NotContains(t, Redact(tc.raw), s, tc.raw)
		}
	}
	assert.Subset(t, Secrets("postgres://app:p%40ss@db/x"), []string{"p%40ss", "p@ss"}, "as written and decoded")
	assert.Subset(t, Secrets("host=db password='it\\'s'"), []string{"'it\\'s'", "it's", "it%27s"}, "and as a URL would escape it")
	assert.Equal(t, "sqlite://dev.db", Redact("sqlite://dev.db"))
	assert.Equal(t, "mysql://root:xxxxx@tcp(db:3306)/x", Redact("mysql://root:p@ss@tcp(db:3306)/x"), "a raw @ in the password")
	assert.Equal(t, "postgres://app@db/x", Redact("postgres://app@db/x"), "no password, nothing to hide")
}

// FuzzRedact: whatever the password, and in whichever form the URL or DSN carries it, the redacted
// URL does not contain it, and Secrets names it.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"hunter2", "p@ss", "a:b", "xxxxx-long-secret", "%40%3A", "it's \\ odd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, password string) {
		if len(password) < 4 || strings.ContainsAny(password, "/\n") || strings.Contains("xxxxx", password) {
			return // too short to tell apart from the rest of the URL, or the mask itself
		}
		quoted := "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(password) + "'"
		for _, form := range []struct{ raw, written string }{
			{"postgres://app:" + password + "@db:5432/shop", password},
			{"mysql://root:" + password + "@tcp(db:3306)/shop", password},
			{"postgres://app:" + url.PathEscape(password) + "@db:5432/shop", url.PathEscape(password)},
			{"mysql://root@tcp(db:3306)/shop?password=" + url.QueryEscape(password) + "&tls=true", url.QueryEscape(password)},
			{"host=db user=app password=" + quoted + " dbname=shop", quoted},
		} {
			rest := strings.Replace(form.raw, form.written, "", 1)
			if strings.Contains(rest, password) || strings.Contains(rest, form.written) {
				continue // the password is also some other part of the URL
			}
			if out := Redact(form.raw); strings.Contains(out, password) || strings.Contains(out, form.written) {
				t.Fatalf("Redact(%q) = %q shows the password", form.raw, out)
			}
			if !slices.Contains(Secrets(form.raw), password) {
				t.Fatalf("Secrets(%q) = %q misses the password", form.raw, Secrets(form.raw))
			}
		}
	})
}
