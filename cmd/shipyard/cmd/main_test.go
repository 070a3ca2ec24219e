package cmd

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/migrate"
	"github.com/shipyardci/shipyard/registry"
	"github.com/shipyardci/shipyard/release"
)

// TestWithFlag: the CLI names the flag of the option an input error blames, and puts the command-line
// remedy after the words of the library error it explains.
func TestWithFlag(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&release.InputError{Option: "release.Env", Msg: `"X" is not an environment name`}, `--env: "X" is not an environment name`},
		{fmt.Errorf("creating the release: %w", &release.InputError{Option: "release.Scheme", Msg: "bad"}), "--scheme: creating the release: bad"},
		{&release.InputError{Option: "release.Nothing", Msg: "bad"}, "bad"},
		{fmt.Errorf("pushing x: %w: %w", registry.ErrUnknownAuthority, errors.New("x509: unknown authority")),
			"pushing x: the registry's certificate is signed by an unknown authority (trust it with --ca-cert FILE): x509: unknown authority"},
		{fmt.Errorf("migrating: %w", &migrate.LockTimeoutError{Lock: "pg_advisory_lock(1)", Waited: time.Second}),
			"migrating: another migration runner holds the lock pg_advisory_lock(1): gave up after 1s (raise --lock-timeout to wait longer)"},
		{&registry.PlainHTTPError{Host: "10.0.0.1:5000"}, "refusing plain HTTP to 10.0.0.1:5000: only loopback registries are reached without TLS (--insecure allows it)"},
		{errors.New("plain"), "plain"},
	} {
		assert.Equal(t, tc.want, withFlag(tc.err))
	}
}

// TestEveryOptionHasAFlag: each option that a library's input error can blame (Option: "pkg.Name" in
// its source) has its flag or argument in flagOf.
func TestEveryOptionHasAFlag(t *testing.T) {
	fset := token.NewFileSet()
	found := 0
	for _, pkg := range []string{"audit", "build", "coverage", "registry", "release", "semver", "sign", "internal/pipeline"} {
		files, err := filepath.Glob(filepath.Join("..", "..", "..", pkg, "*.go"))
		require.NoError(t, err)
		for _, file := range files {
			f, err := parser.ParseFile(fset, file, nil, 0)
			require.NoError(t, err)
			ast.Inspect(f, func(n ast.Node) bool {
				kv, ok := n.(*ast.KeyValueExpr)
				if !ok {
					return true
				}
				if key, ok := kv.Key.(*ast.Ident); !ok || key.Name != "Option" {
					return true
				}
				if lit, ok := kv.Value.(*ast.BasicLit); ok {
					option, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					found++
					assert.Contains(t, flagOf, option, "%s: no flag for %s in flagOf", fset.Position(lit.Pos()), option)
				}
				return true
			})
		}
	}
	assert.Greater(t, found, 20)
}
