package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// NpmProject is what audit reads of a package.json and its package-lock.json.
type NpmProject struct {
	File         string // package.json's path
	Dependencies []NpmDependency
}

// NpmDependency is one entry of dependencies, devDependencies or optionalDependencies.
type NpmDependency struct {
	Name      string // the name in the registry (an npm: alias's target)
	Spec      string // the range, tag or URL of package.json
	Type      string // dependencies, devDependencies or optionalDependencies
	Installed string // the version package-lock.json (or node_modules) has, "" when none
	Line      int
	key       string // its name in package.json, the alias it is installed under
}

var npmSections = []string{"dependencies", "devDependencies", "optionalDependencies"}

// ReadNpmProject reads dir/package.json and, when present, dir/package-lock.json (lockfile v2 or v3) for
// the installed versions, else the versions in dir/node_modules.
func ReadNpmProject(dir string) (*NpmProject, error) {
	file := filepath.Join(dir, "package.json")
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &InputError{File: file, Msg: fmt.Sprintf("cannot read it: %v", errors.Unwrap(err))}
	}
	p, err := ParsePackageJSON(file, data)
	if err != nil {
		return nil, err
	}
	lockFile := filepath.Join(dir, "package-lock.json")
	installed := map[string]string{}
	if lock, err := os.ReadFile(lockFile); err == nil {
		if installed, err = ParsePackageLock(lockFile, lock); err != nil {
			return nil, err
		}
	}
	for i, d := range p.Dependencies {
		v, ok := installed[d.alias()]
		if !ok {
			v = nodeModulesVersion(dir, d.alias())
		}
		p.Dependencies[i].Installed = v
	}
	return p, nil
}

// alias is the name the dependency is installed under: the package.json key.
func (d NpmDependency) alias() string { return d.key }

// ParsePackageJSON parses package.json data; errors name the file and line.
func ParsePackageJSON(file string, data []byte) (*NpmProject, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, jsonError(file, data, err)
	}
	p := &NpmProject{File: file}
	for _, section := range npmSections {
		raw, ok := doc[section]
		if !ok {
			continue
		}
		var deps map[string]string
		if err := json.Unmarshal(raw, &deps); err != nil {
			return nil, &InputError{File: file, Line: keyLine(data, section), Msg: fmt.Sprintf("%s must map package names to version ranges", section)}
		}
		names := make([]string, 0, len(deps))
		for n := range deps {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, key := range names {
			spec := deps[key]
			name := key
			if target, ok := strings.CutPrefix(spec, "npm:"); ok {
				at := strings.LastIndex(target, "@")
				if at <= 0 {
					name, spec = target, "*"
				} else {
					name, spec = target[:at], target[at+1:]
				}
			}
			if name == "" {
				return nil, &InputError{File: file, Line: keyLine(data, section, key), Msg: fmt.Sprintf("an empty package name in %s", section)}
			}
			p.Dependencies = append(p.Dependencies, NpmDependency{Name: name, Spec: spec, Type: section, Line: keyLine(data, section, key), key: key})
		}
	}
	return p, nil
}

// ParsePackageLock reads the installed versions of a lockfile v2 or v3: "node_modules/NAME" entries of
// its "packages" (top-level ones only, those the project's own dependencies resolve to).
func ParsePackageLock(file string, data []byte) (map[string]string, error) {
	var lock struct {
		LockfileVersion int `json:"lockfileVersion"`
		Packages        map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(data, &lock); err != nil {
		return nil, jsonError(file, data, err)
	}
	if lock.LockfileVersion < 2 {
		return nil, &InputError{File: file, Line: keyLine(data, "lockfileVersion"), Msg: fmt.Sprintf("lockfile version %d: run npm install with npm 7 or later to write version 2 or 3", lock.LockfileVersion)}
	}
	out := map[string]string{}
	for path, p := range lock.Packages {
		name, ok := strings.CutPrefix(path, "node_modules/")
		if !ok || strings.Contains(name, "/node_modules/") {
			continue
		}
		out[name] = p.Version
	}
	return out, nil
}

// lockTree is every package of dir/package-lock.json (v2 or v3), nested ones included, by name, with the
// versions installed: what npm audit asks the registry about. Empty without a lockfile.
func lockTree(dir string) map[string][]string {
	data, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return nil
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
			Link    bool   `json:"link"`
		} `json:"packages"`
	}
	if json.Unmarshal(data, &lock) != nil {
		return nil
	}
	tree := map[string][]string{}
	for path, p := range lock.Packages {
		i := strings.LastIndex(path, "node_modules/")
		if i < 0 || p.Version == "" || p.Link {
			continue
		}
		name := path[i+len("node_modules/"):]
		if !slices.Contains(tree[name], p.Version) {
			tree[name] = append(tree[name], p.Version)
		}
	}
	return tree
}

func nodeModulesVersion(dir, name string) string {
	data, err := os.ReadFile(filepath.Join(dir, "node_modules", filepath.FromSlash(name), "package.json"))
	if err != nil {
		return ""
	}
	var p struct {
		Version string `json:"version"`
	}
	_ = json.Unmarshal(data, &p)
	return p.Version
}

// jsonError turns a decoding error into one naming the file and line.
func jsonError(file string, data []byte, err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return &InputError{File: file, Line: lineAt(data, syntax.Offset), Msg: "invalid JSON: " + syntax.Error()}
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return &InputError{File: file, Line: 1, Msg: "the document must be a JSON object, not " + typeErr.Value}
	case errors.As(err, &typeErr):
		return &InputError{File: file, Line: lineAt(data, typeErr.Offset), Msg: fmt.Sprintf("%s must be %s, not %s", typeErr.Field, typeErr.Type, typeErr.Value)}
	}
	return &InputError{File: file, Msg: err.Error()}
}

func lineAt(data []byte, offset int64) int {
	offset = min(max(offset, 0), int64(len(data)))
	return bytes.Count(data[:offset], []byte("\n")) + 1
}

// keyLine is the line of the key at path (["dependencies", "left-pad"]: the "left-pad" key of the
// top-level "dependencies" object), found with a streaming decoder; 0 when it is not there.
func keyLine(data []byte, path ...string) int {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object, expectKey bool
		onPath            bool // this object is the one at path[:depth]
	}
	stack := []frame{}
	pending := false // the last key read was on the path: the value it opens is too
	for {
		tok, err := dec.Token()
		if err != nil {
			return 0
		}
		top := len(stack) - 1
		isKey := top >= 0 && stack[top].object && stack[top].expectKey
		if top >= 0 && stack[top].object {
			stack[top].expectKey = !stack[top].expectKey
		}
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				onPath := top < 0 || pending
				stack = append(stack, frame{object: t == '{', expectKey: true, onPath: onPath})
			} else {
				stack = stack[:top]
			}
			pending = false
		case string:
			pending = false
			if !isKey || !stack[top].onPath || top >= len(path) || t != path[top] {
				continue
			}
			if top == len(path)-1 {
				return lineAt(data, dec.InputOffset())
			}
			pending = true
		default:
			pending = false
		}
	}
}
