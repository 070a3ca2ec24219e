package audit

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// InputError is input the user has to fix: a manifest that cannot be read (the file and line, and why),
// an environment variable (File names it), or an option of the audit (Option).
type InputError struct {
	File string
	Line int
	// Option is the option that is wrong, "audit.VulnDB", when the problem is not in a file.
	Option string
	Msg    string
}

func (e *InputError) Error() string {
	switch {
	case e.File == "":
		return e.Msg
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// InputError says that the user's input is wrong: the command exits 2.
func (e *InputError) InputError() bool { return true }

// InputOption is the option that is wrong, or "".
func (e *InputError) InputOption() string { return e.Option }

// GoModule is what audit reads of a go.mod.
type GoModule struct {
	File     string // the go.mod's path
	Path     string // the module's own path
	Requires []GoRequire
	// Excluded versions are never proposed (exclude directives).
	Excluded map[module.Version]bool
	parsed   *modfile.File
}

// GoRequire is one require directive.
type GoRequire struct {
	Path, Version string
	Indirect      bool
	Line          int
}

// ReadGoMod reads and parses the go.mod at path.
func ReadGoMod(path string) (*GoModule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &InputError{File: path, Msg: fmt.Sprintf("cannot read it: %v", errors.Unwrap(err))}
	}
	return ParseGoMod(path, data)
}

// ParseGoMod parses the go.mod data read from file.
func ParseGoMod(file string, data []byte) (*GoModule, error) {
	f, err := modfile.Parse(file, data, nil)
	if err != nil {
		var list modfile.ErrorList
		if errors.As(err, &list) && len(list) > 0 {
			return nil, &InputError{File: file, Line: list[0].Pos.Line, Msg: list[0].Err.Error()}
		}
		return nil, &InputError{File: file, Msg: err.Error()}
	}
	if f.Module == nil {
		return nil, &InputError{File: file, Line: 1, Msg: "no module directive"}
	}
	if f.Module.Mod.Path == "" {
		return nil, &InputError{File: file, Line: f.Module.Syntax.Start.Line, Msg: "the module path is empty"}
	}
	m := &GoModule{File: file, Path: f.Module.Mod.Path, Excluded: map[module.Version]bool{}, parsed: f}
	for _, r := range f.Require {
		m.Requires = append(m.Requires, GoRequire{Path: r.Mod.Path, Version: r.Mod.Version, Indirect: r.Indirect, Line: r.Syntax.Start.Line})
	}
	for _, x := range f.Exclude {
		m.Excluded[x.Mod] = true
	}
	return m, nil
}
