package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// buildList is the module's whole build list as the go command computes it (go list -m all: the
// modules go.mod requires, and those they require in turn, with replacements and exclusions applied),
// as requirements: each with the line of go.mod that requires it, and indirect unless go.mod requires
// it directly. The go command runs on copies of go.mod and go.sum, so that the project is never
// written. It fails when the go command cannot load the module graph (go.sum lacks entries, a module
// cannot be fetched): the caller then audits go.mod's own requirements.
func buildList(ctx context.Context, dir string, m *GoModule, getenv func(string) string) ([]GoRequire, error) {
	tmp, err := os.MkdirTemp("", "shipyard-buildlist-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	for _, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(tmp, name), data, 0o644); err != nil {
			return nil, err
		}
	}
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", "list", "-mod=mod", "-modfile="+filepath.Join(tmp, "go.mod"), "-m", "-json", "all")
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &out, &errOut
	cmd.Env = goEnv(getenv)
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go list -m all: %s", firstLine(strings.TrimSpace(errOut.String()+" "+err.Error())))
	}
	direct := map[string]GoRequire{}
	for _, r := range m.Requires {
		direct[r.Path] = r
	}
	var list []GoRequire
	dec := json.NewDecoder(&out)
	for {
		var mod struct {
			Path, Version string
			Main          bool
		}
		if err := dec.Decode(&mod); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("reading go list -m all: %w", err)
		}
		if mod.Main || mod.Version == "" {
			continue
		}
		r, ok := direct[mod.Path]
		if !ok {
			r = GoRequire{Path: mod.Path, Indirect: true}
		}
		r.Version = mod.Version // the selected version, which may be above go.mod's
		list = append(list, r)
	}
	return list, nil
}

// goCommandEnv is getenv with the module proxy, the private module patterns and the module cache that
// the go command reports (go env: the environment, then the file go env -w writes, then GOROOT's
// go.env), so that lookups ask the proxy the go command asks and never ask one for a private module.
// Without a go command it is getenv.
func goCommandEnv(ctx context.Context, dir string, getenv func(string) string) func(string) string {
	cmd := exec.CommandContext(ctx, "go", "env", "-json", "GOPROXY", "GONOPROXY", "GOPRIVATE", "GOMODCACHE")
	cmd.Dir, cmd.Env = dir, goEnv(getenv)
	out, err := cmd.Output()
	var reported map[string]string
	if err != nil || json.Unmarshal(out, &reported) != nil {
		return getenv
	}
	return func(k string) string {
		if v, ok := reported[k]; ok {
			return v
		}
		return getenv(k)
	}
}

// goEnv is the process's environment with the go command's variables that getenv sets.
func goEnv(getenv func(string) string) []string {
	env := os.Environ()
	for _, k := range goEnvKeys {
		if v := getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}
