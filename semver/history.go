package semver

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shipyardci/shipyard/internal/gitx"
)

// history is what one computation reads from the repository, in a handful of git calls.
type history struct {
	repo    *gitx.Repo
	prefix  string
	head    string // the commit being versioned
	shallow bool
	all     []Tag // every semver tag with the prefix, reachable or not
	// latest and stable are the highest tag and the highest stable tag reachable from head, or nil.
	latest, stable *Tag
}

// open applies opts and reads the history they select: the first step of every entry point.
func open(ctx context.Context, opts []Option) (*Options, *history, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, nil, err
	}
	h, err := readHistory(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	return o, h, nil
}

func readHistory(ctx context.Context, o *Options) (*history, error) {
	repo, err := gitx.Open(ctx, o.Dir)
	if err != nil {
		return nil, err
	}
	h := &history{repo: repo, prefix: o.TagPrefix}
	var (
		wg              sync.WaitGroup
		head            string
		headErr, tagErr error
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		head, headErr = repo.Output(ctx, "rev-parse", "--is-shallow-repository", "--verify", o.Ref+"^{commit}")
	}()
	go func() {
		defer wg.Done()
		h.all, tagErr = h.tags(ctx)
	}()
	wg.Wait()
	if headErr != nil {
		if gitx.ExitCode(headErr) == 128 && o.Ref == "HEAD" {
			return nil, fmt.Errorf("%s has no commits yet: commit first, then version", repo.Dir)
		}
		return nil, fmt.Errorf("resolving %s: %w", o.Ref, headErr)
	}
	if tagErr != nil {
		return nil, tagErr
	}
	lines := strings.Split(head, "\n")
	h.shallow, h.head = lines[0] == "true", lines[len(lines)-1]
	if err := h.findReachable(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// firstCandidates is how many of the highest tags the first reachability question asks about.
const firstCandidates = 16

// findReachable sets latest and stable. It asks git about the highest tags first: a reachability walk ends
// once it has found all its tips, so in the usual case (the highest tags are recent and reachable) it costs
// a short walk instead of the whole history. Only when the answer is not among them does it ask about all.
func (h *history) findReachable(ctx context.Context) error {
	sorted := slices.Clone(h.all)
	slices.SortFunc(sorted, func(a, b Tag) int { return b.Version.Compare(a.Version) })
	var patterns []string
	if len(sorted) > firstCandidates {
		for _, t := range sorted[:firstCandidates] {
			patterns = append(patterns, "refs/tags/"+t.Name) // ref names cannot hold glob characters
		}
	}
	for {
		reachable, err := h.mergedNames(ctx, patterns)
		if err != nil {
			return err
		}
		for i := range sorted {
			t := &sorted[i]
			if !reachable[t.Name] {
				continue
			}
			if h.latest == nil {
				h.latest = t
			}
			if h.stable == nil && t.Version.Prerelease() == "" {
				h.stable = t
				break
			}
		}
		if h.stable != nil || patterns == nil {
			return nil
		}
		patterns = nil // not among the highest: ask about every tag
	}
}

// mergedNames returns the names of the tags matching patterns (all tags when none) reachable from head.
func (h *history) mergedNames(ctx context.Context, patterns []string) (map[string]bool, error) {
	if len(patterns) == 0 {
		patterns = []string{"refs/tags/"}
	}
	args := append([]string{"for-each-ref", "--merged=" + h.head, "--format=%(refname:strip=2)"}, patterns...)
	out, err := h.repo.Output(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("listing the tags reachable from %s: %w", short(h.head), err)
	}
	names := map[string]bool{}
	for _, name := range strings.Split(out, "\n") {
		names[name] = true
	}
	return names, nil
}

// tags lists the semver tags with the prefix, peeled to their commits.
func (h *history) tags(ctx context.Context) ([]Tag, error) {
	out, err := h.repo.Output(ctx, "for-each-ref", "--format=%(refname:strip=2)%00%(objectname)%00%(*objectname)", "refs/tags/")
	if err != nil {
		return nil, fmt.Errorf("listing tags: %w", err)
	}
	var tags []Tag
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, "\x00")
		if len(f) != 3 {
			continue
		}
		v, ok := ParseTag(f[0], h.prefix)
		if !ok {
			continue
		}
		commit := f[2] // the commit of an annotated tag; empty for a lightweight one
		if commit == "" {
			commit = f[1]
		}
		tags = append(tags, Tag{Name: f[0], Version: v, Commit: commit})
	}
	return tags, nil
}

// atHead returns the tags that point at the commit being versioned.
func (h *history) atHead() []Tag {
	var out []Tag
	for _, t := range h.all {
		if t.Commit == h.head {
			out = append(out, t)
		}
	}
	return out
}

// commits lists the commits reachable from head and not from since (all of them when since is nil), newest
// first, limited to those touching paths when paths are given.
func (h *history) commits(ctx context.Context, since *Tag, paths []string) ([]Commit, error) {
	rng := h.head
	if since != nil {
		rng = since.Commit + ".." + h.head
	}
	args := []string{"log", "-z", "--format=%H%x1f%P%x1f%an%x1f%aI%x1f%B", rng}
	if len(paths) > 0 {
		args = append(append(args, "--"), paths...)
	}
	out, err := h.repo.Run(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("reading commits %s: %w", rng, err)
	}
	return parseLog(string(out))
}

func parseLog(out string) ([]Commit, error) {
	var commits []Commit
	for _, rec := range strings.Split(out, "\x00") {
		rec = strings.TrimLeft(rec, "\n")
		if rec == "" {
			continue
		}
		f := strings.SplitN(rec, "\x1f", 5)
		if len(f) != 5 {
			return nil, fmt.Errorf("reading commits: unexpected git log record %q", rec)
		}
		date, err := time.Parse(time.RFC3339, f[3])
		if err != nil {
			return nil, fmt.Errorf("reading commit %s: date %q: %w", f[0], f[3], err)
		}
		c := Commit{Hash: f[0], Parents: strings.Fields(f[1]), Author: f[2], Date: date, Message: strings.TrimRight(f[4], "\n")}
		if cc, ok := ParseCommitMessage(c.Message); ok {
			c.Conventional = &cc
		}
		commits = append(commits, c)
	}
	return commits, nil
}

// withV reports whether new tags get a "v": like the newest existing tag, and "v" when there is none.
func (h *history) withV() bool {
	if t := highest(h.all, false); t != nil {
		return t.VPrefix(h.prefix)
	}
	return true
}

// uncommitted lists the tracked files with uncommitted changes (untracked files do not count, as in
// git describe --dirty).
func uncommitted(ctx context.Context, repo *gitx.Repo) ([]string, error) {
	status, err := repo.Output(ctx, "status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return nil, fmt.Errorf("checking for uncommitted changes: %w", err)
	}
	var files []string
	for _, line := range strings.Split(status, "\n") {
		if len(line) > 3 {
			files = append(files, line[3:])
		}
	}
	return files, nil
}
