package sign

import (
	"crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"google.golang.org/protobuf/encoding/protojson"
)

// Media and payload types of the bundles.
const (
	// BundleMediaType is a Sigstore bundle, v0.3: the layer's media type and the artifact's type.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// InTotoPayloadType is a DSSE envelope's payload type for an in-toto statement.
	InTotoPayloadType = "application/vnd.in-toto+json"
)

func sha512Sum(data []byte) []byte {
	sum := sha512.Sum512(data)
	return sum[:]
}

// pae is DSSE's pre-authentication encoding, what is signed: "DSSEv1 LEN(type) type LEN(body) body".
func pae(payloadType string, payload []byte) []byte {
	return []byte("DSSEv1 " + strconv.Itoa(len(payloadType)) + " " + payloadType + " " + strconv.Itoa(len(payload)) + " " + string(payload))
}

// signBundle signs an in-toto statement into a Sigstore bundle whose verification material is the
// key's hint.
func (k *Key) signBundle(statement []byte) ([]byte, error) {
	sig, err := k.sign(pae(InTotoPayloadType, statement))
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	b := &protobundle.Bundle{
		MediaType: BundleMediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: k.Public().Hint()}},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: statement, PayloadType: InTotoPayloadType, Signatures: []*protodsse.Signature{{Sig: sig}},
		}},
	}
	return protojson.Marshal(b)
}

// openBundle checks a bundle's signature with key and returns the statement it signs.
func (p *PublicKey) openBundle(data []byte) (*statement, error) {
	var b protobundle.Bundle
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("it is not a Sigstore bundle: %w", err)
	}
	if !strings.HasPrefix(b.GetMediaType(), "application/vnd.dev.sigstore.bundle") {
		return nil, fmt.Errorf("its media type %q is not a Sigstore bundle's", b.GetMediaType())
	}
	env := b.GetDsseEnvelope()
	if env == nil {
		return nil, errors.New("it holds no DSSE envelope (a message signature of cosign 2's format is not read)")
	}
	if env.GetPayloadType() != InTotoPayloadType {
		return nil, fmt.Errorf("its payload is a %q, not an in-toto statement", env.GetPayloadType())
	}
	signed := pae(env.GetPayloadType(), env.GetPayload())
	verified := false
	for _, s := range env.GetSignatures() {
		if p.verify(signed, s.GetSig()) {
			verified = true
			break
		}
	}
	if !verified {
		return nil, errors.New("its signature does not verify with the key")
	}
	var st statement
	if err := json.Unmarshal(env.GetPayload(), &st); err != nil {
		return nil, fmt.Errorf("its statement is not in-toto JSON: %w", err)
	}
	return &st, nil
}
