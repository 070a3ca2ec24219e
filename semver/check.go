package semver

import (
	"fmt"

	mm "github.com/Masterminds/semver/v3"
)

// InvalidError is a version or constraint that does not parse.
type InvalidError struct {
	What  string // "version" or "constraint"
	Input string
	Err   error
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("invalid %s %q: %v", e.What, e.Input, e.Err)
}
func (e *InvalidError) Unwrap() error { return e.Err }

// InputError says that the version or constraint given is malformed: the command exits 2.
func (e *InvalidError) InputError() bool { return true }

// Check reports whether version satisfies constraint (Masterminds syntax: ">=1.2 <2", "^1.4", "~1.2.3 || 2.x")
// and, when it does not, why. A leading "v" in the version is accepted.
func Check(version, constraint string) (ok bool, reasons []string, err error) {
	v, err := mm.NewVersion(version)
	if err != nil {
		return false, nil, &InvalidError{What: "version", Input: version, Err: err}
	}
	c, err := mm.NewConstraint(constraint)
	if err != nil {
		return false, nil, &InvalidError{What: "constraint", Input: constraint, Err: err}
	}
	ok, errs := c.Validate(v)
	for _, e := range errs {
		reasons = append(reasons, e.Error())
	}
	return ok, reasons, nil
}
