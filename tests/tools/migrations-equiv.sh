#!/usr/bin/env bash
# migrations-equiv.sh - check that a database migrated from an older state
# of schemas/migrations reaches the schema a fresh one reaches from this
# tree: a migration edited in place after a base had it, or a fold of
# several migrations into 001_init.sql that states another schema, shows.
#
# Builds two databases on the private PostgreSQL (deploy/devdb.sh):
#   old: the migration files of commit BASE, then this tree's files numbered
#        above BASE's last one (what store_migrate() would apply to it)
#   new: this tree's migration files
# each file in one transaction, as store_migrate() applies them, and compares
# `pg_dump --schema-only --no-owner` of the two:
#   1. exactly: a difference is printed, for information (a fold may edit
#      comments inside function bodies, which pg_dump shows verbatim);
#   2. with SQL comments and blank lines removed: must be equal (exit 0).
# Step 2 is sound here because no string literal in the migrations holds
# "--" (a stripped "--" inside a literal would hide a difference).
#
# store_migrate() knows a migration by its number, so BASE must name every
# number it shares with this tree as this tree does: otherwise (a fold or a
# renumbering between them) a database at BASE would not take this tree's
# files as they stand, and the tool refuses (exit 2) naming the file.
#
# Usage: HUB_PG_PORT=54329 tests/tools/migrations-equiv.sh [BASE]
# BASE defaults to the newest commit of HEAD's first-parent history whose
# migration files are named as this tree's (above) but are not the same
# list: the state before this tree's newest migration, or before an
# uncommitted fold.
set -euo pipefail
export PGOPTIONS='-c client_min_messages=warning'
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
dir=schemas/migrations

is_mig() { grep -E '^[0-9]{3}_.*\.sql$' || :; }
names() { git ls-tree --name-only "$1:$dir" 2>/dev/null | is_mig; }
tree=$(ls "$dir" | is_mig)

# the first file of commit $1 whose number this tree names otherwise
clash() {
    LC_ALL=C join -j1 <(names "$1" | sed 's/_/ /') \
                      <(echo "$tree" | sed 's/_/ /') |
        awk '$2 != $3 { print $1 "_" $2; exit }'
}

base=${1:-}
if [ -z "$base" ]; then
    for c in $(git rev-list --first-parent HEAD -- "$dir"); do
        if [ "$(names "$c")" != "$tree" ] && [ -z "$(clash "$c")" ]; then
            base=$c
            break
        fi
    done
    [ -n "$base" ] || { echo "migrations-equiv: no commit of HEAD's history" \
        "has an older state of this tree's migrations" >&2; exit 2; }
fi
git rev-parse --verify -q "$base^{commit}" >/dev/null ||
    { echo "migrations-equiv: no commit $base" >&2; exit 2; }
bad=$(clash "$base")
[ -z "$bad" ] || { echo "migrations-equiv: $base has $bad where this" \
    "tree names that number otherwise (a fold or a renumbering since):" \
    "a database at $base is no older state of this tree's" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; deploy/devdb.sh dropdb hub_equiv_old >/dev/null 2>&1 || :;
      deploy/devdb.sh dropdb hub_equiv_new >/dev/null 2>&1 || :' EXIT
mkdir "$tmp/old" "$tmp/new"

# BASE's migrations, from git
for f in $(git ls-tree --name-only "$base:$dir" | is_mig); do
    git show "$base:$dir/$f" >"$tmp/old/$f"
done
last=$(ls "$tmp/old" | tail -1 | cut -c1-3)
[ -n "$last" ] || { echo "migrations-equiv: $base has no migrations" >&2
                    exit 2; }
# this tree, and what landed on top of the old chain since
for f in $tree; do
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

echo "old: $base: $(ls "$tmp/old" | tr '\n' ' ')"
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
