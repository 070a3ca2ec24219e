package migrate

import (
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
		{"mysql://root@db/shop", MySQL, "mysql://root@tcp(db:3306)/shop", "mysql", "root@tcp(db:3306)/shop?multiStatements=true&parseTime=true", "shop", "mysql://root@db/shop"},
		{"sqlite://.shipyard/dev.db", SQLite, "sqlite:///work/.shipyard/dev.db", "sqlite", "/work/.shipyard/dev.db", "/work/.shipyard/dev.db", "sqlite://.shipyard/dev.db"},
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
	assert.Equal(t, "postgres://db/x?password=xxxxx&user=app", Redact("postgres://db/x?user=app&password=hunter2"))
	assert.Equal(t, "sqlite://dev.db", Redact("sqlite://dev.db"))
	assert.Equal(t, "mysql://root:xxxxx@tcp(db:3306)/x", Redact("mysql://root:p@ss@tcp(db:3306)/x"), "a raw @ in the password")
	assert.Equal(t, "postgres://app@db/x", Redact("postgres://app@db/x"), "no password, nothing to hide")
}

// FuzzRedact: whatever the password, the redacted URL does not contain it.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{"hunter2", "p@ss", "a:b", "xxxxx-long-secret", "%40%3A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, password string) {
		if len(password) < 4 || strings.ContainsAny(password, "/\n") || strings.Contains("xxxxx", password) {
			return // too short to tell apart from the rest of the URL, or the mask itself
		}
		for _, raw := range []string{"postgres://app:" + password + "@db:5432/shop", "mysql://root:" + password + "@tcp(db:3306)/shop"} {
			if out := Redact(raw); strings.Contains(out, password) {
				t.Fatalf("Redact(%q) = %q shows the password", raw, out)
			}
		}
	})
}
