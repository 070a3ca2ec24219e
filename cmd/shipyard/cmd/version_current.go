package cmd

import (
	"errors"

	"github.com/shipyardci/shipyard/internal/exitcode"
	"github.com/shipyardci/shipyard/internal/textreport"
	"github.com/shipyardci/shipyard/semver"
	"github.com/spf13/cobra"
)

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
			out := textreport.VersionResult{Version: "0.0.0"}
			if tag == nil {
				f.IO.Infof("no version tag reachable from %s", hist.Ref)
			} else {
				out = textreport.VersionResult{Version: tag.Version.String(), Tag: tag.Name, Commit: tag.Commit}
			}
			if err := f.SetOutputs("version", out.Version, "tag", out.Tag); err != nil {
				return err
			}
			return f.RenderLines(out, out.Version)
		},
	}
	hist.addFlags(c)
	return c
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
			if pre == "" {
				return exitcode.Input(errors.New("--pre: \"\" is not a pre-release identifier (letters, digits and hyphens)"))
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
