package pipeline

import (
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/shipyardci/shipyard/build"
	"github.com/shipyardci/shipyard/internal/gitx"
	"github.com/shipyardci/shipyard/registry"
	"github.com/shipyardci/shipyard/sign"
)

// signPassword is the password of an encrypted signing key: COSIGN_PASSWORD, as cosign reads it, else
// SHIPYARD_SIGN_PASSWORD.
func signPassword(getenv func(string) string) []byte {
	if pw := getenv("COSIGN_PASSWORD"); pw != "" {
		return []byte(pw)
	}
	return []byte(getenv("SHIPYARD_SIGN_PASSWORD"))
}

// keyFile is ref as sign.ReadKey takes it: a file relative to dir, or env://NAME as it is.
func keyFile(ref, dir string) string {
	if strings.HasPrefix(ref, "env://") || filepath.IsAbs(ref) {
		return ref
	}
	return filepath.Join(dir, ref)
}

// SigningKey reads the private key ref names (a file relative to dir, or env://NAME); "" is no key.
func SigningKey(ref, dir string, getenv func(string) string) (*sign.Key, error) {
	if ref == "" {
		return nil, nil
	}
	data, where, err := sign.ReadKey(keyFile(ref, dir), getenv)
	if err != nil {
		return nil, err
	}
	return sign.ParsePrivateKey(data, signPassword(getenv), where)
}

// VerifyingKey reads the public key ref names (cosign.pub, or a private key's public half), a file
// relative to dir or env://NAME; "" is none.
func VerifyingKey(ref, dir string, getenv func(string) string) (*sign.PublicKey, error) {
	if ref == "" {
		return nil, nil
	}
	data, where, err := sign.ReadKey(keyFile(ref, dir), getenv)
	if err != nil {
		return nil, err
	}
	return sign.ParsePublicKey(data, signPassword(getenv), where)
}

// Signing is how a push signs what it wrote.
type Signing struct {
	Key *sign.Key
	// Spec is the build's, for the provenance: its source, revision and epoch.
	Spec build.Spec
	// Base is build.base as configured: an image reference is resolved to its digest for the provenance.
	Base        string
	Getenv      func(string) string
	ToolVersion string
	Started     time.Time
}

// signPushed signs the pushed index and each platform's image, and attests their provenance and SBOMs.
func signPushed(ctx context.Context, c *registry.Client, s *Signing, res *build.Result, pushed name.Digest) ([]sign.Signed, error) {
	im, err := res.Index.IndexManifest()
	if err != nil {
		return nil, err
	}
	digests := []string{pushed.DigestStr()}
	for _, m := range im.Manifests {
		digests = append(digests, m.Digest.String())
	}
	sboms := map[string][][]byte{}
	for _, art := range res.Referrers {
		subject, doc, err := sbomOf(art)
		if err != nil {
			return nil, err
		}
		// Each platform's SBOM is attested of its image, and of the index that lists it.
		sboms[subject] = append(sboms[subject], doc)
		sboms[digests[0]] = append(sboms[digests[0]], doc)
	}
	prov := s.provenance(ctx, c, res)
	return sign.Images(ctx, sign.Request{Key: s.Key, Repository: pushed.Context(), Digests: digests, Provenance: &prov, SBOMs: sboms,
		Options: c.RemoteOptions(ctx)})
}

// sbomOf reads an SBOM artifact of the build: its subject's digest and the SPDX document.
func sbomOf(art v1.Image) (string, []byte, error) {
	m, err := art.Manifest()
	if err != nil {
		return "", nil, fmt.Errorf("reading the build's SBOM artifact: %w", err)
	}
	if m.Subject == nil || len(m.Layers) != 1 {
		return "", nil, errors.New("the build's SBOM artifact has no subject, or not one layer")
	}
	l, err := art.LayerByDigest(m.Layers[0].Digest)
	if err != nil {
		return "", nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return "", nil, err
	}
	defer rc.Close()
	doc, err := io.ReadAll(rc)
	if err != nil {
		return "", nil, fmt.Errorf("reading the build's SBOM: %w", err)
	}
	return m.Subject.Digest.String(), doc, nil
}

// gitRef is the branch checked out in dir (refs/heads/NAME), "" when HEAD is detached or dir no repository.
func gitRef(ctx context.Context, dir string) string {
	repo, err := gitx.Open(ctx, dir)
	if err != nil {
		return ""
	}
	out, err := repo.Output(ctx, "symbolic-ref", "-q", "HEAD")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// provenance is what the build was made from, for its SLSA provenance.
func (s *Signing) provenance(ctx context.Context, c *registry.Client, res *build.Result) sign.Provenance {
	getenv := s.Getenv
	p := sign.Provenance{BuilderVersion: s.ToolVersion, Repository: s.Spec.Image.Source, Commit: res.Record.Commit,
		Ref: getenv("GITHUB_REF"), Epoch: s.Spec.Image.Epoch, Started: s.Started, Finished: time.Now().UTC()}
	if p.Ref == "" {
		p.Ref = gitRef(ctx, s.Spec.Dir)
	}
	if ref, err := c.ParseReference(s.Base); err == nil && s.Base != "" && s.Base != "scratch" && !strings.HasPrefix(s.Base, "oci:") {
		if d, err := c.Digest(ctx, ref); err == nil {
			p.Base = ref.Context().String() + "@" + d
		}
	}
	if wf := getenv("GITHUB_WORKFLOW_REF"); wf != "" {
		p.Workflow, p.RunID, p.RunAttempt = wf, getenv("GITHUB_RUN_ID"), getenv("GITHUB_RUN_ATTEMPT")
		p.Runner = strings.Trim(getenv("RUNNER_ENVIRONMENT")+" "+getenv("RUNNER_OS")+"/"+getenv("RUNNER_ARCH"), " /")
	}
	seen := map[string]bool{}
	for _, b := range res.Binaries {
		info, err := buildinfo.ReadFile(b.Path)
		if err != nil {
			continue
		}
		p.GoVersion = info.GoVersion
		for _, m := range info.Deps {
			if m.Replace != nil {
				m = m.Replace
			}
			if !seen[m.Path+"@"+m.Version] {
				seen[m.Path+"@"+m.Version] = true
				p.Modules = append(p.Modules, sign.Module{Path: m.Path, Version: m.Version, Sum: m.Sum})
			}
		}
	}
	return p
}

// VerifyInput is what `shipyard verify` asks: is Ref signed with Key, and attested?
type VerifyInput struct {
	Ref, Key, Dir string
	// Attestations are kinds the image must be attested with too: slsa, spdx.
	Attestations []string
	Getenv       func(string) string
	Client       *registry.Client
}

// Verify checks that in.Ref's digest has a signature from in.Key, and each attestation asked.
func Verify(ctx context.Context, in VerifyInput) (*sign.Verification, error) {
	key, err := VerifyingKey(in.Key, in.Dir, in.Getenv)
	if err != nil {
		return nil, err
	}
	if key == nil {
		return nil, &InputError{Option: "sign.PublicKey", Err: fmt.Errorf("verifying needs the public key (cosign.pub) that the signatures are checked with")}
	}
	var kinds []string
	for _, a := range in.Attestations {
		p, ok := sign.Attestations[a]
		if !ok {
			return nil, &InputError{Option: "sign.Attestations", Err: fmt.Errorf("%q is not an attestation kind shipyard verifies: slsa or spdx", a)}
		}
		kinds = append(kinds, p)
	}
	ref, err := in.Client.ParseReference(in.Ref)
	if err != nil {
		return nil, err
	}
	return sign.Verify(ctx, sign.VerifyRequest{Ref: ref, Key: key, Attestations: kinds, Options: in.Client.RemoteOptions(ctx)})
}

// UnsignedError is a release refused because its image is not signed with the release's verify key.
type UnsignedError struct {
	Image string
	Err   error
}

func (e *UnsignedError) Error() string {
	return fmt.Sprintf("refusing to release %s: it is not signed with the verify key: %v", e.Image, e.Err)
}

func (e *UnsignedError) Unwrap() error { return e.Err }

// checkSigned refuses img unless it has a signature from the public key keyRef names ("" checks nothing).
func checkSigned(ctx context.Context, keyRef, dir string, getenv func(string) string, img name.Digest, client func() (*registry.Client, func(), error)) error {
	if keyRef == "" {
		return nil
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	key, err := VerifyingKey(keyRef, dir, getenv)
	if err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			ie.Option = "release.VerifyKey"
		}
		return err
	}
	c, done, err := client()
	if err != nil {
		return err
	}
	defer done()
	if _, err := sign.Verify(ctx, sign.VerifyRequest{Ref: img, Key: key, Options: c.RemoteOptions(ctx)}); err != nil {
		return &UnsignedError{Image: img.String(), Err: err}
	}
	return nil
}
