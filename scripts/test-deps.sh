#!/usr/bin/env bash
# Make sure the external services the integration tests use are installed:
# PostgreSQL, Dovecot IMAP and Debian's Chromium (driven by Playwright), plus
# the Python packages `playwright` and `psycopg[binary]` in the project venv.
#
# Idempotent and quick when everything is present (no apt-get update then).
# Never fails the run: a component that cannot be installed is reported on one
# line, and the tests that need it skip with a reason.
# Services started by apt are stopped again: the tests start their own.
set -u

VENV="${VENV:-.venv}"
say() { echo "test-deps: $*"; }

have_postgres() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }
have_dovecot() { command -v dovecot >/dev/null && compgen -G '/usr/lib/dovecot/imap' >/dev/null; }
have_chromium() { command -v chromium >/dev/null; }

declare -A PKG=([postgres]=postgresql [dovecot]=dovecot-imapd [chromium]=chromium)
declare -A WHAT=([postgres]="PostgreSQL tests" [dovecot]="IMAP tests" [chromium]="browser tests")

missing=()
for c in postgres dovecot chromium; do
    "have_$c" || missing+=("$c")
done

if ((${#missing[@]})); then
    pkgs=()
    for c in "${missing[@]}"; do pkgs+=("${PKG[$c]}"); done
    say "installing ${pkgs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # policy-rc.d exit 101 keeps apt from starting the services it installs.
    policy=/usr/sbin/policy-rc.d
    own_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1
    fi
    if apt-get update -qq >/dev/null 2>&1; then
        # One at a time, so one unavailable package does not block the others.
        for p in "${pkgs[@]}"; do
            apt-get install -y -qq --no-install-recommends "$p" >/dev/null 2>&1 || true
        done
    fi
    ((own_policy)) && rm -f "$policy"
    # In case something got started anyway: stop it system-wide.
    for svc in dovecot postgresql; do
        service "$svc" stop >/dev/null 2>&1 || true
        command -v update-rc.d >/dev/null && update-rc.d "$svc" disable >/dev/null 2>&1 || true
    done
    for c in "${missing[@]}"; do
        "have_$c" || say "${PKG[$c]} not available: ${WHAT[$c]} will be skipped"
    done
fi

# Python packages, into the project venv (no `playwright install`: the tests
# use Debian's chromium through executable_path).
if [[ -x "$VENV/bin/python" ]]; then
    pip_pkgs=()
    "$VENV/bin/python" -c 'import playwright.sync_api' 2>/dev/null || pip_pkgs+=(playwright)
    "$VENV/bin/python" -c 'import psycopg' 2>/dev/null || pip_pkgs+=('psycopg[binary]')
    "$VENV/bin/python" -c 'import sqlalchemy' 2>/dev/null || pip_pkgs+=('sqlalchemy>=2')
    if ((${#pip_pkgs[@]})); then
        say "pip installing ${pip_pkgs[*]}"
        "$VENV/bin/pip" install --quiet "${pip_pkgs[@]}" ||
            say "pip install of ${pip_pkgs[*]} failed: the tests that need them will be skipped"
    fi
else
    say "no virtualenv at $VENV: skipping the Python packages (set VENV=...)"
fi
exit 0
