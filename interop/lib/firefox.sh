# shellcheck shell=bash
# Firefox helpers for the interop scripts (source after common.sh and openssl.sh). One
# headless Firefox run, driven over Marionette by firefox/ff_client.py, visits the
# client-certificate servers of openssl.sh (client_auth_server); "Select Automatically" makes
# Firefox pick the token certificate whose issuer the server asks for.
#
#   ff_profile                  fresh profile: our module (pkcs11.txt), server_ca.pem trusted
#   ff_run TAG...               one Firefox run over the servers TAG...; pages in ff_page_TAG.txt
#   ff_client_auth_ok TAG CN    the server verified the client certificate with this CN and
#                               Firefox got the page that shows it
#
# FIREFOX: the browser (default firefox-esr).

FIREFOX=${FIREFOX:-firefox-esr}
FF_PROFILE=""
FF_TAGS=()

ff_profile() {
  local marionette_port
  FF_PROFILE=$WORK/ff_profile
  marionette_port=$(free_port)
  mkdir -p "$FF_PROFILE" "$WORK/ff_home" &&
    certutil -N -d "sql:$FF_PROFILE" --empty-password &&
    certutil -A -d "sql:$FF_PROFILE" -n "Interop TLS server CA" -t "C,," -i server_ca.pem &&
    modutil -force -dbdir "sql:$FF_PROFILE" -add "CNG PKCS11" -libfile "$MODULE" &&
    grep -q "library=$MODULE" "$FF_PROFILE/pkcs11.txt" || return 1
  FF_MARIONETTE_PORT=$marionette_port
  cat >"$FF_PROFILE/user.js" <<JS
user_pref("security.default_personal_cert", "Select Automatically");
user_pref("marionette.port", $marionette_port);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.startup.page", 0);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("browser.aboutwelcome.enabled", false);
user_pref("browser.tabs.warnOnClose", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("app.update.disabledForTesting", true);
user_pref("app.normandy.enabled", false);
user_pref("extensions.update.enabled", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("browser.safebrowsing.downloads.enabled", false);
user_pref("browser.safebrowsing.update.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("services.settings.server", "http://127.0.0.1:9/");
user_pref("security.OCSP.enabled", 0);
user_pref("security.remote_settings.crlite_filters.enabled", false);
user_pref("security.remote_settings.intermediates.enabled", false);
user_pref("security.enterprise_roots.enabled", false);
// anything not for 127.0.0.1 goes to a closed local port: nothing leaves the machine
user_pref("network.proxy.type", 1);
user_pref("network.proxy.http", "127.0.0.1");
user_pref("network.proxy.http_port", 9);
user_pref("network.proxy.ssl", "127.0.0.1");
user_pref("network.proxy.ssl_port", 9);
user_pref("network.proxy.no_proxies_on", "127.0.0.1");
user_pref("network.proxy.allow_hijacking_localhost", false);
JS
}

# ff_run TAG...: start Firefox once, visit the servers TAG... in turn, quit. The page Firefox
# got from server TAG is in ff_page_TAG.txt.
ff_run() {
  local urls=() tag i fp status=0 t0
  FF_TAGS=("$@")
  for tag in "${FF_TAGS[@]}"; do urls+=("${SRV_URL[$tag]}"); done
  t0=$(date +%s.%N)
  bg_start "$WORK/firefox.log" env HOME="$WORK/ff_home" MOZ_CRASHREPORTER_DISABLE=1 \
    timeout 180 "$FIREFOX" --headless --no-remote --profile "$FF_PROFILE" --marionette
  fp=$BG_PID
  timeout 170 python3 "$INTEROP_SRC_DIR/firefox/ff_client.py" --port "$FF_MARIONETTE_PORT" \
    --timeout 60 --out-prefix "$WORK/ff_page_" "${urls[@]}" || status=$?
  # Firefox quits on Marionette:Quit; give it a moment to close the profile, then end it
  for ((i = 0; i < 100; i++)); do kill -0 "$fp" 2>/dev/null || break; sleep 0.1; done
  bg_stop "$fp"
  i=1
  for tag in "${FF_TAGS[@]}"; do
    [ -f "$WORK/ff_page_$i.txt" ] && mv "$WORK/ff_page_$i.txt" "$WORK/ff_page_$tag.txt"
    i=$((i + 1))
  done
  note "firefox run: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s"
  [ "$status" = 0 ] || { echo "ff_client exit $status"; tail -n 30 "$WORK/firefox.log"; }
  return "$status"
}

# ff_client_auth_ok TAG CN: server TAG verified Firefox's client certificate (subject with this
# CN), and the page Firefox received from it shows that certificate.
ff_client_auth_ok() {
  local tag=$1 cn=$2
  server_saw_client "$tag" "$cn" || return 1
  echo "--- page ($tag):"
  head -n 3 "$WORK/ff_page_$tag.txt" 2>/dev/null
  grep -q "^${SRV_URL[$tag]}" "$WORK/ff_page_$tag.txt" &&
    grep -A 20 '^Client certificate' "$WORK/ff_page_$tag.txt" | grep -Eq "Subject: .*CN ?= ?$cn\$"
}
