// Package usererr is the error of input the user has to fix, which a library returns to say so: it
// answers InputError() (the CLI exits 2) and names the library's option it blames, which the CLI turns
// into a flag. Packages whose errors need more (a file and line) have their own types with the same two
// methods.
package usererr

// Error is input the user has to fix: the option it blames ("coverage.DiffBase"; "" for none), and why.
type Error struct {
	Option string
	Err    error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// InputError says that the user's input is wrong.
func (e *Error) InputError() bool { return true }

// InputOption is the option that is wrong, or "".
func (e *Error) InputOption() string { return e.Option }
