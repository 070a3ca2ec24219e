package cmd

import (
	"fmt"
	"strconv"

	mm "github.com/Masterminds/semver/v3"
	"github.com/spf13/cobra"

	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/exitcode"
	"github.com/shipyardci/shipyard/internal/ghactions"
	"github.com/shipyardci/shipyard/internal/textreport"
	"github.com/shipyardci/shipyard/semver"
)

func newVersionCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:   "version",
		Short: "Semantic versions from git tags and Conventional Commits",
		Long: `Semantic versions from git tags and Conventional Commits.

feat is a minor change, fix and perf a patch, "!" or a BREAKING CHANGE: footer a major one (a minor one
in 0.x). Tags are semver with or without a leading v, after --tag-prefix in a monorepo; other tags are
ignored. The version of an untagged commit comes from 'version describe'.`,
	}
	c.AddCommand(newVersionCurrentCmd(f), newVersionNextCmd(f), newVersionDescribeCmd(f), newVersionTagCmd(f),
		newVersionCheckCmd(f))
	return c
}

// historyOptions are the flags that choose which history and tags a version is computed from.

type historyOptions struct {
	TagPrefix string
	Paths     []string
	Ref       string
	Initial   string
}

func (o *historyOptions) addFlags(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&o.TagPrefix, "tag-prefix", "", "only tags starting with `PREFIX` count, for one component of a monorepo (\"api/\" for api/v1.2.0)")
	fl.StringSliceVar(&o.Paths, "path", nil, "only commits touching `PATH` count, relative to the repository root (repeatable)")
	fl.StringVar(&o.Ref, "ref", "HEAD", "the commit `REF` to version")
	fl.StringVar(&o.Initial, "initial", "0.1.0", "the first `VERSION`, when no version tag exists yet")
	config.Bind(fl, "tag-prefix", "version.tag_prefix")
	config.Bind(fl, "path", "version.paths")
	config.Bind(fl, "initial", "version.initial")
}

func (o *historyOptions) semverOptions(dir string) ([]semver.Option, error) {
	initial, err := mm.StrictNewVersion(o.Initial)
	if err != nil {
		return nil, exitcode.Input(fmt.Errorf("--initial: %q is not a semantic version (like 0.1.0)", o.Initial))
	}
	return []semver.Option{
		semver.WithDir(dir), semver.WithRef(o.Ref), semver.WithTagPrefix(o.TagPrefix),
		semver.WithPaths(o.Paths...), semver.WithInitial(initial),
	}, nil
}

// bumpOptions are the flags that override or refine the computed increment.

type bumpOptions struct {
	Bump         string
	Pre          string
	Build        string
	AllowShallow bool
}

func (o *bumpOptions) addFlags(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&o.Bump, "bump", "", "increment the current version by `LEVEL` as npm version does: major, minor, patch, premajor, preminor, prepatch or prerelease")
	fl.StringVar(&o.Pre, "pre", "", "make a pre-release with `ID`, counted from existing tags (rc: 1.3.0-rc.1, then rc.2)")
	fl.StringVar(&o.Build, "build", "", "add build metadata (1.3.0+`META`)")
	fl.BoolVar(&o.AllowShallow, "allow-shallow", false, "version a shallow clone that lacks the last version tag or commits since it (the version may be wrong)")
	config.Bind(fl, "allow-shallow", "version.allow_shallow")
}

// semverOptions are the flags as semver options, which semver checks.
func (o *bumpOptions) semverOptions() []semver.Option {
	return []semver.Option{semver.WithBump(semver.Bump(o.Bump)), semver.WithPre(o.Pre), semver.WithBuild(o.Build), semver.WithAllowShallow(o.AllowShallow)}
}

func (f *Factory) warnShallow(r *semver.Result) {
	if !r.Shallow {
		return
	}
	msg := "this is a shallow clone: tags and commits may be missing and the version may be wrong; fetch the full history (actions/checkout with fetch-depth: 0, or git fetch --unshallow --tags)"
	f.IO.Warnf("%s", msg)
	f.Actions.Annotate(ghactions.Annotation{Level: ghactions.Warning, Title: "shipyard version", Message: msg})
}

func (f *Factory) emitVersion(r *semver.Result) error {
	if err := f.SetOutputs("version", r.Version.String(), "tag", r.Tag, "bump", r.Bump, "changed", strconv.FormatBool(r.Changed)); err != nil {
		return err
	}
	return f.RenderLines(textreport.NewVersionResult(r), r.Version.String())
}

// nextVersion computes the next version as the flags say, warning about a shallow clone.
