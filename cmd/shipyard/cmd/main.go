// Package cmd is shipyard's command line: cobra commands that parse flags, call one library function and
// render its result as text or JSON. Exit codes are decided in one place, Run.
package cmd

import (
	"context"
	"errors"
	"os"
	"strings"

	"github.com/shipyardci/shipyard/internal/exitcode"
	"github.com/shipyardci/shipyard/internal/ghactions"
	"github.com/shipyardci/shipyard/internal/iostreams"
	"github.com/shipyardci/shipyard/internal/pipeline"
	"github.com/shipyardci/shipyard/migrate"
	"github.com/shipyardci/shipyard/registry"
	"github.com/shipyardci/shipyard/semver"
)

// Main runs shipyard with the process's arguments, streams and environment, and returns the exit code.
func Main(ctx context.Context, info BuildInfo) int {
	f := &Factory{
		IO:      iostreams.System(os.Getenv),
		Getenv:  os.Getenv,
		Environ: os.Environ,
	}
	f.Actions = ghactions.New(f.Getenv, f.IO.ErrOut)
	return Run(ctx, f, info, os.Args[1:])
}

// Run executes one command line and maps its error to the exit code of PRODUCT.md: 0 success, 1 the job
// failed, 2 usage or input error, 130 interrupted.
func Run(ctx context.Context, f *Factory, info BuildInfo, args []string) int {
	if f.stdin == nil {
		f.stdin = &iostreams.Secret{}
	}
	root := NewRoot(f, info)
	root.SetArgs(args)
	executed, err := root.ExecuteContextC(ctx)
	code := exitcode.Code(err)
	if err == nil || exitcode.IsSilent(err) {
		return code
	}
	msg := f.IO.Scrub(withFlag(err))
	if code == exitcode.Interrupted {
		msg = "interrupted"
	}
	f.IO.Errorf("%s", msg)
	f.Actions.Annotate(ghactions.Annotation{Title: strings.TrimSpace("shipyard " + subcommandPath(executed)), Message: msg})
	if code == exitcode.Usage && executed != nil {
		f.IO.Infof("Run '%s --help' for usage.", executed.CommandPath())
	}
	return code
}

// flagOf names the flag or argument of each library option that an input error can blame
// (InputOption), so that the message says what to change on the command line: libraries speak of their
// own options, never of flags.
var flagOf = map[string]string{
	"audit.VulnDB":              "--vuln-db",
	"audit.Branch":              "--branch",
	"audit.Groups":              "--group",
	"audit.Scan":                "--scan",
	"audit.Image":               "--image",
	"audit.RuntimeDB":           "--runtime-db",
	"audit.SARIF":               "--sarif",
	"release.Files":             "--filename",
	"release.Out":               "--out",
	"build.Platforms":           "--platform",
	"build.Base":                "--base",
	"coverage.DiffBase":         "--diff-base",
	"audit.Level":               "--level",
	"coverage.JUnit":            "--junit",
	"coverage.Shard":            "--shard",
	"coverage.CoverDirs":        "--coverdir",
	"coverage.Exclude":          "--exclude",
	"build.Dest":                "--dest",
	"build.Tag":                 "--tag",
	"registry.Tags":             "--tag",
	"registry.CACerts":          "--ca-cert",
	"registry.ClientCert":       "--client-cert",
	"registry.Keep":             "--keep",
	"registry.Root":             "--root",
	"registry.TLSCert":          "--tls-cert",
	"registry.Htpasswd":         "--htpasswd",
	"registry.UIDelete":         "--ui-delete",
	"sign.Key":                  "--sign-key",
	"sign.PublicKey":            "--key",
	"sign.Attestations":         "--attestation",
	"release.VerifyKey":         "--verify-key",
	"registry.Addr":             "--addr",
	"registry.Source":           "SRC",
	"registry.Destination":      "DST",
	"registry.Ref":              "REF",
	"release.Config":            "--config",
	"release.Scheme":            "--scheme",
	"release.Env":               "--env",
	"release.To":                "--to",
	"release.From":              "--from",
	"release.Image":             "--image",
	"pipeline.Stages":           "--stages",
	"release.Store":             "--store",
	"migrate.Dir":               "--dir",
	"migrate.Database":          "--database",
	"migrate.backfill.max_load": "--max-load",
	"migrate.Dialect":           "--dialect",
	"semver.Bump":               "--bump",
	"semver.Pre":                "--pre",
	"semver.Build":              "--build",
}

// withFlag is err's message, after the flag its input error blames when there is one, and with what to
// change on the command line after the words of a library error that has a remedy there.
func withFlag(err error) string {
	msg := err.Error()
	if hint, cause := remedy(err); cause != nil {
		words := cause.Error()
		if i := strings.Index(msg, words); i >= 0 {
			msg = msg[:i+len(words)] + " (" + hint + ")" + msg[i+len(words):]
		}
	}
	var opt interface{ InputOption() string }
	if errors.As(err, &opt) {
		if flag := flagOf[opt.InputOption()]; flag != "" {
			return flag + ": " + msg
		}
	}
	return msg
}

// remedy is how the command line remedies the library error in err's chain that it can remedy (cause).
func remedy(err error) (hint string, cause error) {
	var lock *migrate.LockTimeoutError
	var wait *migrate.LockWaitError
	var plain *registry.PlainHTTPError
	var tag *pipeline.TagError
	var dir *migrate.DirError
	var shallow *semver.ShallowError
	var taken *registry.TagTakenError
	switch {
	case errors.As(err, &taken):
		return "push a new version, or --force to replace it", taken
	case errors.As(err, &shallow):
		return "fetch the whole history: fetch-depth: 0 in actions/checkout, or git fetch --unshallow --tags; --allow-shallow to version it anyway", shallow
	case errors.As(err, &dir):
		return "create one with `shipyard migrate create NAME`", dir
	case errors.As(err, &tag):
		return "--no-tag to leave it", tag
	case errors.As(err, &lock):
		return "raise --lock-timeout to wait longer", lock
	case errors.As(err, &wait):
		return "run it again later, or raise --pg-lock-timeout", wait
	case errors.As(err, &plain):
		return "--insecure allows it", plain
	case errors.Is(err, registry.ErrUnknownAuthority):
		return "trust it with --ca-cert FILE", registry.ErrUnknownAuthority
	case errors.Is(err, registry.ErrUnauthorized):
		return "check the credentials: `shipyard registry login`, --username with --password-stdin, or SHIPYARD_REGISTRY_USERNAME/PASSWORD", registry.ErrUnauthorized
	}
	return "", nil
}
