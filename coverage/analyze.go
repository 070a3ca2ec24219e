package coverage

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Counts is covered statements out of a total.
type Counts struct {
	Statements int `json:"statements"`
	Covered    int `json:"covered"`
}

// Percent is the covered share, 100 when there is nothing to cover.
func (c Counts) Percent() float64 {
	if c.Statements == 0 {
		return 100
	}
	return 100 * float64(c.Covered) / float64(c.Statements)
}

// Uncovered is the number of statements that never ran.
func (c Counts) Uncovered() int { return c.Statements - c.Covered }

func (c *Counts) add(o Counts) { c.Statements += o.Statements; c.Covered += o.Covered }

func (c *Counts) addBlock(b Block) {
	c.Statements += b.NumStmt
	if b.Count > 0 {
		c.Covered += b.NumStmt
	}
}

// FuncCounts is how many functions with statements ran at least one of them.
type FuncCounts struct {
	Total  int `json:"total"`
	Called int `json:"called"`
}

// Percent is the share of functions called, 100 when there is none.
func (c FuncCounts) Percent() float64 {
	if c.Total == 0 {
		return 100
	}
	return 100 * float64(c.Called) / float64(c.Total)
}

// FuncCoverage is one function's statements.
type FuncCoverage struct {
	Name string `json:"name"`
	Line int    `json:"line"`
	Counts
}

// FileCoverage is one file's statements and functions.
type FileCoverage struct {
	// Name is the file as the profile names it; Path is where it was found, relative to the module root
	// when it lies inside it, or "" when its source was not found.
	Name    string `json:"name"`
	Path    string `json:"path"`
	Package string `json:"package"`
	Counts
	// Ignored counts the statements left out by // coverage:ignore.
	Ignored   Counts         `json:"ignored"`
	Functions []FuncCoverage `json:"functions"`
}

// PackageCoverage sums the files of one package.
type PackageCoverage struct {
	Name string `json:"name"`
	// Dir is the package's directory relative to the module root, when its sources were found.
	Dir string `json:"dir"`
	Counts
	Files int `json:"files"`
}

// Excluded is a file left out of the totals, and why.
type Excluded struct {
	Name   string `json:"name"`
	Reason string `json:"reason"` // "generated" or "excluded by PATTERN"
}

// Report is the coverage of a profile.
type Report struct {
	// Root is the module root the file paths are relative to ("" when no go.mod was found).
	Root      string            `json:"root"`
	Mode      string            `json:"mode"`
	Total     Counts            `json:"total"`
	Functions FuncCounts        `json:"functions"`
	Ignored   Counts            `json:"ignored"`
	Packages  []PackageCoverage `json:"packages"`
	Files     []FileCoverage    `json:"files"`
	Excluded  []Excluded        `json:"excluded"`
	// NoSource lists the files whose source was not found: all their blocks count, as go tool cover -func
	// would refuse them.
	NoSource []string `json:"no_source"`

	// measured holds, by profile name, where each counted file is and what its source says.
	measured map[string]measuredFile
}

type measuredFile struct {
	abs, rel string
	src      *source
}

// Options says where the sources are and what to leave out.
type Options struct {
	Dir              string
	Exclude          []string
	IncludeGenerated bool
}

// Option changes one of the Options.
type Option func(*Options)

// WithDir is the directory of the module the profile measured (default ".").
func WithDir(dir string) Option { return func(o *Options) { o.Dir = dir } }

// WithExclude leaves out the files matching these globs (** for any directories), matched against the path
// relative to the module root and against the profile's name.
func WithExclude(globs ...string) Option {
	return func(o *Options) { o.Exclude = append(o.Exclude, globs...) }
}

// WithGenerated counts generated files ("// Code generated … DO NOT EDIT."), left out by default.
func WithGenerated(include bool) Option { return func(o *Options) { o.IncludeGenerated = include } }

// Analyze computes the coverage of p by file, package and in total.
func Analyze(ctx context.Context, p *Profile, opts ...Option) (*Report, error) {
	o := &Options{Dir: "."}
	for _, opt := range opts {
		opt(o)
	}
	if err := checkPatterns(o.Exclude); err != nil {
		return nil, err
	}
	loc := newLocator(o.Dir)
	names := make([]string, len(p.Files))
	for i, fp := range p.Files {
		names[i] = fp.Name
	}
	paths, err := loc.locate(ctx, names)
	if err != nil {
		return nil, err
	}
	sources, err := parseSources(ctx, paths)
	if err != nil {
		return nil, err
	}

	r := &Report{Root: loc.modDir, Mode: p.Mode, Packages: []PackageCoverage{}, Files: []FileCoverage{}, Excluded: []Excluded{}, NoSource: []string{},
		measured: map[string]measuredFile{}}
	pkgs := map[string]*PackageCoverage{}
	for _, fp := range p.Files {
		rel := loc.relative(paths[fp.Name])
		src := sources[fp.Name]
		if reason := excluded(o, fp.Name, rel, src); reason != "" {
			r.Excluded = append(r.Excluded, Excluded{Name: fp.Name, Reason: reason})
			continue
		}
		fc := FileCoverage{Name: fp.Name, Path: rel, Package: path.Dir(fp.Name), Functions: []FuncCoverage{}}
		if abs, err := filepath.Abs(paths[fp.Name]); err == nil && paths[fp.Name] != "" {
			if resolved, err := filepath.EvalSymlinks(abs); err == nil {
				abs = resolved // as git names files: /private/var, not /var
			}
			r.measured[fp.Name] = measuredFile{abs: abs, rel: rel, src: src}
		}
		if src == nil {
			r.NoSource = append(r.NoSource, fp.Name)
			for _, b := range fp.Blocks {
				fc.Counts.addBlock(b)
			}
		} else {
			fc.measure(fp.Blocks, src)
		}
		r.Total.add(fc.Counts)
		r.Ignored.add(fc.Ignored)
		for _, f := range fc.Functions {
			if f.Statements == 0 {
				continue // an empty function cannot tell whether it was called
			}
			r.Functions.Total++
			if f.Covered > 0 {
				r.Functions.Called++
			}
		}
		pc := pkgs[fc.Package]
		if pc == nil {
			pc = &PackageCoverage{Name: fc.Package, Dir: packageDir(fc.Path)}
			pkgs[fc.Package] = pc
		}
		pc.add(fc.Counts)
		pc.Files++
		r.Files = append(r.Files, fc)
	}
	for _, pc := range pkgs {
		r.Packages = append(r.Packages, *pc)
	}
	slices.SortFunc(r.Packages, func(a, b PackageCoverage) int { return strings.Compare(a.Name, b.Name) })
	return r, nil
}

func excluded(o *Options, name, rel string, src *source) string {
	for _, g := range o.Exclude {
		if match(g, rel) || match(g, name) {
			return "excluded by " + g
		}
	}
	if src != nil && src.generated && !o.IncludeGenerated {
		return "generated"
	}
	return ""
}

// PatternError is an exclude glob that does not parse.
type PatternError struct{ Pattern string }

func (e *PatternError) Error() string { return fmt.Sprintf("invalid exclude pattern %q", e.Pattern) }

// InputError says that the pattern given is malformed: the command exits 2.
func (e *PatternError) InputError() bool { return true }

// InputOption is the option the pattern was given in.
func (e *PatternError) InputOption() string { return "coverage.Exclude" }

func checkPatterns(globs []string) error {
	for _, g := range globs {
		if !doublestar.ValidatePattern(g) {
			return &PatternError{Pattern: g}
		}
	}
	return nil
}

func match(glob, name string) bool {
	if name == "" {
		return false
	}
	ok, _ := doublestar.Match(glob, name)
	return ok
}

// measure counts the blocks inside function declarations, as go tool cover -func does, per function;
// blocks inside an ignored range go to Ignored instead. Blocks and functions are both sorted by start.
func (fc *FileCoverage) measure(blocks []Block, src *source) {
	bi := 0
	for _, f := range src.funcs {
		fn := FuncCoverage{Name: f.name, Line: f.start.line}
		for bi < len(blocks) && !(pos{blocks[bi].EndLine, blocks[bi].EndCol}).after(f.start) {
			bi++ // outside any function declaration: go tool cover -func does not count it
		}
		for ; bi < len(blocks) && (pos{blocks[bi].StartLine, blocks[bi].StartCol}).before(f.end); bi++ {
			b := blocks[bi]
			if src.isIgnored(b) {
				fc.Ignored.addBlock(b)
				continue
			}
			fn.addBlock(b)
		}
		if fn.Statements > 0 || !src.funcIgnored(f) {
			fc.Functions = append(fc.Functions, fn)
			fc.Counts.add(fn.Counts)
		}
	}
}

func (p pos) after(o pos) bool { return o.before(p) }

func (s *source) isIgnored(b Block) bool {
	for _, sp := range s.ignored {
		if sp.contains(b) {
			return true
		}
	}
	return false
}

func (s *source) funcIgnored(f funcExtent) bool {
	for _, sp := range s.ignored {
		if sp == f.span {
			return true
		}
	}
	return false
}

// relative is p relative to the module root when it lies inside it, with forward slashes.
func (l *locator) relative(p string) string {
	if p == "" || l.modDir == "" {
		return filepath.ToSlash(p)
	}
	if rel, err := filepath.Rel(l.modDir, p); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return filepath.ToSlash(p)
}
