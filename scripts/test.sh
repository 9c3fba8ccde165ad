#!/usr/bin/env bash
# The one command that runs every test suite, on a fresh machine that has only Node and npm.
# It installs what the suites need (Debian packages when missing, npm packages when the lock
# changed), builds, and runs unit, integration and browser suites inside a network namespace
# that has only loopback, so no test traffic can leave the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null || need+=(chromium)
command -v redis-server >/dev/null || need+=(redis-server)
command -v turnserver >/dev/null || need+=(coturn)
command -v iptables >/dev/null || need+=(iptables)
# The hostile-network suite makes its TURN server's test certificate with openssl.
command -v openssl >/dev/null || need+=(openssl)
command -v ip >/dev/null || need+=(iproute2)
command -v unshare >/dev/null || need+=(util-linux)
if ((${#need[@]})); then
  echo "test: installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# npm packages: `npm ci` (exactly the lock, nothing rewritten) when node_modules is missing or
# older than package-lock.json.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "test: npm ci"
  npm ci --prefer-offline --no-audit --no-fund
fi

npm run -s build
npm run -s typecheck
npm run -s lint

# The packages as users install them: packed, installed from the tarballs into an empty
# project, and used there. This one suite runs before the namespace, because `npm install`
# resolves the tarballs' dependencies against the npm registry (npm's cache holds the packages
# `npm ci` fetched, not the documents that list their versions). Its servers use loopback only.
npx vitest run --config vitest.packaging.config.ts

# Everything below runs with only a loopback interface: servers, Redis, coturn and Chromium
# all live inside this namespace and cannot reach (or be reached from) any other network.
export CALLWIRE_TEST_NETNS=1
unshare -n bash -c '
  set -euo pipefail
  ip link set lo up
  npx vitest run --config vitest.config.ts
  npx vitest run --config vitest.e2e.config.ts
'
