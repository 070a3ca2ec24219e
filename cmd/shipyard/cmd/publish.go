package cmd

import (
	"github.com/spf13/cobra"

	"github.com/shipyardci/shipyard/internal/pipeline"
	"github.com/shipyardci/shipyard/internal/textreport"
)

func newPublishCmd(f *Factory) *cobra.Command {
	var in pipeline.PublishInput
	var bump bumpOptions
	c := &cobra.Command{
		Use:   "publish [--dry-run] [--dist-tag TAG]",
		Short: "Version the npm package from its commits and publish it to its registry (no npm needed)",
		Long: `Publish the npm package of the directory, or each workspace of it: the next version from the Conventional
Commits (as version next; a workspace's tags are NAME@vX.Y.Z and count its own commits), the release tagged with
its changelog (as version tag; --push sends it), the package packed as npm pack packs it (files, .npmignore,
bin; a reproducible tarball) and published through the registry API to the registry .npmrc or publishConfig
names, with .npmrc's token: pre-releases under next (or --dist-tag), others under latest. package.json and
package-lock.json then say the version. A version the registry has is not published again.`,
		Example: `  shipyard publish --dry-run
  shipyard publish --pre rc --push`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in.Dir, in.Getenv, in.TagPrefix, in.Bump = f.Dir, f.Getenv, f.Config.Version.TagPrefix, bump.semverOptions()
			res, err := pipeline.Publish(cmd.Context(), in)
			if err == nil {
				err = f.SetOutputs(textreport.PublishOutputs(res)...)
			}
			if err != nil {
				return err
			}
			return f.RenderLines(res, textreport.PublishLines(res)...)
		},
	}
	c.Flags().BoolVar(&in.DryRun, "dry-run", false, "print the version, the files and the tarball's integrity; publish and tag nothing")
	c.Flags().StringVar(&in.DistTag, "dist-tag", "", "the `TAG` to publish under (default: next for a pre-release, latest otherwise)")
	c.Flags().StringVar(&in.Remote, "push", "", "push the version tags to `REMOTE` (--push alone: origin)")
	c.Flags().Lookup("push").NoOptDefVal = "origin"
	bump.addFlags(c)
	return c
}
