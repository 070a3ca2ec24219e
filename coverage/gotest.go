package coverage

import (
	"context"
	"errors"
	"fmt"
	"github.com/shipyardci/shipyard/internal/gomod"
	"io"
	"os"
	"os/exec"
	"time"
)

// ErrTestsFailed is returned when go test ran and reported failing tests or packages that did not build.
var ErrTestsFailed = errors.New("tests failed")

// GoTest is one `go test` run that writes a cover profile.
type GoTest struct {
	Dir      string
	Packages []string // default ./...
	// Coverpkg measures these packages from every test binary (go test -coverpkg).
	Coverpkg string
	// Args are more go test flags (-race, -run X, -count=1).
	Args []string
	// Profile is where the cover profile is written.
	Profile string
	// Stdout and Stderr receive go test's output as it comes.
	Stdout, Stderr io.Writer
}

// Run runs the tests with atomic coverage. A run whose tests fail still writes a profile of what ran.
func (g GoTest) Run(ctx context.Context) error {
	if err := gomod.Check(g.Dir); err != nil {
		return err
	}
	args := []string{"test", "-covermode=atomic", "-coverprofile=" + g.Profile}
	if g.Coverpkg != "" {
		args = append(args, "-coverpkg="+g.Coverpkg)
	}
	args = append(args, g.Args...)
	if len(g.Packages) == 0 {
		args = append(args, "./...")
	} else {
		args = append(args, g.Packages...)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = g.Dir
	cmd.Stdout, cmd.Stderr = g.Stdout, g.Stderr
	// On cancel, interrupt go test so that it stops its test binaries, then kill it if it lingers.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("go test: %w", ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 {
		return fmt.Errorf("go test: %w", ErrTestsFailed)
	}
	if err != nil {
		return fmt.Errorf("running go test: %w", err)
	}
	return nil
}
