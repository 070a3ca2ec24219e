package cmd

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/exitcode"
	"github.com/shipyardci/shipyard/migrate"
)

// BuildInfo is what `shipyard --version` prints; the release build sets it with -ldflags -X.
type BuildInfo struct {
	Version, Commit, Date string
}

// withDefaults fills what the linker did not set from the Go build information (go install, go build in a
// checkout).
func (b BuildInfo) withDefaults() BuildInfo {
	bi, ok := debug.ReadBuildInfo()
	if ok && b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		b.Version = strings.TrimPrefix(bi.Main.Version, "v")
	}
	if ok {
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && b.Commit == "":
				b.Commit = s.Value
			case s.Key == "vcs.time" && b.Date == "":
				b.Date = s.Value
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if b.Date == "" {
		b.Date = "unknown"
	}
	return b
}

// NewRoot builds the command tree.
func NewRoot(f *Factory, info BuildInfo) *cobra.Command {
	info = info.withDefaults()
	f.ToolVersion = info.Version
	var g globalFlags
	f.Output = outputText
	root := &cobra.Command{
		Use:   "shipyard",
		Short: "From commit to running release: test, build, push, version, release, migrate, audit",
		Long: `shipyard takes a service from commit to running release with one binary: tests with coverage
gates, daemonless reproducible images, registry pushes, semantic versions, releases and live schema
migrations. With no configuration it uses embedded defaults (an embedded registry, SQLite).`,
		Version:           info.Version,
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return f.resolve(cmd, &g) },
	}
	root.SetVersionTemplate(fmt.Sprintf("shipyard %s\ncommit: %s\nbuilt:  %s\n", info.Version, info.Commit, info.Date))
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return exitcode.Input(err) })
	g.add(root.PersistentFlags(), f)

	root.AddCommand(newVersionCmd(f), newChangelogCmd(f), newTestCmd(f), newMigrateCmd(f), newPushCmd(f),
		newRegistryCmd(f), newAuditCmd(f), newBuildCmd(f), newInitCmd(f), newReleaseCmd(f), newVerifyCmd(f), newPublishCmd(f), newPipelineCmd(f))
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	// Create cobra's help and completion commands now rather than at Execute, so that they are validated too.
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd("completion")
	validateArgs(root)
	return root
}

// globalFlags are the flags of every command that the Factory does not hold itself.
type globalFlags struct {
	config                  string
	quiet, verbose, noColor bool
}

func (g *globalFlags) add(pf *pflag.FlagSet, f *Factory) {
	pf.StringVarP(&f.Dir, "chdir", "C", ".", "run as if shipyard was started in `DIR`")
	pf.StringVar(&g.config, "config", "", "configuration `FILE` (default: shipyard.yaml at the repository root; env SHIPYARD_CONFIG)")
	pf.VarP(&f.Output, "output", "o", "output format: text or json")
	pf.BoolVarP(&g.quiet, "quiet", "q", false, "print results and errors only, no progress or status")
	pf.BoolVarP(&g.verbose, "verbose", "v", false, "also print debug logs (each request of registry serve, each pushed reference, each migration as it starts)")
	pf.BoolVar(&g.noColor, "no-color", false, "never colour the output (also NO_COLOR=1)")
}

// resolve applies the global flags and loads the configuration, before any command runs.
func (f *Factory) resolve(cmd *cobra.Command, g *globalFlags) error {
	f.IO.Quiet = f.IO.Quiet || g.quiet
	f.IO.Verbose = g.verbose
	if g.noColor {
		f.IO.SetNoColor()
	}
	if info, err := os.Stat(f.Dir); err != nil || !info.IsDir() {
		return exitcode.Input(fmt.Errorf("-C: %s is not a directory", f.Dir))
	}
	path, explicit := f.configPath(g.config)
	cfg, err := config.Load(path, explicit, f.Environ())
	if err != nil {
		return exitcode.Input(err)
	}
	f.Config = cfg
	if err := cfg.ApplyToFlags(cmd.Flags()); err != nil {
		return exitcode.Input(err)
	}
	// The passwords of the database URLs never print, in any form (a command without --database has "").
	flag, _ := cmd.Flags().GetString("database")
	for _, s := range migrate.Secrets(cfg.Migrate.Database, flag) {
		f.Actions.Mask(s)
		f.IO.Hide(s)
	}
	return nil
}

// validateArgs makes argument mistakes usage errors (exit 2) everywhere in the tree, including an unknown
// subcommand of a command group, which cobra would otherwise answer with help and exit 0.
func validateArgs(c *cobra.Command) {
	for _, sub := range c.Commands() {
		validateArgs(sub)
	}
	if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
		c.Args = cobra.ArbitraryArgs
		c.SuggestionsMinimumDistance = 2
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf(" (did you mean %q?)", s[0])
			}
			return exitcode.Input(errors.New(msg))
		}
		return
	}
	if c.Args == nil {
		c.Args = cobra.NoArgs
	}
	check := c.Args
	c.Args = func(cmd *cobra.Command, args []string) error { return exitcode.Input(check(cmd, args)) }
}

// subcommandPath is the command path without the program name ("version next").
func subcommandPath(c *cobra.Command) string {
	if c == nil {
		return ""
	}
	_, rest, _ := strings.Cut(c.CommandPath(), " ")
	return rest
}
