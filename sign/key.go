// Package sign signs images and their attestations with a key, as cosign 3 does, and verifies them.
// A signature is a Sigstore bundle (v0.3) holding a DSSE envelope of an in-toto statement about the
// image's digest: "https://sigstore.dev/cosign/sign/v1" for the signature itself, SLSA provenance v1 or
// an SPDX document for an attestation. Each bundle is stored as an OCI artifact whose subject is the
// image, so that the referrers API (or, on registries without it, the sha256-DIGEST fallback tag) lists
// it: `cosign verify --key` and `cosign verify-attestation` find what shipyard signs, and shipyard
// verifies what `cosign sign --key` signed. Signing changes nothing in the image: its digest stays.
//
// Keys are ECDSA P-256 or Ed25519: a cosign key pair (cosign generate-key-pair, encrypted with a
// password) or a PEM private key. Keyless signing (Fulcio, Rekor) needs the network; the bundle's
// verification material is where its certificate would go.
package sign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"

	"github.com/shipyardci/shipyard/internal/usererr"
)

// PEM block types of the keys read here.
const (
	sigstorePrivateKey = "ENCRYPTED SIGSTORE PRIVATE KEY" // cosign generate-key-pair
	cosignPrivateKey   = "ENCRYPTED COSIGN PRIVATE KEY"   // older cosign
)

// Key is a private key that signs: ECDSA P-256 or Ed25519.
type Key struct {
	signer crypto.Signer
}

// PublicKey is a key that verifies.
type PublicKey struct {
	key crypto.PublicKey
}

// InputError is a key or a reference that cannot be used (exit code 2), naming the option it blames.
type InputError = usererr.Error

// ReadKey reads a key from ref: a file, or env://NAME for an environment variable that holds the PEM
// text (as cosign reads it). where says which, for messages; it never holds the key.
func ReadKey(ref string, getenv func(string) string) (data []byte, where string, err error) {
	if name, ok := strings.CutPrefix(ref, "env://"); ok {
		v := getenv(name)
		if v == "" {
			return nil, "", &InputError{Option: "sign.Key", Err: fmt.Errorf("the environment variable %s that should hold the key is empty or unset", name)}
		}
		return []byte(v), "$" + name, nil
	}
	data, err = os.ReadFile(ref)
	if err != nil {
		return nil, "", &InputError{Option: "sign.Key", Err: fmt.Errorf("reading the key: %w", err)}
	}
	return data, ref, nil
}

// ParsePrivateKey reads a PEM private key: a cosign key pair's encrypted key (decrypted with password),
// or a PKCS#8 or SEC 1 key. where names it in errors.
func ParsePrivateKey(data, password []byte, where string) (*Key, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, &InputError{Option: "sign.Key", Err: fmt.Errorf("%s holds no PEM key", where)}
	}
	var (
		k   any
		err error
	)
	switch block.Type {
	case sigstorePrivateKey, cosignPrivateKey:
		if len(password) == 0 {
			return nil, &InputError{Option: "sign.Key", Err: fmt.Errorf("%s is an encrypted cosign key: its password is needed (COSIGN_PASSWORD or SHIPYARD_SIGN_PASSWORD)", where)}
		}
		der, derr := encrypted.Decrypt(block.Bytes, password)
		if derr != nil {
			return nil, &InputError{Option: "sign.Key", Err: fmt.Errorf("decrypting %s: the password is wrong or the key is damaged", where)}
		}
		k, err = x509.ParsePKCS8PrivateKey(der)
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(block.Bytes)
	case "PUBLIC KEY":
		return nil, &InputError{Option: "sign.Key", Err: fmt.Errorf("%s is a public key: signing needs the private key", where)}
	default:
		return nil, &InputError{Option: "sign.Key", Err: fmt.Errorf("%s is a PEM %q, not a private key shipyard reads (a cosign key pair's, PKCS#8 or EC)", where, block.Type)}
	}
	if err != nil {
		return nil, &InputError{Option: "sign.Key", Err: fmt.Errorf("reading the private key in %s: %w", where, err)}
	}
	signer, err := supported(k, where)
	if err != nil {
		return nil, err
	}
	return &Key{signer: signer}, nil
}

// supported accepts the key types shipyard signs with.
func supported(k any, where string) (crypto.Signer, error) {
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, &InputError{Option: "sign.Key", Err: fmt.Errorf("%s is an ECDSA key on %s: shipyard signs with P-256 or Ed25519", where, k.Curve.Params().Name)}
		}
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, &InputError{Option: "sign.Key", Err: fmt.Errorf("%s is a %T: shipyard signs with ECDSA P-256 or Ed25519", where, k)}
}

// ParsePublicKey reads a PEM public key (cosign.pub), or the public half of a private key that
// ParsePrivateKey reads.
func ParsePublicKey(data, password []byte, where string) (*PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, &InputError{Option: "sign.PublicKey", Err: fmt.Errorf("%s holds no PEM key", where)}
	}
	if block.Type != "PUBLIC KEY" {
		k, err := ParsePrivateKey(data, password, where)
		if err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				ie.Option = "sign.PublicKey"
			}
			return nil, err
		}
		return k.Public(), nil
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, &InputError{Option: "sign.PublicKey", Err: fmt.Errorf("reading the public key in %s: %w", where, err)}
	}
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return nil, &InputError{Option: "sign.PublicKey", Err: fmt.Errorf("%s is an ECDSA key on %s: shipyard verifies P-256 and Ed25519", where, p.Curve.Params().Name)}
		}
	case ed25519.PublicKey:
	default:
		return nil, &InputError{Option: "sign.PublicKey", Err: fmt.Errorf("%s is a %T: shipyard verifies ECDSA P-256 and Ed25519", where, pub)}
	}
	return &PublicKey{key: pub}, nil
}

// Public is the key that verifies k's signatures.
func (k *Key) Public() *PublicKey { return &PublicKey{key: k.signer.Public()} }

// PEM is the public key as cosign.pub holds it.
func (p *PublicKey) PEM() []byte {
	der, err := x509.MarshalPKIXPublicKey(p.key)
	if err != nil {
		panic(err) // only supported keys are made
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Hint is the key's identifier in a bundle: base64 of the SHA-256 of its PKIX form (as sigstore-go
// writes it). It is a hint, never trusted: verification tries the key it is given.
func (p *PublicKey) Hint() string {
	der, err := x509.MarshalPKIXPublicKey(p.key)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// sign signs data: ECDSA over its SHA-256, Ed25519 as pure Ed25519 (what cosign verifies a DSSE
// envelope's Ed25519 signature as; it signs its own Ed25519ph or pure, and verify takes both).
func (k *Key) sign(data []byte) ([]byte, error) {
	switch s := k.signer.(type) {
	case *ecdsa.PrivateKey:
		sum := sha256.Sum256(data)
		return ecdsa.SignASN1(nil, s, sum[:])
	case ed25519.PrivateKey:
		return ed25519.Sign(s, data), nil
	}
	return nil, errors.New("unsupported key")
}

// verify checks a signature of data; an Ed25519 signature may be pure or Ed25519ph.
func (p *PublicKey) verify(data, sig []byte) bool {
	switch k := p.key.(type) {
	case *ecdsa.PublicKey:
		sum := sha256.Sum256(data)
		return ecdsa.VerifyASN1(k, sum[:], sig)
	case ed25519.PublicKey:
		return ed25519.VerifyWithOptions(k, sha512Sum(data), sig, &ed25519.Options{Hash: crypto.SHA512}) == nil ||
			ed25519.Verify(k, data, sig)
	}
	return false
}
