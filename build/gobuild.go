package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/shipyardci/shipyard/internal/gomod"

	"golang.org/x/sync/errgroup"
)

// InputError is a bad setting the user has to fix: the configuration key (build.main), or the option
// (Option, "build.Platforms"), and why.
type InputError struct {
	Key    string
	Option string
	Msg    string
}

func (e *InputError) Error() string {
	if e.Key == "" {
		return e.Msg
	}
	return e.Key + ": " + e.Msg
}

// InputError says that the user's input is wrong: the command exits 2.
func (e *InputError) InputError() bool { return true }

// InputOption is the option that is wrong, or "".
func (e *InputError) InputOption() string { return e.Option }

// Platform is an OS and architecture (and ARM variant), as linux/arm64 or linux/arm/v7.
type Platform struct {
	OS, Arch, Variant string
}

func (p Platform) String() string {
	s := p.OS + "/" + p.Arch
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// goPlatforms is `go tool dist list`, read once.
var goPlatforms = sync.OnceValues(func() ([]string, error) {
	out, err := exec.Command("go", "tool", "dist", "list").Output()
	if err != nil {
		return nil, fmt.Errorf("listing Go's platforms: %w", err)
	}
	return strings.Fields(string(out)), nil
})

// ParsePlatform reads os/arch[/variant], checked against the platforms Go builds for.
func ParsePlatform(s string) (Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return Platform{}, &InputError{Option: "build.Platforms", Msg: fmt.Sprintf("%q is not os/arch[/variant], as linux/amd64", s)}
	}
	p := Platform{OS: parts[0], Arch: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	known, err := goPlatforms()
	if err != nil {
		return Platform{}, err
	}
	if !slices.Contains(known, p.OS+"/"+p.Arch) {
		return Platform{}, &InputError{Option: "build.Platforms", Msg: fmt.Sprintf("%s is not a platform Go builds for (go tool dist list)", s)}
	}
	if p.Variant != "" && !(p.Arch == "arm" && slices.Contains([]string{"v5", "v6", "v7"}, p.Variant)) && !(p.Arch == "arm64" && p.Variant == "v8") {
		return Platform{}, &InputError{Option: "build.Platforms", Msg: fmt.Sprintf("%s: variant %s is not one Go builds (arm/v5, v6, v7 or arm64/v8)", s, p.Variant)}
	}
	return p, nil
}

// GoOptions is what to build.
type GoOptions struct {
	Dir       string     // the module's directory
	Main      string     // the main package, relative to Dir ("." by default)
	Platforms []Platform // default: linux/amd64
	// Version, Commit and Date are injected with -ldflags -X into the variables of Vars (default
	// main.version, main.commit and main.date) when the package has them.
	Version, Commit, Date string
	Vars                  map[string]string // variable → value, overriding the defaults
	CGO                   bool
	Env                   []string // the go command's environment (default: the process's)
	OutDir                string   // where the binaries go
}

// Binary is one built program.
type Binary struct {
	Name     string   `json:"name"`
	Platform Platform `json:"-"`
	Path     string   `json:"path"`
	SHA256   string   `json:"sha256"`
	// BuildID is Go's build ID: it changes exactly when the binary does.
	BuildID string `json:"-"`
}

// BuildGo builds the main package for each platform, in parallel where cores allow, reusing Go's build
// cache.
func BuildGo(ctx context.Context, o GoOptions) ([]Binary, error) {
	if o.Main == "" {
		o.Main = "."
	}
	if len(o.Platforms) == 0 {
		o.Platforms = []Platform{{OS: "linux", Arch: "amd64"}}
	}
	if o.Env == nil {
		o.Env = os.Environ()
	}
	if err := gomod.Check(o.Dir); err != nil {
		return nil, err
	}
	name, vars, err := inspectMain(ctx, o)
	if err != nil {
		return nil, err
	}
	ldflags := []string{"-s", "-w"}
	values := map[string]string{"main.version": o.Version, "main.commit": o.Commit, "main.date": o.Date}
	for k, v := range o.Vars {
		values[k] = v
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if values[k] != "" && (vars[k] || o.Vars[k] != "") {
			ldflags = append(ldflags, "-X", k+"="+values[k])
		}
	}
	bins := make([]Binary, len(o.Platforms))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, runtime.NumCPU()/2))
	for i, p := range o.Platforms {
		g.Go(func() error {
			out := filepath.Join(o.OutDir, strings.ReplaceAll(p.String(), "/", "_"), name)
			b, err := goBuild(gctx, o, p, ldflags, out)
			if err != nil {
				return err
			}
			b.Name = name
			bins[i] = b
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return bins, nil
}

// inspectMain checks that Main is a main package and finds which of the version variables it declares.
func inspectMain(ctx context.Context, o GoOptions) (string, map[string]bool, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-f", "{{.Name}} {{.ImportPath}}", o.Main)
	cmd.Dir, cmd.Env = o.Dir, o.Env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", nil, &InputError{Key: "build.main", Msg: fmt.Sprintf("%s is not a package of %s: %s", o.Main, o.Dir, strings.TrimSpace(stderr.String()))}
	}
	fields := strings.Fields(string(out))
	if len(fields) != 2 || fields[0] != "main" {
		return "", nil, &InputError{Key: "build.main", Msg: fmt.Sprintf("%s is package %s, not a main package", o.Main, fields[0])}
	}
	name := filepath.Base(fields[1])
	// The version variables the package declares at its top level.
	vars := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(o.Dir, o.Main, "*.go"))
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.VAR {
				continue
			}
			for _, spec := range gen.Specs {
				for _, n := range spec.(*ast.ValueSpec).Names {
					vars["main."+n.Name] = true
				}
			}
		}
	}
	return name, vars, nil
}

func goBuild(ctx context.Context, o GoOptions, p Platform, ldflags []string, out string) (Binary, error) {
	env := append(slices.Clone(o.Env), "GOOS="+p.OS, "GOARCH="+p.Arch, "CGO_ENABLED=0")
	if o.CGO {
		env[len(env)-1] = "CGO_ENABLED=1"
	}
	switch {
	case p.Arch == "arm" && p.Variant != "":
		env = append(env, "GOARM="+strings.TrimPrefix(p.Variant, "v"))
	case p.Arch == "amd64" && p.Variant != "":
		env = append(env, "GOAMD64="+p.Variant)
	}
	args := []string{"build", "-trimpath", "-ldflags", strings.Join(quoteAll(ldflags), " "), "-o", out, o.Main}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Env = o.Dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if o.CGO && (strings.Contains(msg, "gcc") || strings.Contains(msg, "cgo")) {
			msg += "\n(cgo is on: cross-compiling for " + p.String() + " needs a C cross-compiler in CC, or leave cgo off)"
		}
		return Binary{}, fmt.Errorf("building %s for %s: %v\n%s", o.Main, p, err, msg)
	}
	sum, err := fileSHA256(out)
	if err != nil {
		return Binary{}, err
	}
	id, err := goBuildID(out)
	if err != nil {
		return Binary{}, err
	}
	return Binary{Platform: p, Path: out, SHA256: sum, BuildID: id}, nil
}

// quoteAll quotes the -X values that hold spaces for the go command's -ldflags parser, which takes
// single or double quotes and no escapes.
func quoteAll(flags []string) []string {
	out := make([]string, len(flags))
	for i, f := range flags {
		switch {
		case !strings.ContainsAny(f, " \t'\""):
		case !strings.Contains(f, `"`):
			f = `"` + f + `"`
		default:
			f = "'" + f + "'"
		}
		out[i] = f
	}
	return out
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
