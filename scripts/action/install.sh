#!/usr/bin/env bash
# The install step of action.yml: puts the shipyard of the action's own version on the job's PATH.
# A release tag (v1.2.3) downloads that release's binary and checks it against the release's
# checksums.txt; a branch or a commit, or a release without binaries, builds the action's own source
# ($GITHUB_ACTION_PATH) with the job's Go.
set -euo pipefail

version="${ACTION_SHIPYARD_VERSION:-}"
dest="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/shipyard-bin"
mkdir -p "$dest"

os="$(uname -s | tr '[:upper:]' '[:lower:]')"
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) arch="$(uname -m)" ;;
esac

installed=""
if [[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+ ]]; then
  base="${ACTION_SHIPYARD_DOWNLOAD_URL:-https://github.com/shipyardci/shipyard/releases/download}/$version"
  archive="shipyard_${version#v}_${os}_${arch}.tar.gz"
  if curl -fsSL --retry 3 -o "$dest/$archive" "$base/$archive" && curl -fsSL --retry 3 -o "$dest/checksums.txt" "$base/checksums.txt"; then
    (cd "$dest" && grep " ${archive}\$" checksums.txt | sha256sum --check --strict -)
    tar -xzf "$dest/$archive" -C "$dest" shipyard
    installed="release $version"
  else
    echo "::warning::no shipyard $version binary for ${os}/${arch}: building it from the action's source"
  fi
fi
if [ -z "$installed" ]; then
  if ! command -v go >/dev/null; then
    echo "::error::shipyard ${version:-at this commit} is built from source, which needs Go: add actions/setup-go before this step"
    exit 1
  fi
  commit="$(git -C "$GITHUB_ACTION_PATH" rev-parse HEAD 2>/dev/null || true)"
  (cd "$GITHUB_ACTION_PATH" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-X main.version=${version:-dev} -X main.commit=$commit" -o "$dest/shipyard" ./cmd/shipyard)
  installed="source ${version:-$commit}"
fi

echo "$dest" >>"$GITHUB_PATH"
echo "installed shipyard from $installed: $("$dest/shipyard" --version)"
