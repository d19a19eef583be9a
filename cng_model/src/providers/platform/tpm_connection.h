// TpmConnection: one TPM reached through a TCTI, used directly (no resource manager needed).
//
// - All TPM access is serialized by one mutex (a TPM runs one command at a time anyway).
// - The TPM has only a few transient object slots (3 on swtpm). Keys are loaded on use into a
//   bounded LRU cache; the least recently used key is flushed when the cache is full or the
//   TPM reports that its object memory is full, and reloaded from its blob when needed again.
// - The storage parent is the key at 0x81000001 when one is provisioned, else a primary key
//   recreated from the TCG SRK template (deterministic: same TPM, same key), kept loaded.
// - A broken transport or a restarted TPM (TPM2_RC_INITIALIZE, or our loaded objects gone) is
//   cured by reconnecting (new TCTI and ESYS contexts, TPM2_Startup, parent recreated, cache
//   dropped) and running the operation once more.
#pragma once

#include <tss2/tss2_esys.h>

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "providers/platform/tpm_blob.h"
#include "providers/platform/tpm_capabilities.h"
#include "providers/platform/tss_ptr.h"

namespace cng::tpm {

class TpmConnection {
 public:
  class Session;

  // Connects to the TPM named by a TCTI configuration string ("swtpm:host=…,port=…",
  // "device:/dev/tpmrm0"…). CngError(NTE_DEVICE_NOT_FOUND) when no TPM answers.
  explicit TpmConnection(std::string tcti_config);
  TpmConnection(const TpmConnection&) = delete;
  TpmConnection& operator=(const TpmConnection&) = delete;
  ~TpmConnection();  // flushes the objects it loaded

  // Fixed at the first successful connection.
  [[nodiscard]] const TpmCapabilities& capabilities() const noexcept { return caps_; }
  [[nodiscard]] const std::string& tcti_config() const noexcept { return tcti_config_; }

  // Runs op with exclusive use of the TPM. On a transport failure or lost TPM state it
  // reconnects and runs op again (once); on full object memory it flushes every cached key
  // and runs op again. op may run more than once: it must be restartable.
  void run(const std::function<void(Session&)>& op);

  // A process-unique identity for a key, the cache's key.
  [[nodiscard]] std::uint64_t new_object_id() noexcept;
  // The key is gone: flush it from the TPM if it is loaded.
  void forget(std::uint64_t object_id) noexcept;

  // The TPM view handed to run()'s op (valid only inside it).
  class Session {
   public:
    [[nodiscard]] ESYS_CONTEXT* esys() const noexcept;
    [[nodiscard]] const TpmCapabilities& capabilities() const noexcept;
    // The parent for new keys.
    [[nodiscard]] ParentKind default_parent();
    // The parent's ESYS handle (loaded or recreated as needed) and its TPM name.
    ESYS_TR parent(ParentKind kind);
    const Bytes& parent_name(ParentKind kind);
    [[nodiscard]] const TPM2B_PUBLIC& parent_public(ParentKind kind);
    // The key loaded in the TPM (from the cache, or TPM2_Load under its parent).
    ESYS_TR load(std::uint64_t object_id, const TpmKeyBlob& blob);

   private:
    friend class TpmConnection;
    explicit Session(TpmConnection& c) noexcept : c_(c) {}
    TpmConnection& c_;
  };

 private:
  struct Parent {
    ESYS_TR handle = ESYS_TR_NONE;
    bool transient = false;  // created by us: occupies a slot, flushed at the end
    Bytes name;
    TPM2B_PUBLIC pub{};
  };
  struct CachedObject {
    std::uint64_t id;
    ESYS_TR handle;
  };

  void connect_locked();              // TCTI + ESYS + Startup + stale-object cleanup
  void disconnect_locked() noexcept;  // forgets everything without talking to the TPM
  void flush_all_locked() noexcept;   // flushes cached keys and created parents
  void flush_stale_transients_locked() noexcept;
  Parent& parent_locked(ParentKind kind);
  ParentKind default_parent_locked();
  bool persistent_handle_exists_locked(TPM2_HANDLE handle);
  ESYS_TR load_locked(std::uint64_t id, const TpmKeyBlob& blob);
  void evict_one_locked() noexcept;
  void evict_all_locked() noexcept;
  [[nodiscard]] std::size_t cache_capacity_locked() const noexcept;

  std::string tcti_config_;
  std::mutex mutex_;
  TctiPtr tcti_;
  EsysPtr esys_;  // declared after tcti_: destroyed first
  TpmCapabilities caps_;
  bool have_caps_ = false;
  std::optional<ParentKind> default_parent_;
  std::map<ParentKind, Parent> parents_;
  std::list<CachedObject> cache_;  // most recently used first
  std::uint64_t next_id_ = 1;
};

}  // namespace cng::tpm
