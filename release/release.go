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
	"slices"
	"strconv"
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
	// Seal is the digest of the record's canonical content, written by Create and checked by every read:
	// a record changed by hand, or truncated, is reported and left out.
	Seal string `json:"seal"`
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
		return func(int) (string, error) {
			base := r.CreatedAt.UTC().Format("20060102T150405Z")
			name := base
			for n := 2; slices.ContainsFunc(prior, func(p Record) bool { return p.Name == name }); n++ {
				name = fmt.Sprintf("%s-%d", base, n) // the second is taken
			}
			return name, nil
		}, nil
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

// next numbers and names r as the release after the listing's in its environment, sums its
// configuration and seals it.
func next(r *Record, scheme Scheme, prior Listing) error {
	name, err := namer(scheme, r, prior.Records)
	if err != nil {
		return err
	}
	r.Number = prior.Highest + 1
	for _, p := range prior.Records {
		r.Number = max(r.Number, p.Number+1)
	}
	if r.Name, err = name(r.Number); err != nil {
		return err
	}
	r.Config = r.Config.normal()
	r.ConfigSHA256 = r.Config.SHA256()
	r.Seal = r.seal()
	return nil
}

// Store keeps the records.
type Store interface {
	// Create numbers r as the environment's next release, names it, seals it and stores it; concurrent
	// creates get distinct consecutive numbers.
	Create(ctx context.Context, r *Record, scheme Scheme) error
	// List returns the environment's releases, newest first, each verified against its seal; the damaged
	// ones are reported apart.
	List(ctx context.Context, env string) (Listing, error)
	// Environments lists the environments that have releases.
	Environments(ctx context.Context) ([]string, error)
}

// byNumber is a release name that asks for a number: v3 or 3.
var byNumber = regexp.MustCompile(`^v?([1-9][0-9]*)$`)

// Get finds a release of env by name, or by number (v3, 3) when no release has that name. A damaged
// record of that name or number is an error.
func Get(ctx context.Context, s Store, env, name string) (*Record, error) {
	l, err := s.List(ctx, env)
	if err != nil {
		return nil, err
	}
	n := 0
	if m := byNumber.FindStringSubmatch(name); m != nil {
		n, _ = strconv.Atoi(m[1])
	}
	for _, match := range []func(Record) bool{func(r Record) bool { return r.Name == name }, func(r Record) bool { return r.Number == n }} {
		if i := slices.IndexFunc(l.Records, match); i >= 0 {
			return &l.Records[i], nil
		}
	}
	if n > 0 {
		if i := slices.IndexFunc(l.Damaged, func(d *DamagedError) bool { return d.Number == n }); i >= 0 {
			return nil, l.Damaged[i]
		}
	}
	return nil, &InputError{Msg: fmt.Sprintf("%s has no release %s", env, name)}
}

// RollbackRequest asks for a new release of Env with the build and configuration of the release named
// To (or numbered: v3, 3), or, when To is "", of the release before the current one.
type RollbackRequest struct {
	Env, To string
	Scheme  Scheme
	// By is who asks (user@host), Now when.
	By  string
	Now time.Time
	// Verify, when set, checks the release rolled back to before anything is created.
	Verify Verifier
}

// Rollback creates the release the request asks for. A damaged record is never a target.
func Rollback(ctx context.Context, s Store, req RollbackRequest) (*Record, error) {
	env, to := req.Env, req.To
	l, err := s.List(ctx, env)
	if err != nil {
		return nil, err
	}
	all := l.Records
	var target *Record
	switch {
	case to != "":
		if target, err = Get(ctx, s, env, to); err != nil {
			var in *InputError
			if errors.As(err, &in) {
				in.Option = "release.To"
			}
			return nil, err
		}
	case len(all) == 0:
		return nil, &InputError{Option: "release.Env", Msg: fmt.Sprintf("%s has no release to roll back", env)}
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
	if err := create(ctx, s, &r, req.Scheme, req.Verify, target); err != nil {
		return nil, err
	}
	return &r, nil
}

// create verifies the release that r releases again, then creates r.
func create(ctx context.Context, s Store, r *Record, scheme Scheme, verify Verifier, of *Record) error {
	if verify != nil {
		if err := verify(ctx, of); err != nil {
			return fmt.Errorf("release %s of %s: %w", of.Name, of.Env, err)
		}
	}
	return s.Create(ctx, r, scheme)
}

// PromoteRequest asks for a release of To with the build and configuration of From's current release,
// or of its release named (or numbered) Name.
type PromoteRequest struct {
	From, To, Name string
	Scheme         Scheme
	// By is who asks (user@host), Now when.
	By  string
	Now time.Time
	// Verify, when set, checks the release promoted before anything is created.
	Verify Verifier
}

// Promote creates the release the request asks for. A damaged record is never promoted.
func Promote(ctx context.Context, s Store, req PromoteRequest) (*Record, error) {
	from, to, name := req.From, req.To, req.Name
	var src *Record
	if name != "" {
		var err error
		if src, err = Get(ctx, s, from, name); err != nil {
			return nil, err
		}
	} else {
		l, err := s.List(ctx, from)
		if err != nil {
			return nil, err
		}
		if len(l.Records) == 0 {
			return nil, &InputError{Option: "release.From", Msg: fmt.Sprintf("%s has no release to promote", from)}
		}
		src = &l.Records[0]
	}
	r := *src
	r.Env, r.CreatedAt, r.CreatedBy, r.RollbackOf, r.PromotedFrom = to, req.Now.UTC(), req.By, "", from+"/"+src.Name
	if err := create(ctx, s, &r, req.Scheme, req.Verify, src); err != nil {
		return nil, err
	}
	return &r, nil
}
