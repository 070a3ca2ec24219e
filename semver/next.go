package semver

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	mm "github.com/Masterminds/semver/v3"
)

// Result is a computed version and how it was reached.
type Result struct {
	Version *mm.Version
	// Tag is the tag name for Version (without build metadata).
	Tag string
	// Previous is the tag the version builds on: the latest stable tag when the version comes from commits,
	// the latest tag for an explicit bump. Nil when the repository has no version tag.
	Previous *Tag
	// Bump is the level the commits asked for ("none", "patch", "minor", "major") or the explicit increment.
	Bump string
	// Changed is false when there is nothing to release: HEAD already carries the version, or no commit
	// since Previous asks for a release. Reason says which.
	Changed bool
	Reason  string
	// Commits are the commits since Previous (newest first) that the version was computed from.
	Commits []Commit
	Head    string
	// Shallow says the clone is shallow and lacks history the version comes from (a version tag, or
	// commits since it), so that the version may be wrong: only with WithAllowShallow, as Next refuses it
	// otherwise.
	Shallow bool
}

// Next computes the next version of the repository.
func Next(ctx context.Context, opts ...Option) (*Result, error) {
	o, h, err := open(ctx, opts)
	if err != nil {
		return nil, err
	}
	return next(ctx, h, o)
}

func next(ctx context.Context, h *history, o *Options) (*Result, error) {
	r := &Result{Head: h.head, Changed: true}
	var target *mm.Version
	var err error
	if o.Bump != "" {
		r.Previous, r.Bump = h.latest, string(o.Bump)
		base := mm.New(0, 0, 0, "", "")
		if h.latest != nil {
			base = h.latest.Version
		}
		if target, err = Increment(base, o.Bump, o.Pre, o.PreBase); err != nil {
			return nil, err
		}
		if r.Commits, err = h.commits(ctx, h.latest, o.Paths); err != nil {
			return nil, err
		}
		if o.Pre != "" && !o.Bump.IsPre() {
			if target, err = h.nextPreRelease(target, o); err != nil {
				return nil, err
			}
		}
	} else {
		r.Previous = h.stable
		if r.Commits, err = h.commits(ctx, h.stable, o.Paths); err != nil {
			return nil, err
		}
		if target, err = h.fromCommits(r, o); err != nil {
			return nil, err
		}
	}
	if err := h.checkShallow(ctx, r, o); err != nil {
		return nil, err
	}
	r.Tag = TagName(h.prefix, h.withV(), target)
	if o.Build != "" {
		v, err := target.SetMetadata(o.Build)
		if err != nil {
			return nil, fmt.Errorf("build metadata %q: %w", o.Build, err)
		}
		target = &v
	}
	r.Version = target
	return r, nil
}

// fromCommits derives the version from the commits since the latest stable tag: the level they ask for
// applied to it, or the pending pre-release train when that is further ahead.
func (h *history) fromCommits(r *Result, o *Options) (*mm.Version, error) {
	latest, stable := h.latest, h.stable
	level := analyse(r.Commits)
	if stable != nil && stable.Version.Major() == 0 && level == Major {
		level = Minor // in 0.x a breaking change moves the minor version
	}
	r.Bump = level.String()

	var target *mm.Version
	switch {
	case latest == nil:
		target = o.Initial
	case stable == nil:
		target = release(latest.Version)
	default:
		target = fromLevel(stable.Version, level)
		if latest.Version.Prerelease() != "" && release(latest.Version).GreaterThan(target) {
			target = release(latest.Version) // graduate the pending 1.3.0-rc.N train
		}
	}
	if stable != nil && target.Equal(stable.Version) {
		r.Changed = false
		r.Reason = fmt.Sprintf("no commit since %s asks for a release (feat, fix, perf or a breaking change)", stable.Name)
		return target, nil
	}

	if o.Pre == "" {
		for _, t := range h.atHead() {
			if t.Version.Equal(target) {
				r.Changed, r.Reason = false, fmt.Sprintf("%s is already tagged %s", short(h.head), t.Name)
			}
		}
		return target, nil
	}
	for _, t := range h.atHead() {
		if sameRelease(t.Version, target) && preID(t.Version) == o.Pre {
			r.Changed, r.Reason = false, fmt.Sprintf("%s is already tagged %s", short(h.head), t.Name)
			return t.Version, nil
		}
	}
	return h.nextPreRelease(target, o)
}

// nextPreRelease is the next o.Pre pre-release of target, counted over every tag so that no two branches
// can produce the same one.
func (h *history) nextPreRelease(target *mm.Version, o *Options) (*mm.Version, error) {
	n := preCounter(target, o.Pre, h.all, o.PreBase)
	return withPre(target, o.Pre+"."+strconv.FormatUint(n, 10))
}

// release is v without its pre-release and build metadata.
func release(v *mm.Version) *mm.Version { return mm.New(v.Major(), v.Minor(), v.Patch(), "", "") }

func sameRelease(a, b *mm.Version) bool {
	return a.Major() == b.Major() && a.Minor() == b.Minor() && a.Patch() == b.Patch()
}

// preID is the first identifier of v's pre-release ("rc" for 1.3.0-rc.2).
func preID(v *mm.Version) string {
	id, _, _ := strings.Cut(v.Prerelease(), ".")
	return id
}

func short(hash string) string {
	if len(hash) > 7 {
		return hash[:7]
	}
	return hash
}
