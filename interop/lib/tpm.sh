# TPM helpers for the interop scripts (after common.sh).

# start_swtpm: a TPM 2.0 simulator on a free loopback port pair, state in $WORK/tpm, killed at
# exit (bg_start); CNG_PKCS11_TCTI points the module at it. Another port pair is tried when the
# control port (port + 1) turns out to be taken.
start_swtpm() {
  local port i try
  mkdir -p "$WORK/tpm"
  for try in 1 2 3 4 5; do
    port=$(free_port)
    bg_start "$WORK/swtpm.log" swtpm socket --tpm2 --tpmstate dir="$WORK/tpm" \
      --server type=tcp,port="$port",bindaddr=127.0.0.1 \
      --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear
    for ((i = 0; i < 100; i++)); do
      kill -0 "$BG_PID" 2>/dev/null || break
      if (exec 3<>"/dev/tcp/127.0.0.1/$((port + 1))") 2>/dev/null; then
        export CNG_PKCS11_TCTI="swtpm:host=127.0.0.1,port=$port"
        echo "swtpm on 127.0.0.1:$port (pid $BG_PID)"
        return 0
      fi
      sleep 0.1
    done
    echo "swtpm did not come up (try $try):"
    cat "$WORK/swtpm.log"
    bg_stop "$BG_PID"
  done
  return 1
}
