#!/usr/bin/env bash
# What the gateway tests need, installed only when missing (safe to run again):
#   sipp       - the far end of the SIP tests (Debian package sip-tester)
#   websockets - the Python package the reference client (shared/seed/ws_audio_client.py) imports
set -euo pipefail

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=no
apt_install() {
    if [ "$apt_updated" = no ]; then
        as_root apt-get update -qq
        apt_updated=yes
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

if ! command -v sipp >/dev/null 2>&1; then
    echo "install-gateway-deps: installing sip-tester (sipp)"
    apt_install sip-tester
fi

if ! command -v python3 >/dev/null 2>&1; then
    echo "install-gateway-deps: installing python3"
    apt_install python3
fi

if ! python3 -c 'import websockets' >/dev/null 2>&1; then
    echo "install-gateway-deps: installing the Python websockets package"
    # pip first (the reference client's guide asks for it); a Debian-managed Python
    # refuses plain pip installs (PEP 668), and without pip the Debian package does.
    python3 -m pip install --quiet websockets 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages websockets 2>/dev/null \
        || apt_install python3-websockets
fi

sipp -v 2>/dev/null | grep -m1 -o 'SIPp v[^ ]*' || true
python3 -c 'import websockets; print("python websockets", websockets.__version__)'
