#!/usr/bin/env bash
# Installs Debian's chromium for the web tests (test/web/) when /usr/bin/chromium is missing.
# The tests drive it through playwright-core, which never downloads a browser of its own.
# Runs as root (apt-get directly) or through sudo; anything else fails with what to do.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo -n)
else
  echo "setup-browser: /usr/bin/chromium is missing and this user can neither run apt-get nor sudo; install Debian's chromium package (apt-get install chromium)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-browser: /usr/bin/chromium is missing and there is no apt-get; install Chromium so that /usr/bin/chromium runs it" >&2
  exit 1
fi
echo "setup-browser: installing Debian's chromium (about 120 MB) for the web tests" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq chromium >/dev/null
if [ ! -x /usr/bin/chromium ]; then
  echo "setup-browser: apt-get installed chromium, but /usr/bin/chromium is still missing" >&2
  exit 1
fi
/usr/bin/chromium --version >&2 || true
