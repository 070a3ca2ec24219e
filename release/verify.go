package release

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Listing is what a store holds for an environment: its releases, newest first, and the records it
// could not trust, which are left out.
type Listing struct {
	Records []Record
	Damaged []*DamagedError
	// Highest is the highest number the environment's records hold, damaged ones included: a new release
	// numbers past it.
	Highest int
}

// DamagedError is a record that cannot be trusted: unreadable, or not what was written (edited by hand,
// truncated). Where is its file or tag.
type DamagedError struct {
	Where   string `json:"where"`
	Number  int    `json:"number,omitempty"` // from its file or tag name, 0 when unknown
	Problem string `json:"problem"`
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("release record %s is damaged: %s", e.Where, e.Problem)
}

// seal is the digest of the record's canonical content (its JSON with the seal left empty), which
// Create writes into it and every read checks.
func (r Record) seal() string {
	r.Seal = ""
	data, _ := json.Marshal(r) // a Record always marshals: strings, numbers, a time and string maps
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// verify says what is wrong with a record read from where, stored as env's release number (0 when the
// store does not say), or nil when nothing is.
func verify(r *Record, where, env string, number int) *DamagedError {
	damaged := func(format string, args ...any) *DamagedError {
		return &DamagedError{Where: where, Number: number, Problem: fmt.Sprintf(format, args...)}
	}
	switch {
	case r.Seal == "":
		return damaged("it has no seal, so any of it may have been changed")
	case r.Seal != r.seal():
		return damaged("its content does not match its seal: it was changed after it was written")
	case r.Env != env:
		return damaged("it is a release of %q, stored as one of %q", r.Env, env)
	case number > 0 && r.Number != number:
		return damaged("it says it is number %d, stored as number %d", r.Number, number)
	case r.ConfigSHA256 != r.Config.normal().SHA256():
		return damaged("its configuration does not match its config_sha256")
	}
	repo, digest, ok := strings.Cut(r.Image, "@")
	if !ok || repo == "" || digest != r.Digest {
		return damaged("its image %q does not name its digest %s", r.Image, r.Digest)
	}
	return nil
}

// Verifier checks a release before it is released again (rolled back to, promoted): that its image is
// where the environment's images are and exists there. It returns an error saying what is wrong.
type Verifier func(ctx context.Context, r *Record) error
