package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FileName is the configuration file looked up at the repository root.
const FileName = "shipyard.yaml"

// EnvPrefix starts every environment variable that overrides a key.
const EnvPrefix = "SHIPYARD_"

// Loaded is a configuration with the origin of each key that was set.
type Loaded struct {
	Config
	// Path is the file that was read, or "" when there was none.
	Path string
	// origin maps a dotted key to where its value came from ("shipyard.yaml:3", "SHIPYARD_VERSION_TAG_PREFIX").
	origin map[string]string
}

// Error is a configuration error: a bad file, key or environment variable. Where says which.
type Error struct {
	Where string
	Msg   string
}

func (e *Error) Error() string { return e.Where + ": " + e.Msg }

// Load reads path, when it exists, and applies the SHIPYARD_* variables of environ. A missing file is an
// error only when the user named it (explicit).
func Load(path string, explicit bool, environ []string) (*Loaded, error) {
	l := &Loaded{origin: map[string]string{}}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		l.Path = path
		if err := l.decode(path, data); err != nil {
			return nil, err
		}
	case errors.Is(err, fs.ErrNotExist) && !explicit:
	default:
		return nil, &Error{Where: path, Msg: "cannot read configuration: " + unwrapPath(err)}
	}
	if err := l.applyEnv(environ); err != nil {
		return nil, err
	}
	return l, nil
}

// Find returns the configuration path for a command run in dir: shipyard.yaml at the root of the git
// repository that holds dir, or in dir itself outside a repository.
func Find(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return filepath.Join(dir, FileName)
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return filepath.Join(d, FileName)
		}
		if filepath.Dir(d) == d {
			return filepath.Join(abs, FileName)
		}
	}
}

func unwrapPath(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func (l *Loaded) decode(path string, data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return yamlError(path, err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return &Error{Where: fmt.Sprintf("%s:%d", path, root.Line), Msg: "expected a mapping of keys at the top level"}
	}
	if err := l.check(path, root, reflect.TypeOf(l.Config), ""); err != nil {
		return err
	}
	if err := root.Decode(&l.Config); err != nil {
		return yamlError(path, err)
	}
	return nil
}

// check walks the document against the schema type, so that an unknown key is reported with its full path
// and line, and records where each known key was set.
func (l *Loaded) check(path string, n *yaml.Node, t reflect.Type, prefix string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case n.Kind == yaml.AliasNode:
		return l.check(path, n.Alias, t, prefix)
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := join(prefix, k.Value)
			f, ok := fieldByKey(t, k.Value)
			if !ok {
				msg := fmt.Sprintf("unknown key %q", key)
				if s := suggest(k.Value, keysOf(t)); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				return &Error{Where: fmt.Sprintf("%s:%d", path, k.Line), Msg: msg}
			}
			l.origin[key] = fmt.Sprintf("%s:%d", path, k.Line)
			if err := l.check(path, v, f.Type, key); err != nil {
				return err
			}
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Map:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := l.check(path, n.Content[i+1], t.Elem(), join(prefix, n.Content[i].Value)); err != nil {
				return err
			}
		}
	case n.Kind == yaml.SequenceNode && t.Kind() == reflect.Slice:
		for i, item := range n.Content {
			if err := l.check(path, item, t.Elem(), fmt.Sprintf("%s[%d]", prefix, i)); err != nil {
				return err
			}
		}
	}
	// Kind mismatches (a list where a string belongs) are left to the decoder, which names the line.
	return nil
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func yamlKey(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.IsExported() && yamlKey(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func keysOf(t reflect.Type) []string {
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.IsExported() && yamlKey(f) != "" {
			keys = append(keys, yamlKey(f))
		}
	}
	return keys
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns the decoder's "line N: msg" errors into "path:N: msg" lines.
func yamlError(path string, err error) error {
	var lines []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		lines = te.Errors
	} else {
		lines = []string{err.Error()}
	}
	var first *Error
	var msgs []string
	for _, s := range lines {
		e := &Error{Where: path, Msg: strings.TrimPrefix(s, "yaml: ")}
		if m := yamlLine.FindStringSubmatch(s); m != nil {
			e = &Error{Where: path + ":" + m[1], Msg: m[2]}
		}
		if first == nil {
			first = e
		}
		msgs = append(msgs, e.Error())
	}
	if len(msgs) > 1 {
		first.Msg += fmt.Sprintf(" (and %d more: %s)", len(msgs)-1, strings.Join(msgs[1:], "; "))
	}
	return first
}

// suggest returns the candidate closest to key, when it is close enough to be a typo.
func suggest(key string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := distance(key, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
