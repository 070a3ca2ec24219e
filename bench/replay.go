package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	mm "github.com/Masterminds/semver/v3"

	"github.com/shipyardci/shipyard/semver"
)

// replayGoal is the share of a project's stable releases that shipyard version next must agree with.
const replayGoal = 0.95

// versionReplay replays the release history of each git repository in dirs: in a clone without its tags,
// the tags come back one at a time in version order, and before each stable tag returns, shipyard's
// version next runs at its commit. It agrees when it gives that tag's version. The first stable release
// of each repository has no history to be computed from and is not counted.
//
//	go run ./bench version-replay DIR…
func versionReplay(ctx context.Context, scratch string, dirs []string) error {
	if len(dirs) == 0 {
		return fmt.Errorf("version-replay: name the git repositories to replay")
	}
	missed := false
	for i, dir := range dirs {
		clone := filepath.Join(scratch, fmt.Sprintf("replay-%d", i))
		agreed, total, err := replay(ctx, dir, clone)
		if err != nil {
			return fmt.Errorf("replaying %s: %w", dir, err)
		}
		share := float64(agreed) / float64(max(total, 1))
		verdict := "met"
		if share < replayGoal {
			verdict, missed = "MISSED", true
		}
		fmt.Printf("%s: version next agreed on %d of %d stable releases (%.1f%%), goal >= %.0f%%: %s\n\n",
			dir, agreed, total, 100*share, 100*replayGoal, verdict)
	}
	if missed {
		return fmt.Errorf("a repository's agreement is under the goal")
	}
	return nil
}

// replayTag is one version tag of the repository replayed.
type replayTag struct {
	name, object, commit string
	version              *mm.Version
}

// replay clones dir without checking it out, removes its tags and replays them; it prints each
// disagreement.
func replay(ctx context.Context, dir, clone string) (agreed, total int, err error) {
	if _, err := git(ctx, "", "clone", "-q", "--no-checkout", dir, clone); err != nil {
		return 0, 0, err
	}
	tags, err := releaseTags(ctx, clone)
	if err != nil {
		return 0, 0, err
	}
	var deletes strings.Builder
	for _, t := range tags {
		fmt.Fprintf(&deletes, "delete refs/tags/%s\n", t.name)
	}
	if err := gitStdin(ctx, clone, deletes.String(), "update-ref", "--stdin"); err != nil {
		return 0, 0, err
	}
	fmt.Printf("%s: %d version tags\n", dir, len(tags))
	seenStable := false
	for _, t := range tags {
		if t.version.Prerelease() == "" {
			if seenStable {
				total++
				ok, why, err := agrees(ctx, clone, t)
				if err != nil {
					return 0, 0, err
				}
				if ok {
					agreed++
				} else {
					fmt.Printf("  %-10s %s\n", t.name, why)
				}
			}
			seenStable = true
		}
		if _, err := git(ctx, clone, "update-ref", "refs/tags/"+t.name, t.object); err != nil {
			return 0, 0, err
		}
	}
	return agreed, total, nil
}

// agrees runs version next at t's commit, with the tags below t in place, and says whether it gives t.
func agrees(ctx context.Context, clone string, t replayTag) (bool, string, error) {
	r, err := semver.Next(ctx, semver.WithDir(clone), semver.WithRef(t.commit))
	if err != nil {
		return false, "", err
	}
	if r.Changed && r.Version.Equal(t.version) {
		return true, "", nil
	}
	prev := "no tag"
	if r.Previous != nil {
		prev = r.Previous.Name
	}
	if !r.Changed {
		return false, fmt.Sprintf("shipyard: nothing to release since %s (%s), %d commits", prev, r.Reason, len(r.Commits)), nil
	}
	return false, fmt.Sprintf("shipyard: %s (%s since %s, %d commits)", r.Version, r.Bump, prev, len(r.Commits)), nil
}

// releaseTags lists the tags that are versions (vX.Y.Z or X.Y.Z), lowest version first.
func releaseTags(ctx context.Context, repo string) ([]replayTag, error) {
	out, err := git(ctx, repo, "for-each-ref", "--format=%(refname:strip=2)%00%(objectname)%00%(*objectname)", "refs/tags/")
	if err != nil {
		return nil, err
	}
	var tags []replayTag
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "\x00")
		if len(f) != 3 {
			continue
		}
		v, ok := semver.ParseTag(f[0], "")
		if !ok {
			continue
		}
		commit := f[2]
		if commit == "" {
			commit = f[1]
		}
		tags = append(tags, replayTag{name: f[0], object: f[1], commit: commit, version: v})
	}
	slices.SortFunc(tags, func(a, b replayTag) int {
		if c := a.version.Compare(b.version); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	return tags, nil
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, ee.Stderr)
		}
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}

func gitStdin(ctx context.Context, dir, stdin string, args ...string) error {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir, cmd.Stdin = dir, strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}
