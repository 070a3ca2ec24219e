package cmd

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/testenv"
)

// libraries are the packages that hold what the commands do: a command's RunE calls into one of them.
var libraries = []string{"audit", "build", "coverage", "migrate", "registry", "release", "semver", "internal/pipeline", "internal/scaffold"}

// cmdFiles parses the package's non-test files.
func cmdFiles(t *testing.T) (*token.FileSet, []*ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	names, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		files = append(files, f)
	}
	return fset, files
}

// TestTheCLIIsThin: the command line stays under 3,000 lines and under a fifth of the module's code, tests
// aside: flags, help, configuration and rendering. What grows past that is a flow that belongs in a
// library or in internal/pipeline.
func TestTheCLIIsThin(t *testing.T) {
	fset, files := cmdFiles(t)
	cli := 0
	for _, f := range files {
		cli += fset.File(f.Pos()).LineCount()
	}
	all := moduleLines(t, testenv.Root(t))
	t.Logf("cmd/shipyard/cmd: %d of the module's %d lines of code", cli, all)
	require.Greater(t, cli, 1000, "the files were read")
	require.Less(t, cli, 3000, "lines in cmd/shipyard/cmd, tests aside")
	require.Less(t, cli*5, all, "cmd/shipyard/cmd is under a fifth of the module's code")
}

// moduleLines counts the lines of the module's Go files under root, tests, testdata and other modules
// (examples/hello) aside.
func moduleLines(t *testing.T, root string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if _, err := os.Stat(filepath.Join(path, "go.mod")); path != root && (err == nil || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		n += bytes.Count(data, []byte("\n"))
		return err
	})
	require.NoError(t, err)
	return n
}

// TestNoRegistryPlumbing: the CLI reaches registries and layouts through the registry and build
// libraries only.
func TestNoRegistryPlumbing(t *testing.T) {
	fset, files := cmdFiles(t)
	for _, f := range files {
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			switch path {
			case "github.com/google/go-containerregistry/pkg/v1/remote", "github.com/google/go-containerregistry/pkg/v1/cache",
				"github.com/google/go-containerregistry/pkg/v1/layout":
				t.Errorf("%s imports %s: use the registry or build library", fset.Position(imp.Pos()), path)
			}
		}
	}
}

// TestFunctionsAreShort: no function of the CLI is over 60 lines; a longer one holds logic that belongs
// in a library.
func TestFunctionsAreShort(t *testing.T) {
	fset, files := cmdFiles(t)
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			var body *ast.BlockStmt
			switch fn := n.(type) {
			case *ast.FuncDecl:
				body = fn.Body
			case *ast.FuncLit:
				body = fn.Body
			}
			if body != nil {
				if lines := fset.Position(body.Rbrace).Line - fset.Position(body.Lbrace).Line - 1; lines > 60 {
					t.Errorf("%s: a function of %d lines", fset.Position(n.Pos()), lines)
				}
			}
			return true
		})
	}
}

// TestEveryCommandCallsALibrary: the RunE of every command calls a library entry point, itself or through
// the package's functions it calls (two levels down), so that a command is flags, configuration and
// rendering around a call.
func TestEveryCommandCallsALibrary(t *testing.T) {
	fset, files := cmdFiles(t)
	funcs := map[string]*ast.BlockStmt{} // the package's functions and methods by name
	for _, f := range files {
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Body != nil {
				funcs[fn.Name.Name] = fn.Body
			}
		}
	}
	checked := 0
	for _, f := range files {
		libs := map[string]bool{} // the file's import names of library packages
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			for _, l := range libraries {
				if path == "github.com/shipyardci/shipyard/"+l {
					libs[filepath.Base(l)] = true
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			kv, ok := n.(*ast.KeyValueExpr)
			if !ok {
				return true
			}
			if key, ok := kv.Key.(*ast.Ident); !ok || key.Name != "RunE" {
				return true
			}
			lit, ok := kv.Value.(*ast.FuncLit)
			if !ok {
				return true
			}
			checked++
			if !callsLibrary(lit.Body, libs, funcs, 2) {
				t.Errorf("%s: this RunE calls no library entry point", fset.Position(kv.Pos()))
			}
			return true
		})
	}
	require.Greater(t, checked, 30, "the commands' RunE were found")
}

// callsLibrary says whether body calls a function of a library package, or a package function that does
// (depth levels down).
func callsLibrary(body *ast.BlockStmt, libs map[string]bool, funcs map[string]*ast.BlockStmt, depth int) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || found {
			return !found
		}
		var name string
		switch fun := call.Fun.(type) {
		case *ast.SelectorExpr:
			if x, ok := fun.X.(*ast.Ident); ok && libs[x.Name] {
				found = true
				return false
			}
			name = fun.Sel.Name
		case *ast.Ident:
			name = fun.Name
		}
		if next, ok := funcs[name]; ok && depth > 0 && callsLibrary(next, allLibraries(), funcs, depth-1) {
			found = true
		}
		return !found
	})
	return found
}

// allLibraries are the library packages by their import names, for functions of other files.
func allLibraries() map[string]bool {
	m := map[string]bool{}
	for _, l := range libraries {
		m[filepath.Base(l)] = true
	}
	return m
}
