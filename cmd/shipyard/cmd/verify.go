package cmd

import (
	"github.com/spf13/cobra"

	"github.com/shipyardci/shipyard/internal/pipeline"
	"github.com/shipyardci/shipyard/registry"
)

func newVerifyCmd(f *Factory) *cobra.Command {
	var o registryOptions
	in := pipeline.VerifyInput{Getenv: f.Getenv}
	c := &cobra.Command{
		Use:   "verify REF --key FILE [--attestation slsa|spdx]",
		Short: "Check that an image is signed with a key, and attested",
		Long: `Check that REF's digest (a tag is resolved first) has a signature that verifies with --key, as
` + "`cosign verify --key`" + ` checks one: a Sigstore bundle stored as a referrer of the image, whether
` + "`shipyard build --sign-key`" + ` or ` + "`cosign sign --key`" + ` made it. --attestation asks for a signed
SLSA provenance (slsa) or SBOM (spdx) too. Exits 0 only when all of it verifies, 1 saying why not.`,
		Example: `  shipyard verify registry.example.com/team/api:1.4.2 --key cosign.pub
  shipyard verify 127.0.0.1:5000/api@sha256:… --key env://COSIGN_PUBLIC_KEY --attestation slsa --attestation spdx`,
		Args: cobra.ExactArgs(1),
		RunE: f.withRegistry(&o, func(cmd *cobra.Command, args []string, c *registry.Client) error {
			in.Ref, in.Dir, in.Client = args[0], f.Dir, c
			v, err := pipeline.Verify(cmd.Context(), in)
			if err != nil {
				return err
			}
			lines := []string{"verified " + v.Digest}
			for _, r := range v.Verified {
				lines = append(lines, "  "+r.PredicateType+" "+r.Digest)
			}
			return f.RenderLines(v, lines...)
		}),
	}
	addRegistryFlags(c.Flags(), &o)
	c.Flags().StringVar(&in.Key, "key", "", "the public key `FILE` (cosign.pub) or env://NAME the signatures must verify with")
	c.Flags().StringArrayVar(&in.Attestations, "attestation", nil, "an attestation that must verify too: slsa or spdx (repeatable)")
	return c
}
