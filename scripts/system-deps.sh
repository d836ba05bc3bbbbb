#!/usr/bin/env bash
# Debian packages the project uses: Fashion-MNIST's IDX files, Chromium for the report's browser test and
# espeak-ng, the speech synthesiser of the prosody2vec corpus.
# Installed only when missing and when we are root (CI); otherwise say what is missing.
set -euo pipefail
missing=()
[ -d /usr/share/datasets/fashion-mnist ] || missing+=(dataset-fashion-mnist)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "warning: missing Debian packages ${missing[*]} (run: sudo apt-get install ${missing[*]}); tests that need them will fail" >&2
fi
