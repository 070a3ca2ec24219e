package cmd

import (
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/dbtest"
)

// TestMigrateNeverShowsThePassword: in every form a database URL or DSN can carry a password (URL
// user-info, escaped or not, libpq's keyword form, quoted or not, ?password=, ?sslpassword=,
// golang-migrate's pgx5:// and mysql://…@tcp() forms), on servers that accept it and on ones that
// refuse or cannot be reached, no password shows on stdout, on stderr, in JSON, in an annotation or in
// the GitHub Actions output and summary files, and the forms the servers accept work.
func TestMigrateNeverShowsThePassword(t *testing.T) {
	pg := dbtest.Postgres(t)
	u, err := url.Parse(pg)
	require.NoError(t, err)
	pgDB := strings.TrimPrefix(u.Path, "/")
	my := dbtest.MariaDB(t)
	myDB := my[strings.LastIndex(my, "/")+1:]
	const pw = "S3cretPw9"
	tests := []struct {
		name, url string
		code      int // of migrate up
		secrets   []string
	}{
		{"postgres user-info", "postgres://postgres:" + pw + "@127.0.0.1:5432/" + pgDB + "?sslmode=disable", 0, []string{pw}},
		{"postgresql, refused", "postgresql://postgres:" + pw + "@127.0.0.1:1/x?sslmode=disable", 1, []string{pw}},
		{"escaped user-info", "postgres://postgres:S3cret%2BPw9@127.0.0.1:1/x", 1, []string{"S3cret%2BPw9", "S3cret+Pw9"}},
		{"keyword form", "host=127.0.0.1 port=5432 user=postgres password=" + pw + " dbname=" + pgDB + " sslmode=disable", 0, []string{pw}},
		{"keyword form, quoted, refused", "host=127.0.0.1 port=1 user=postgres password='S3cret Pw9' dbname=x", 1, []string{"S3cret Pw9", "S3cret%20Pw9"}},
		{"?password=", "postgres://postgres@127.0.0.1:5432/" + pgDB + "?password=" + pw + "&sslmode=disable", 0, []string{pw}},
		{"?sslpassword=", "postgres://postgres@127.0.0.1:1/x?sslmode=require&sslpassword=" + pw, 1, []string{pw}},
		{"pgx5://", "pgx5://postgres:" + pw + "@127.0.0.1:5432/" + pgDB + "?sslmode=disable", 0, []string{pw}},
		{"mysql, denied", "mysql://root:" + pw + "@127.0.0.1:3306/" + myDB, 1, []string{pw}},
		{"mysql tcp(), denied", "mysql://root:" + pw + "@tcp(127.0.0.1:3306)/" + myDB, 1, []string{pw}},
		{"mysql ?password=, denied", "mysql://root@tcp(127.0.0.1:3306)/" + myDB + "?password=" + pw, 1, []string{pw}},
		{"unparsable", "postgres://postgres:" + pw + "@[::1/x", 2, []string{pw}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := migrationsProject(t, nil)
			env, output, summary := actionsEnv(t)
			var seen strings.Builder
			masked := map[string]bool{}
			for i, args := range [][]string{{"migrate", "up"}, {"migrate", "status"}, {"-o", "json", "migrate", "status"}, {"migrate", "plan"}, {"migrate", "down", "1"}} {
				r := cli(t, dir, env, append(args, "--database", tt.url)...)
				if i == 0 {
					assert.Equal(t, tt.code, r.code, r.stderr)
				}
				seen.WriteString(r.stdout)
				for _, line := range strings.SplitAfter(r.stderr, "\n") {
					if strings.HasPrefix(line, "::add-mask::") { // the runner's own command, never shown
						masked[strings.NewReplacer("%25", "%", "%0D", "\r", "%0A", "\n").Replace(strings.TrimSpace(strings.TrimPrefix(line, "::add-mask::")))] = true
						continue
					}
					seen.WriteString(line)
				}
			}
			// The pipeline's migrate stage, with the URL from the environment.
			env["DATABASE_URL"] = tt.url
			r := cli(t, dir, env, "pipeline", "--stages", "migrate")
			delete(env, "DATABASE_URL")
			seen.WriteString(r.stdout)
			for _, line := range strings.SplitAfter(r.stderr, "\n") {
				if !strings.HasPrefix(line, "::add-mask::") {
					seen.WriteString(line)
				}
			}
			for _, f := range []string{output, summary} {
				if data, err := os.ReadFile(f); err == nil {
					seen.Write(data)
				}
			}
			require.NotEmpty(t, seen.String())
			for _, s := range tt.secrets {
				assert.NotContains(t, seen.String(), s)
				assert.True(t, masked[s], "%s is masked in the runner's log", s)
			}
			if tt.code == 1 {
				assert.Contains(t, seen.String(), "::error", "a failure is annotated")
			}
		})
	}
}
