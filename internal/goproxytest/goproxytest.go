// Package goproxytest writes file:// GOPROXY trees for tests and benchmarks: for each module its version
// list, and each version's .info and .mod, or only @latest for a module without tags.
package goproxytest

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// Version is one version of a module.
type Version struct {
	Version string
	Time    time.Time
	// GoMod is more of its go.mod after the go line: retract directives, requires.
	GoMod string
	// Go is its go.mod's go version (default 1.21).
	Go string
	// Deprecated puts a "// Deprecated:" comment on its module line.
	Deprecated string
	// Pseudo versions are not in the list, unless Listed (as a proxy lists one that someone fetched); a
	// module with only those has an @latest.
	Pseudo, Listed bool
	// Bare serves its go.mod as the one line "module PATH", as a proxy does for a version without one.
	Bare bool
	// Files, when set, are the module's files (name → content) besides its go.mod, served as its .zip so
	// that the go command can build it.
	Files map[string]string
}

// Write writes the modules into dir, which then serves as GOPROXY=file://dir.
func Write(dir string, modules map[string][]Version) error {
	for path, versions := range modules {
		escaped, err := module.EscapePath(path)
		if err != nil {
			return err
		}
		base := filepath.Join(dir, filepath.FromSlash(escaped), "@v")
		if err := os.MkdirAll(base, 0o755); err != nil {
			return err
		}
		var list []string
		var latest Version
		for _, v := range versions {
			info, err := json.Marshal(map[string]any{"Version": v.Version, "Time": v.Time})
			if err != nil {
				return err
			}
			mod := "module " + path + "\n"
			if v.Deprecated != "" {
				mod = "// Deprecated: " + v.Deprecated + "\nmodule " + path + "\n"
			}
			goVersion := v.Go
			if goVersion == "" {
				goVersion = "1.21"
			}
			mod += "\ngo " + goVersion + "\n" + v.GoMod
			if v.Bare {
				mod = "module " + path + "\n"
			}
			ev, err := module.EscapeVersion(v.Version)
			if err != nil {
				return fmt.Errorf("%s@%s: %w", path, v.Version, err)
			}
			if err := os.WriteFile(filepath.Join(base, ev+".info"), info, 0o644); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(base, ev+".mod"), []byte(mod), 0o644); err != nil {
				return err
			}
			if v.Files != nil {
				if err := writeZip(filepath.Join(base, ev+".zip"), path, v.Version, mod, v.Files); err != nil {
					return err
				}
			}
			if !v.Pseudo || v.Listed {
				list = append(list, v.Version)
			}
			if latest.Version == "" || semver.Compare(v.Version, latest.Version) > 0 {
				latest = v
			}
		}
		if err := os.WriteFile(filepath.Join(base, "list"), []byte(strings.Join(list, "\n")+"\n"), 0o644); err != nil {
			return err
		}
		if len(list) == 0 {
			info, _ := json.Marshal(map[string]any{"Version": latest.Version, "Time": latest.Time})
			if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(escaped), "@latest"), info, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeZip writes a module zip: every file under path@version/, its go.mod included.
func writeZip(file, path, version, goMod string, files map[string]string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	w := zip.NewWriter(f)
	all := map[string]string{"go.mod": goMod}
	for name, content := range files {
		all[name] = content
	}
	names := make([]string, 0, len(all))
	for name := range all {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		zf, err := w.Create(path + "@" + version + "/" + name)
		if err == nil {
			_, err = zf.Write([]byte(all[name]))
		}
		if err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
