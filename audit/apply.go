package audit

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/renameio/v2"
	"golang.org/x/mod/modfile"
)

// ApplyGoMod writes the Go updates into the go.mod at file (the go command's formatting kept).
func ApplyGoMod(file string, updates []Update) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("reading %s: %w", file, err)
	}
	f, err := modfile.Parse(file, data, nil)
	if err != nil {
		return fmt.Errorf("reading %s: %w", file, err)
	}
	changed := false
	for _, u := range updates {
		if u.Ecosystem != Go {
			continue
		}
		if err := f.AddRequire(u.Name, canonical("go", u.To)); err != nil {
			return fmt.Errorf("updating %s in %s: %w", u.Name, file, err)
		}
		changed = true
	}
	if !changed {
		return nil
	}
	f.Cleanup()
	out, err := f.Format()
	if err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	return renameio.WriteFile(file, out, 0o644)
}

// simpleRange is a range audit fix can move while keeping its form: ^1.2.3, ~1.2.3, >=1.2.3 or 1.2.3.
var simpleRange = regexp.MustCompile(`^(\^|~|>=)?v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)

// ApplyPackageJSON rewrites the ranges of the npm updates in the package.json at file, on their own
// lines, keeping everything else of the file as it is: ^1.1.0 becomes ^1.2.0; a range of another
// form becomes ^TO.
func ApplyPackageJSON(file string, updates []Update) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("reading %s: %w", file, err)
	}
	lines := bytes.Split(data, []byte("\n"))
	changed := false
	for _, u := range updates {
		if u.Ecosystem != Npm {
			continue
		}
		if u.Line < 1 || u.Line > len(lines) {
			return fmt.Errorf("%s:%d: no line for %s", file, u.Line, u.Name)
		}
		next := "^" + u.To
		if m := simpleRange.FindStringSubmatch(u.rng); m != nil {
			next = m[1] + u.To
		}
		old := strconv.Quote(u.Name) + `:`
		line := string(lines[u.Line-1])
		i := strings.Index(line, old)
		if i < 0 {
			return fmt.Errorf("%s:%d: %s is not on this line any more", file, u.Line, u.Name)
		}
		rest := line[i+len(old):]
		q1 := strings.IndexByte(rest, '"')
		q2 := -1
		if q1 >= 0 {
			q2 = strings.IndexByte(rest[q1+1:], '"')
		}
		if q1 < 0 || q2 < 0 {
			return fmt.Errorf("%s:%d: the range of %s is not a string on its line", file, u.Line, u.Name)
		}
		start := i + len(old) + q1 + 1
		lines[u.Line-1] = []byte(line[:start] + next + line[start+q2:])
		changed = true
	}
	if !changed {
		return nil
	}
	return renameio.WriteFile(file, bytes.Join(lines, []byte("\n")), 0o644)
}

// GoModTidy runs `go mod tidy` in dir, which updates go.sum and the requirements the updates pull in,
// keeping go.mod's go directive unless a new requirement needs a newer Go; then `go mod vendor` when the
// module is vendored (vendor/modules.txt), so that vendor/ follows. It returns what a reviewer must know:
// the go directive raised, vendor/ rewritten.
func GoModTidy(ctx context.Context, dir string, env []string) (notes []string, err error) {
	before, err := goDirective(filepath.Join(dir, "go.mod"))
	if err != nil {
		return nil, err
	}
	if before == "" || run(ctx, dir, env, "go", "mod", "tidy", "-go="+before) != nil {
		if err := run(ctx, dir, env, "go", "mod", "tidy"); err != nil {
			return nil, err
		}
	}
	after, err := goDirective(filepath.Join(dir, "go.mod"))
	if err != nil {
		return nil, err
	}
	if after != before {
		notes = append(notes, fmt.Sprintf("The go directive moves from %s to %s: a new requirement needs that Go version.", cmp.Or(before, "none"), after))
	}
	if _, err := os.Stat(filepath.Join(dir, "vendor", "modules.txt")); err == nil {
		if err := run(ctx, dir, env, "go", "mod", "vendor"); err != nil {
			return notes, err
		}
		notes = append(notes, "vendor/ is updated with go mod vendor.")
	}
	return notes, nil
}

// goDirective is the go line of the go.mod at path, "" when it has none.
func goDirective(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	f, err := modfile.ParseLax(path, data, nil)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	if f.Go == nil {
		return "", nil
	}
	return f.Go.Version, nil
}

// NpmLock runs `npm install --package-lock-only` in dir, which writes package-lock.json for the new
// ranges without touching node_modules or running scripts.
func NpmLock(ctx context.Context, dir string, env []string) error {
	return run(ctx, dir, env, "npm", "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund")
}

func run(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
		}
		return fmt.Errorf("running %s: %w", name, err)
	}
	return nil
}

// PullRequestBody is the Markdown body of a pull request for one group of updates: what moves from
// where to where, the advisories it fixes, and the notes of what else changed.
func PullRequestBody(group string, updates []Update, vulns []Vulnerability, notes ...string) string {
	var b strings.Builder
	if len(updates) == 1 {
		u := updates[0]
		fmt.Fprintf(&b, "Bumps %s from %s to %s (%s).\n\n", u.Name, u.From, u.To, u.Type)
	} else {
		fmt.Fprintf(&b, "Bumps the %s group with %d updates.\n\n", group, len(updates))
	}
	b.WriteString("| Package | Ecosystem | From | To | Update |\n|---|---|---|---|---|\n")
	for _, u := range updates {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", u.Name, u.Ecosystem, u.From, u.To, u.Type)
	}
	var fixes []string
	for _, u := range updates {
		for _, id := range u.Advisories {
			for _, v := range vulns {
				if v.ID == id && v.Name == u.Name {
					line := fmt.Sprintf("- **%s** in %s %s (%s): %s", v.ID, v.Name, v.Version, v.Severity, strings.TrimSpace(v.Summary))
					if len(v.Aliases) > 0 {
						line += " (" + strings.Join(v.Aliases, ", ") + ")"
					}
					if v.URL != "" {
						line += " " + v.URL
					}
					fixes = append(fixes, line)
					break
				}
			}
		}
	}
	if len(fixes) > 0 {
		b.WriteString("\n### Security\n\nThis fixes:\n\n" + strings.Join(fixes, "\n") + "\n")
	}
	if len(notes) > 0 {
		b.WriteString("\n### Also\n\n- " + strings.Join(notes, "\n- ") + "\n")
	}
	return b.String()
}

// CommitMessage is the commit message of a group's change, Dependabot style.
func CommitMessage(group string, updates []Update, notes ...string) string {
	subject := fmt.Sprintf("build(deps): bump the %s group with %d updates", group, len(updates))
	if len(updates) == 1 {
		u := updates[0]
		subject = fmt.Sprintf("build(deps): bump %s from %s to %s", u.Name, u.From, u.To)
	}
	if len(notes) == 0 {
		return subject
	}
	return subject + "\n\n" + strings.Join(notes, "\n")
}
