#!/usr/bin/env bash
# Run `npm test` on other Node versions than the machine's: scripts/test-on-node.sh 22.23.3 ...
# Each Node is the official binary and headers from the npm registry (node-<platform>-<arch>,
# which has no install script), put into a temporary directory outside the repo and first on
# PATH. better-sqlite3 is compiled against one Node's ABI, so it is rebuilt for each version
# with that version's headers (npm_config_nodedir: an npm config's nodedir, such as Debian's
# /usr, would give node-gyp the machine's Node headers instead), and rebuilt once more for the
# machine's Node at the end, leaving node_modules as it was.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || {
  echo "usage: $0 NODE_VERSION..." >&2
  exit 2
}

package="node-$(node -p 'process.platform + "-" + process.arch')"
scratch=$(mktemp -d)
restore() {
  rm -rf "$scratch"
  echo "test-on-node: rebuilding better-sqlite3 for the machine's Node $(node --version)" >&2
  npm rebuild better-sqlite3 >/dev/null
}
trap restore EXIT

for version in "$@"; do
  prefix="$scratch/$version"
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "$package@$version" >/dev/null
  (
    export PATH="$prefix/node_modules/.bin:$PATH"
    export npm_config_nodedir="$prefix/node_modules/$package"
    echo "test-on-node: Node $(node --version), rebuilding better-sqlite3" >&2
    npm rebuild better-sqlite3 >/dev/null
    npm test
  )
done
