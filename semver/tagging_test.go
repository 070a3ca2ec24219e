package semver

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/shipyardci/shipyard/internal/testenv"

	"github.com/shipyardci/shipyard/internal/gittest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateTag(t *testing.T) {
	ctx := context.Background()
	repo := gittest.New(t)
	repo.Script("c feat: a")
	require.NoError(t, CreateTag(ctx, repo.Dir, "v1.0.0", TagOptions{Message: "Release v1.0.0\n\n## 1.0.0\n\n- a\n"}))
	assert.Equal(t, "tag", repo.Git("cat-file", "-t", "v1.0.0"), "annotated, not lightweight")
	assert.Equal(t, "Release v1.0.0\n\n## 1.0.0\n\n- a", repo.Git("tag", "-l", "--format=%(contents)", "v1.0.0"), "the message is kept verbatim, markdown headings included")
	assert.Equal(t, repo.Git("rev-parse", "HEAD"), repo.Git("rev-parse", "v1.0.0^{commit}"))

	require.NoError(t, CreateTag(ctx, repo.Dir, "v0.9.0", TagOptions{Ref: "HEAD"}))
	assert.Equal(t, "Release v0.9.0", repo.Git("tag", "-l", "--format=%(contents:subject)", "v0.9.0"))
}

func TestCreateTagRefusesExistingTag(t *testing.T) {
	ctx := context.Background()
	repo := gittest.New(t)
	repo.Script("c feat: a", "t v1.0.0", "c fix: b")
	err := CreateTag(ctx, repo.Dir, "v1.0.0", TagOptions{})
	var exists *TagExistsError
	require.ErrorAs(t, err, &exists)
	assert.Contains(t, err.Error(), "tag v1.0.0 already exists (on ")
	assert.Equal(t, repo.Git("rev-parse", "HEAD~1"), repo.Git("rev-parse", "v1.0.0"), "the tag did not move")
}

func TestCreateTagRefusesDirtyTree(t *testing.T) {
	ctx := context.Background()
	repo := gittest.New(t)
	repo.Script("f app.go feat: a")
	repo.WriteFile("app.go", "changed\n")
	err := CreateTag(ctx, repo.Dir, "v1.0.0", TagOptions{})
	var dirty *DirtyError
	require.ErrorAs(t, err, &dirty)
	assert.Equal(t, []string{"app.go"}, dirty.Files)
	assert.Contains(t, err.Error(), "uncommitted changes (app.go): commit or stash them")
	assert.Empty(t, repo.Git("tag", "-l"), "no tag was created")
}

func TestCreateTagPush(t *testing.T) {
	ctx := context.Background()
	remote := gittest.New(t)
	remote.Git("config", "receive.denyCurrentBranch", "ignore")
	repo := gittest.New(t)
	repo.Script("c feat: a")
	repo.Git("remote", "add", "origin", remote.Dir)

	require.NoError(t, CreateTag(ctx, repo.Dir, "v1.0.0", TagOptions{Remote: "origin"}))
	assert.Contains(t, repo.Git("ls-remote", "--tags", "origin"), "refs/tags/v1.0.0")

	err := CreateTag(ctx, repo.Dir, "v1.0.1", TagOptions{Remote: "nowhere"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "pushing tag v1.0.1 to nowhere (the tag stays local")
	assert.Equal(t, "v1.0.1", repo.Git("tag", "-l", "v1.0.1"))
}

func TestCreateTagSign(t *testing.T) {
	testenv.Tool(t, "ssh-keygen", "apt-get install openssh-client")
	ctx := context.Background()
	repo := gittest.New(t)
	repo.Script("c feat: a")
	key := filepath.Join(t.TempDir(), "id_ed25519")
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ada@example.com", "-f", key).CombinedOutput()
	require.NoError(t, err, string(out))
	repo.Git("config", "gpg.format", "ssh")
	repo.Git("config", "user.signingKey", key+".pub")

	require.NoError(t, CreateTag(ctx, repo.Dir, "v1.0.0", TagOptions{Sign: true}))
	assert.Contains(t, repo.Git("cat-file", "tag", "v1.0.0"), "-----BEGIN SSH SIGNATURE-----")
}
