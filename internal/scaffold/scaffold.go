// Package scaffold writes a repository's first shipyard.yaml from what it finds there: the Go main
// packages, a Node.js service's files, the migrations directory and the default branch, each key commented.
package scaffold

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"github.com/google/renameio/v2"

	"github.com/shipyardci/shipyard/internal/gitx"
	"github.com/shipyardci/shipyard/internal/gomod"
)

// Project is what Init finds in a repository.
type Project struct {
	Go         bool     `json:"go"`
	Main       string   `json:"main"` // the main package to build, relative
	Mains      []string `json:"-"`
	Node       bool     `json:"node"`
	NodeMain   string   `json:"-"` // package.json's main
	NodeFiles  []string `json:"-"`
	Migrations string   `json:"migrations"` // the directory of *.up.sql files, "" when none
	DiffBase   string   `json:"-"`          // the branch pull requests merge into: origin/main, origin/master, …
}

// Options say where Init looks and what it may do.
type Options struct {
	Dir string
	// Env is the go command's environment.
	Env []string
	// Print makes Init write nothing; Force lets it replace an existing shipyard.yaml.
	Print, Force bool
}

// Result is what Init found and did.
type Result struct {
	Project *Project
	// Text is the configuration.
	Text string
	// Written says shipyard.yaml was written, Gitignore that .shipyard/ was added to .gitignore.
	Written, Gitignore bool
}

// ErrExists is a shipyard.yaml that Init keeps, since it was not told to replace it.
var ErrExists = errors.New("shipyard.yaml exists")

// Init looks at the repository in o.Dir and writes its shipyard.yaml (unless Print), and .shipyard/ into
// its .gitignore.
func Init(ctx context.Context, o Options) (*Result, error) {
	p, err := detect(ctx, o.Dir, o.Env)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	if err := initTemplate.Execute(&b, p); err != nil {
		return nil, err
	}
	res := &Result{Project: p, Text: b.String()}
	if o.Print {
		return res, nil
	}
	path := filepath.Join(o.Dir, "shipyard.yaml")
	if _, err := os.Stat(path); err == nil && !o.Force {
		return nil, ErrExists
	}
	if err := renameio.WriteFile(path, []byte(res.Text), 0o644); err != nil {
		return nil, fmt.Errorf("writing shipyard.yaml: %w", err)
	}
	res.Written = true
	if res.Gitignore, err = ignoreState(o.Dir); err != nil {
		return nil, err
	}
	return res, nil
}

// ignoreState adds .shipyard/ to dir's .gitignore unless a line there already ignores it; it says whether
// it did.
func ignoreState(dir string) (bool, error) {
	path := filepath.Join(dir, ".gitignore")
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("reading .gitignore: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		switch strings.TrimSpace(line) {
		case ".shipyard", ".shipyard/", "/.shipyard", "/.shipyard/":
			return false, nil
		}
	}
	if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
		data = append(data, '\n')
	}
	data = append(data, "# shipyard's local state: the embedded registry, the SQLite database, build records\n.shipyard/\n"...)
	if err := renameio.WriteFile(path, data, 0o644); err != nil {
		return false, fmt.Errorf("writing .gitignore: %w", err)
	}
	return true, nil
}

// diffBase is the branch that pull requests merge into: origin's default branch when the clone knows
// it, else main or master, whichever the repository has, else origin/main.
func diffBase(ctx context.Context, dir string) string {
	repo, err := gitx.Open(ctx, dir)
	if err != nil {
		return "origin/main"
	}
	if head, err := repo.Output(ctx, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"); err == nil && head != "" {
		return head
	}
	for _, b := range []string{"main", "master"} {
		for _, ref := range []string{"refs/remotes/origin/" + b, "refs/heads/" + b} {
			if _, err := repo.Output(ctx, "rev-parse", "--verify", "--quiet", ref); err == nil {
				return "origin/" + b
			}
		}
	}
	if branch, err := repo.Output(ctx, "symbolic-ref", "--quiet", "--short", "HEAD"); err == nil && branch != "" {
		return "origin/" + branch // a repository with no commit yet
	}
	return "origin/main"
}

// detect finds the Go main packages, the Node.js entry point, the migrations directory and the diff
// base of dir.
func detect(ctx context.Context, dir string, env []string) (*Project, error) {
	p := &Project{DiffBase: diffBase(ctx, dir)}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		p.Go = true
		if err := gomod.Check(dir); err != nil {
			return nil, err
		}
		cmd := exec.CommandContext(ctx, "go", "list", "-f", `{{if eq .Name "main"}}{{.Dir}}{{end}}`, "./...")
		cmd.Dir, cmd.Env = dir, env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("listing the packages of %s: %v\n%s", dir, err, strings.TrimSpace(stderr.String()))
		}
		for _, d := range strings.Fields(string(out)) {
			rel, err := filepath.Rel(dir, d)
			if err != nil {
				continue
			}
			if rel == "." {
				p.Mains = append(p.Mains, ".")
			} else {
				p.Mains = append(p.Mains, "./"+filepath.ToSlash(rel))
			}
		}
		slices.Sort(p.Mains)
		if len(p.Mains) > 0 {
			p.Main = p.Mains[0]
			if slices.Contains(p.Mains, ".") {
				p.Main = "."
			}
		}
	}
	if data, err := os.ReadFile(filepath.Join(dir, "package.json")); err == nil {
		p.Node = true
		var pkg struct {
			Main string `json:"main"`
		}
		_ = json.Unmarshal(data, &pkg)
		p.NodeMain = pkg.Main
		if p.NodeMain == "" {
			p.NodeMain = "index.js"
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			n := e.Name()
			if strings.HasPrefix(n, ".") || n == "node_modules" || n == "shipyard.yaml" || n == "package-lock.json" || strings.HasSuffix(n, ".md") {
				continue
			}
			p.NodeFiles = append(p.NodeFiles, n)
		}
	}
	for _, cand := range []string{"migrations", "db/migrations", "sql/migrations", "database/migrations", "migrate"} {
		matches, _ := fs.Glob(os.DirFS(filepath.Join(dir, cand)), "*.up.sql")
		if len(matches) > 0 {
			p.Migrations = cand
			break
		}
	}
	return p, nil
}

var initTemplate = template.Must(template.New("init").Parse(`# shipyard configuration, written by shipyard init. Every key also has a flag and a SHIPYARD_*
# environment variable (SHIPYARD_BUILD_MAIN for build.main, for example); flags win, then the
# environment, then this file. Reference: docs/cli/shipyard.md.

version:
  # The first release of a repository with no version tag.
  initial: 0.1.0
{{- if .Go}}

test:
  # shipyard test fails below these coverages (percent of statements).
  min_total: 70
  # min_package: 50
  # min_file: 30
  # Coverage of the lines changed since the merge base with this branch (pull requests).
  # diff_base: {{.DiffBase}}
  # min_diff: 80
{{- end}}

build:
{{- if .Go}}
  # The main package to build{{if gt (len .Mains) 1}}; this module has {{len .Mains}}: {{range $i, $m := .Mains}}{{if $i}}, {{end}}{{$m}}{{end}}{{end}}.
  main: {{if .Main}}{{.Main}}{{else}}.{{end}}
{{- end}}
  platforms: [linux/amd64, linux/arm64]
  # The base image: the generated one by default (CA certificates, non-root user 65532), scratch,
  # oci:DIR, or a reference such as docker.io/library/node:22-slim.
{{- if .Node}}
  # A Node.js service needs a base with node:
  # base: docker.io/library/node:22-slim
  workdir: /app
  entrypoint: [node, /app/{{.NodeMain}}]
  layers:
    # node_modules in a layer of its own: a change of the code leaves it as it was.
    - name: dependencies
      run: npm ci --omit=dev --ignore-scripts --no-audit --no-fund
      from: [node_modules]
      to: /app
    - name: app
      from: [{{range $i, $f := .NodeFiles}}{{if $i}}, {{end}}{{$f}}{{end}}]
      to: /app
{{- else}}
  # base: scratch
{{- end}}
  ports: [8080/tcp]
{{- if .Migrations}}

migrate:
  # golang-migrate's file names: {version}_{name}.up.sql and .down.sql.
  dir: {{.Migrations}}
  # The database: better in DATABASE_URL than here, since it holds a password. Without one,
  # the embedded SQLite file sqlite://.shipyard/dev.db.
  # database: postgres://app@db:5432/app
  lock_timeout: 5m
  # PostgreSQL: each migration's lock_timeout, retried with backoff when it hits.
  pg_lock_timeout: 2s
{{- end}}

audit:
  # Exit 1 on a vulnerability of this severity or above (low, moderate, high, critical, none).
  fail_on: high
  # The largest update shipyard audit fix makes: patch, minor or major.
  fix_level: minor
  # ignore:
  #   - name: example.com/legacy
  #     versions: "<2"
  #     until: 2027-01-01
  #     reason: replaced next quarter
`))
