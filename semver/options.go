package semver

import (
	"fmt"

	mm "github.com/Masterminds/semver/v3"
	"github.com/shipyardci/shipyard/internal/usererr"
)

// Options says which history to version and how. Set them with the With… functions; the defaults are
// set in one place, newOptions.
type Options struct {
	Dir       string
	Ref       string
	TagPrefix string
	Paths     []string
	Bump      Bump
	Pre       string
	Build     string
	Initial   *mm.Version
	PreBase   uint64
	// AllowShallow computes a version in a shallow clone that lacks the history it comes from.
	AllowShallow bool
}

// Option changes one of the Options.
type Option func(*Options)

// WithDir is the working tree (default ".").
func WithDir(dir string) Option { return func(o *Options) { o.Dir = dir } }

// WithRef is the commit to version (default HEAD).
func WithRef(ref string) Option { return func(o *Options) { o.Ref = ref } }

// WithTagPrefix selects the tags of one component of a monorepo ("api/" for api/v1.2.0).
func WithTagPrefix(prefix string) Option { return func(o *Options) { o.TagPrefix = prefix } }

// WithPaths counts only the commits that touch these paths.
func WithPaths(paths ...string) Option { return func(o *Options) { o.Paths = paths } }

// WithBump replaces commit analysis with an explicit increment of the current version.
func WithBump(b Bump) Option { return func(o *Options) { o.Bump = b } }

// WithPre makes the next version a pre-release with this identifier ("rc" gives 1.3.0-rc.1, then rc.2).
func WithPre(id string) Option { return func(o *Options) { o.Pre = id } }

// WithBuild adds build metadata ("+META") to the version.
func WithBuild(meta string) Option { return func(o *Options) { o.Build = meta } }

// WithInitial is the first version of a repository with no version tag (default 0.1.0).
func WithInitial(v *mm.Version) Option { return func(o *Options) { o.Initial = v } }

// WithPreBase is the first pre-release number (default 1: rc.1; npm uses 0).
func WithPreBase(n uint64) Option { return func(o *Options) { o.PreBase = n } }

// WithAllowShallow computes the version of a shallow clone even when the clone lacks the version tag or
// the commits since it, which makes the version wrong; by default Next refuses with a ShallowError.
func WithAllowShallow(allow bool) Option { return func(o *Options) { o.AllowShallow = allow } }

func newOptions(opts []Option) (*Options, error) {
	o := &Options{Dir: ".", Ref: "HEAD", Initial: mm.New(0, 1, 0, "", ""), PreBase: 1}
	for _, opt := range opts {
		opt(o)
	}
	if o.Bump != "" {
		if _, err := ParseBump(string(o.Bump)); err != nil {
			return nil, err
		}
	}
	if o.Pre != "" {
		if _, err := mm.New(0, 0, 0, "", "").SetPrerelease(o.Pre); err != nil {
			return nil, &InputError{Option: "semver.Pre", Err: fmt.Errorf("%q is not a pre-release identifier (letters, digits and hyphens)", o.Pre)}
		}
	}
	if o.Build != "" {
		if _, err := mm.New(0, 0, 0, "", "").SetMetadata(o.Build); err != nil {
			return nil, &InputError{Option: "semver.Build", Err: fmt.Errorf("%q is not build metadata (letters, digits, hyphens and dots)", o.Build)}
		}
	}
	return o, nil
}

// InputError is an option the user has to fix: which (Option, "semver.Pre"), and why.
type InputError = usererr.Error
