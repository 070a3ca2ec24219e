package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/shipyardci/shipyard/internal/gitx"
)

// ApplyOptions are what ApplyGroups changes: the project, the planned updates (PlanFix), and where the
// changes go.
type ApplyOptions struct {
	// Dir is the project whose go.mod and package.json (and their sums and locks) are edited.
	Dir     string
	Updates []Update
	// Vulnerabilities are the findings the pull-request bodies say each update fixes.
	Vulnerabilities []Vulnerability
	// Branch, when set, is created in Dir's repository and gets one commit per group.
	Branch string
	// BodiesDir is where the pull-request body of each group is written, relative to Dir.
	BodiesDir string
	// Env is the environment of go mod tidy and npm install.
	Env []string
}

// FixRequest is an audit fix: the plan's options, where and how it is applied (its Updates and
// Vulnerabilities are the plan's), or with DryRun only planned.
type FixRequest struct {
	Plan   FixOptions
	Apply  ApplyOptions
	DryRun bool
}

// FixResult is what Fix did, or would do.
type FixResult struct {
	Updates []Update  `json:"updates"`
	Skipped []Skipped `json:"skipped"`
	Bodies  []string  `json:"pull_request_bodies"` // relative to the project
	Branch  string    `json:"branch,omitempty"`
}

// Fix plans the updates of a scan's dependencies (PlanFix) and, unless it is a dry run, makes them
// group by group (ApplyGroups).
func Fix(ctx context.Context, scan *Report, r FixRequest) (*FixResult, error) {
	updates, skipped := PlanFix(scan.Dependencies, scan.Vulnerabilities, r.Plan)
	res := &FixResult{Updates: updates, Skipped: skipped, Bodies: []string{}, Branch: r.Apply.Branch}
	if res.Updates == nil {
		res.Updates = []Update{}
	}
	if res.Skipped == nil {
		res.Skipped = []Skipped{}
	}
	if r.DryRun || len(updates) == 0 {
		return res, nil
	}
	r.Apply.Updates, r.Apply.Vulnerabilities = updates, scan.Vulnerabilities
	bodies, err := ApplyGroups(ctx, r.Apply)
	if bodies != nil {
		res.Bodies = bodies
	}
	return res, err
}

// ApplyGroups makes the updates group by group, as Dependabot opens a pull request per group: it edits
// the manifests, brings their sums and locks along, writes the group's pull-request body and, on a
// branch, commits the group. It returns the bodies written, relative to Dir.
func ApplyGroups(ctx context.Context, o ApplyOptions) ([]string, error) {
	var repo *gitx.Repo
	if o.Branch != "" {
		if _, err := gitx.Open(ctx, o.Dir); err != nil {
			return nil, &InputError{Option: "audit.Branch", Msg: err.Error()}
		}
		repo = &gitx.Repo{Dir: o.Dir} // the manifests are named from here
		if _, err := repo.Run(ctx, "checkout", "-b", o.Branch); err != nil {
			return nil, fmt.Errorf("creating branch %s: %w", o.Branch, err)
		}
	}
	var groups []string
	byGroup := map[string][]Update{}
	for _, u := range o.Updates {
		if _, ok := byGroup[u.Group]; !ok {
			groups = append(groups, u.Group)
		}
		byGroup[u.Group] = append(byGroup[u.Group], u)
	}
	if err := os.MkdirAll(filepath.Join(o.Dir, o.BodiesDir), 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", o.BodiesDir, err)
	}
	var bodies []string
	for _, g := range groups {
		us := byGroup[g]
		notes, err := applyGroup(ctx, o, us)
		if err != nil {
			return bodies, err
		}
		body := filepath.Join(o.BodiesDir, slugify(g)+".md")
		if err := os.WriteFile(filepath.Join(o.Dir, body), []byte(PullRequestBody(g, us, o.Vulnerabilities, notes...)), 0o644); err != nil {
			return bodies, fmt.Errorf("writing %s: %w", body, err)
		}
		bodies = append(bodies, body)
		if repo != nil {
			if err := commitGroup(ctx, repo, CommitMessage(g, us, notes...)); err != nil {
				return bodies, err
			}
		}
	}
	return bodies, nil
}

// applyGroup edits the manifests one group's updates touch, runs the tools that follow them, and returns
// the notes of what else changed.
func applyGroup(ctx context.Context, o ApplyOptions, us []Update) (notes []string, err error) {
	if slices.ContainsFunc(us, func(u Update) bool { return u.Ecosystem == Go }) {
		if err := ApplyGoMod(filepath.Join(o.Dir, "go.mod"), us); err != nil {
			return nil, err
		}
		if notes, err = GoModTidy(ctx, o.Dir, o.Env); err != nil {
			return nil, err
		}
	}
	if slices.ContainsFunc(us, func(u Update) bool { return u.Ecosystem == Npm }) {
		if err := ApplyPackageJSON(filepath.Join(o.Dir, "package.json"), us); err != nil {
			return nil, err
		}
		if err := NpmLock(ctx, o.Dir, o.Env); err != nil {
			return nil, err
		}
	}
	return notes, nil
}

// commitGroup commits the manifests a group changed.
func commitGroup(ctx context.Context, repo *gitx.Repo, message string) error {
	var files []string
	for _, name := range []string{"go.mod", "go.sum", "vendor", "package.json", "package-lock.json"} {
		if _, err := os.Stat(filepath.Join(repo.Dir, name)); err == nil {
			files = append(files, name)
		}
	}
	if _, err := repo.Run(ctx, append([]string{"add", "--"}, files...)...); err != nil {
		return fmt.Errorf("staging %s: %w", strings.Join(files, ", "), err)
	}
	if _, err := repo.Run(ctx, "commit", "-m", message); err != nil {
		return fmt.Errorf("committing %q: %w", message, err)
	}
	return nil
}

// slugify makes a group name a file name.
func slugify(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}
