package cmd

import (
	"fmt"
	"io"
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
			out := tagResult{VersionResult: textreport.NewVersionResult(r)}
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
