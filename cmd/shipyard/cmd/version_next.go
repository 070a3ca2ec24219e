package cmd

import (
	"context"

	"github.com/shipyardci/shipyard/internal/textreport"
	"github.com/shipyardci/shipyard/semver"
	"github.com/spf13/cobra"
)

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
			if err := f.Actions.AddSummary(textreport.NextMarkdown(r)); err != nil {
				return err
			}
			return f.emitVersion(r)
		},
	}
	hist.addFlags(c)
	bump.addFlags(c)
	return c
}

func (f *Factory) nextVersion(ctx context.Context, hist *historyOptions, bump *bumpOptions) (*semver.Result, error) {
	opts, err := hist.semverOptions(f.Dir)
	if err != nil {
		return nil, err
	}
	r, err := semver.Next(ctx, append(opts, bump.semverOptions()...)...)
	if err != nil {
		return nil, err
	}
	f.warnShallow(r)
	return r, nil
}

func (f *Factory) logNext(r *semver.Result) { f.IO.Infof("%s", textreport.NextLine(r)) }
