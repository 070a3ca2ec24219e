package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	mm "github.com/Masterminds/semver/v3"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/shipyardci/shipyard/audit"
	"github.com/shipyardci/shipyard/build"
	"github.com/shipyardci/shipyard/coverage"
	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/usererr"
	"github.com/shipyardci/shipyard/migrate"
	"github.com/shipyardci/shipyard/registry"
	"github.com/shipyardci/shipyard/release"
	"github.com/shipyardci/shipyard/semver"
)

// TestResult is the test stage's outcome: the coverage report and what its gates found.
type TestResult struct {
	Coverage    float64            `json:"coverage"`
	TestsPassed bool               `json:"tests_passed"`
	Failures    []coverage.Failure `json:"failures"`
	// Report and Gate are the whole measure, for the CLI's table and step summary.
	Report *coverage.Report     `json:"-"`
	Gate   *coverage.GateResult `json:"-"`
}

// Detail implements Result.
func (r *TestResult) Detail() string { return fmt.Sprintf("%.1f%% coverage", r.Coverage) }

// testStage runs go test with coverage and the gates of test: in shipyard.yaml.
func testStage(ctx context.Context, s *State) (Result, error) {
	cfg := s.Config.Test
	run, err := coverage.Run(ctx, coverage.RunOptions{
		Measure: coverage.MeasureOptions{Test: coverage.GoTest{Dir: s.Dir, Coverpkg: cfg.Coverpkg, Stdout: s.Output, Stderr: s.Output}},
		Analyze: TestAnalysis(s.Dir, cfg), Gate: TestGate(s.Dir, cfg, s.Client)})
	if err != nil {
		return nil, err
	}
	res := &TestResult{Coverage: run.Report.Total.Percent(), TestsPassed: run.TestsErr == nil, Failures: run.Gate.Failures, Report: run.Report, Gate: run.Gate}
	return res, run.Err()
}

// TestAnalysis is what counts, as test: in shipyard.yaml says: the exclusions and generated files.
func TestAnalysis(dir string, c config.Test) []coverage.Option {
	return []coverage.Option{coverage.WithDir(dir), coverage.WithExclude(c.Exclude...), coverage.WithGenerated(c.IncludeGenerated)}
}

// TestGate is the gate of test: in shipyard.yaml, for the project in dir. A baseline in a registry
// (registry://HOST/REPO) is read with client.
func TestGate(dir string, c config.Test, client func() (*registry.Client, func(), error)) coverage.Gate {
	t := coverage.Thresholds{Total: c.MinTotal, Package: c.MinPackage, File: c.MinFile}
	for _, ov := range c.Overrides {
		t.Overrides = append(t.Overrides, coverage.Override{Path: ov.Path, Min: ov.Min})
	}
	g := coverage.Gate{Thresholds: t, Dir: dir, DiffBase: c.DiffBase, MinDiff: c.MinDiff, Tolerance: c.BaselineTolerance}
	switch {
	case isRegistry(c.Baseline):
		g.Store = recordsOf(c.Baseline, "baseline", client)
	case c.Baseline != "":
		g.Baseline = filepath.Join(dir, c.Baseline)
	}
	if g.Tolerance == 0 {
		g.Tolerance = coverage.DefaultBaselineTolerance
	}
	return g
}

// AuditResult is the audit stage's outcome.
type AuditResult struct {
	Vulnerabilities int `json:"vulnerabilities"`
	Failing         int `json:"failing"`
	Outdated        int `json:"outdated"`
	// Report is the whole audit, for the CLI's table and annotations.
	Report *audit.Report `json:"-"`
	// FailOn is the level it was held to.
	FailOn string `json:"fail_on"`
}

// Detail implements Result.
func (r *AuditResult) Detail() string {
	return fmt.Sprintf("%d vulnerabilities (%d failing at %s), %d outdated", r.Vulnerabilities, r.Failing, r.FailOn, r.Outdated)
}

// auditStage audits the project as audit: in shipyard.yaml says, failing at its fail_on (low by default).
func auditStage(ctx context.Context, s *State) (Result, error) {
	failOn := s.Config.Audit.FailOn
	if failOn == "" {
		failOn = "low"
	}
	if failOn != "none" && audit.SeverityRank(failOn) == 0 {
		return nil, &InputError{Err: fmt.Errorf("audit.fail_on: %q is not low, moderate, high, critical or none", failOn)}
	}
	ignore, err := AuditIgnores(s.Config.Audit.Ignore, s.Now)
	if err != nil {
		return nil, err
	}
	r, err := audit.Scan(ctx, audit.Options{Dir: s.Dir, VulnDB: s.Config.Audit.VulnDB, Getenv: s.Getenv, Ignore: ignore,
		Scan: audit.ScanLevel(s.Config.Audit.Scan), FailUnreachable: s.Config.Audit.FailOnUnreachable})
	if err != nil {
		return nil, err
	}
	if r.VulnDB != nil {
		s.Log.Info("vulnerability database " + DescribeVulnDB(r.VulnDB, time.Now()))
	}
	res := &AuditResult{Vulnerabilities: len(r.Vulnerabilities), Failing: len(r.Failing(failOn)), Outdated: len(r.Outdated()), Report: r, FailOn: failOn}
	if err := r.Incomplete(); err != nil {
		return res, err
	}
	if res.Failing > 0 {
		return res, fmt.Errorf("audit: %d vulnerabilities at or above %s", res.Failing, failOn)
	}
	return res, nil
}

// DescribeVulnDB names the database and says how old it is, so that an offline copy's age is seen.
func DescribeVulnDB(db *audit.VulnDBInfo, now time.Time) string {
	if db.Modified.IsZero() {
		return db.URL + " (no modification date)"
	}
	days := int(now.Sub(db.Modified).Hours() / 24)
	age := fmt.Sprintf("%d days old", days)
	switch days {
	case 0:
		age = "today"
	case 1:
		age = "1 day old"
	}
	return fmt.Sprintf("%s, modified %s (%s)", db.URL, db.Modified.UTC().Format("2006-01-02"), age)
}

// AuditFixOptions are audit fix's options: the level (patch, minor, major), the groups given (NAME=GLOB,…)
// and shipyard.yaml's, its allow list and its ignore rules that have not expired; where names the file
// and line of a key, for errors.
func AuditFixOptions(level string, securityOnly bool, groups []string, c config.Audit, where func(key string) string, now time.Time) (audit.FixOptions, error) {
	kind, ok := audit.ParseUpdateKind(level)
	if !ok {
		return audit.FixOptions{}, &InputError{Option: "audit.Level", Err: fmt.Errorf("%q is not patch, minor or major", level)}
	}
	opts := audit.FixOptions{Level: kind, SecurityOnly: securityOnly}
	for _, g := range groups {
		group, err := audit.ParseGroup(g)
		if err != nil {
			return opts, err
		}
		opts.Groups = append(opts.Groups, group)
	}
	for _, g := range c.Groups {
		opts.Groups = append(opts.Groups, audit.FixGroup{Name: g.Name, Patterns: g.Patterns})
	}
	for _, a := range c.Allow {
		kind, ok := audit.ParseUpdateKind(a)
		if !ok {
			return opts, &InputError{Err: &config.Error{Where: where("audit.allow"), Msg: fmt.Sprintf("audit.allow: %q is not patch, minor or major", a)}}
		}
		opts.Allow = append(opts.Allow, kind)
	}
	ignore, err := AuditIgnores(c.Ignore, now)
	if err != nil {
		return opts, err
	}
	opts.Ignore = ignore
	return opts, nil
}

// Now is the time reports and records carry: SOURCE_DATE_EPOCH when set, so that builds reproduce.
func Now(getenv func(string) string) time.Time {
	if t, ok, err := Epoch(getenv); ok && err == nil {
		return t
	}
	return time.Now()
}

// AuditIgnores are the ignore rules of audit.ignore that have not expired by now.
func AuditIgnores(rules []config.AuditIgnore, now time.Time) ([]audit.IgnoreRule, error) {
	var out []audit.IgnoreRule
	today := now.UTC().Format(time.DateOnly)
	for _, r := range rules {
		if r.Until != "" {
			if _, err := time.Parse(time.DateOnly, r.Until); err != nil {
				return nil, &InputError{Err: fmt.Errorf("audit.ignore: until %q of %s is not a date (YYYY-MM-DD)", r.Until, r.Name)}
			}
			if r.Until < today {
				continue // expired
			}
		}
		reason := r.Reason
		if reason == "" {
			reason = "ignored in shipyard.yaml"
		}
		out = append(out, audit.IgnoreRule{Name: r.Name, Versions: r.Versions, Reason: reason})
	}
	return out, nil
}

// VersionResult is the version stage's outcome.
type VersionResult struct {
	Version string `json:"version"`
	Tag     string `json:"tag"`
	Tagged  bool   `json:"tagged"`
	Reason  string `json:"reason,omitempty"`
}

// Detail implements Result.
func (r *VersionResult) Detail() string {
	if !r.Tagged {
		return "nothing to tag: " + r.Reason
	}
	return "tagged " + r.Tag
}

// versionStage tags the run's version, with its changelog as the message, when there is one to release.
func versionStage(ctx context.Context, s *State) (Result, error) {
	r := s.Next
	tagged, err := semver.TagRelease(ctx, s.Dir, r, semver.TagOptions{})
	if err != nil {
		return nil, err
	}
	return &VersionResult{Version: r.Version.String(), Tag: r.Tag, Reason: r.Reason, Tagged: tagged}, nil
}

// NextVersion is the next version of the repository in dir, as version: in shipyard.yaml counts it.
func NextVersion(ctx context.Context, dir string, c config.Version) (*semver.Result, error) {
	opts := []semver.Option{semver.WithDir(dir), semver.WithTagPrefix(c.TagPrefix), semver.WithPaths(c.Paths...), semver.WithAllowShallow(c.AllowShallow)}
	if c.Initial != "" {
		v, err := mm.StrictNewVersion(c.Initial)
		if err != nil {
			return nil, &InputError{Err: fmt.Errorf("version.initial: %q is not a semantic version (like 0.1.0)", c.Initial)}
		}
		opts = append(opts, semver.WithInitial(v))
	}
	return semver.Next(ctx, opts...)
}

// ReleaseResult is the release stage's outcome: the record it created.
type ReleaseResult struct {
	Record *release.Record `json:"record"`
}

// Detail implements Result.
func (r *ReleaseResult) Detail() string { return r.Record.Env + " " + r.Record.Name }

// releaseStage records a release of the image the build pushed (this run's, else the last build's).
func releaseStage(ctx context.Context, s *State) (Result, error) {
	in := ReleaseInput{Dir: s.Dir, Env: s.Env, Store: s.Config.Release.Store, Scheme: release.Scheme(s.Config.Release.Scheme),
		Migrate: s.Config.Migrate, By: s.By, Now: s.Now, Client: s.Client, VerifyKey: s.Config.Release.VerifyKey, Getenv: s.Getenv}
	if s.Build != nil {
		in.Build = s.Build.Record
	}
	r, err := CreateRelease(ctx, in)
	if err != nil {
		return nil, err
	}
	return &ReleaseResult{Record: r}, nil
}

// ReleaseInput is a release to create: of Image (default: what Build, else the project's last build,
// pushed), with its build's version and commit unless given, the configuration file, and the schema
// version it needs (default: the newest migration).
type ReleaseInput struct {
	Dir, Env        string
	Image           string
	Version, Commit string
	// Build is the build to release when no Image is given (nil: the project's last, .shipyard/build.json).
	Build *build.Record
	// ConfigFile is the release configuration (values, and secrets by reference), relative to Dir.
	ConfigFile string
	// Migration is the schema version the release needs; nil for the newest migration of Migrate.Dir.
	Migration *uint64
	Migrate   config.Migrate
	// Store and Scheme: where the record goes (DefaultStore when ""), how it is named (counter when "").
	Store  string
	Scheme release.Scheme
	By     string
	Now    time.Time
	Client func() (*registry.Client, func(), error)
	// VerifyKey, when set, is the public key the image must be signed with (release.verify_key).
	VerifyKey string
	Getenv    func(string) string
}

// CreateRelease records the release the input describes and returns it, named.
func CreateRelease(ctx context.Context, in ReleaseInput) (*release.Record, error) {
	if in.Env == "" {
		return nil, &InputError{Option: "release.Env", Err: errors.New("say which environment")}
	}
	r := &release.Record{Env: in.Env, Version: in.Version, Commit: in.Commit, CreatedBy: in.By, CreatedAt: in.Now}
	image := in.Image
	if image == "" {
		b := in.Build
		if b == nil {
			b, _ = build.ReadRecord(in.Dir)
		}
		if b == nil || b.Pushed == nil {
			return nil, &InputError{Option: "release.Image", Err: errors.New("no image: give one by digest, or build and push one first (shipyard build, with a push)")}
		}
		image = b.Pushed.Reference.String()
		r.Version, r.Commit = cmp.Or(r.Version, b.Version), cmp.Or(r.Commit, b.Commit)
	}
	d, err := name.NewDigest(image)
	if err != nil {
		return nil, &InputError{Option: "release.Image", Err: fmt.Errorf("%q is not a reference by digest (REPO@sha256:…): %v", image, err)}
	}
	r.Image, r.Digest = d.String(), d.DigestStr()
	if in.ConfigFile != "" {
		if r.Config, err = release.ReadConfig(resolve(in.Dir, in.ConfigFile)); err != nil {
			return nil, err
		}
	}
	if in.Migration != nil {
		r.MigrationVersion = *in.Migration
	} else {
		r.MigrationVersion = NewestMigration(in.Dir, in.Migrate)
	}
	store, done, err := OpenStore(in.Dir, in.Store, r.Image, in.Client)
	if err != nil {
		return nil, err
	}
	defer done()
	if err := checkSigned(ctx, in.VerifyKey, in.Dir, in.Getenv, d, in.Client); err != nil {
		return nil, err
	}
	scheme := cmp.Or(in.Scheme, release.Counter)
	if err := store.Create(ctx, r, scheme); err != nil {
		return nil, err
	}
	return r, nil
}

// resolve is p, relative to dir unless absolute.
func resolve(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// NewestMigration is the version of the newest migration of migrate.dir, 0 when there is none.
func NewestMigration(dir string, c config.Migrate) uint64 {
	src, err := migrate.ReadSource(os.DirFS(filepath.Join(dir, MigrationsDir(c))))
	if err != nil || len(src.Migrations) == 0 {
		return 0
	}
	return src.Migrations[len(src.Migrations)-1].Version
}

// MigrateResult is the migrate stage's outcome.
type MigrateResult struct {
	*migrate.Result
}

// Detail implements Result.
func (r *MigrateResult) Detail() string {
	if len(r.Steps) == 0 {
		return fmt.Sprintf("at version %d", r.To)
	}
	return fmt.Sprintf("version %d → %d", r.From, r.To)
}

// migrateStage applies the pending migrations, every phase of the live ones, as migrate: in shipyard.yaml
// says, to its database (else the embedded SQLite file).
func migrateStage(ctx context.Context, s *State) (Result, error) {
	c := s.Config.Migrate
	url := c.Database
	if url == "" {
		url = migrate.DefaultURL
	}
	opts, err := MigrateOptions(s.Dir, c, s.ToolVersion, s.Log)
	if err != nil {
		return nil, err
	}
	r, err := migrate.Open(ctx, url, os.DirFS(filepath.Join(s.Dir, MigrationsDir(c))), opts...)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	res, err := r.Up(ctx, 0)
	if res == nil {
		return nil, err
	}
	return &MigrateResult{res}, err
}

// MigrateOptions are the runner's options of migrate: in shipyard.yaml; what it leaves unset (zero) keeps
// the library's default.
func MigrateOptions(dir string, c config.Migrate, toolVersion string, log *slog.Logger) ([]migrate.Option, error) {
	opts := []migrate.Option{migrate.WithDir(dir), migrate.WithToolVersion(toolVersion), migrate.WithLogger(log)}
	if c.LockTimeout != 0 {
		opts = append(opts, migrate.WithLockTimeout(c.LockTimeout))
	}
	if c.PGLockTimeout != 0 || c.PGStatementTimeout != 0 {
		lock := c.PGLockTimeout
		if lock == 0 {
			lock = migrate.DefaultPGLockTimeout
		}
		opts = append(opts, migrate.WithPostgresTimeouts(lock, c.PGStatementTimeout))
	}
	if c.LockRetries != 0 {
		opts = append(opts, migrate.WithLockRetries(c.LockRetries, time.Second))
	}
	live := migrate.LiveOptions{LockTimeout: c.LiveLockTimeout, BatchSize: c.Backfill.BatchSize, BatchTime: c.Backfill.BatchTime,
		MaxRate: c.Backfill.MaxRate, MaxLag: c.Backfill.MaxLag, MaxLockWait: c.Backfill.MaxLockWait}
	if c.Backfill.MaxLoad != "" {
		l, err := migrate.ParseMaxLoad(c.Backfill.MaxLoad)
		if err != nil {
			return nil, &usererr.Error{Option: "migrate.backfill.max_load", Err: fmt.Errorf("migrate.backfill.max_load: %w", err)}
		}
		live.MaxLoad = &l
	}
	return append(opts, migrate.WithLive(live)), nil
}

// Outputs are the build stage's step outputs, as shipyard build gives them.
func (r *BuildResult) Outputs() []string {
	p := r.Record.Pushed
	return []string{"digest", r.Record.Digest, "version", r.Record.Version, "tags", registry.TaggedReferences(p.Reference.Context(), p.Tags)}
}

// Outputs are the version stage's step outputs, as shipyard version tag gives them.
func (r *VersionResult) Outputs() []string {
	return []string{"version", r.Version, "tag", r.Tag, "tagged", strconv.FormatBool(r.Tagged)}
}

// Outputs are the release stage's step outputs.
func (r *ReleaseResult) Outputs() []string {
	return []string{"release", r.Record.Name, "digest", r.Record.Digest}
}

// Outputs are the migrate stage's step outputs.
func (r *MigrateResult) Outputs() []string {
	return []string{"migration_version", strconv.FormatUint(r.To, 10)}
}
