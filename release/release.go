// Package release keeps release records: a build (an image by digest) plus its configuration, named,
// per environment, so that an environment can be promoted from another or rolled back to a known
// good release. Secrets are kept by reference, never by value.
package release

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Record is one release.
type Record struct {
	Name   string `json:"name"`   // v3, 20261123T101500Z, 1.4.2 or 2026.11.2, by the scheme
	Number int    `json:"number"` // the environment's counter, from 1
	Env    string `json:"env"`
	Image  string `json:"image"` // repository@digest
	Digest string `json:"digest"`
	// Version and Commit are what the image was built from.
	Version string `json:"version,omitempty"`
	Commit  string `json:"commit,omitempty"`
	// Config is the release's configuration: values, and secrets by reference (vault:…, env:…).
	Config       Config `json:"config"`
	ConfigSHA256 string `json:"config_sha256"`
	// MigrationVersion is the schema version the release needs (0: none).
	MigrationVersion uint64    `json:"migration_version,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
	CreatedBy        string    `json:"created_by"`
	// RollbackOf and PromotedFrom say where a release came from.
	RollbackOf   string `json:"rollback_of,omitempty"`
	PromotedFrom string `json:"promoted_from,omitempty"`
}

// Config is a release's configuration.
type Config struct {
	Values  map[string]string `json:"values" yaml:"values"`
	Secrets map[string]string `json:"secrets" yaml:"secrets"` // name → reference, never the secret
}

// InputError is input the user has to fix: the option that is wrong (Option, "release.Env"), and why.
type InputError struct {
	Option string
	Msg    string
}

func (e *InputError) Error() string { return e.Msg }

// InputError says that the user's input is wrong: the command exits 2.
func (e *InputError) InputError() bool { return true }

// InputOption is the option that is wrong.
func (e *InputError) InputOption() string { return e.Option }

// passwordURL is a URL with a password in it: scheme://user:password@.
var passwordURL = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^/?#\s@:]*:[^/?#\s@]*@`)

// secretRef is what a secret reference looks like: a scheme, a colon, a location.
var secretRef = regexp.MustCompile(`^[a-z][a-z0-9+.-]*:[^\s]+$`)

// ReadConfig reads a release configuration file: values, and secrets as references.
func ReadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, &InputError{Option: "release.Config", Msg: fmt.Sprintf("reading %s: %v", path, errors.Unwrap(err))}
	}
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, &InputError{Msg: path + ": " + err.Error()}
	}
	for name, ref := range c.Secrets {
		if !secretRef.MatchString(ref) || passwordURL.MatchString(ref) {
			return Config{}, &InputError{Msg: fmt.Sprintf("%s: secret %s must be a reference such as vault:secret/app#key or env:NAME, not a value", path, name)}
		}
	}
	for name, v := range c.Values {
		if passwordURL.MatchString(v) {
			return Config{}, &InputError{Msg: fmt.Sprintf("%s: value %s holds a URL with a password, which a release record must never carry: make it a secret reference", path, name)}
		}
	}
	return c.normal(), nil
}

func (c Config) normal() Config {
	if c.Values == nil {
		c.Values = map[string]string{}
	}
	if c.Secrets == nil {
		c.Secrets = map[string]string{}
	}
	return c
}

// SHA256 is the configuration's digest: of its canonical JSON (keys sorted).
func (c Config) SHA256() string {
	data, _ := json.Marshal(c.normal()) // maps marshal with sorted keys
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Scheme is how the releases of an environment are named.
type Scheme string

// The naming schemes.
const (
	Counter   Scheme = "counter"   // v1, v2, … per environment
	Timestamp Scheme = "timestamp" // 20261123T101500Z
	Semver    Scheme = "semver"    // the version of the build
	Calver    Scheme = "calver"    // 2026.11.N, N counting the environment's releases of the month
)

// namer names the release of number n, created at t, in an environment whose releases are prior.
func namer(scheme Scheme, r *Record, prior []Record) (func(n int) (string, error), error) {
	switch scheme {
	case "", Counter:
		return func(n int) (string, error) { return fmt.Sprintf("v%d", n), nil }, nil
	case Timestamp:
		return func(int) (string, error) { return r.CreatedAt.UTC().Format("20060102T150405Z"), nil }, nil
	case Semver:
		if r.Version == "" {
			return nil, &InputError{Option: "release.Scheme", Msg: "semver names a release by its version, and the release has none"}
		}
		return func(int) (string, error) {
			for _, p := range prior {
				if p.Name == r.Version {
					return "", fmt.Errorf("release %s exists in %s already", r.Version, r.Env)
				}
			}
			return r.Version, nil
		}, nil
	case Calver:
		return func(int) (string, error) {
			month := r.CreatedAt.UTC().Format("2006.01")
			n := 1
			for _, p := range prior {
				if strings.HasPrefix(p.Name, month+".") {
					n++
				}
			}
			return fmt.Sprintf("%s.%d", month, n), nil
		}, nil
	}
	return nil, &InputError{Option: "release.Scheme", Msg: fmt.Sprintf("%q is not counter, timestamp, semver or calver", scheme)}
}

// next numbers and names r as the release after prior (newest first) in its environment, and sums its
// configuration.
func next(r *Record, scheme Scheme, prior []Record) error {
	name, err := namer(scheme, r, prior)
	if err != nil {
		return err
	}
	r.Number = 1
	if len(prior) > 0 {
		r.Number = prior[0].Number + 1
	}
	if r.Name, err = name(r.Number); err != nil {
		return err
	}
	r.Config = r.Config.normal()
	r.ConfigSHA256 = r.Config.SHA256()
	return nil
}

// Store keeps the records.
type Store interface {
	// Create numbers r as the environment's next release, names it, and stores it; concurrent creates get
	// distinct consecutive numbers.
	Create(ctx context.Context, r *Record, scheme Scheme) error
	// List returns the environment's releases, newest first.
	List(ctx context.Context, env string) ([]Record, error)
}

// Get finds a release of env by name (or "v3" by number).
func Get(ctx context.Context, s Store, env, name string) (*Record, error) {
	all, err := s.List(ctx, env)
	if err != nil {
		return nil, err
	}
	for _, r := range all {
		if r.Name == name {
			return &r, nil
		}
	}
	return nil, &InputError{Msg: fmt.Sprintf("release: %s has no release %s", env, name)}
}

// RollbackRequest asks for a new release of Env with the build and configuration of the release named
// To, or, when To is "", of the release before the current one.
type RollbackRequest struct {
	Env, To string
	Scheme  Scheme
	// By is who asks (user@host), Now when.
	By  string
	Now time.Time
}

// Rollback creates the release the request asks for.
func Rollback(ctx context.Context, s Store, req RollbackRequest) (*Record, error) {
	env, to := req.Env, req.To
	all, err := s.List(ctx, env)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, &InputError{Option: "release.Env", Msg: fmt.Sprintf("%s has no release to roll back", env)}
	}
	var target *Record
	switch {
	case to != "":
		for i := range all {
			if all[i].Name == to {
				target = &all[i]
			}
		}
		if target == nil {
			return nil, &InputError{Option: "release.To", Msg: fmt.Sprintf("%s has no release %s", env, to)}
		}
	case len(all) < 2:
		return nil, &InputError{Option: "release.Env", Msg: fmt.Sprintf("%s has only %s: nothing before it to roll back to", env, all[0].Name)}
	default:
		// The release before the current one, skipping releases of the same build and configuration.
		for i := 1; i < len(all); i++ {
			if all[i].Digest != all[0].Digest || all[i].ConfigSHA256 != all[0].ConfigSHA256 {
				target = &all[i]
				break
			}
		}
		if target == nil {
			return nil, &InputError{Option: "release.Env", Msg: fmt.Sprintf("every release of %s has the build and configuration of %s", env, all[0].Name)}
		}
	}
	r := *target
	r.Env, r.CreatedAt, r.CreatedBy, r.RollbackOf, r.PromotedFrom = env, req.Now.UTC(), req.By, target.Name, ""
	if err := s.Create(ctx, &r, req.Scheme); err != nil {
		return nil, err
	}
	return &r, nil
}

// PromoteRequest asks for a release of To with the build and configuration of From's current release,
// or of its release named Name.
type PromoteRequest struct {
	From, To, Name string
	Scheme         Scheme
	// By is who asks (user@host), Now when.
	By  string
	Now time.Time
}

// Promote creates the release the request asks for.
func Promote(ctx context.Context, s Store, req PromoteRequest) (*Record, error) {
	from, to, name := req.From, req.To, req.Name
	var src *Record
	if name != "" {
		var err error
		if src, err = Get(ctx, s, from, name); err != nil {
			return nil, err
		}
	} else {
		all, err := s.List(ctx, from)
		if err != nil {
			return nil, err
		}
		if len(all) == 0 {
			return nil, &InputError{Option: "release.From", Msg: fmt.Sprintf("%s has no release to promote", from)}
		}
		src = &all[0]
	}
	r := *src
	r.Env, r.CreatedAt, r.CreatedBy, r.RollbackOf, r.PromotedFrom = to, req.Now.UTC(), req.By, "", from+"/"+src.Name
	if err := s.Create(ctx, &r, req.Scheme); err != nil {
		return nil, err
	}
	return &r, nil
}
