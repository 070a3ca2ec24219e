package config

import "time"

// Config is the schema of shipyard.yaml. Each capability owns one section; a key's yaml tag is its name in
// the file, in its environment variable and in the flag binding.
type Config struct {
	Version  Version  `yaml:"version"`
	Test     Test     `yaml:"test"`
	Migrate  Migrate  `yaml:"migrate"`
	Registry Registry `yaml:"registry"`
	Audit    Audit    `yaml:"audit"`
	Build    Build    `yaml:"build"`
	Release  Release  `yaml:"release"`
	Pipeline Pipeline `yaml:"pipeline"`
}

// Pipeline configures `shipyard pipeline`.
type Pipeline struct {
	// Stages are the stages to run, in the pipeline's order: test, audit, build, version, release, migrate.
	Stages []string `yaml:"stages"`
	// Env is the environment the release is for (default staging).
	Env string `yaml:"env"`
	// Registry is the registry host to push to (default: the embedded registry).
	Registry string `yaml:"registry"`
	// RegistryAddr is where the embedded registry listens (default 127.0.0.1:5000, registry serve's).
	RegistryAddr string `yaml:"registry_addr"`
}

// Release configures `shipyard release`.
type Release struct {
	// Store is the directory of the release records (default .shipyard/releases).
	Store string `yaml:"store"`
	// Scheme names releases: counter, timestamp, semver or calver.
	Scheme string `yaml:"scheme"`
	// Repository is the image repository the environments' releases are of (REGISTRY/NAME): rollback and
	// promote refuse a record that names another. Default: the repository of the environment's newest
	// release.
	Repository string `yaml:"repository"`
	// VerifyKey makes create, promote and rollback refuse an image without a valid signature from this
	// public key (cosign.pub): a file or env://NAME.
	VerifyKey string `yaml:"verify_key"`
}

// Build configures `shipyard build`.
type Build struct {
	// Main is the main package to build, relative to the module (default ".").
	Main string `yaml:"main"`
	// Platforms are os/arch[/variant] pairs (default linux/amd64).
	Platforms []string `yaml:"platforms"`
	// Base is "" (the generated base), scratch, oci:DIR, or an image reference.
	Base string `yaml:"base"`
	// Dest is where the image goes: oci:DIR or tar:FILE (default oci:.shipyard/image).
	Dest string `yaml:"dest"`
	CGO  bool   `yaml:"cgo"`
	// CACerts is the CA bundle of the generated base (default: the host's).
	CACerts    string            `yaml:"ca_certs"`
	Entrypoint []string          `yaml:"entrypoint"`
	Cmd        []string          `yaml:"cmd"`
	Env        []string          `yaml:"env"`
	WorkDir    string            `yaml:"workdir"`
	User       string            `yaml:"user"`
	Ports      []string          `yaml:"ports"`
	Labels     map[string]string `yaml:"labels"`
	// Source is the org.opencontainers.image.source annotation (default: the git remote origin).
	Source string `yaml:"source"`
	// Layers are files of any language, each layer its own: dependencies first, then the app.
	Layers []BuildLayer `yaml:"layers"`
	// Migrations is the migrations directory to put in the image with the shipyard binary, so that the
	// pre-deploy migration Job runs the image it deploys (`shipyard migrate up` finds them).
	Migrations string `yaml:"migrations"`
	// Shipyard is the shipyard binary that goes in with them (default: the running one), for a shipyard
	// that cannot run in the image: built with cgo, or for another platform.
	Shipyard string `yaml:"shipyard"`
	// SignKey signs what a build pushes: a cosign key pair's private key or a PEM key, a file or
	// env://NAME; its password from COSIGN_PASSWORD or SHIPYARD_SIGN_PASSWORD.
	SignKey string `yaml:"sign_key"`
}

// BuildLayer is a layer of project files: from (files, directories, globs) go under to at their paths
// in the project, after run, when set, ran in the project.
type BuildLayer struct {
	Name    string   `yaml:"name"`
	Run     string   `yaml:"run"`
	From    []string `yaml:"from"`
	To      string   `yaml:"to"`
	Exclude []string `yaml:"exclude"`
}

// Audit configures `shipyard audit`.
type Audit struct {
	// VulnDB is the vulnerability database: an https:// URL, file://DIR, or off.
	VulnDB string `yaml:"vuln_db"`
	// FailOn is the lowest severity that fails the audit: low, moderate, high, critical or none.
	FailOn string `yaml:"fail_on"`
	// Scan is how deep Go vulnerabilities are looked for: module, package or symbol (default symbol,
	// module when the packages cannot be loaded).
	Scan string `yaml:"scan"`
	// FailOnUnreachable lets the Go vulnerabilities that are not called fail the audit too.
	FailOnUnreachable bool `yaml:"fail_on_unreachable"`
	// RuntimeDB is the Go and Node.js release data: file://DIR of go.json and node.json, or off
	// (default: go.dev's release list and the Node.js release schedule).
	RuntimeDB string `yaml:"runtime_db"`
	// FailOnEOL fails the audit when the Go or Node.js release in use is past its end of life.
	FailOnEOL bool `yaml:"fail_on_eol"`
	// FixLevel is the largest update `audit fix` makes: patch, minor or major.
	FixLevel string `yaml:"fix_level"`
	// Allow lists the update types audit fix may make (patch, minor, major); empty: all up to FixLevel.
	Allow []string `yaml:"allow"`
	// Groups gather updates into one change each; the first whose patterns match takes a package.
	Groups []AuditGroup `yaml:"groups"`
	// Ignore keeps audit fix and --fail-outdated away from packages or versions, until a date.
	Ignore []AuditIgnore `yaml:"ignore"`
}

// AuditGroup is a named set of packages updated together; * in a pattern matches anything.
type AuditGroup struct {
	Name     string   `yaml:"name"`
	Patterns []string `yaml:"patterns"`
}

// AuditIgnore is an ignore rule: a package (glob), the versions not to move to (a range, or all), the
// date it ends (YYYY-MM-DD, or never), and why.
type AuditIgnore struct {
	Name     string `yaml:"name"`
	Versions string `yaml:"versions"`
	Until    string `yaml:"until"`
	Reason   string `yaml:"reason"`
}

// Registry configures the registry client of `shipyard push` and `shipyard registry`. Passwords are never
// read from the file: use `shipyard registry login`, --password-stdin or SHIPYARD_REGISTRY_PASSWORD.
type Registry struct {
	Username string `yaml:"username"`
	// CACert is a PEM file of a certificate authority to trust besides the system's.
	CACert   string `yaml:"ca_cert"`
	Insecure bool   `yaml:"insecure"`
	Jobs     int    `yaml:"jobs"`
}

// Version configures `shipyard version` and `shipyard changelog`.
type Version struct {
	// TagPrefix selects the tags of one component in a monorepo, for example "api/" for api/v1.2.0.
	TagPrefix string `yaml:"tag_prefix"`
	// Initial is the first version, used when no tag exists yet.
	Initial string `yaml:"initial"`
	// Paths limits the commits that count to those touching these paths.
	Paths []string `yaml:"paths"`
	// Remote is where `version tag --push` pushes.
	Remote string `yaml:"remote"`
	// AllowShallow versions a shallow clone even when it lacks the history the version comes from.
	AllowShallow bool `yaml:"allow_shallow"`
}

// Test configures `shipyard test`: coverage thresholds in percent of statements, or, when negative, the
// most statements allowed to stay uncovered.
type Test struct {
	MinTotal   float64 `yaml:"min_total"`
	MinPackage float64 `yaml:"min_package"`
	MinFile    float64 `yaml:"min_file"`
	// Exclude lists globs of module-relative paths left out of coverage ("**/mocks/**").
	Exclude []string `yaml:"exclude"`
	// IncludeGenerated counts generated files, left out by default.
	IncludeGenerated bool `yaml:"include_generated"`
	// Coverpkg measures these packages from every test binary (go test -coverpkg).
	Coverpkg string `yaml:"coverpkg"`
	// Overrides set the package and file thresholds of the paths they match; the last match wins.
	Overrides []CoverageOverride `yaml:"overrides"`
	// MinLines, MinFunctions and MinBranches are the thresholds of an lcov file (shipyard test --lcov).
	MinLines     float64 `yaml:"min_lines"`
	MinFunctions float64 `yaml:"min_functions"`
	MinBranches  float64 `yaml:"min_branches"`
	// DiffBase and MinDiff gate the coverage of the lines changed since the merge base with DiffBase.
	DiffBase string  `yaml:"diff_base"`
	MinDiff  float64 `yaml:"min_diff"`
	// Baseline is a file recording the total; a run may not fall more than BaselineTolerance points below.
	Baseline          string  `yaml:"baseline"`
	BaselineTolerance float64 `yaml:"baseline_tolerance"`
}

// CoverageOverride is the threshold of the packages and files matching a glob.
type CoverageOverride struct {
	Path string  `yaml:"path"`
	Min  float64 `yaml:"min"`
}

// Migrate configures `shipyard migrate`. The database URL is better given in DATABASE_URL (or
// SHIPYARD_MIGRATE_DATABASE) than written here, since it usually holds a password.
type Migrate struct {
	// Database ranks SHIPYARD_MIGRATE_DATABASE, then DATABASE_URL, then the file.
	Database    string        `yaml:"database" env:"DATABASE_URL"`
	Dir         string        `yaml:"dir"`
	LockTimeout time.Duration `yaml:"lock_timeout"`
	// PostgreSQL only: the lock_timeout and statement_timeout of each migration, and how often a
	// migration that hit lock_timeout runs again.
	PGLockTimeout      time.Duration `yaml:"pg_lock_timeout"`
	PGStatementTimeout time.Duration `yaml:"pg_statement_timeout"`
	LockRetries        int           `yaml:"lock_retries"`
	// LiveLockTimeout is the lock_timeout of live migrations' parts and backfill batches (PostgreSQL).
	LiveLockTimeout time.Duration `yaml:"live_lock_timeout"`
	Backfill        Backfill      `yaml:"backfill"`
}

// Backfill tunes the backfill of live migrations.
type Backfill struct {
	BatchSize   int           `yaml:"batch_size"`
	BatchTime   time.Duration `yaml:"batch_time"`
	MaxRate     float64       `yaml:"max_rate"`
	MaxLag      time.Duration `yaml:"max_lag"`
	MaxLockWait time.Duration `yaml:"max_lock_wait"`
	// MaxLoad is the load the backfill yields to, as --max-load reads it (probe=2x,active=50).
	MaxLoad string `yaml:"max_load"`
}
