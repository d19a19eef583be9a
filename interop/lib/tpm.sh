# TPM helpers for the interop scripts (after common.sh).

# start_swtpm: a TPM 2.0 simulator on a free loopback port pair, state in $WORK/tpm, killed at
# exit (bg_start); CNG_PKCS11_TCTI points the module at it. Other tests start simulators at the
# same time, so a port found free may be taken before swtpm binds it, and a connect to it may
# then reach another test's simulator: it counts as up only when both ports answer and this
# swtpm is still running a moment later (it exits when it cannot bind either port); otherwise
# another port pair is tried.
start_swtpm() {
  local port i try
  mkdir -p "$WORK/tpm"
  for try in 1 2 3 4 5; do
    port=$(free_port_pair)
    bg_start "$WORK/swtpm.log" swtpm socket --tpm2 --tpmstate dir="$WORK/tpm" \
      --server type=tcp,port="$port",bindaddr=127.0.0.1 \
      --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --flags not-need-init,startup-clear
    for ((i = 0; i < 100; i++)); do
      kill -0 "$BG_PID" 2>/dev/null || break
      if (exec 3<>"/dev/tcp/127.0.0.1/$((port + 1))") 2>/dev/null &&
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        sleep 0.3
        kill -0 "$BG_PID" 2>/dev/null || break
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
