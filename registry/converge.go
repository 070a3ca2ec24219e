package registry

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// convergeRounds bounds the rounds of converge: each round that writes is followed by one that checks,
// and a write is only needed when another push moved a tag in between.
const convergeRounds = 20

// movingTarget is what a moving tag names at the end of a push: the highest version of its line.
type movingTarget struct {
	version, digest string
}

// converge makes each moving tag (1.4, 1, latest) name the highest version of its line in the
// repository, as the repository is now: concurrent pushes each set the moving tags from the tags they
// saw, so a push of 1.0.4 may move latest back after a push of 1.0.8 moved it forward. Each round reads
// the tags again and repairs what names a lower version; it ends when a round finds nothing to repair,
// so that the last push to write also checks after it. What the tags name at the end is returned.
func (c *Client) converge(ctx context.Context, repo name.Repository, moving []string) (map[string]movingTarget, error) {
	for range convergeRounds {
		existing, err := c.listTags(ctx, repo)
		if err != nil {
			return nil, err
		}
		final := map[string]movingTarget{}
		digests := map[string]string{} // of the version tags read this round
		settled := true
		for _, m := range moving {
			version := highestIn(m, existing)
			if version == "" {
				// The listing missed the version just pushed (a registry that lists late): read again.
				settled = false
				break
			}
			want, ok := digests[version]
			if !ok {
				if want, err = c.tagDigest(ctx, repo.Tag(version)); err != nil {
					return nil, err
				}
				digests[version] = want
			}
			if want == "" {
				settled = false
				break
			}
			final[m] = movingTarget{version: version, digest: want}
			have, err := c.tagDigest(ctx, repo.Tag(m))
			if err != nil {
				return nil, err
			}
			if have == want {
				continue
			}
			settled = false
			desc, err := remote.Get(repo.Digest(want), c.remote(ctx, nil)...)
			if err != nil {
				return nil, explain("reading "+repo.Digest(want).String(), err)
			}
			if err := remote.Tag(repo.Tag(m), desc, c.remote(ctx, nil)...); err != nil {
				return nil, explain("tagging "+repo.Tag(m).String(), err)
			}
		}
		if settled {
			return final, nil
		}
	}
	return nil, fmt.Errorf("moving the tags %v of %s: other pushes kept moving them for %d rounds", moving, repo, convergeRounds)
}
