package ui

import (
	"crypto/hmac"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/shipyardci/shipyard/release"
)

// repoName is a repository name as distribution takes it: path components of lower-case letters and
// digits, separated by ., _, __ or dashes.
var repoName = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)

// refParam is a tag or a digest.
var refParam = regexp.MustCompile(`^(?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[0-9a-f]{64})$`)

var digestParam = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// releaseTag is a release record's tag, release-N-ENV.
var releaseTag = regexp.MustCompile(`^release-[0-9]+-[a-z0-9][a-z0-9._-]*$`)

// nameOrder is the characters of repository names in the catalog's order: distribution walks its
// storage directory by directory, so a separator sorts before every other character.
const nameOrder = "/-.0123456789_abcdefghijklmnopqrstuvwxyz"

// before is the catalog's ?last= that starts its listing at the first name with prefix: a name the
// catalog orders below each of those and above every other name below them.
func before(prefix string) string {
	if prefix == "" || strings.Trim(prefix, nameOrder) != "" {
		return prefix // no name has a prefix of other characters, and any start will do
	}
	head, c := prefix[:len(prefix)-1], prefix[len(prefix)-1]
	switch i := strings.IndexByte(nameOrder, c); {
	case i == 0:
		return strings.TrimSuffix(head, "/") // "team/" lists what is under team, after team itself
	default:
		// "~" sorts after every name character, so the names that go on from head and the character
		// before c in the order come before it.
		return head + string(nameOrder[i-1]) + "~"
	}
}

// repositories lists the catalog, a page at a time, optionally only the names that start with q.
func (h *Handler) repositories(w http.ResponseWriter, r *http.Request) {
	v := h.visit(r)
	ctx, cancel := pageContext(r)
	defer cancel()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	last := r.URL.Query().Get("last")
	if last == "" {
		last = before(q)
	}
	p, err := v.api.list(ctx, "/v2/_catalog", "repositories", reposPerPage, last)
	if err != nil {
		h.fail(w, r, err, "The registry's catalog could not be read.")
		return
	}
	if q != "" {
		for i, n := range p.Names {
			if !strings.HasPrefix(n, q) {
				p.Names, p.Next = p.Names[:i], ""
				break
			}
		}
	}
	type body struct {
		Query, Next, First string
		Names              []string
	}
	b := body{Query: q, Names: p.Names}
	if p.Next != "" {
		b.Next = Prefix + "?" + urlValues("q", q, "last", p.Next)
	}
	if r.URL.Query().Get("last") != "" {
		b.First = Prefix + "?" + urlValues("q", q)
	}
	h.render(w, v, "repositories", http.StatusOK, common{Title: "Repositories", Body: b})
}

// repoVisit starts a page of one repository: the visit, and the repository the address names; false
// when it names none, and the error page was written.
func (h *Handler) repoVisit(w http.ResponseWriter, r *http.Request) (visit, string, bool) {
	repo, err := repoParam(r)
	if err != nil {
		h.fail(w, r, err, "The address names no repository.")
		return visit{}, "", false
	}
	return h.visit(r), repo, true
}

// tags lists a repository's tags, a page at a time, each with what it holds.
func (h *Handler) tags(w http.ResponseWriter, r *http.Request) {
	v, repo, ok := h.repoVisit(w, r)
	if !ok {
		return
	}
	ctx, cancel := pageContext(r)
	defer cancel()
	p, err := v.api.list(ctx, "/v2/"+repo+"/tags/list", "tags", tagsPerPage, r.URL.Query().Get("last"))
	if err != nil {
		h.fail(w, r, err, "The tags of "+repo+" could not be read.")
		return
	}
	type body struct {
		Rows        []row
		Next, First string
	}
	b := body{Rows: v.api.describeAll(ctx, repo, p.Names)}
	if p.Next != "" {
		b.Next = tagsURL(repo, p.Next)
	}
	if r.URL.Query().Get("last") != "" {
		b.First = tagsURL(repo, "")
	}
	flash := ""
	if d := r.URL.Query().Get("deleted"); d != "" && refParam.MatchString(d) {
		flash = "Deleted " + repo + ":" + d + "."
		if strings.HasPrefix(d, "sha256:") {
			flash = "Deleted " + repo + "@" + d + " and its tags."
		}
	}
	h.render(w, v, "tags", http.StatusOK, common{Title: repo, Repo: repo, Flash: flash, Body: b,
		Crumbs: []crumb{{Name: repo, URL: tagsURL(repo, "")}}})
}

// image shows one manifest: an index's platforms, an image's configuration, layers and history, its
// annotations, its referrers, and the releases that name it.
func (h *Handler) image(w http.ResponseWriter, r *http.Request) {
	v := h.visit(r)
	repo, err := repoParam(r)
	if err == nil {
		err = checkRef(r.URL.Query().Get("ref"))
	}
	if err != nil {
		h.fail(w, r, err, "The address names no image.")
		return
	}
	ref := r.URL.Query().Get("ref")
	ctx, cancel := pageContext(r)
	defer cancel()
	d, err := v.api.describe(ctx, repo, ref)
	if err != nil {
		h.fail(w, r, err, repo+":"+ref+" could not be read.")
		return
	}
	type body struct {
		D         *described
		Pretty    string
		Referrers []descriptor
		Uses      []usedBy
		RefErr    string
	}
	b := body{D: d, Pretty: pretty(d.Manifest.Raw), Referrers: d.Referrers}
	if envs, err := v.api.releases(ctx, repo); err == nil {
		b.Uses = uses(envs, d.Manifest.Digest)
	} else {
		b.RefErr = err.Error()
	}
	title := repo + "@" + d.Manifest.Digest
	if !strings.HasPrefix(ref, "sha256:") {
		title = repo + ":" + ref
	}
	h.render(w, v, "image", http.StatusOK, common{Title: title, Repo: repo, Body: b,
		Crumbs: []crumb{{Name: repo, URL: tagsURL(repo, "")}, {Name: ref, URL: imageURL(repo, ref)}}})
}

func checkRef(ref string) error {
	if !refParam.MatchString(ref) {
		return refusal(http.StatusBadRequest, "TAG_INVALID", "%q is neither a tag nor a sha256 digest", ref)
	}
	return nil
}

// releases shows each environment's current release and its history.
func (h *Handler) releases(w http.ResponseWriter, r *http.Request) {
	v, repo, ok := h.repoVisit(w, r)
	if !ok {
		return
	}
	ctx, cancel := pageContext(r)
	defer cancel()
	envs, err := v.api.releases(ctx, repo)
	if err != nil {
		h.fail(w, r, err, "The releases of "+repo+" could not be read.")
		return
	}
	type body struct {
		Envs  []environment
		Store string
	}
	h.render(w, v, "releases", http.StatusOK, common{Title: "Releases of " + repo, Repo: repo,
		Body:   body{Envs: envs, Store: "registry://" + registryHost(v.api.host) + "/" + repo},
		Crumbs: []crumb{{Name: repo, URL: tagsURL(repo, "")}, {Name: "releases", URL: releasesURL(repo)}}})
}

// blob shows a blob that is a document (an SBOM, an attestation, a configuration): JSON indented, text
// as it is, anything else by its size only.
func (h *Handler) blob(w http.ResponseWriter, r *http.Request) {
	v := h.visit(r)
	repo, err := repoParam(r)
	digest := r.URL.Query().Get("digest")
	if err == nil && !digestParam.MatchString(digest) {
		err = refusal(http.StatusBadRequest, "DIGEST_INVALID", "%q is not a sha256 digest", digest)
	}
	if err != nil {
		h.fail(w, r, err, "The address names no blob.")
		return
	}
	ctx, cancel := pageContext(r)
	defer cancel()
	data, err := v.api.blob(ctx, repo, digest)
	if err != nil {
		h.fail(w, r, err, repo+"@"+digest+" could not be read.")
		return
	}
	type body struct {
		Digest, Type, Text string
		Size               int64
	}
	b := body{Digest: digest, Type: r.URL.Query().Get("type"), Size: int64(len(data))}
	switch {
	case json.Valid(data):
		b.Text = pretty(data)
	case utf8.Valid(data) && !strings.ContainsRune(string(data), 0):
		b.Text = string(data)
	}
	h.render(w, v, "blob", http.StatusOK, common{Title: repo + "@" + digest, Repo: repo, Body: b,
		Crumbs: []crumb{{Name: repo, URL: tagsURL(repo, "")}, {Name: shortDigest(digest), URL: ""}}})
}

// deletion is what a delete asks and what the confirmation says of it.
type deletion struct {
	Repo, Ref string
	ByDigest  bool
	Digest    string
	Refused   string
}

// planDelete checks a delete: the ref must exist, the visitor may delete, and no release names it.
func (h *Handler) planDelete(r *http.Request, v visit) (*deletion, error) {
	repo, err := repoParam(r)
	if err != nil {
		return nil, err
	}
	ref := r.FormValue("ref")
	if err := checkRef(ref); err != nil {
		return nil, err
	}
	if !h.canDelete(v) {
		return nil, refusal(http.StatusForbidden, "DENIED", "this registry's UI is read-only: deleting needs delete enabled and a signed-in user")
	}
	ctx, cancel := pageContext(r)
	defer cancel()
	m, err := v.api.manifest(ctx, repo, ref)
	if err != nil {
		return nil, err
	}
	d := &deletion{Repo: repo, Ref: ref, ByDigest: strings.HasPrefix(ref, "sha256:"), Digest: m.Digest}
	envs, err := v.api.releases(ctx, repo)
	if err != nil {
		return nil, err
	}
	switch u := uses(envs, m.Digest); {
	case releaseTag.MatchString(ref) || (m.Config != nil && m.Config.MediaType == string(release.MediaType)):
		d.Refused = "Release records are the history of an environment; they are not deleted from here."
	case d.ByDigest && len(u) > 0:
		d.Refused = fmt.Sprintf("Release %s of %s names this digest; deleting it would break a rollback to it.", u[0].Name, u[0].Env)
	}
	return d, nil
}

// confirmDelete asks before a delete.
func (h *Handler) confirmDelete(w http.ResponseWriter, r *http.Request) {
	v := h.visit(r)
	d, err := h.planDelete(r, v)
	if err != nil {
		h.fail(w, r, err, "This cannot be deleted.")
		return
	}
	h.render(w, v, "delete", http.StatusOK, common{Title: "Delete " + d.Ref, Repo: d.Repo, Body: d,
		Crumbs: []crumb{{Name: d.Repo, URL: tagsURL(d.Repo, "")}, {Name: "delete", URL: ""}}})
}

// delete deletes, after the confirmation's form came back with its token.
func (h *Handler) delete(w http.ResponseWriter, r *http.Request) {
	v := h.visit(r)
	if h.o.Auth && v.user == "" {
		h.fail(w, r, &apiError{Status: http.StatusUnauthorized}, "Nothing was deleted.")
		return
	}
	if !h.canDelete(v) || !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(h.csrf(v.user))) {
		h.fail(w, r, refusal(http.StatusForbidden, "DENIED", "the form was not this page's (its token does not match); open the delete page again"), "Nothing was deleted.")
		return
	}
	d, err := h.planDelete(r, v)
	if err == nil && d.Refused != "" {
		err = refusal(http.StatusConflict, "DENIED", "%s", d.Refused)
	}
	if err == nil {
		ctx, cancel := pageContext(r)
		defer cancel()
		err = v.api.delete(ctx, d.Repo, d.Ref)
	}
	if err != nil {
		h.fail(w, r, err, "Nothing was deleted.")
		return
	}
	h.o.Logger.Info("deleted from the UI", "repository", d.Repo, "ref", d.Ref, "digest", d.Digest, "user", v.user)
	http.Redirect(w, r, tagsURL(d.Repo, "")+"&"+url.Values{"deleted": {d.Ref}}.Encode(), http.StatusSeeOther)
}
