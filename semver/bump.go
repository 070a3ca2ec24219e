package semver

import (
	"fmt"
	"strconv"
	"strings"

	mm "github.com/Masterminds/semver/v3"
)

// Bump is an explicit increment, named and behaving as in `npm version`.
type Bump string

// The increments of `npm version`.
const (
	BumpMajor      Bump = "major"
	BumpMinor      Bump = "minor"
	BumpPatch      Bump = "patch"
	BumpPremajor   Bump = "premajor"
	BumpPreminor   Bump = "preminor"
	BumpPrepatch   Bump = "prepatch"
	BumpPrerelease Bump = "prerelease"
)

// Bumps lists the valid increments, for flag help and validation.
var Bumps = []Bump{BumpMajor, BumpMinor, BumpPatch, BumpPremajor, BumpPreminor, BumpPrepatch, BumpPrerelease}

// ParseBump validates an increment name.
func ParseBump(s string) (Bump, error) {
	for _, b := range Bumps {
		if string(b) == s {
			return b, nil
		}
	}
	names := make([]string, len(Bumps))
	for i, b := range Bumps {
		names[i] = string(b)
	}
	return "", &InputError{Option: "semver.Bump", Err: fmt.Errorf("invalid bump %q: want one of %s", s, strings.Join(names, ", "))}
}

// IsPre reports whether the increment produces a pre-release.
func (b Bump) IsPre() bool { return strings.HasPrefix(string(b), "pre") }

// Increment applies b to v like `npm version` (node-semver's inc): a pre-release of 1.3.0 becomes 1.3.0 on a
// minor bump rather than 1.4.0, and pre* bumps start the counter of preid at base (npm's base is 0; shipyard
// counts release candidates from 1, like semantic-release).
func Increment(v *mm.Version, b Bump, preid string, base uint64) (*mm.Version, error) {
	major, minor, patch, pre := v.Major(), v.Minor(), v.Patch(), v.Prerelease()
	switch b {
	case BumpMajor:
		if minor != 0 || patch != 0 || pre == "" {
			major++
		}
		return mm.New(major, 0, 0, "", ""), nil
	case BumpMinor:
		if patch != 0 || pre == "" {
			minor++
		}
		return mm.New(major, minor, 0, "", ""), nil
	case BumpPatch:
		if pre == "" {
			patch++
		}
		return mm.New(major, minor, patch, "", ""), nil
	case BumpPremajor:
		return withPre(mm.New(major+1, 0, 0, "", ""), startPre(preid, base))
	case BumpPreminor:
		return withPre(mm.New(major, minor+1, 0, "", ""), startPre(preid, base))
	case BumpPrepatch:
		return withPre(mm.New(major, minor, patch+1, "", ""), startPre(preid, base))
	case BumpPrerelease:
		if pre == "" {
			return withPre(mm.New(major, minor, patch+1, "", ""), startPre(preid, base))
		}
		return withPre(mm.New(major, minor, patch, "", ""), nextPre(pre, preid, base))
	}
	return nil, fmt.Errorf("invalid bump %q", b)
}

func withPre(v *mm.Version, pre string) (*mm.Version, error) {
	out, err := v.SetPrerelease(pre)
	if err != nil {
		return nil, fmt.Errorf("pre-release %q: %w", pre, err)
	}
	return &out, nil
}

func startPre(preid string, base uint64) string {
	if preid == "" {
		return strconv.FormatUint(base, 10)
	}
	return preid + "." + strconv.FormatUint(base, 10)
}

// nextPre increments a pre-release like node-semver: the last numeric identifier goes up by one; a
// different preid starts over at base.
func nextPre(pre, preid string, base uint64) string {
	ids := strings.Split(pre, ".")
	if preid != "" && ids[0] != preid {
		return startPre(preid, base)
	}
	for i := len(ids) - 1; i >= 0; i-- {
		if n, err := strconv.ParseUint(ids[i], 10, 64); err == nil {
			ids[i] = strconv.FormatUint(n+1, 10)
			return strings.Join(ids, ".")
		}
	}
	return pre + "." + strconv.FormatUint(base, 10)
}

// fromLevel is the increment a Conventional Commits level asks for.
func fromLevel(v *mm.Version, l Level) *mm.Version {
	switch l {
	case Major:
		out := v.IncMajor()
		return &out
	case Minor:
		out := v.IncMinor()
		return &out
	case Patch:
		out := v.IncPatch()
		return &out
	}
	return v
}

// preCounter returns the next pre-release of target for preid: one above the highest preid.N already tagged
// for target, or base.
func preCounter(target *mm.Version, preid string, tags []Tag, base uint64) uint64 {
	next := base
	for _, t := range tags {
		v := t.Version
		if v.Major() != target.Major() || v.Minor() != target.Minor() || v.Patch() != target.Patch() {
			continue
		}
		id, num, ok := strings.Cut(v.Prerelease(), ".")
		if !ok || id != preid {
			continue
		}
		if n, err := strconv.ParseUint(num, 10, 64); err == nil && n+1 > next {
			next = n + 1
		}
	}
	return next
}
