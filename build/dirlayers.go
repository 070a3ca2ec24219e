package build

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// LayerSpec is one layer of files of any language: directories or files of the project (globs allowed)
// copied to a path of the image, after an optional command (npm ci --omit=dev, for example).
type LayerSpec struct {
	Name    string   `yaml:"name"`
	Run     string   `yaml:"run"`
	From    []string `yaml:"from"`
	To      string   `yaml:"to"`
	Exclude []string `yaml:"exclude"`
}

// NamedLayer is a layer and what it is, for the image's history.
type NamedLayer struct {
	Name  string
	Layer v1.Layer
}

// DirLayers runs each spec's command in dir, then makes its layer: each file or directory From names
// goes under To at its path in the project (from: [src, package.json], to: /app gives /app/src/… and
// /app/package.json). Executable bits and symbolic links are kept; owners, times and other modes are
// fixed, so that unchanged files give an unchanged layer.
func DirLayers(ctx context.Context, dir string, specs []LayerSpec, epoch time.Time, env []string) ([]NamedLayer, error) {
	var out []NamedLayer
	for i, s := range specs {
		key := fmt.Sprintf("build.layers[%d]", i)
		if s.Name == "" {
			s.Name = fmt.Sprintf("layer %d", i+1)
		}
		if len(s.From) == 0 || s.To == "" || !strings.HasPrefix(s.To, "/") {
			return nil, &InputError{Key: key, Msg: "needs from (files or directories of the project) and to (an absolute path of the image)"}
		}
		if s.Run != "" {
			cmd := exec.CommandContext(ctx, "sh", "-c", s.Run)
			cmd.Dir, cmd.Env = dir, env
			var outb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &outb, &outb
			if err := cmd.Run(); err != nil {
				return nil, fmt.Errorf("%s.run: %s: %v\n%s", key, s.Run, err, strings.TrimSpace(outb.String()))
			}
		}
		files, err := collect(dir, s, key)
		if err != nil {
			return nil, err
		}
		layer, err := Layer(files, epoch)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		out = append(out, NamedLayer{Name: s.Name, Layer: layer})
	}
	return out, nil
}

func collect(dir string, s LayerSpec, key string) ([]File, error) {
	var files []File
	to := strings.TrimPrefix(path.Clean(s.To), "/")
	excluded := func(rel string) bool {
		for _, x := range s.Exclude {
			if ok, _ := doublestar.Match(x, rel); ok {
				return true
			}
		}
		return false
	}
	for _, pattern := range s.From {
		matches, err := doublestar.Glob(os.DirFS(dir), filepath.ToSlash(pattern))
		if err != nil {
			return nil, &InputError{Key: key + ".from", Msg: fmt.Sprintf("%q is not a glob: %v", pattern, err)}
		}
		if len(matches) == 0 {
			return nil, &InputError{Key: key + ".from", Msg: fmt.Sprintf("%s matches nothing in %s", pattern, dir)}
		}
		for _, m := range matches {
			info, err := os.Lstat(filepath.Join(dir, m))
			if err != nil {
				return nil, err
			}
			if !info.IsDir() {
				if !excluded(m) {
					f, err := fileOf(dir, m, path.Join(to, m), info)
					if err != nil {
						return nil, err
					}
					files = append(files, f)
				}
				continue
			}
			err = filepath.WalkDir(filepath.Join(dir, m), func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(dir, p)
				rel = filepath.ToSlash(rel)
				if excluded(rel) {
					if d.IsDir() {
						return filepath.SkipDir
					}
					return nil
				}
				target := path.Join(to, rel)
				info, err := d.Info()
				if err != nil {
					return err
				}
				f, err := fileOf(dir, rel, target, info)
				if err != nil {
					return err
				}
				files = append(files, f)
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("%s: reading %s: %w", key, m, err)
			}
		}
	}
	return files, nil
}

// fileOf is the layer entry of a project file: directories 0755, executables 0755, others 0644.
func fileOf(dir, rel, target string, info fs.FileInfo) (File, error) {
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		link, err := os.Readlink(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return File{}, err
		}
		return File{Path: target, Mode: 0o777, Link: link}, nil
	case info.IsDir():
		return File{Path: target, Mode: fs.ModeDir | 0o755}, nil
	case info.Mode()&0o111 != 0:
		return File{Path: target, Mode: 0o755, Source: filepath.Join(dir, filepath.FromSlash(rel))}, nil
	}
	return File{Path: target, Mode: 0o644, Source: filepath.Join(dir, filepath.FromSlash(rel))}, nil
}
