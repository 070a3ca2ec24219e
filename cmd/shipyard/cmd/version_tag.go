package cmd

import (
	"strconv"

	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/textreport"
	"github.com/shipyardci/shipyard/semver"
	"github.com/spf13/cobra"
)

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
				textreport.VersionResult
				Tagged bool `json:"tagged"`
				Pushed bool `json:"pushed"`
			}
			to := semver.TagOptions{Ref: hist.Ref, Sign: sign}
			if push {
				to.Remote = remote
			}
			tagged, err := semver.TagRelease(ctx, f.Dir, r, to)
			if err != nil {
				return err
			}
			out := tagResult{VersionResult: textreport.NewVersionResult(r), Tagged: tagged, Pushed: tagged && push}
			switch {
			case !tagged:
				f.IO.Infof("nothing to tag: %s", r.Reason)
			case push:
				f.IO.Infof("tagged %s and pushed it to %s", r.Tag, remote)
			default:
				f.IO.Infof("tagged %s", r.Tag)
			}
			if err := f.SetOutputs("version", r.Version.String(), "tag", r.Tag, "tagged", strconv.FormatBool(tagged)); err != nil {
				return err
			}
			var lines []string
			if tagged {
				lines = append(lines, r.Tag)
			}
			return f.RenderLines(out, lines...)
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
