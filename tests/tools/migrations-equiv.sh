#!/usr/bin/env bash
# migrations-equiv.sh - check that schemas/migrations/001_init.sql, the squash
# of the old chain 001_init.sql .. 011_ingest_dup_probe.sql, states the same
# schema as that chain.
#
# Builds two databases on the private PostgreSQL (deploy/devdb.sh):
#   old: the migration files of commit OLD_REF, then this tree's files
#        numbered above OLD_REF's last one (landed since)
#   new: this tree's migration files
# each file in one transaction, as store_migrate() applies them, and compares
# `pg_dump --schema-only --no-owner` of the two:
#   1. exactly: a difference is printed, for information (the squash edited
#      comments inside some function bodies, which pg_dump shows verbatim);
#   2. with SQL comments and blank lines removed: must be equal (exit 0).
# Step 2 is sound here because no string literal in the migrations holds
# "--" (a stripped "--" inside a literal would hide a difference).
#
# Usage: HUB_PG_PORT=54329 tests/tools/migrations-equiv.sh [OLD_REF]
# OLD_REF defaults to the parent of the commit that removed
# 011_ingest_dup_probe.sql (the last commit with the old chain), or HEAD
# when no commit has removed it yet (checking an uncommitted squash).
# The second fold (012_ingest_fast.sql .. 017_route_all_domains.sql into
# 001) is checked with OLD_REF = the last commit that had 017, e.g.
#   tests/tools/migrations-equiv.sh "$(git log -1 --diff-filter=D \
#       --format=%H -- schemas/migrations/017_route_all_domains.sql)^"
set -euo pipefail
export PGOPTIONS='-c client_min_messages=warning'
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
dir=schemas/migrations

old_ref=${1:-}
if [ -z "$old_ref" ]; then
    gone=$(git log -1 --diff-filter=D --format=%H -- \
           "$dir/011_ingest_dup_probe.sql")
    old_ref=${gone:+$gone^}
    old_ref=${old_ref:-HEAD}
fi
git rev-parse --verify -q "$old_ref^{commit}" >/dev/null ||
    { echo "migrations-equiv: no commit $old_ref" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; deploy/devdb.sh dropdb hub_equiv_old >/dev/null 2>&1 || :;
      deploy/devdb.sh dropdb hub_equiv_new >/dev/null 2>&1 || :' EXIT
mkdir "$tmp/old" "$tmp/new"

is_mig() { grep -E '^[0-9]{3}_.*\.sql$' || :; }

# the old chain, from git
for f in $(git ls-tree --name-only "$old_ref:$dir" | is_mig); do
    git show "$old_ref:$dir/$f" >"$tmp/old/$f"
done
last=$(ls "$tmp/old" | tail -1 | cut -c1-3)
[ -n "$last" ] || { echo "migrations-equiv: $old_ref has no migrations" >&2
                    exit 2; }
# this tree, and what landed on top of the old chain since
for f in $(ls "$dir" | is_mig); do
    cp "$dir/$f" "$tmp/new/$f"
    if [ "$(echo "$f" | cut -c1-3)" \> "$last" ]; then
        cp "$dir/$f" "$tmp/old/$f"
    fi
done

build() {       # build NAME: a fresh database from $tmp/NAME, dumped
    local url
    url=$(deploy/devdb.sh createdb "hub_equiv_$1")
    for f in $(ls "$tmp/$1"); do
        psql -q -X -v ON_ERROR_STOP=1 -1 -d "$url" -f "$tmp/$1/$f" \
            >/dev/null || { echo "migrations-equiv: $1/$f failed" >&2
                            exit 1; }
    done
    # newer pg_dump wraps its output in \restrict KEY, a random key
    pg_dump --schema-only --no-owner -d "$url" |
        grep -Ev '^\\(un)?restrict ' >"$tmp/$1.sql"
    sed -E 's/--.*$//; s/[[:space:]]+$//' "$tmp/$1.sql" | grep -v '^$' \
        >"$tmp/$1.stripped"
}
build old
build new

echo "old: $old_ref: $(ls "$tmp/old" | tr '\n' ' ')"
echo "new: $(ls "$tmp/new" | tr '\n' ' ')"
if diff -q "$tmp/old.sql" "$tmp/new.sql" >/dev/null; then
    echo "pg_dump: identical"
else
    echo "pg_dump: differs (comments inside function bodies):"
    diff -U0 "$tmp/old.sql" "$tmp/new.sql" | grep -E '^[-+][^-+]' | head -200  || :
fi
if diff -u "$tmp/old.stripped" "$tmp/new.stripped"; then
    echo "pg_dump without comments: identical ($(wc -l <"$tmp/new.stripped") lines)"
else
    echo "migrations-equiv: FAILED: the schemas differ (above)" >&2
    exit 1
fi
