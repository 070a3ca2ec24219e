package sign

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Attestation kinds a verification may ask for, as the command line names them.
var Attestations = map[string]string{"slsa": ProvenancePredicate, "spdx": SPDXPredicate}

// VerifyRequest asks whether an image is signed with a key, and attested.
type VerifyRequest struct {
	Ref name.Reference
	Key *PublicKey
	// Attestations are predicate types that must be attested too (ProvenancePredicate, SPDXPredicate).
	Attestations []string
	Options      []remote.Option
}

// Verification is what verified.
type Verification struct {
	Reference string `json:"reference"`
	Digest    string `json:"digest"`
	// Verified lists the bundles that verified: the signature first, then each attestation asked.
	Verified []Referrer `json:"verified"`
}

// NotVerifiedError says why an image's signature or an attestation did not verify.
type NotVerifiedError struct {
	Digest string
	What   string   // "signature" or the predicate type
	Found  int      // bundles found
	Why    []string // each bundle's reason
}

func (e *NotVerifiedError) Error() string {
	msg := fmt.Sprintf("%s has no %s that verifies with the key", e.Digest, e.What)
	switch {
	case e.Found == 0:
		msg += ": it has no Sigstore bundle at all (unsigned)"
	case len(e.Why) > 0:
		msg += fmt.Sprintf(": of %d bundle(s), %s", e.Found, strings.Join(e.Why, "; "))
	}
	return msg
}

// Verify checks that req.Ref's digest has a signature bundle that verifies with req.Key, about that
// digest, and a bundle of each attestation asked. A tag is resolved first: the result names the digest.
func Verify(ctx context.Context, req VerifyRequest) (*Verification, error) {
	if req.Key == nil {
		return nil, &InputError{Option: "sign.PublicKey", Err: errors.New("verifying needs a key")}
	}
	opts := append([]remote.Option{remote.WithContext(ctx)}, req.Options...)
	desc, err := remote.Head(req.Ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", req.Ref, err)
	}
	digest := req.Ref.Context().Digest(desc.Digest.String())
	statements, found, reasons, err := req.Key.bundles(digest, opts)
	if err != nil {
		return nil, err
	}
	v := &Verification{Reference: req.Ref.String(), Digest: desc.Digest.String()}
	for _, want := range append([]string{SignaturePredicate}, req.Attestations...) {
		i := slices.IndexFunc(statements, func(s verified) bool { return s.PredicateType == want })
		if i < 0 {
			what := want
			if want == SignaturePredicate {
				what = "signature"
			}
			why := slices.Clone(reasons)
			for _, s := range statements {
				why = append(why, fmt.Sprintf("%s is a %s, not a %s", shortDigest(s.Digest), s.PredicateType, what))
			}
			return nil, &NotVerifiedError{Digest: desc.Digest.String(), What: what, Found: found, Why: why}
		}
		v.Verified = append(v.Verified, statements[i].Referrer)
	}
	return v, nil
}

type verified struct {
	Referrer
	statement *statement
}

// bundles reads every Sigstore bundle that refers to digest and returns those whose signature verifies
// with the key and whose statement is about digest; reasons says why the others did not.
func (p *PublicKey) bundles(digest name.Digest, opts []remote.Option) (out []verified, found int, reasons []string, err error) {
	idx, err := remote.Referrers(digest, opts...)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("listing the referrers of %s: %w", digest, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, 0, nil, fmt.Errorf("listing the referrers of %s: %w", digest, err)
	}
	for _, d := range im.Manifests {
		if !strings.HasPrefix(d.ArtifactType, "application/vnd.dev.sigstore.bundle") {
			continue
		}
		found++
		data, err := bundleOf(digest.Context().Digest(d.Digest.String()), opts)
		if err != nil {
			return nil, found, nil, err
		}
		st, err := p.openBundle(data)
		if err != nil {
			reasons = append(reasons, shortDigest(d.Digest.String())+": "+err.Error())
			continue
		}
		if !st.names(digest.DigestStr()) {
			reasons = append(reasons, shortDigest(d.Digest.String())+": its statement is about another digest")
			continue
		}
		out = append(out, verified{Referrer{Digest: d.Digest.String(), PredicateType: st.PredicateType}, st})
	}
	return out, found, reasons, nil
}

// bundleOf reads the bundle layer of a referrer artifact.
func bundleOf(ref name.Digest, opts []remote.Option) ([]byte, error) {
	img, err := remote.Image(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("reading the bundle %s: %w", ref, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("reading the bundle %s: %w", ref, err)
	}
	for _, l := range m.Layers {
		if !strings.HasPrefix(string(l.MediaType), "application/vnd.dev.sigstore.bundle") {
			continue
		}
		layer, err := img.LayerByDigest(l.Digest)
		if err != nil {
			return nil, err
		}
		rc, err := layer.Compressed()
		if err != nil {
			return nil, fmt.Errorf("reading the bundle %s: %w", ref, err)
		}
		defer rc.Close()
		return io.ReadAll(io.LimitReader(rc, 16<<20))
	}
	return nil, fmt.Errorf("%s holds no bundle layer", ref)
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}
