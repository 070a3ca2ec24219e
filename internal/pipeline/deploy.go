package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/shipyardci/shipyard/migrate"
	"github.com/shipyardci/shipyard/registry"
	"github.com/shipyardci/shipyard/release"
)

// DefaultStore is where a laptop keeps its release records.
const DefaultStore = ".shipyard/releases"

// EmbeddedData is where a project keeps the embedded registry's data.
var EmbeddedData = filepath.Join(".shipyard", "registry")

// OpenStore opens a release store: a directory (relative to dir), or the registry repository of
// registry://HOST/REPO, reached through client (registry:// alone means the repository of image, when
// there is one). Call done when finished with it.
func OpenStore(dir, store, image string, client func() (*registry.Client, func(), error)) (s release.Store, done func(), err error) {
	if store == "" {
		store = DefaultStore
	}
	repo, ok := strings.CutPrefix(store, "registry://")
	if !ok {
		return release.DirStore{Dir: resolve(dir, store)}, func() {}, nil
	}
	if repo == "" && image != "" {
		if d, err := name.NewDigest(image); err == nil {
			repo = d.Context().String()
		} else if r, err := name.NewRepository(image); err == nil {
			repo = r.String()
		}
	}
	if repo == "" {
		return nil, nil, &InputError{Option: "release.Store", Err: errors.New("registry:// needs the repository of the releases, registry://HOST/REPO")}
	}
	c, done, err := client()
	if err != nil {
		return nil, nil, err
	}
	r, err := c.ParseRepository(repo)
	if err != nil {
		done()
		return nil, nil, &InputError{Option: "release.Store", Err: err}
	}
	return release.RegistryStore{Repository: r, Options: c.RemoteOptions}, done, nil
}

// Prune prunes repo as opts says, and never deletes an image that a release record of store names (a
// directory, or registry://HOST/REPO; registry:// alone is repo itself). A store with damaged records
// refuses the prune: what they name cannot be known.
func Prune(ctx context.Context, c *registry.Client, repo name.Repository, opts registry.PruneOptions, dir, store string) ([]registry.Deleted, error) {
	s, done, err := OpenStore(dir, store, repo.String(), func() (*registry.Client, func(), error) { return c, func() {}, nil })
	if err != nil {
		return nil, err
	}
	defer done()
	envs, err := s.Environments(ctx)
	if err != nil {
		return nil, err
	}
	for _, env := range envs {
		l, err := s.List(ctx, env)
		if err != nil {
			return nil, err
		}
		if len(l.Damaged) > 0 {
			return nil, fmt.Errorf("pruning %s: %w; the images it names cannot be known, so nothing is pruned", repo, l.Damaged[0])
		}
		for _, r := range l.Records {
			opts.Protect = append(opts.Protect, r.Digest)
		}
	}
	return c.Prune(ctx, repo, opts)
}

// SchemaBehind says, when the release needs a schema version the database no longer has (its migrations
// were reverted since), what to do before it serves traffic; "" when the schema is there or nothing
// can be known (no database, or a release that needs none).
func SchemaBehind(ctx context.Context, r *release.Record, database, dir, migrations string) string {
	if r.MigrationVersion == 0 || database == "" {
		return ""
	}
	runner, err := migrate.Open(ctx, database, os.DirFS(filepath.Join(dir, migrations)), migrate.WithDir(dir))
	if err != nil {
		return fmt.Sprintf("could not check the schema %s needs: %v", r.Name, err)
	}
	defer runner.Close()
	st, err := runner.Status(ctx)
	if err != nil {
		return fmt.Sprintf("could not check the schema %s needs: %v", r.Name, err)
	}
	if st.Version < r.MigrationVersion {
		return fmt.Sprintf("%s needs schema version %d, and the database is at %d: run shipyard migrate up (or goto %d) before it serves traffic",
			r.Name, r.MigrationVersion, st.Version, r.MigrationVersion)
	}
	return ""
}

// TagError is an environment tag that could not be moved to its release's digest.
type TagError struct {
	Tag, Digest string
	Err         error
}

func (e *TagError) Error() string { return fmt.Sprintf("moving %s to %s: %v", e.Tag, e.Digest, e.Err) }
func (e *TagError) Unwrap() error { return e.Err }

// TagEnvironment moves REPO:ENV to the release's digest, and returns the tag it moved ("" for an image
// that is not in a registry). An image of the embedded registry (a loopback address, with the project's
// .shipyard/registry data) is served again at the address the record names for the move.
func TagEnvironment(ctx context.Context, c *registry.Client, r *release.Record, dir string, log *slog.Logger) (string, error) {
	d, err := name.NewDigest(r.Image)
	if err != nil {
		return "", nil
	}
	if stop := serveEmbeddedFor(ctx, dir, d.RegistryStr(), log); stop != nil {
		defer stop()
	}
	tag := d.Context().Tag(r.Env)
	if _, err := c.Copy(ctx, d, tag); err != nil {
		return "", &TagError{Tag: tag.String(), Digest: r.Digest, Err: err}
	}
	return tag.String(), nil
}

// serveEmbeddedFor starts the embedded registry on host when host is a loopback address that nothing
// answers on and the project has the embedded registry's data; it returns how to stop it, or nil.
func serveEmbeddedFor(ctx context.Context, dir, host string, log *slog.Logger) (stop func()) {
	h, _, err := net.SplitHostPort(host)
	if err != nil || (h != "127.0.0.1" && h != "localhost") || RegistryAnswers(ctx, host) {
		return nil
	}
	root := filepath.Join(dir, EmbeddedData)
	if info, err := os.Stat(root); err != nil || !info.IsDir() {
		return nil
	}
	srv, err := registry.Start(ctx, registry.ServeOptions{Addr: host, Root: root})
	if err != nil {
		return nil // the move then says what is wrong with host
	}
	log.Info(fmt.Sprintf("embedded registry on %s (data in %s)", host, EmbeddedData))
	return func() { srv.Close() }
}

// Embedded serves the project's embedded registry data on addr for a run. A registry that already
// answers there (shipyard registry serve) is used as it is; when something else holds the port, a free
// one is taken, with a warning: the records then name an address that will not serve them again.
func Embedded(ctx context.Context, dir, addr string, log *slog.Logger) (host string, stop func(), err error) {
	root := filepath.Join(dir, EmbeddedData)
	srv, err := registry.Start(ctx, registry.ServeOptions{Addr: addr, Root: root})
	if err != nil {
		if RegistryAnswers(ctx, addr) {
			log.Info("pushing to the registry already serving on " + addr)
			return addr, func() {}, nil
		}
		log.Warn(fmt.Sprintf("%s is taken: the embedded registry takes a free port, which the release records will name (%v)", addr, err))
		if srv, err = registry.Start(ctx, registry.ServeOptions{Addr: "127.0.0.1:0", Root: root}); err != nil {
			return "", nil, err
		}
	}
	log.Info(fmt.Sprintf("embedded registry on %s (data in %s)", srv.Host(), EmbeddedData))
	return srv.Host(), func() { srv.Close() }, nil
}

// RegistryAnswers says whether a registry serves the OCI distribution API on addr.
func RegistryAnswers(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v2/", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.Header.Get("Docker-Distribution-Api-Version") != "" || resp.StatusCode == http.StatusOK
}

// Redeploy is a release of an environment that points at another release's build and configuration: a
// promotion from another environment, or a rollback in its own.
type Redeploy struct {
	Dir string
	// Promote, or else Rollback, is the request; its Scheme, By and Now are filled from here.
	Promote  *release.PromoteRequest
	Rollback *release.RollbackRequest
	Store    string
	Scheme   release.Scheme
	By       string
	Now      time.Time
	// Database is the environment's database, whose schema a rollback checks ("" not to check).
	Database, Migrations string
	// NoTag leaves the environment's tag where it is.
	NoTag bool
	// Repository is the image repository the releases are of (release.repository); "" for the
	// repository of the newest release of the environment a record comes from.
	Repository string
	// VerifyKey, when set, is the public key the image released again must be signed with.
	VerifyKey string
	Getenv    func(string) string
	Client    func() (*registry.Client, func(), error)
	Log       *slog.Logger
}

// UntrustedError is a release that cannot be released again: its image is not where the environment's
// images are, or not there at all.
type UntrustedError struct {
	Image   string
	Problem string
}

func (e *UntrustedError) Error() string { return fmt.Sprintf("its image %s %s", e.Image, e.Problem) }

// verifier checks, before a record is released again, that its image is in the environment's
// repository and exists there.
func (d Redeploy) verifier(store release.Store) release.Verifier {
	return func(ctx context.Context, r *release.Record) error {
		img, err := name.NewDigest(r.Image)
		if err != nil {
			return &UntrustedError{Image: r.Image, Problem: "is not REPOSITORY@DIGEST"}
		}
		want := d.Repository
		if want == "" {
			l, err := store.List(ctx, r.Env)
			if err != nil {
				return err
			}
			if newest, err := name.NewDigest(l.Records[0].Image); err == nil { // r is one of them
				want = newest.Context().Name()
			}
		}
		if got := img.Context().Name(); got != want {
			return &UntrustedError{Image: r.Image, Problem: fmt.Sprintf("is not in %s, the repository of the environment's images", want)}
		}
		c, done, err := d.Client()
		if err != nil {
			return err
		}
		defer done()
		if stop := serveEmbeddedFor(ctx, d.Dir, img.RegistryStr(), d.Log); stop != nil {
			defer stop()
		}
		if _, err := c.Digest(ctx, img); err != nil {
			return &UntrustedError{Image: r.Image, Problem: fmt.Sprintf("cannot be found: %v", err)}
		}
		return checkSigned(ctx, d.VerifyKey, d.Dir, d.Getenv, img, d.Client)
	}
}

// Redeployed is what a redeploy did: the new release, the tag it moved ("" when none), and what the
// schema check found ("" when nothing is wrong).
type Redeployed struct {
	Record       *release.Record
	Tag          string
	SchemaBehind string
}

// Release creates the redeploy's release, checks the schema it needs, and moves the environment's tag
// to its digest.
func (d Redeploy) Release(ctx context.Context) (*Redeployed, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	store, done, err := OpenStore(d.Dir, d.Store, "", d.Client)
	if err != nil {
		return nil, err
	}
	defer done()
	var r *release.Record
	if d.Promote != nil {
		req := *d.Promote
		req.Scheme, req.By, req.Now, req.Verify = d.Scheme, d.By, d.Now, d.verifier(store)
		r, err = release.Promote(ctx, store, req)
	} else {
		req := *d.Rollback
		req.Scheme, req.By, req.Now, req.Verify = d.Scheme, d.By, d.Now, d.verifier(store)
		r, err = release.Rollback(ctx, store, req)
	}
	if err != nil {
		return nil, err
	}
	out := &Redeployed{Record: r}
	if d.Rollback != nil {
		out.SchemaBehind = SchemaBehind(ctx, r, d.Database, d.Dir, d.Migrations)
	}
	if d.NoTag {
		return out, nil
	}
	c, cdone, err := d.Client()
	if err != nil {
		return out, err
	}
	defer cdone()
	out.Tag, err = TagEnvironment(ctx, c, r, d.Dir, d.Log)
	return out, err
}
