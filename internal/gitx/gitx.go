// Package gitx runs the git command line in one working tree. The git CLI is on every CI runner and laptop,
// reads every repository format git itself writes, and is faster than the Go reimplementations on large
// histories; this package keeps its invocations in one place with errors that say what failed.
package gitx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// Repo is a git working tree.
type Repo struct {
	Dir string
	// Env is added to the process environment of every git call (GIT_AUTHOR_DATE=…, for example).
	Env []string
}

// Open returns the working tree that holds dir, or an error when dir is not inside one.
func Open(ctx context.Context, dir string) (*Repo, error) {
	r := &Repo{Dir: dir}
	top, err := r.Output(ctx, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("%s is not inside a git working tree: %w", dir, err)
	}
	r.Dir = top
	return r, nil
}

// Error is a failed git invocation with what git printed on stderr.
type Error struct {
	Args     []string
	ExitCode int
	Stderr   string
}

func (e *Error) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = fmt.Sprintf("exit status %d", e.ExitCode)
	}
	return fmt.Sprintf("git %s: %s", strings.Join(e.Args, " "), msg)
}

// Run runs git with args and returns its standard output.
func (r *Repo) Run(ctx context.Context, args ...string) ([]byte, error) {
	return r.RunInput(ctx, nil, args...)
}

// RunInput runs git with args, stdin as its standard input, and returns its standard output.
func (r *Repo) RunInput(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = r.Dir
	cmd.Stdin = stdin
	if len(r.Env) > 0 {
		cmd.Env = append(cmd.Environ(), r.Env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("git %s: %w", strings.Join(args, " "), ctx.Err())
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, &Error{Args: args, ExitCode: ee.ExitCode(), Stderr: stderr.String()}
		}
		return nil, fmt.Errorf("running git: %w", err)
	}
	return stdout.Bytes(), nil
}

// Output runs git and returns its output without the trailing newline.
func (r *Repo) Output(ctx context.Context, args ...string) (string, error) {
	out, err := r.Run(ctx, args...)
	return strings.TrimRight(string(out), "\n"), err
}

// ExitCode returns the exit code of a failed git invocation, or -1 when err is not one.
func ExitCode(err error) int {
	var ge *Error
	if errors.As(err, &ge) {
		return ge.ExitCode
	}
	return -1
}
