package publish

import "github.com/shipyardci/shipyard/internal/usererr"

// InputError is a package or a configuration the user has to fix (exit code 2).
type InputError = usererr.Error
