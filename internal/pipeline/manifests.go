package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/renameio/v2"

	"github.com/shipyardci/shipyard/registry"
	"github.com/shipyardci/shipyard/release"
)

// Manifests is what `release manifests` does: the Kubernetes YAML of Files pinned to a release.
type Manifests struct {
	Dir, Store, Env string
	// Name is the release (a name or a number); "" is the environment's current one.
	Name string
	// Files are YAML files, or directories whose *.yaml and *.yml files are read (not their
	// subdirectories), relative to Dir; "-" is Stdin.
	Files []string
	Stdin io.Reader
	// Out is the directory the pinned files are written to, each under its own name; "" returns them.
	Out    string
	Client func() (*registry.Client, func(), error)
}

// ManifestsResult is the release the manifests were pinned to and what changed.
type ManifestsResult struct {
	Release *release.Record  `json:"release"`
	Pinned  []release.Pinned `json:"pinned"`
	// Written are the files written to Out; YAML is every document, in order, when there is no Out.
	Written []string `json:"written,omitempty"`
	YAML    string   `json:"-"`
}

// Pin pins the manifests to the release and writes them to Out, each file whole or not at all; nothing
// is written when any file cannot be read.
func (m Manifests) Pin(ctx context.Context) (*ManifestsResult, error) {
	if m.Env == "" {
		return nil, &InputError{Option: "release.Env", Err: errors.New("say which environment's release")}
	}
	files, err := m.inputs()
	if err != nil {
		return nil, err
	}
	store, done, err := OpenStore(m.Dir, m.Store, "", m.Client)
	if err != nil {
		return nil, err
	}
	defer done()
	rec, err := currentOr(ctx, store, m.Env, m.Name)
	if err != nil {
		return nil, err
	}
	res := &ManifestsResult{Release: rec, Pinned: []release.Pinned{}}
	var docs []string
	outputs := map[string][]byte{}
	for _, f := range files {
		var data []byte
		if f == "-" {
			data, err = io.ReadAll(m.Stdin)
		} else {
			data, err = os.ReadFile(resolve(m.Dir, f))
		}
		if err != nil {
			return nil, &InputError{Option: "release.Files", Err: err}
		}
		out, pinned, err := release.Pin(f, data, rec)
		if err != nil {
			return nil, err
		}
		res.Pinned = append(res.Pinned, pinned...)
		outputs[f] = out
		if s := strings.TrimPrefix(strings.TrimSpace(string(out)), "---\n"); s != "" {
			docs = append(docs, s)
		}
	}
	if m.Out == "" {
		if len(docs) > 0 {
			res.YAML = strings.Join(docs, "\n---\n") + "\n"
		}
		return res, nil
	}
	out := resolve(m.Dir, m.Out)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, &InputError{Option: "release.Out", Err: err}
	}
	for _, f := range files {
		target := filepath.Join(out, outputName(f))
		if err := renameio.WriteFile(target, outputs[f], 0o644); err != nil {
			return nil, fmt.Errorf("writing %s: %w", target, err)
		}
		res.Written = append(res.Written, target)
	}
	return res, nil
}

// outputName is the name a pinned file is written under: its own, stdin's as stdin.yaml.
func outputName(f string) string {
	if f == "-" {
		return "stdin.yaml"
	}
	return filepath.Base(f)
}

// inputs lists the files of m.Files, directories expanded to their YAML files in name order.
func (m Manifests) inputs() ([]string, error) {
	if len(m.Files) == 0 {
		return nil, &InputError{Option: "release.Files", Err: errors.New("name the manifests: a YAML file or a directory of them")}
	}
	var files []string
	for _, f := range m.Files {
		if f == "-" {
			files = append(files, f)
			continue
		}
		info, err := os.Stat(resolve(m.Dir, f))
		if err != nil {
			return nil, &InputError{Option: "release.Files", Err: err}
		}
		if !info.IsDir() {
			files = append(files, f)
			continue
		}
		entries, err := os.ReadDir(resolve(m.Dir, f))
		if err != nil {
			return nil, &InputError{Option: "release.Files", Err: err}
		}
		n := len(files)
		for _, e := range entries {
			if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
				files = append(files, filepath.Join(f, e.Name()))
			}
		}
		if len(files) == n {
			return nil, &InputError{Option: "release.Files", Err: fmt.Errorf("%s has no .yaml or .yml file", f)}
		}
	}
	seen := map[string]string{}
	for _, f := range files {
		if other, ok := seen[outputName(f)]; ok && m.Out != "" {
			return nil, &InputError{Option: "release.Files", Err: fmt.Errorf("%s and %s would both be written as %s", other, f, outputName(f))}
		}
		seen[outputName(f)] = f
	}
	return files, nil
}

// currentOr is the release of env named name, or its current release when name is "".
func currentOr(ctx context.Context, s release.Store, env, name string) (*release.Record, error) {
	if name != "" {
		return release.Get(ctx, s, env, name)
	}
	l, err := s.List(ctx, env)
	if err != nil {
		return nil, err
	}
	if len(l.Records) == 0 {
		return nil, &InputError{Option: "release.Env", Err: fmt.Errorf("%s has no release", env)}
	}
	return &l.Records[0], nil
}
