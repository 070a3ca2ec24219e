package semver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ShallowError refuses to version a shallow clone that lacks the history the version comes from: the
// version tag it builds on, or commits since that tag. Such a clone (actions/checkout's default) would
// give a version that was released already.
type ShallowError struct {
	// Tag is the version tag the clone has, or "" when no version tag is reachable.
	Tag string
}

func (e *ShallowError) Error() string {
	if e.Tag == "" {
		return "this is a shallow clone without a version tag in its history: the version would be computed from scratch, not from the last release"
	}
	return fmt.Sprintf("this is a shallow clone that lacks commits since %s: the version would miss what they ask for", e.Tag)
}

// checkShallow refuses a shallow clone unless it holds the version tag r builds on and every commit since
// it; with AllowShallow, it only marks the result.
func (h *history) checkShallow(ctx context.Context, r *Result, o *Options) error {
	if !h.shallow {
		return nil
	}
	complete, err := h.completeSince(ctx, r.Previous)
	if err != nil || complete {
		return err
	}
	if o.AllowShallow {
		r.Shallow = true
		return nil
	}
	e := &ShallowError{}
	if r.Previous != nil {
		e.Tag = r.Previous.Name
	}
	return e
}

// completeSince says whether the clone holds tag and every commit between it and head: none of them is
// a shallow boundary (a commit whose parents were not fetched). With no tag, nothing is complete.
func (h *history) completeSince(ctx context.Context, tag *Tag) (bool, error) {
	if tag == nil {
		return false, nil
	}
	file, err := h.repo.Output(ctx, "rev-parse", "--path-format=absolute", "--git-path", "shallow")
	if err != nil {
		return false, fmt.Errorf("finding the shallow boundary: %w", err)
	}
	data, err := os.ReadFile(filepath.Clean(file))
	if err != nil {
		return false, fmt.Errorf("reading the shallow boundary: %w", err)
	}
	boundary := map[string]bool{}
	for _, c := range strings.Fields(string(data)) {
		boundary[c] = true
	}
	out, err := h.repo.Output(ctx, "rev-list", tag.Commit+".."+h.head)
	if err != nil {
		return false, fmt.Errorf("listing the commits since %s: %w", tag.Name, err)
	}
	for _, c := range strings.Fields(out) {
		if boundary[c] {
			return false, nil
		}
	}
	return true, nil
}
