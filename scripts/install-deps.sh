#!/bin/sh
# Installs every build and test dependency from Debian packages (apt-get only).
# pkcs11-provider is not in Debian 12 main: it comes from bookworm-backports, which this
# script adds as an apt source when missing.
set -eu
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
    $SUDO tee /etc/apt/sources.list.d/cng-pkcs11-backports.sources >/dev/null
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config git ca-certificates \
  clang libclang-rt-dev \
  libssl-dev openssl libp11-kit-dev libtss2-dev \
  libgtest-dev googletest \
  opensc softhsm2 swtpm swtpm-tools libnss3-tools \
  libengine-pkcs11-openssl openjdk-17-jdk-headless firefox-esr python3 \
  util-linux passwd procps \
  dpkg-dev p11-kit p11-kit-modules gnutls-bin man-db xxd >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports pkcs11-provider >/dev/null
