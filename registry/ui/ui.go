// Package ui is the web UI of the embedded registry: its repositories, tags, images, referrers and the
// releases stored beside them, read through the registry's own API with the visitor's credentials, so
// that it shows what a client sees. Its pages are rendered on the server from templates embedded in the
// binary (no CDN, usable without JavaScript); a little script adds copy buttons.
package ui

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Prefix is where the UI is served.
const Prefix = "/ui/"

// Page sizes: the UI never lists everything at once.
const (
	reposPerPage = 50
	tagsPerPage  = 25
)

//go:embed assets
var assets embed.FS

// Options configures the UI.
type Options struct {
	// API is the registry's API handler, which the UI reads in process.
	API http.Handler
	// Auth says the registry asks for credentials; only then is a visitor authenticated.
	Auth bool
	// Delete offers authenticated visitors to delete tags and manifests; the UI is read-only otherwise.
	Delete bool
	Logger *slog.Logger
}

// Handler serves the UI under Prefix.
type Handler struct {
	o     Options
	key   []byte // signs the CSRF tokens of this process
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// New returns the UI's handler.
func New(o Options) (*Handler, error) {
	if o.API == nil {
		return nil, errors.New("the UI needs the registry's API handler")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{o: o, key: make([]byte, 32), pages: map[string]*template.Template{}, mux: http.NewServeMux()}
	if _, err := rand.Read(h.key); err != nil {
		return nil, fmt.Errorf("making the UI's CSRF key: %w", err)
	}
	for _, p := range []string{"repositories", "tags", "image", "releases", "blob", "delete", "error"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "assets/layout.html", "assets/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("reading the UI's %s page: %w", p, err)
		}
		h.pages[p] = t
	}
	static, err := fs.Sub(assets, "assets/static")
	if err != nil {
		return nil, err
	}
	h.mux.Handle("GET "+Prefix+"static/", http.StripPrefix(Prefix+"static/", http.FileServerFS(static)))
	h.mux.HandleFunc("GET "+Prefix+"{$}", h.repositories)
	h.mux.HandleFunc("GET "+Prefix+"tags", h.tags)
	h.mux.HandleFunc("GET "+Prefix+"image", h.image)
	h.mux.HandleFunc("GET "+Prefix+"releases", h.releases)
	h.mux.HandleFunc("GET "+Prefix+"blob", h.blob)
	h.mux.HandleFunc("GET "+Prefix+"delete", h.confirmDelete)
	h.mux.Handle("POST "+Prefix+"delete", http.NewCrossOriginProtection().Handler(http.HandlerFunc(h.delete)))
	h.mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, refusal(http.StatusNotFound, "NOT_FOUND", "no page of the UI is at this address"), "There is no such page.")
	})
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "same-origin")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

// visit is one page request: the API as the visitor, and what the page may offer.
type visit struct {
	api  api
	user string
	r    *http.Request
}

func (h *Handler) visit(r *http.Request) visit {
	user, _, _ := r.BasicAuth()
	return visit{api: api{h: h.o.API, auth: r.Header.Get("Authorization"), host: r.Host}, user: user, r: r}
}

// canDelete says whether the visitor may delete: delete enabled, and credentials the registry asked for.
// (Every page reads the API with them first, so a page that renders had them accepted.)
func (h *Handler) canDelete(v visit) bool {
	return h.o.Delete && h.o.Auth && v.user != ""
}

// csrf is the token the delete form carries for user.
func (h *Handler) csrf(user string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte("delete\x00" + user))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// common is what every page shows.
type common struct {
	Title     string
	Host      string
	Repo      string
	CanDelete bool
	CSRF      string
	Flash     string
	Crumbs    []crumb
	Body      any
}

type crumb struct{ Name, URL string }

func (h *Handler) render(w http.ResponseWriter, v visit, page string, status int, c common) {
	c.Host = v.api.host
	c.CanDelete = h.canDelete(v)
	if c.CanDelete {
		c.CSRF = h.csrf(v.user)
	}
	c.Crumbs = append([]crumb{{Name: "Repositories", URL: Prefix}}, c.Crumbs...)
	var b strings.Builder
	if err := h.pages[page].Execute(&b, c); err != nil {
		h.o.Logger.Error("rendering a page of the UI", "page", page, "error", err)
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// fail renders an error page: the registry's status, and a sign-in challenge when it asked for credentials.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, what string) {
	status := statusOf(err)
	if status == http.StatusInternalServerError {
		h.o.Logger.Error("a page of the UI failed", "path", r.URL.Path, "error", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="shipyard registry", charset="UTF-8"`)
		what = "Sign in with your registry credentials to see this page."
	}
	var ae *apiError
	msg := "Something went wrong on the server; its log says what."
	if errors.As(err, &ae) {
		msg = ae.Error()
	}
	h.render(w, h.visit(r), "error", status, common{Title: http.StatusText(status), Body: struct{ What, Msg string }{what, msg}})
}

// repoParam is the page's repository, checked as the registry names them.
func repoParam(r *http.Request) (string, error) {
	repo := r.FormValue("repo")
	if !repoName.MatchString(repo) || len(repo) > 255 {
		return "", refusal(http.StatusBadRequest, "NAME_INVALID", "%q is not a repository name", repo)
	}
	return repo, nil
}

// page links.
func tagsURL(repo, last string) string {
	q := url.Values{"repo": {repo}}
	if last != "" {
		q.Set("last", last)
	}
	return Prefix + "tags?" + q.Encode()
}

func imageURL(repo, ref string) string {
	return Prefix + "image?" + url.Values{"repo": {repo}, "ref": {ref}}.Encode()
}

func releasesURL(repo string) string {
	return Prefix + "releases?" + url.Values{"repo": {repo}}.Encode()
}

func blobURL(repo, digest, mediaType string) string {
	return Prefix + "blob?" + url.Values{"repo": {repo}, "digest": {digest}, "type": {mediaType}}.Encode()
}

func deleteURL(repo, ref string) string {
	return Prefix + "delete?" + url.Values{"repo": {repo}, "ref": {ref}}.Encode()
}

// pageContext bounds the reads of one page.
func pageContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), 30*time.Second)
}
