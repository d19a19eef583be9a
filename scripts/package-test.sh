#!/bin/bash
# The package as a user gets it: build the Debian packages (scripts/package.sh), install them
# with dpkg -i, then use only what was installed (no path into the build tree):
#   p11-kit list-modules shows the module and its token labels; pkcs11-tool through
#   p11-kit-proxy.so generates, signs and verifies in "CNG Software (user)"; p11tool lists the
#   tokens; a C program built with `pkg-config cng-ncrypt` creates and finalizes a persisted key
#   that pkcs11-tool lists; man finds cngkey(1) and cng-pkcs11(7); the machine store exists
#   (root, 0700); apt-get remove and purge take every installed file away but keep the keys.
# Needs root (dpkg). Keys live in temporary CNG_PKCS11_USER_DIR / CNG_PKCS11_MACHINE_DIR,
# except one machine-scope key made on purpose in /var/lib/cng-pkcs11 to prove that purging
# keeps it (removed by this script at the end).
#   BUILD_DIR=build scripts/package-test.sh    reuse a build directory (CI: the main build)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export BUILD_DIR=${BUILD_DIR:-$ROOT/build-pkg}
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
LIBDIR=/usr/lib/$MULTIARCH
PROXY=$LIBDIR/p11-kit-proxy.so
MACHINE_STORE=/var/lib/cng-pkcs11
PACKAGES="cng-pkcs11 libcng-ncrypt-dev"
[ "$(id -u)" = 0 ] || { echo "package-test: needs root (dpkg -i)" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive

step() { printf '\n--- package: %s\n' "$*"; }
fail() { echo "package-test: FAIL: $*" >&2; exit 1; }

step "build the packages"
"$ROOT/scripts/package.sh" -DCNG_WERROR=ON
DEBS=$(ls "$BUILD_DIR"/cng-pkcs11_*.deb "$BUILD_DIR"/libcng-ncrypt-dev_*.deb)
for deb in $DEBS; do dpkg-deb --info "$deb" | sed -n 's/^ \(Package\|Version\|Depends\):/  &/p'; done

WORK=$(mktemp -d /tmp/cng-package-test.XXXXXX)
MACHINE_STORE_EXISTED=0
[ -d "$MACHINE_STORE" ] && MACHINE_STORE_EXISTED=1
MACHINE_KEY=""
cleanup() {
  rc=$?
  if dpkg-query -W -f='${Status}\n' cng-pkcs11 2>/dev/null | grep -q '^install ok installed'; then
    # shellcheck disable=SC2086
    apt-get purge -y -qq $PACKAGES >/dev/null 2>&1 || true
  fi
  [ -n "$MACHINE_KEY" ] && rm -f "$MACHINE_STORE/$MACHINE_KEY"
  [ "$MACHINE_STORE_EXISTED" = 1 ] || rmdir "$MACHINE_STORE" 2>/dev/null || true
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
cd "$WORK"
mkdir -m 700 user machine
export CNG_PKCS11_USER_DIR=$WORK/user CNG_PKCS11_MACHINE_DIR=$WORK/machine
unset LD_LIBRARY_PATH PKG_CONFIG_PATH

step "install with dpkg -i"
# Minimal container images may exclude /usr/share/man from every package (dpkg path-exclude in
# /etc/dpkg/dpkg.cfg.d/); command-line --path-include comes after the configuration and wins.
if grep -rqs '^path-exclude.*/usr/share/man' /etc/dpkg/dpkg.cfg.d/; then
  echo "  dpkg excludes /usr/share/man here: re-including the package's man pages"
fi
# shellcheck disable=SC2086
apt-get remove -y -qq $PACKAGES >/dev/null 2>&1 || true
# shellcheck disable=SC2086
dpkg -i --path-include='/usr/share/man/man1/cngkey.1*' \
  --path-include='/usr/share/man/man7/cng-pkcs11.7*' $DEBS
# shellcheck disable=SC2086
dpkg -L $PACKAGES | sort -u >"$WORK/files"
test -f "$LIBDIR/pkcs11/libcng_pkcs11.so" || fail "module not in $LIBDIR/pkcs11"
test -f /usr/share/p11-kit/modules/cng-pkcs11.module || fail "no p11-kit module file"
perm=$(stat -c '%U:%G %a' "$MACHINE_STORE")
[ "$perm" = "root:root 700" ] || fail "$MACHINE_STORE is $perm, expected root:root 700"
echo "  $MACHINE_STORE: $perm"

step "p11-kit list-modules"
p11-kit list-modules >modules.txt 2>&1 || { cat modules.txt; fail "p11-kit list-modules"; }
awk '/^cng-pkcs11:/ { on = 1 } on && /^[^ ]/ && !/^cng-pkcs11:/ { on = 0 } on' modules.txt | tee cng.txt
grep -q "^cng-pkcs11: $LIBDIR/pkcs11/libcng_pkcs11.so" cng.txt || fail "module path not listed"
for label in "CNG Software (user)" "CNG Software (machine)"; do
  grep -q "token: $label" cng.txt || fail "token '$label' not listed"
done
if [ -n "${CNG_PKCS11_TCTI:-}" ] || [ -e /dev/tpmrm0 ]; then
  for label in "CNG Platform (user)" "CNG Platform (machine)"; do
    grep -q "token: $label" cng.txt || fail "token '$label' not listed (a TPM is configured)"
  done
else
  echo "  no TPM here (no /dev/tpmrm0, no CNG_PKCS11_TCTI): slots 2 and 3 (CNG Platform) are absent"
fi

step "pkcs11-tool through p11-kit-proxy.so: generate, sign, verify"
P11=(pkcs11-tool --module "$PROXY" --token-label "CNG Software (user)")
"${P11[@]}" --keypairgen --key-type EC:prime256v1 --id 7e57 --label pkg-test >/dev/null
printf 'signed through p11-kit-proxy\n' >data
"${P11[@]}" --sign --mechanism ECDSA-SHA256 --id 7e57 --signature-format openssl \
  --input-file data --output-file sig >/dev/null
"${P11[@]}" --read-object --type pubkey --id 7e57 --output-file pub.der >/dev/null
OPENSSL_CONF=/dev/null openssl pkey -pubin -inform DER -in pub.der -out pub.pem
OPENSSL_CONF=/dev/null openssl dgst -sha256 -verify pub.pem -signature sig data

step "p11tool --list-tokens"
p11tool --list-tokens >tokens.txt 2>&1 || { cat tokens.txt; fail "p11tool --list-tokens"; }
for label in "CNG Software (user)" "CNG Software (machine)"; do
  grep -q "Label: $label" tokens.txt || { cat tokens.txt; fail "p11tool does not show '$label'"; }
  echo "  Label: $label"
done

step "a C program built with pkg-config cng-ncrypt"
cat >prog.c <<'C'
#include <ncrypt.h>
#include <stdio.h>

int main(void) {
  NCRYPT_PROV_HANDLE provider = 0;
  NCRYPT_KEY_HANDLE key = 0;
  SECURITY_STATUS status = NCryptOpenStorageProvider(&provider, MS_KEY_STORAGE_PROVIDER, 0);
  if (status == 0) {
    status = NCryptCreatePersistedKey(provider, &key, NCRYPT_ECDSA_P256_ALGORITHM,
                                      u"pkg-test-c", 0, 0);
  }
  if (status == 0) {
    status = NCryptFinalizeKey(key, 0);
  }
  if (key != 0) NCryptFreeObject(key);
  if (provider != 0) NCryptFreeObject(provider);
  printf("NCryptFinalizeKey: 0x%08x\n", (unsigned)status);
  return status == 0 ? 0 : 1;
}
C
echo "  cc -std=c11 -Wall -Wextra -pedantic -Werror prog.c $(pkg-config --cflags --libs cng-ncrypt)"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -pedantic -Werror -o prog prog.c $(pkg-config --cflags --libs cng-ncrypt)
linked=$(ldd prog | awk '$1 == "libcng-ncrypt.so.0" { print $3 }')
if [ -z "$linked" ] || [ "$(readlink -f "$linked")" != "$(readlink -f "$LIBDIR/libcng-ncrypt.so.0")" ]; then
  ldd prog
  fail "not linked to the installed library"
fi
echo "  prog uses $linked"
./prog
"${P11[@]}" --list-objects --type privkey >objects.txt
grep -q 'label: *pkg-test-c' objects.txt || { cat objects.txt; fail "pkcs11-tool does not list pkg-test-c"; }
echo "  pkcs11-tool lists the key pkg-test-c"

step "man pages"
man -w cngkey
man -w 7 cng-pkcs11
man cngkey 2>/dev/null | grep -q 'EXIT STATUS' || fail "man cngkey does not render"

step "a machine-scope key in $MACHINE_STORE (survives remove and purge)"
find "$MACHINE_STORE" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort >before.txt
env -u CNG_PKCS11_MACHINE_DIR cngkey create --scope machine --name "pkg-test-machine-$$" \
  --algorithm ECDSA_P256 >/dev/null
MACHINE_KEY=$(find "$MACHINE_STORE" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort |
  comm -13 before.txt - | head -n1)
[ -n "$MACHINE_KEY" ] || fail "cngkey wrote no key file into $MACHINE_STORE"
echo "  key file $MACHINE_STORE/$MACHINE_KEY"

step "apt-get remove, then purge"
# shellcheck disable=SC2086
apt-get remove -y -qq $PACKAGES >/dev/null
left=""
while read -r path; do
  case $path in "$MACHINE_STORE" | "$MACHINE_STORE"/*) continue ;; esac
  if [ -d "$path" ]; then
    # a directory stays only when another package owns it too
    dpkg -S "$path" >/dev/null 2>&1 || left="$left $path"
  elif [ -e "$path" ] || [ -L "$path" ]; then
    left="$left $path"
  fi
done <"$WORK/files"
[ -z "$left" ] || fail "left after apt-get remove:$left"
test -f "$MACHINE_STORE/$MACHINE_KEY" || fail "apt-get remove deleted a machine key"
# dpkg forgets a removed package without maintainer scripts at once: purge what it still knows
for package in $PACKAGES; do
  if dpkg-query -W "$package" >/dev/null 2>&1; then apt-get purge -y -qq "$package" >/dev/null; fi
done
test -f "$MACHINE_STORE/$MACHINE_KEY" || fail "apt-get purge deleted a machine key"
test -n "$(ls -A "$WORK/user")" || fail "the user store was touched"
echo "  every installed file is gone; the machine key and the user store are kept"
echo "package-test: OK"
