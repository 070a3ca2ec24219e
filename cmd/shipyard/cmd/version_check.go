package cmd

import (
	"fmt"
	"io"
	"strings"

	"github.com/shipyardci/shipyard/internal/exitcode"
	"github.com/shipyardci/shipyard/semver"
	"github.com/spf13/cobra"
)

func newVersionCheckCmd(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "check VERSION CONSTRAINT",
		Short: "Check a version against a constraint: exit 0 when it satisfies it, 1 when not",
		Example: `  shipyard version check 1.4.2 ">=1.2 <2"     # exit 0
  shipyard version check 2.0.0 "^1.4"        # exit 1`,
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			ok, reasons, err := semver.Check(args[0], args[1])
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
