// Package publish packs an npm package as npm pack does and publishes it to an npm registry through
// the registry's API, with no npm at publish time.
package publish

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// defaults are npm-packlist's rules for every directory: version control, editor and OS litter, logs.
var defaults = []string{
	".npmignore", ".gitignore", "**/.git", "**/.svn", "**/.hg", "**/CVS", "**/.git/**", "**/.svn/**", "**/.hg/**",
	"**/CVS/**", "/.lock-wscript", "/.wafpickle-*", "/build/config.gypi", "npm-debug.log", "**/.npmrc", ".*.swp",
	".DS_Store", "**/.DS_Store/**", "._*", "**/._*/**", "*.orig", "/archived-packages/**",
}

// rule is one line of an ignore file, as ignore-walk reads it (minimatch with matchBase, dot, nocase).
type rule struct {
	negate   bool
	segments []string // the pattern split at "/", a leading "/" dropped
	base     bool     // no "/" in the pattern: it matches a basename at any depth
}

func parseRules(lines []string) []rule {
	var out []rule
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		r := rule{}
		if strings.HasPrefix(l, "!") {
			r.negate, l = true, l[1:]
		}
		l = strings.TrimSuffix(l, "/") // a directory pattern: its contents follow with **
		r.base = !strings.Contains(l, "/")
		r.segments = strings.Split(strings.TrimPrefix(strings.ToLower(l), "/"), "/")
		out = append(out, r)
	}
	return out
}

// match says whether the rule matches p (a "/"-separated path relative to the rule's directory); with
// partial, whether it could match something inside the directory p.
func (r rule) match(p string, partial bool) bool {
	p = strings.ToLower(p)
	parts := strings.Split(p, "/")
	if r.base && segmentMatch(r.segments[0], parts[len(parts)-1]) {
		return true
	}
	return segmentsMatch(r.segments, parts, partial)
}

func segmentMatch(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

// segmentsMatch matches path segments against pattern segments, ** spanning any number of them; with
// partial, a path that ends while the pattern goes on matches.
func segmentsMatch(pat, parts []string, partial bool) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			if len(pat) == 1 {
				return true
			}
			for i := 0; i <= len(parts); i++ {
				if segmentsMatch(pat[1:], parts[i:], partial) {
					return true
				}
			}
			return false
		}
		if len(parts) == 0 {
			return partial
		}
		if !segmentMatch(pat[0], parts[0]) {
			return false
		}
		pat, parts = pat[1:], parts[1:]
	}
	return len(parts) == 0
}

// walker is one directory's rules, and its parent's.
type walker struct {
	parent *walker
	name   string // the directory's name in its parent
	sets   [][]rule
}

// included decides an entry of the walker's directory as ignore-walk does: the parent's verdict on
// NAME/entry first, then each rule set in order, the last matching rule deciding.
func (w *walker) included(entry string, dir bool) bool {
	in := true
	if w.parent != nil {
		in = w.parent.included(w.name+"/"+entry, dir)
	}
	base := entry[strings.LastIndex(entry, "/")+1:]
	for _, set := range w.sets {
		for _, r := range set {
			if r.negate == in {
				continue
			}
			m := r.match(entry, false)
			if !m && dir {
				m = r.match(entry+"/", false) || (r.negate && r.match(entry, true))
				if !m && r.base {
					m = segmentMatch(r.segments[0], base)
				}
			}
			if m {
				in = r.negate
			}
		}
	}
	return in
}

// Manifest is what pack reads of package.json.
type Manifest struct {
	Name    string          `json:"name"`
	Version string          `json:"version"`
	Main    string          `json:"main"`
	Browser json.RawMessage `json:"browser"`
	Bin     json.RawMessage `json:"bin"`
	Files   []string        `json:"files"`
}

// bins are the package's executables: bin as a string (named for the package) or a map.
func (m Manifest) bins() []string {
	var one string
	if json.Unmarshal(m.Bin, &one) == nil && one != "" {
		return []string{one}
	}
	var many map[string]string
	_ = json.Unmarshal(m.Bin, &many)
	var out []string
	for _, b := range many {
		out = append(out, b)
	}
	slices.Sort(out)
	return out
}

// ignoreFile is a directory's own rules: .npmignore, else .gitignore.
func ignoreFile(dir string) []string {
	for _, name := range []string{".npmignore", ".gitignore"} {
		if data, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			return strings.Split(string(data), "\n")
		}
	}
	return nil
}

// Files lists what npm pack puts in the package in dir, as npm-packlist decides (npm 11): everything
// but the defaults and what .npmignore (else .gitignore) leaves out, or only what files names; always
// package.json, README, LICENSE/LICENCE, COPYING, main, browser and bin; never node_modules, .git,
// .npmrc or lock files. Paths are relative, "/"-separated, sorted.
func Files(dir string, m Manifest) ([]string, error) {
	strict := []string{"/.git", "!/package.json", "!/readme{,.*[^~$]}", "!/copying{,.*[^~$]}", "!/license{,.*[^~$]}",
		"!/licence{,.*[^~$]}", "/.git", "/node_modules", ".npmrc", "/package-lock.json", "/yarn.lock", "/pnpm-lock.yaml", "/bun.lockb"}
	var required []string
	var pkgRules []string
	if m.Files != nil {
		pkgRules = append(pkgRules, "*")
		for _, f := range m.Files {
			f = strings.TrimPrefix(f, ".")
			if strings.HasSuffix(f, "/*") {
				f += "*"
			}
			st, err := os.Lstat(filepath.Join(dir, strings.TrimLeft(f, "!")))
			switch {
			case err == nil && st.Mode().IsRegular():
				strict = append([]string{"!" + f}, strict...)
				required = append(required, strings.TrimPrefix(f, "/"))
			case err == nil && st.IsDir():
				pkgRules = append(pkgRules, "!"+f, "!"+strings.TrimSuffix(f, "/")+"/**")
			case err != nil:
				pkgRules = append(pkgRules, "!"+f)
			}
		}
	}
	var browser string
	if json.Unmarshal(m.Browser, &browser) == nil && browser != "" {
		strict = append(strict, "!/"+browser)
	}
	if m.Main != "" {
		strict = append(strict, "!/"+strings.TrimPrefix(m.Main, "./"))
	}
	for _, b := range m.bins() {
		strict = append(strict, "!/"+strings.TrimPrefix(b, "./"))
	}
	root := &walker{sets: [][]rule{parseRules(defaults)}}
	if pkgRules != nil {
		root.sets = append(root.sets, parseRules(pkgRules))
	} else {
		root.sets = append(root.sets, parseRules(ignoreFile(dir)))
	}
	root.sets = append(root.sets, parseRules(expandBraces(strict)))
	var out []string
	if err := walk(dir, "", root, required, &out); err != nil {
		return nil, err
	}
	slices.Sort(out)
	return out, nil
}

// walk lists the included files of dir (rel from the package root) into out.
func walk(dir, rel string, w *walker, required []string, out *[]string) error {
	entries, err := os.ReadDir(filepath.Join(dir, rel))
	if err != nil {
		return fmt.Errorf("packing %s: %w", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.Contains(name, "*") {
			continue // npm refuses names that are bad on Windows
		}
		info, err := os.Lstat(filepath.Join(dir, rel, name))
		if err != nil {
			return err
		}
		switch {
		case info.Mode().IsRegular():
			if w.included(name, false) {
				*out = append(*out, path.Join(rel, name))
			}
		case info.IsDir():
			if !w.included(name, true) {
				continue
			}
			child := &walker{parent: w, name: name, sets: [][]rule{parseRules(defaults), parseRules(ignoreFile(filepath.Join(dir, rel, name)))}}
			var strict []string
			for _, f := range required {
				if after, ok := strings.CutPrefix(f, name+"/"); ok {
					strict = append(strict, "!"+after)
				}
			}
			child.sets = append(child.sets, parseRules(append([]string{"/.git"}, strict...)))
			var sub []string
			for _, f := range required {
				if after, ok := strings.CutPrefix(f, name+"/"); ok {
					sub = append(sub, after)
				}
			}
			if err := walk(dir, path.Join(rel, name), child, sub, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// expandBraces expands the one brace form npm-packlist's strict rules use, {,.*[^~$]}: the name alone,
// or with an extension that does not end in ~ or $.
func expandBraces(rules []string) []string {
	var out []string
	for _, r := range rules {
		if before, ok := strings.CutSuffix(r, "{,.*[^~$]}"); ok {
			out = append(out, before, before+".*[^~$]")
			continue
		}
		out = append(out, r)
	}
	return out
}
