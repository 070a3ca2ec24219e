package semver

import (
	"context"
	"fmt"
	"strconv"

	mm "github.com/Masterminds/semver/v3"
)

// Current returns the highest version tag reachable from the ref, pre-releases included, or nil when there
// is none.
func Current(ctx context.Context, opts ...Option) (*Tag, error) {
	_, h, err := open(ctx, opts)
	if err != nil {
		return nil, err
	}
	return h.latest, nil
}

// Describe returns a version for the commit even when it is not tagged, like `git describe` in semver form:
// the version of its tag when it has one ("+dirty" added when tracked files have uncommitted changes), otherwise the next version as a development pre-release counting
// the commits since the latest tag, with the abbreviated commit as build metadata:
// 1.3.0-dev.5+g1a2b3c4, and ".dirty" added when tracked files have uncommitted changes. After a
// pre-release tag the count extends it (1.3.0-rc.1.dev.2), so that it still sorts between rc.1 and rc.2.
func Describe(ctx context.Context, opts ...Option) (*Result, error) {
	o, h, err := open(ctx, opts)
	if err != nil {
		return nil, err
	}
	preid := o.Pre
	if preid == "" {
		preid = "dev"
	}
	o.Pre, o.Bump, o.Build = "", "", ""
	dirty, err := uncommitted(ctx, h.repo)
	if err != nil {
		return nil, err
	}
	if at := highest(h.atHead(), false); at != nil {
		v := at.Version
		if len(dirty) > 0 { // a build of this tree is not the tagged version
			v = mm.New(v.Major(), v.Minor(), v.Patch(), v.Prerelease(), "dirty")
		}
		return &Result{Version: v, Tag: at.Name, Previous: at, Bump: "none", Reason: fmt.Sprintf("%s is tagged %s", short(h.head), at.Name), Head: h.head, Shallow: h.shallow}, nil
	}
	r, err := next(ctx, h, o)
	if err != nil {
		return nil, err
	}
	target := r.Version
	if !r.Changed {
		target = fromLevel(target, Patch) // nothing releasable yet: the work heads for the next patch
	}
	latest := h.latest
	rng := h.head
	if latest != nil {
		rng = latest.Commit + ".." + h.head
	}
	count, err := h.repo.Output(ctx, "rev-list", "--count", rng)
	if err != nil {
		return nil, fmt.Errorf("counting commits since the latest tag: %w", err)
	}
	if _, err := strconv.ParseUint(count, 10, 64); err != nil {
		return nil, fmt.Errorf("counting commits since the latest tag: unexpected %q", count)
	}
	pre := preid + "." + count
	if latest != nil && latest.Version.Prerelease() != "" && sameRelease(latest.Version, target) {
		pre = latest.Version.Prerelease() + "." + pre
	}
	meta := "g" + short(h.head)
	if len(dirty) > 0 {
		meta += ".dirty"
	}
	v, err := withPre(release(target), pre)
	if err != nil {
		return nil, err
	}
	withMeta, err := v.SetMetadata(meta)
	if err != nil {
		return nil, err
	}
	r.Version, r.Tag, r.Changed, r.Reason = &withMeta, "", false, ""
	return r, nil
}
