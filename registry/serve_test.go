package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/shipyardci/shipyard/internal/registrytest"
	"github.com/shipyardci/shipyard/internal/testenv"
	"github.com/shipyardci/shipyard/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCatalogPaginates: the catalog lists every repository, a page at a time as distribution's does
// (?n=, then the Link header's ?last=), and crane and skopeo list what was pushed.
func TestCatalogPaginates(t *testing.T) {
	testenv.Tool(t, "crane", "go install github.com/google/go-containerregistry/cmd/crane@v0.22.1")
	testenv.Tool(t, "skopeo", "apt-get install -y skopeo")
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			ctx := context.Background()
			r := kind.start(t, registrytest.Config{})
			dir, _ := registrytest.Image(t, 1024, 1)
			var want []string
			for i := range 5 {
				repo := fmt.Sprintf("team/app%d", i)
				_, err := client(t, r).Push(ctx, load(t, dir), registrytest.Ref(t, r.Host+"/"+repo+":1.0.0"), registry.PushOptions{})
				require.NoError(t, err)
				want = append(want, repo)
			}

			var got []string
			next := "/v2/_catalog?n=2"
			for pages := 0; next != ""; pages++ {
				require.Less(t, pages, 5, "the pages end")
				resp, err := http.Get("http://" + r.Host + next)
				require.NoError(t, err)
				var page struct{ Repositories []string }
				require.NoError(t, json.NewDecoder(resp.Body).Decode(&page))
				resp.Body.Close()
				require.Equal(t, http.StatusOK, resp.StatusCode)
				assert.LessOrEqual(t, len(page.Repositories), 2, "?n=2")
				got = append(got, page.Repositories...)
				next = ""
				if link := resp.Header.Get("Link"); link != "" {
					next = strings.TrimPrefix(strings.SplitN(link, ">", 2)[0], "<")
				}
			}
			assert.Equal(t, want, got)

			out, err := exec.Command("crane", "catalog", "--insecure", r.Host).CombinedOutput()
			require.NoError(t, err, string(out))
			listed := strings.Fields(string(out))
			sort.Strings(listed)
			assert.Equal(t, want, listed, "crane catalog")
			out, err = exec.Command("skopeo", "list-tags", "--tls-verify=false", "docker://"+r.Host+"/team/app3").CombinedOutput()
			require.NoError(t, err, string(out))
			assert.Contains(t, string(out), `"1.0.0"`, "skopeo list-tags")
		})
	}
}

// TestRepositoryNames: a repository that is not the distribution spec's <name> is the user's input
// error on the client, before any request; the server refuses it too.
func TestRepositoryNames(t *testing.T) {
	r := embedded(t, registrytest.Config{})
	c := client(t, r)
	for _, repo := range []string{"../../etc", "a/../b", "a//b", "/a", "a/", "-a", "a-", "a..b", "a___b", "App", "a/B"} {
		_, err := c.ParseReference(r.Host + "/" + repo + ":1")
		var input *registry.InputError
		if assert.ErrorAs(t, err, &input, repo) && strings.ToLower(repo) == repo { // go-containerregistry refuses uppercase itself
			assert.Contains(t, err.Error(), "is not a name a registry takes", repo)
		}
		_, err = c.ParseRepository(r.Host + "/" + repo)
		assert.ErrorAs(t, err, &input, repo)

		resp, err := http.Get("http://" + r.Host + "/v2/" + repo + "/tags/list")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Contains(t, []int{http.StatusBadRequest, http.StatusNotFound}, resp.StatusCode, "the server: %s", repo)
	}
	for _, repo := range []string{"a", "a/b/c", "a.b", "a_b", "a__b", "a--b", "team/app-1.2_x"} {
		_, err := c.ParseReference(r.Host + "/" + repo + ":1")
		assert.NoError(t, err, repo)
		_, err = c.ParseRepository(r.Host + "/" + repo)
		assert.NoError(t, err, repo)
	}
}
