#!/usr/bin/env bash
# Installs the programs the end-to-end tests run besides Node: python3 (the
# `script:` tests), a C compiler (the depfile tests compile a small C
# project with `cc -MD`), tmux (the terminal tests read its screen), and zsh
# and fish (the completion tests check the scripts with each shell), and
# Chromium (the report tests load `rules report`'s page in a headless browser).
# Debian's packages, installed only when missing; a machine that has them is
# left alone. Rscript is used where it is installed
# and never installed here (R is large); its test says when it does not run.
set -euo pipefail

missing=()
command -v python3 >/dev/null || missing+=(python3)
command -v cc >/dev/null || missing+=(gcc libc6-dev)
command -v tmux >/dev/null || missing+=(tmux)
command -v zsh >/dev/null || missing+=(zsh)
command -v fish >/dev/null || missing+=(fish)
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "test-tools: missing ${missing[*]}; install them (the tests that need them will fail without)" >&2
  exit 0
fi
echo "test-tools: installing ${missing[*]} ..." >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
