package sign

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Request asks to sign images of one repository, and to attest what they were built from.
type Request struct {
	Key        *Key
	Repository name.Repository
	// Digests are the manifests to sign: an index and each of its platforms' manifests, or an image.
	Digests []string
	// Provenance, when set, is attested (SLSA provenance v1) of each digest.
	Provenance *Provenance
	// SBOMs are SPDX JSON documents to attest, by the digest they describe: each platform's image its
	// own, an index those of its platforms.
	SBOMs map[string][][]byte
	// Now is the signing time, written on the artifacts (default time.Now).
	Now time.Time
	// Options give each request its context, authentication and transport.
	Options []remote.Option
}

// Signed is one digest's signature and attestations.
type Signed struct {
	Digest    string     `json:"digest"`
	Referrers []Referrer `json:"referrers"`
}

// Referrer is a bundle stored as a referrer of an image.
type Referrer struct {
	Digest        string `json:"digest"` // of the artifact holding the bundle
	PredicateType string `json:"predicate_type"`
}

// Images signs each digest of req, and attests its provenance and SBOM when asked: each bundle is pushed
// as a referrer of the digest. Nothing in the images changes.
func Images(ctx context.Context, req Request) ([]Signed, error) {
	if req.Key == nil {
		return nil, &InputError{Option: "sign.Key", Err: fmt.Errorf("signing needs a key")}
	}
	if req.Now.IsZero() {
		req.Now = time.Now()
	}
	opts := append([]remote.Option{remote.WithContext(ctx)}, req.Options...)
	var out []Signed
	for _, digest := range req.Digests {
		ref := req.Repository.Digest(digest)
		desc, err := remote.Head(ref, opts...)
		if err != nil {
			return out, fmt.Errorf("reading %s to sign it: %w", ref, err)
		}
		s := Signed{Digest: digest}
		type claim struct {
			predicateType string
			predicate     any
		}
		claims := []claim{{SignaturePredicate, struct{}{}}}
		if req.Provenance != nil {
			claims = append(claims, claim{ProvenancePredicate, req.Provenance.predicate()})
		}
		for _, sbom := range req.SBOMs[digest] {
			claims = append(claims, claim{SPDXPredicate, rawJSON(sbom)})
		}
		for _, c := range claims {
			r, err := req.attach(ref, *desc, c.predicateType, c.predicate, opts)
			if err != nil {
				return out, err
			}
			s.Referrers = append(s.Referrers, r)
		}
		out = append(out, s)
	}
	return out, nil
}

// attach signs a statement of predicate about the image desc describes and pushes it as a referrer.
func (req Request) attach(ref name.Digest, desc v1.Descriptor, predicateType string, predicate any, opts []remote.Option) (Referrer, error) {
	st, err := newStatement(ref.Context().Name(), ref.DigestStr(), predicateType, predicate)
	if err != nil {
		return Referrer{}, fmt.Errorf("stating %s of %s: %w", predicateType, ref, err)
	}
	bundle, err := req.Key.signBundle(st)
	if err != nil {
		return Referrer{}, fmt.Errorf("signing %s of %s: %w", predicateType, ref, err)
	}
	art, err := newArtifact(bundle, predicateType, desc, req.Now)
	if err != nil {
		return Referrer{}, err
	}
	d, err := art.Digest()
	if err != nil {
		return Referrer{}, err
	}
	if err := remote.Write(ref.Context().Digest(d.String()), art, opts...); err != nil {
		return Referrer{}, fmt.Errorf("pushing the %s bundle of %s: %w", predicateType, ref, err)
	}
	return Referrer{Digest: d.String(), PredicateType: predicateType}, nil
}

// rawJSON is a JSON document marshalled as it is.
type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }
