package layout

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// capabilities are the library packages: they speak of their own options, never of the CLI's flags.
var capabilities = []string{"audit", "build", "coverage", "migrate", "registry", "release", "semver"}

// flagName is a long flag in a string: --name.
var flagName = regexp.MustCompile(`(^|[^-\w])--[a-z][a-z0-9-]*`)

// argToken is one command-line argument of another program (git, npm, go): --name or --name=value.
var argToken = regexp.MustCompile(`^--[a-z][a-z0-9-]*(=.*)?$`)

// TestLibrariesNameNoFlags: no string literal of a capability package names a flag, except an argument
// that the package passes to another program (a single --token in a call or in a list of strings). The
// CLI adds its flag names when it reports an error (cmd/shipyard/cmd: flagOf).
func TestLibrariesNameNoFlags(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	checked := 0
	for _, pkg := range capabilities {
		files, err := filepath.Glob(filepath.Join(root, pkg, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(fset, file, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			checked++
			var parents []ast.Node
			ast.Inspect(f, func(n ast.Node) bool {
				if n == nil {
					parents = parents[:len(parents)-1]
					return true
				}
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, err := strconv.Unquote(lit.Value)
					if err == nil && flagName.MatchString(s) && !programArg(s, parents[len(parents)-1]) {
						t.Errorf("%s: %s names a flag: say it in the library's own terms, and let the CLI add the flag", fset.Position(lit.Pos()), lit.Value)
					}
				}
				parents = append(parents, n)
				return true
			})
		}
	}
	if checked < 20 {
		t.Fatalf("only %d files were checked", checked)
	}
}

// programArg says whether s is an argument for another program: a lone --token given to a call or
// written in a list of strings.
func programArg(s string, parent ast.Node) bool {
	if !argToken.MatchString(s) {
		return false
	}
	switch parent := parent.(type) {
	case *ast.CallExpr, *ast.CompositeLit, *ast.AssignStmt:
		return true
	case *ast.BinaryExpr: // "--merged=" + ref
		return parent.Op == token.ADD && strings.HasSuffix(s, "=")
	}
	return false
}
