package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/ghactions"
	"github.com/shipyardci/shipyard/internal/iostreams"
)

// Factory is what every command is given: the streams, the environment, the GitHub Actions runner, and
// the global flags once they are resolved (before any command runs).
type Factory struct {
	IO      *iostreams.IO
	Actions *ghactions.Actions
	Getenv  func(string) string
	Environ func() []string

	// ToolVersion is shipyard's own version, as --version prints it.
	ToolVersion string

	// stdin holds the secret --password-stdin read, shared by the copies a pipeline makes.
	stdin *iostreams.Secret

	// Resolved by the root command's PersistentPreRunE.
	Dir    string
	Output outputFormat
	Config *config.Loaded
}

// Render prints v as one JSON document with -o json, or calls text otherwise.
func (f *Factory) Render(v any, text func(w io.Writer) error) error {
	if f.Output == outputJSON {
		enc := json.NewEncoder(f.IO.Out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(v)
	}
	return text(f.IO.Out)
}

// RenderLines prints v as JSON with -o json, or the lines otherwise.
func (f *Factory) RenderLines(v any, lines ...string) error {
	return f.Render(v, func(w io.Writer) error {
		for _, l := range lines {
			if _, err := fmt.Fprintln(w, l); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetOutputs writes step outputs under GitHub Actions; it does nothing elsewhere.
func (f *Factory) SetOutputs(kv ...string) error {
	for i := 0; i+1 < len(kv); i += 2 {
		if err := f.Actions.SetOutput(kv[i], kv[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// outputFormat is the -o flag: text for people, json for programs.
type outputFormat string

const (
	outputText outputFormat = "text"
	outputJSON outputFormat = "json"
)

func (o *outputFormat) String() string { return string(*o) }
func (o *outputFormat) Type() string   { return "text|json" }
func (o *outputFormat) Set(s string) error {
	switch outputFormat(s) {
	case outputText, outputJSON:
		*o = outputFormat(s)
		return nil
	}
	return fmt.Errorf("must be text or json, not %q", s)
}

// Path resolves a path given on the command line against -C.
func (f *Factory) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(f.Dir, p)
}

// configPath is the configuration file for the global flags: --config, SHIPYARD_CONFIG, or shipyard.yaml at
// the repository root; explicit says the user named it, so it must exist.
func (f *Factory) configPath(flag string) (path string, explicit bool) {
	if flag == "" {
		flag = f.Getenv("SHIPYARD_CONFIG")
	}
	if flag != "" {
		return f.Path(flag), true
	}
	return config.Find(f.Dir), false
}
