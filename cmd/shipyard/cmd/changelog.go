package cmd

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/shipyardci/shipyard/semver"
)

func newChangelogCmd(f *Factory) *cobra.Command {
	var hist historyOptions
	var bump bumpOptions
	var all bool
	var file string
	c := &cobra.Command{
		Use:   "changelog",
		Short: "Print the changelog of the next version, grouped by commit type",
		Long: `Print the changelog of the next version in markdown: breaking changes first, then features, bug fixes,
performance improvements and reverts, from the Conventional Commits since the latest version tag.
--all lists every commit type; --file prepends the section to a CHANGELOG.md (once per version).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := f.nextVersion(cmd.Context(), &hist, &bump)
			if err != nil {
				return err
			}
			log := semver.NewChangelog(r, all)
			md := log.Markdown()
			if file != "" {
				written, err := log.Prepend(f.Path(file))
				if err != nil {
					return err
				}
				if written {
					f.IO.Infof("added %s to %s", log.Version, file)
				} else {
					f.IO.Infof("%s already has %s: left unchanged", file, log.Version)
				}
			}
			if err := f.SetOutputs("version", log.Version, "changelog", md); err != nil {
				return err
			}
			if err := f.Actions.AddSummary(md); err != nil {
				return err
			}
			return f.Render(log, func(w io.Writer) error {
				_, err := io.WriteString(w, md)
				return err
			})
		},
	}
	hist.addFlags(c)
	bump.addFlags(c)
	c.Flags().BoolVar(&all, "all", false, "list every commit type, docs and chores included")
	c.Flags().StringVar(&file, "file", "", "prepend the section to markdown `FILE` (CHANGELOG.md)")
	return c
}
