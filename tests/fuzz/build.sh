#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the libFuzzer harnesses with clang, AddressSanitizer and UBSan:
#   tests/fuzz/build.sh [OUTDIR]     (default build-fuzz)
# then, for example:
#   mkdir -p corpus-fhir corpus-kb; cp ../shared/spec/examples/*.json corpus-fhir; cp ../shared/spec/sample-kb/*.csv corpus-kb
#   PHARMDESK_FUZZ_KB=../shared/spec/sample-kb build-fuzz/fuzz-fhir -runs=1000000 corpus-fhir
#   build-fuzz/fuzz-kb-csv -runs=1000000 corpus-kb
#   mkdir -p corpus-json; cp ../shared/spec/examples/*.json corpus-json
#   build-fuzz/fuzz-json-doc -runs=2000000 corpus-json
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/../.."
out=${1:-build-fuzz}
mkdir -p "$out"
CC=clang CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -g -O1" meson setup "$out/meson" \
  -Db_lundef=false --buildtype=plain >/dev/null 2>&1 || meson setup --reconfigure "$out/meson" >/dev/null
ninja -C "$out/meson" src/core/libpharmdesk-core.a >/dev/null
deps=$(pkg-config --cflags --libs glib-2.0 gio-2.0 json-glib-1.0 sqlite3 libsoup-3.0 libgcrypt libzip)
for h in fuzz-fhir fuzz-kb-csv fuzz-json-doc; do
  clang -fsanitize=fuzzer,address,undefined -g -O1 -I"$out/meson" -Isrc/core/review -Isrc/core/store -Isrc/core/domain \
    "tests/fuzz/$h.c" "$out/meson/src/core/libpharmdesk-core.a" $deps -lm -o "$out/$h"
done
echo "built $out/fuzz-fhir, $out/fuzz-kb-csv and $out/fuzz-json-doc"
