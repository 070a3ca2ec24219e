// Package npmrc reads npm's registry configuration as npm does: the registry and @scope:registry
// settings and the //host/path/:_authToken credentials of the project's .npmrc and the user's
// (NPM_CONFIG_USERCONFIG, else ~/.npmrc), ${VAR} references expanded, and NPM_CONFIG_REGISTRY. The
// audit reads packuments with it, publish publishes with it.
package npmrc

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// DefaultRegistry is npm's public registry.
const DefaultRegistry = "https://registry.npmjs.org/"

// Config is the registries and their credentials.
type Config struct {
	Registry string            // the default registry URL, with a trailing slash
	Scopes   map[string]string // @scope → registry URL
	auth     map[string]string // "//host/path/" → token
}

// Error is a line of an .npmrc that is not key=value (exit code 2).
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// InputError marks the file as the user's to fix.
func (e *Error) InputError() bool { return true }

// Read reads dir/.npmrc, then the user's, through getenv; the project's settings win.
func Read(dir string, getenv func(string) string) (*Config, error) {
	c := &Config{Registry: DefaultRegistry, Scopes: map[string]string{}, auth: map[string]string{}}
	user := getenv("NPM_CONFIG_USERCONFIG")
	if user == "" && getenv("HOME") != "" {
		user = filepath.Join(getenv("HOME"), ".npmrc")
	}
	// The project's settings win over the user's: read the user's first.
	for _, file := range []string{user, filepath.Join(dir, ".npmrc")} {
		if file == "" {
			continue
		}
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		if err := c.read(file, string(data), getenv); err != nil {
			return nil, err
		}
	}
	if reg := getenv("NPM_CONFIG_REGISTRY"); reg != "" {
		c.Registry = WithSlash(reg)
	}
	return c, nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)\}`)

func (c *Config) read(file, data string, getenv func(string) string) error {
	for i, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return &Error{File: file, Line: i + 1, Msg: fmt.Sprintf("%q is not key=value", line)}
		}
		key, value = strings.TrimSpace(key), strings.Trim(strings.TrimSpace(value), `"`)
		value = envRef.ReplaceAllStringFunc(value, func(m string) string { return getenv(m[2 : len(m)-1]) })
		switch {
		case key == "registry":
			c.Registry = WithSlash(value)
		case strings.HasPrefix(key, "@") && strings.HasSuffix(key, ":registry"):
			c.Scopes[strings.TrimSuffix(key, ":registry")] = WithSlash(value)
		case strings.HasPrefix(key, "//") && strings.HasSuffix(key, ":_authToken"):
			c.auth[strings.TrimSuffix(key, ":_authToken")] = value
		}
	}
	return nil
}

// WithSlash is u with one trailing slash.
func WithSlash(u string) string { return strings.TrimSuffix(u, "/") + "/" }

// RegistryFor is the registry of a package: its scope's, else the default.
func (c *Config) RegistryFor(name string) string {
	if scope, _, ok := strings.Cut(name, "/"); ok && strings.HasPrefix(name, "@") {
		if reg, ok := c.Scopes[scope]; ok {
			return reg
		}
	}
	return c.Registry
}

// Token is the _authToken of the longest "//host/path/" prefix of u, as npm matches them.
func (c *Config) Token(u *url.URL) string {
	best, token := "", ""
	for prefix, t := range c.auth {
		if strings.HasPrefix("//"+u.Host+u.Path, prefix) && len(prefix) > len(best) {
			best, token = prefix, t
		}
	}
	return token
}

// Tokens are every token configured, for a caller to mask.
func (c *Config) Tokens() []string {
	var out []string
	for _, t := range c.auth {
		out = append(out, t)
	}
	return out
}

// PackagePath is a package's path in its registry: the name, a scope's / escaped.
func PackagePath(name string) string { return strings.Replace(url.PathEscape(name), "%40", "@", 1) }
