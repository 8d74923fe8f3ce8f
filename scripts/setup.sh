#!/usr/bin/env bash
# Installs what sipdeck's tests and tools need on a Debian-like machine, only what is missing:
# tmux (end-to-end tests), sox and ffmpeg (check saved WAVs), sipp, baresip and kamailio (gateway tests against
# real SIP peers), haproxy (the gateway behind a load balancer), and the Python websockets package (the reference client). Safe to run again.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

missing=()
command -v tmux >/dev/null || missing+=(tmux)
command -v sox >/dev/null || missing+=(sox)
command -v sipp >/dev/null || missing+=(sip-tester)
command -v ffprobe >/dev/null || missing+=(ffmpeg)
command -v tshark >/dev/null || missing+=(tshark)
command -v baresip >/dev/null || missing+=(baresip-core)
command -v kamailio >/dev/null || missing+=(kamailio)
command -v haproxy >/dev/null || missing+=(haproxy)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! python3 -c 'import websockets' 2>/dev/null; then
  echo "setup: installing the Python websockets package"
  # A Debian-managed Python refuses plain pip installs (PEP 668); then the Debian package.
  python3 -m pip install -q websockets 2>/dev/null \
    || python3 -m pip install -q --break-system-packages websockets 2>/dev/null \
    || { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-websockets >/dev/null; }
fi
echo "setup: tmux $(tmux -V | cut -d' ' -f2), sox $(sox --version | sed 's/.*v//'), $(ffprobe -version | head -1 | cut -d' ' -f1-3), $(sipp -v 2>/dev/null | grep -o 'SIPp v[0-9.]*' | head -1), python websockets $(python3 -c 'import websockets; print(websockets.__version__)')"
