package ui

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxRead is the most the UI reads of one answer: manifests, configs and the documents it shows.
const maxRead = 4 << 20

// manifestTypes is what the UI accepts for a manifest: OCI and Docker, images, indexes and artifacts.
var manifestTypes = strings.Join([]string{
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v2+json",
}, ", ")

// api reads the registry's API in process, as the user of the page: the same handler a client's
// requests reach, with the page's credentials, so the UI shows what a client sees.
type api struct {
	h    http.Handler
	auth string // the page's Authorization header, passed on
	host string // the registry's address as the browser named it
}

// apiError is an answer of the registry that is not a success. Its message is the registry's error
// code and message, never its detail (which may name server paths).
type apiError struct {
	Status int
	Code   string
	Msg    string
	Local  bool // the UI's own refusal, not the registry's answer
}

// refusal is the UI's own answer to a request it does not pass on.
func refusal(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Msg: fmt.Sprintf(format, args...), Local: true}
}

func (e *apiError) Error() string {
	if e.Local {
		return e.Msg
	}
	if e.Code == "" {
		return fmt.Sprintf("the registry answered %d %s", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("the registry answered %d: %s (%s)", e.Status, strings.ToLower(e.Msg), e.Code)
}

// statusOf is the HTTP status of an error of the registry, 500 for other errors.
func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return http.StatusInternalServerError
}

// answer is a response read whole.
type answer struct {
	status   int
	header   http.Header
	body     bytes.Buffer
	tooLarge bool // it had more than maxRead bytes
}

func (a *answer) Header() http.Header { return a.header }
func (a *answer) WriteHeader(code int) {
	if a.status == 0 {
		a.status = code
	}
}
func (a *answer) Write(p []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	if a.body.Len()+len(p) > maxRead {
		a.tooLarge = true
		return 0, errors.New("the answer is too large to show")
	}
	return a.body.Write(p)
}

// do sends one request to the API and reads its answer; statuses other than 2xx are an *apiError.
func (a api) do(ctx context.Context, method, path string, query url.Values, accept string) (*answer, error) {
	u := &url.URL{Path: path, RawQuery: query.Encode()}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("asking the registry for %s: %w", path, err)
	}
	req.RequestURI = u.RequestURI()
	req.Host = a.host
	req.RemoteAddr = "127.0.0.1:0"
	if a.auth != "" {
		req.Header.Set("Authorization", a.auth)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	ans := &answer{header: http.Header{}}
	a.h.ServeHTTP(ans, req)
	if ans.status == 0 {
		ans.status = http.StatusOK
	}
	if ans.status/100 != 2 {
		return nil, errorOf(ans)
	}
	if ans.tooLarge {
		return nil, refusal(http.StatusUnprocessableEntity, "TOO_LARGE", "%s is larger than the %d MiB the UI reads", path, maxRead>>20)
	}
	return ans, nil
}

// errorOf reads the registry's error answer.
func errorOf(ans *answer) error {
	var body struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	e := &apiError{Status: ans.status}
	if json.Unmarshal(ans.body.Bytes(), &body) == nil && len(body.Errors) > 0 {
		e.Code, e.Msg = body.Errors[0].Code, body.Errors[0].Message
	}
	return e
}

// page is one page of a listing, and the last entry to list on from ("" at the end).
type page struct {
	Names []string
	Next  string
}

// list reads one page of the catalog or of a repository's tags, n at most, after last.
func (a api) list(ctx context.Context, path, field string, n int, last string) (page, error) {
	q := url.Values{"n": {fmt.Sprint(n)}}
	if last != "" {
		q.Set("last", last)
	}
	ans, err := a.do(ctx, http.MethodGet, path, q, "")
	if err != nil {
		return page{}, err
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(ans.body.Bytes(), &body); err != nil {
		return page{}, fmt.Errorf("reading the registry's list of %s: %w", field, err)
	}
	var p page
	if raw, ok := body[field]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &p.Names); err != nil {
			return page{}, fmt.Errorf("reading the registry's list of %s: %w", field, err)
		}
	}
	if ans.header.Get("Link") != "" && len(p.Names) > 0 {
		p.Next = p.Names[len(p.Names)-1]
	}
	return p, nil
}

// manifest is what the UI reads of any manifest: images, indexes and artifacts, OCI or Docker.
type manifest struct {
	MediaType    string            `json:"mediaType"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Config       *descriptor       `json:"config,omitempty"`
	Layers       []descriptor      `json:"layers,omitempty"`
	Manifests    []descriptor      `json:"manifests,omitempty"`
	Subject      *descriptor       `json:"subject,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`

	Digest string `json:"-"` // sha256 of the bytes the registry served
	Size   int64  `json:"-"`
	Raw    []byte `json:"-"`
}

type descriptor struct {
	MediaType    string            `json:"mediaType"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	Platform     *platform         `json:"platform,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

type platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
}

func (p platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// isIndex says whether m lists manifests.
func (m *manifest) isIndex() bool {
	return m.MediaType == "application/vnd.oci.image.index.v1+json" || m.MediaType == "application/vnd.docker.distribution.manifest.list.v2+json" ||
		(m.MediaType == "" && m.Manifests != nil)
}

// manifest reads repo's manifest of ref, a tag or a digest. A manifest read by digest is checked against it.
func (a api) manifest(ctx context.Context, repo, ref string) (*manifest, error) {
	ans, err := a.do(ctx, http.MethodGet, "/v2/"+repo+"/manifests/"+ref, nil, manifestTypes)
	if err != nil {
		return nil, err
	}
	raw := ans.body.Bytes()
	sum := sha256.Sum256(raw)
	m := &manifest{Digest: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(len(raw)), Raw: raw}
	if strings.HasPrefix(ref, "sha256:") && ref != m.Digest {
		return nil, fmt.Errorf("the registry served %s for %s@%s", m.Digest, repo, ref)
	}
	if err := json.Unmarshal(raw, m); err != nil {
		return nil, fmt.Errorf("reading the manifest of %s:%s: %w", repo, ref, err)
	}
	if m.MediaType == "" {
		m.MediaType = ans.header.Get("Content-Type")
	}
	return m, nil
}

// blob reads a blob of repo whole (up to maxRead), checked against its digest.
func (a api) blob(ctx context.Context, repo, digest string) ([]byte, error) {
	ans, err := a.do(ctx, http.MethodGet, "/v2/"+repo+"/blobs/"+digest, nil, "")
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(ans.body.Bytes())
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != digest {
		return nil, fmt.Errorf("the registry served %s for the blob %s@%s", got, repo, digest)
	}
	return ans.body.Bytes(), nil
}

// delete removes a tag, or a manifest by digest (with every tag on it).
func (a api) delete(ctx context.Context, repo, ref string) error {
	_, err := a.do(ctx, http.MethodDelete, "/v2/"+repo+"/manifests/"+ref, nil, "")
	return err
}

// RoundTrip lets go-containerregistry read through the same handler (the release records).
func (a api) RoundTrip(req *http.Request) (*http.Response, error) {
	in := req.Clone(req.Context())
	in.RequestURI = req.URL.RequestURI()
	in.Host = a.host
	in.RemoteAddr = "127.0.0.1:0"
	if a.auth != "" && in.Header.Get("Authorization") == "" {
		in.Header.Set("Authorization", a.auth)
	}
	if in.Body == nil {
		in.Body = http.NoBody
	}
	ans := &answer{header: http.Header{}}
	a.h.ServeHTTP(ans, in)
	if ans.status == 0 {
		ans.status = http.StatusOK
	}
	return &http.Response{StatusCode: ans.status, Status: fmt.Sprintf("%d %s", ans.status, http.StatusText(ans.status)),
		Header: ans.header, Body: io.NopCloser(&ans.body), ContentLength: int64(ans.body.Len()), Request: req,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}
