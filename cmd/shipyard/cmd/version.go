package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	mm "github.com/Masterminds/semver/v3"
	"github.com/spf13/cobra"

	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/exitcode"
	"github.com/shipyardci/shipyard/internal/ghactions"
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
	c.AddCommand(
		newVersionCurrentCmd(f),
		newVersionNextCmd(f),
		newVersionDescribeCmd(f),
		newVersionTagCmd(f),
		newVersionCheckCmd(f),
	)
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
	fl.StringSliceVar(&o.Paths, "path", nil, "only commits touching `PATH` count (repeatable)")
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
	Bump  string
	Pre   string
	Build string
}

func (o *bumpOptions) addFlags(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&o.Bump, "bump", "", "increment the current version by `LEVEL` as npm version does: major, minor, patch, premajor, preminor, prepatch or prerelease")
	fl.StringVar(&o.Pre, "pre", "", "make a pre-release with `ID`, counted from existing tags (rc: 1.3.0-rc.1, then rc.2)")
	fl.StringVar(&o.Build, "build", "", "add build metadata (1.3.0+`META`)")
}

func (o *bumpOptions) semverOptions() ([]semver.Option, error) {
	var opts []semver.Option
	if o.Bump != "" {
		b, err := semver.ParseBump(o.Bump)
		if err != nil {
			return nil, exitcode.Input(fmt.Errorf("--bump: %w", err))
		}
		opts = append(opts, semver.WithBump(b))
	}
	if o.Pre != "" {
		if err := checkPre(o.Pre); err != nil {
			return nil, err
		}
		opts = append(opts, semver.WithPre(o.Pre))
	}
	if o.Build != "" {
		if _, err := mm.New(0, 0, 0, "", "").SetMetadata(o.Build); err != nil {
			return nil, exitcode.Input(fmt.Errorf("--build: %q is not build metadata (letters, digits, hyphens and dots)", o.Build))
		}
		opts = append(opts, semver.WithBuild(o.Build))
	}
	return opts, nil
}

// checkPre validates the --pre identifier.
func checkPre(id string) error {
	if _, err := mm.New(0, 0, 0, "", "").SetPrerelease(id); err != nil || id == "" {
		return exitcode.Input(fmt.Errorf("--pre: %q is not a pre-release identifier (letters, digits and hyphens)", id))
	}
	return nil
}

// versionResult is the JSON of version current, next, describe and tag.
type versionResult struct {
	Version  string `json:"version"`
	Tag      string `json:"tag,omitempty"`
	Previous string `json:"previous,omitempty"`
	Bump     string `json:"bump,omitempty"`
	Changed  bool   `json:"changed"`
	Reason   string `json:"reason,omitempty"`
	Commits  int    `json:"commits"`
	Commit   string `json:"commit"`
}

func newVersionResult(r *semver.Result) versionResult {
	out := versionResult{
		Version: r.Version.String(), Tag: r.Tag, Bump: r.Bump, Changed: r.Changed, Reason: r.Reason,
		Commits: len(r.Commits), Commit: r.Head,
	}
	if r.Previous != nil {
		out.Previous = r.Previous.Name
	}
	return out
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
	return f.Render(newVersionResult(r), func(w io.Writer) error {
		_, err := fmt.Fprintln(w, r.Version)
		return err
	})
}

func newVersionCurrentCmd(f *Factory) *cobra.Command {
	var hist historyOptions
	c := &cobra.Command{
		Use:   "current",
		Short: "Print the highest version tag reachable from HEAD",
		Long:  "Print the highest semver tag reachable from HEAD (pre-releases included), or 0.0.0 when there is none.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := hist.semverOptions(f.Dir)
			if err != nil {
				return err
			}
			tag, err := semver.Current(cmd.Context(), opts...)
			if err != nil {
				return err
			}
			out := versionResult{Version: "0.0.0"}
			if tag == nil {
				f.IO.Infof("no version tag reachable from %s", hist.Ref)
			} else {
				out = versionResult{Version: tag.Version.String(), Tag: tag.Name, Commit: tag.Commit}
			}
			if err := f.SetOutputs("version", out.Version, "tag", out.Tag); err != nil {
				return err
			}
			return f.Render(out, func(w io.Writer) error {
				_, err := fmt.Fprintln(w, out.Version)
				return err
			})
		},
	}
	hist.addFlags(c)
	return c
}

func newVersionNextCmd(f *Factory) *cobra.Command {
	var hist historyOptions
	var bump bumpOptions
	c := &cobra.Command{
		Use:   "next",
		Short: "Print the next version, from Conventional Commits or --bump",
		Example: `  shipyard version next                  # 1.3.0 after a feat: since v1.2.0
  shipyard version next --pre rc         # 1.3.0-rc.1, then 1.3.0-rc.2
  shipyard version next --bump prerelease --pre beta
  shipyard version next --tag-prefix api/ --path services/api`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := f.nextVersion(cmd.Context(), &hist, &bump)
			if err != nil {
				return err
			}
			f.logNext(r)
			if err := f.Actions.AddSummary(nextSummary(r)); err != nil {
				return err
			}
			return f.emitVersion(r)
		},
	}
	hist.addFlags(c)
	bump.addFlags(c)
	return c
}

// nextVersion computes the next version as the flags say, warning about a shallow clone.
func (f *Factory) nextVersion(ctx context.Context, hist *historyOptions, bump *bumpOptions) (*semver.Result, error) {
	opts, err := hist.semverOptions(f.Dir)
	if err != nil {
		return nil, err
	}
	more, err := bump.semverOptions()
	if err != nil {
		return nil, err
	}
	r, err := semver.Next(ctx, append(opts, more...)...)
	if err != nil {
		return nil, err
	}
	f.warnShallow(r)
	return r, nil
}

func (f *Factory) logNext(r *semver.Result) {
	switch {
	case !r.Changed:
		f.IO.Infof("nothing to release: %s", r.Reason)
	case r.Previous == nil:
		f.IO.Infof("%s: the first version (no version tag yet), %s", r.Tag, plural(len(r.Commits), "commit"))
	default:
		f.IO.Infof("%s: %s bump from %s, %s", r.Tag, r.Bump, r.Previous.Name, plural(len(r.Commits), "commit"))
	}
}

func nextSummary(r *semver.Result) string {
	if !r.Changed {
		return fmt.Sprintf("**Version:** `%s` (nothing to release: %s)", r.Version, r.Reason)
	}
	from := ""
	if r.Previous != nil {
		from = " from `" + r.Previous.Name + "`"
	}
	return fmt.Sprintf("**Next version:** `%s` (%s%s, %s)", r.Version, r.Bump, from, plural(len(r.Commits), "commit"))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func newVersionDescribeCmd(f *Factory) *cobra.Command {
	var hist historyOptions
	var pre string
	c := &cobra.Command{
		Use:   "describe",
		Short: "Print a version for any commit, tagged or not (1.3.0-dev.5+g1a2b3c4)",
		Long: `Print a version for any commit: its tag's version when it is tagged, otherwise the next version as a
development pre-release counting the commits since the latest tag, with the abbreviated commit as build
metadata and .dirty when tracked files have uncommitted changes: 1.3.0-dev.5+g1a2b3c4.dirty.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := hist.semverOptions(f.Dir)
			if err != nil {
				return err
			}
			if err := checkPre(pre); err != nil {
				return err
			}
			r, err := semver.Describe(cmd.Context(), append(opts, semver.WithPre(pre))...)
			if err != nil {
				return err
			}
			f.warnShallow(r)
			return f.emitVersion(r)
		},
	}
	hist.addFlags(c)
	c.Flags().StringVar(&pre, "pre", "dev", "pre-release `ID` of untagged commits")
	return c
}

func newVersionTagCmd(f *Factory) *cobra.Command {
	var hist historyOptions
	var bump bumpOptions
	var push, sign bool
	var remote string
	c := &cobra.Command{
		Use:   "tag",
		Short: "Create the annotated tag of the next version, with its changelog as message",
		Long: `Create the annotated tag of the next version (as 'version next' computes it) on HEAD, with the changelog
of the release as its message. It refuses a working tree with uncommitted changes and an existing tag, and
does nothing, successfully, when there is nothing to release.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			r, err := f.nextVersion(ctx, &hist, &bump)
			if err != nil {
				return err
			}
			type tagResult struct {
				versionResult
				Tagged bool `json:"tagged"`
				Pushed bool `json:"pushed"`
			}
			out := tagResult{versionResult: newVersionResult(r)}
			if r.Changed {
				to := semver.TagOptions{Ref: hist.Ref, Sign: sign, Message: "Release " + r.Tag + "\n\n" + semver.NewChangelog(r, false).Markdown()}
				if push {
					to.Remote = remote
				}
				if err := semver.CreateTag(ctx, f.Dir, r.Tag, to); err != nil {
					return err
				}
				out.Tagged, out.Pushed = true, push
				f.IO.Infof("tagged %s", r.Tag)
				if push {
					f.IO.Infof("pushed %s to %s", r.Tag, remote)
				}
			} else {
				f.IO.Infof("nothing to tag: %s", r.Reason)
			}
			if err := f.SetOutputs("version", r.Version.String(), "tag", r.Tag, "tagged", strconv.FormatBool(out.Tagged)); err != nil {
				return err
			}
			return f.Render(out, func(w io.Writer) error {
				if !out.Tagged {
					return nil
				}
				_, err := fmt.Fprintln(w, r.Tag)
				return err
			})
		},
	}
	hist.addFlags(c)
	bump.addFlags(c)
	c.Flags().BoolVar(&push, "push", false, "push the tag to --remote")
	c.Flags().BoolVar(&sign, "sign", false, "sign the tag with your git signing key (GPG or SSH)")
	c.Flags().StringVar(&remote, "remote", "origin", "the `REMOTE` to push to")
	config.Bind(c.Flags(), "remote", "version.remote")
	return c
}

func newVersionCheckCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "check VERSION CONSTRAINT",
		Short: "Check a version against a constraint: exit 0 when it satisfies it, 1 when not",
		Example: `  shipyard version check 1.4.2 ">=1.2 <2"     # exit 0
  shipyard version check 2.0.0 "^1.4"        # exit 1`,
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			ok, reasons, err := semver.Check(args[0], args[1])
			var invalid *semver.InvalidError
			if errors.As(err, &invalid) {
				return exitcode.Input(err)
			}
			if err != nil {
				return err
			}
			out := struct {
				Version    string   `json:"version"`
				Constraint string   `json:"constraint"`
				Satisfied  bool     `json:"satisfied"`
				Reasons    []string `json:"reasons"`
			}{args[0], args[1], ok, reasons}
			if out.Reasons == nil {
				out.Reasons = []string{}
			}
			err = f.Render(out, func(w io.Writer) error {
				if ok {
					_, err := fmt.Fprintf(w, "%s satisfies %s\n", args[0], args[1])
					return err
				}
				_, err := fmt.Fprintf(w, "%s does not satisfy %s: %s\n", args[0], args[1], strings.Join(reasons, "; "))
				return err
			})
			if err != nil || ok {
				return err
			}
			return exitcode.Silent(exitcode.Failed)
		},
	}
}
