package cmd

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/shipyardci/shipyard/internal/exitcode"
	"github.com/shipyardci/shipyard/internal/scaffold"
)

func newInitCmd(f *Factory) *cobra.Command {
	var o scaffold.Options
	c := &cobra.Command{
		Use:   "init",
		Short: "Write a commented shipyard.yaml for this repository",
		Long: `Look at the repository and write shipyard.yaml with the sections that apply, each key commented:
test thresholds for a Go module, the main package to build (the only one, or the first of several,
all listed), the layers of a Node.js service (node_modules after npm ci, then the code), and the
migrations directory when there is one. An existing shipyard.yaml is kept unless --force. The
diff base of the coverage gate is the default branch of origin (or main or master, whichever the
repository has), and .shipyard/, shipyard's local state, is added to .gitignore.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Dir, o.Env = f.Dir, f.Environ()
			r, err := scaffold.Init(cmd.Context(), o)
			if errors.Is(err, scaffold.ErrExists) {
				return exitcode.Input(errors.New("shipyard.yaml exists: --force to replace it, --print to see what init would write"))
			}
			if err != nil {
				return err
			}
			if o.Print {
				return f.RenderLines(map[string]any{"file": "shipyard.yaml", "content": r.Text}, strings.TrimSuffix(r.Text, "\n"))
			}
			p, lines := r.Project, []string{"wrote shipyard.yaml"}
			if r.Gitignore {
				lines = append(lines, "added .shipyard/ to .gitignore")
			}
			return f.RenderLines(map[string]any{"file": "shipyard.yaml", "go": p.Go, "node": p.Node, "main": p.Main, "migrations": p.Migrations, "gitignore": r.Gitignore}, lines...)
		},
	}
	c.Flags().BoolVar(&o.Force, "force", false, "replace an existing shipyard.yaml")
	c.Flags().BoolVar(&o.Print, "print", false, "print the configuration instead of writing it")
	return c
}
