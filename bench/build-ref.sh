# Sourced by bench/cluster.sh and bench/cluster-idle.sh: build_ref ROOT REF DIR builds a private copy
# of the committed tree REF in DIR (dist/ included; the shared dist/ may be rebuilt by someone else
# in the middle of a campaign) and fails if the build did not produce the CLI.
build_ref() {
    local root=$1 ref=$2 dir=$3
    mkdir -p "$dir"
    git -C "$root" archive "$ref" src bin package.json tsconfig.json | tar -x -C "$dir"
    ln -s "$root/node_modules" "$dir/node_modules"
    (cd "$dir" && sed -i 's#"include": \[[^]]*\]#"include": ["src/**/*.ts"]#' tsconfig.json && "$root/node_modules/.bin/tsc" -p tsconfig.json >/dev/null || true)
    [ -f "$dir/dist/src/cli/index.js" ] || { echo "build of $ref failed" >&2; return 1; }
}
