// Package exitcode maps errors to the process exit codes of shipyard's contract: 0 success, 1 the job ran
// and failed, 2 usage or input error. Commands classify errors at their boundary; main calls Code once.
package exitcode

import (
	"context"
	"errors"
	"strconv"
)

// The exit codes of PRODUCT.md, plus the shell's convention for a run stopped by a signal.
const (
	OK          = 0
	Failed      = 1
	Usage       = 2
	Interrupted = 130
)

// Error carries an exit code with the error that caused it. A nil Err is a silent failure: the command has
// already said everything on stdout (a constraint that is not met, a threshold that is missed).
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return "exit status " + strconv.Itoa(e.Code)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Input marks err as a usage or input error (exit 2): a bad flag, argument, configuration or input file.
func Input(err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: Usage, Err: err}
}

// Silent is a failure with the given code and nothing more to print.
func Silent(code int) error { return &Error{Code: code} }

// IsSilent reports whether err carries nothing to print.
func IsSilent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Err == nil
}

// inputError is how a library says that an error is the user's to fix (a bad file, flag or value)
// without knowing about exit codes: an error type with this method, anywhere in the chain.
type inputError interface {
	error
	InputError() bool
}

// Code is the exit code for err: an *Error's own code, 2 for an input error, 130 when cancelled, else 1.
func Code(err error) int {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	var in inputError
	if errors.As(err, &in) && in.InputError() {
		return Usage
	}
	if errors.Is(err, context.Canceled) {
		return Interrupted
	}
	return Failed
}
