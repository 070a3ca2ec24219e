package coverage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/mod/modfile"
)

// pos is a line and column, as in cover profiles.
type pos struct{ line, col int }

func (p pos) before(o pos) bool { return p.line < o.line || p.line == o.line && p.col < o.col }

// span is a source range [start, end).
type span struct{ start, end pos }

func (s span) contains(b Block) bool {
	return !(pos{b.StartLine, b.StartCol}).before(s.start) && !s.end.before(pos{b.EndLine, b.EndCol})
}

type funcExtent struct {
	name string
	span
}

// source is what the analysis needs from one Go file.
type source struct {
	generated bool
	funcs     []funcExtent // in source order
	ignored   []span       // ranges marked // coverage:ignore
}

// ignoreMarker leaves the function or statement it precedes (or ends the line of) out of coverage.
const ignoreMarker = "coverage:ignore"

// parseSource reads the function extents, the generated-file marker and the ignore markers of a Go file.
func parseSource(filename string) (*source, error) {
	src, err := os.ReadFile(filename)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", filename, err)
	}
	at := func(p token.Pos) pos {
		position := fset.Position(p)
		return pos{position.Line, position.Column}
	}
	s := &source{generated: ast.IsGenerated(f)}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil { // bodiless: assembly, not counted
			s.funcs = append(s.funcs, funcExtent{name: funcName(fd), span: span{at(fd.Pos()), at(fd.End())}})
		}
	}
	if bytes.Contains(src, []byte(ignoreMarker)) {
		s.ignored = ignoredSpans(fset, f, at)
	}
	return s, nil
}

// funcName is the name go tool cover -func prints: the bare name, methods included.
func funcName(fd *ast.FuncDecl) string { return fd.Name.Name }

// ignoredSpans finds the functions and statements marked with // coverage:ignore: in a function's doc
// comment, on the line before a statement, or at the end of the line a statement starts on.
func ignoredSpans(fset *token.FileSet, f *ast.File, at func(token.Pos) pos) []span {
	marked := map[int]bool{} // lines holding the marker
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if strings.Contains(c.Text, ignoreMarker) {
				marked[fset.Position(c.Slash).Line] = true
			}
		}
	}
	var spans []span
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			if n.Doc != nil && strings.Contains(n.Doc.Text(), ignoreMarker) || marked[fset.Position(n.Pos()).Line] {
				spans = append(spans, span{at(n.Pos()), at(n.End())})
				return false
			}
		case ast.Stmt:
			line := fset.Position(n.Pos()).Line
			if marked[line-1] || marked[line] {
				spans = append(spans, span{at(n.Pos()), at(n.End())})
				return false
			}
		}
		return true
	})
	return spans
}

// locator finds the source file of a profile entry: through the main module's go.mod without running
// anything, then through `go list` for what lies elsewhere (other modules, vendor, GOPATH).
type locator struct {
	dir     string
	modPath string
	modDir  string
}

func newLocator(dir string) *locator {
	l := &locator{dir: dir}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return l
	}
	for d := abs; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil {
			l.modPath, l.modDir = modfile.ModulePath(data), d
			return l
		}
		if filepath.Dir(d) == d {
			return l
		}
	}
}

// locate maps each profile file name to a path on disk; names it cannot find are left out.
func (l *locator) locate(ctx context.Context, names []string) (map[string]string, error) {
	found := make(map[string]string, len(names))
	var pending []string
	pkgs := map[string]bool{}
	for _, name := range names {
		if p, ok := l.inModule(name); ok {
			found[name] = p
			continue
		}
		if filepath.IsAbs(name) && exists(name) {
			found[name] = name
			continue
		}
		pending = append(pending, name)
		pkgs[path.Dir(name)] = true
	}
	if len(pending) == 0 {
		return found, nil
	}
	dirs, err := l.goList(ctx, pkgs)
	if err != nil {
		return nil, err
	}
	for _, name := range pending {
		if dir, ok := dirs[path.Dir(name)]; ok {
			if p := filepath.Join(dir, path.Base(name)); exists(p) {
				found[name] = p
			}
		}
	}
	return found, nil
}

func (l *locator) inModule(name string) (string, bool) {
	if l.modPath == "" {
		return "", false
	}
	rest, ok := strings.CutPrefix(name, l.modPath+"/")
	if !ok {
		return "", false
	}
	p := filepath.Join(l.modDir, filepath.FromSlash(rest))
	return p, exists(p)
}

func (l *locator) goList(ctx context.Context, pkgs map[string]bool) (map[string]string, error) {
	args := []string{"list", "-e", "-json=ImportPath,Dir"}
	for p := range pkgs {
		args = append(args, p)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = l.dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("finding the packages of the profile with go list: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	dirs := map[string]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct{ ImportPath, Dir string }
		if err := dec.Decode(&p); err != nil {
			if errors.Is(err, io.EOF) {
				return dirs, nil
			}
			return nil, fmt.Errorf("reading go list output: %w", err)
		}
		if p.Dir != "" {
			dirs[p.ImportPath] = p.Dir
		}
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}

// parseSources parses the files concurrently, one worker a CPU.
func parseSources(ctx context.Context, paths map[string]string) (map[string]*source, error) {
	type job struct{ name, path string }
	jobs := make(chan job)
	var (
		mu       sync.Mutex
		out      = make(map[string]*source, len(paths))
		firstErr error
		wg       sync.WaitGroup
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				s, err := parseSource(j.path)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				out[j.name] = s
				mu.Unlock()
			}
		}()
	}
	for name, p := range paths {
		if ctx.Err() != nil {
			break
		}
		jobs <- job{name, p}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, firstErr
}
