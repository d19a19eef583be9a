#include "providers/platform/tpm_connection.h"

#include <unistd.h>

#include <algorithm>
#include <string_view>

#include "providers/platform/tss_error.h"

namespace cng::tpm {

namespace {

[[noreturn]] void fail_no_tpm(TSS2_RC rc, const std::string& what) {
  try {
    fail_tss(rc, what);
  } catch (const TpmError& e) {
    throw TpmError(NTE_DEVICE_NOT_FOUND, rc, e.what());
  }
}

bool needs_reconnect(TSS2_RC rc) noexcept {
  return is_transport_error(rc) || is_lost_object_error(rc);
}

// Drops an ESYS_TR: flushes a transient object, or only forgets the handle's metadata.
void release_handle(ESYS_CONTEXT* esys, ESYS_TR& handle, bool flush) noexcept {
  if (handle == ESYS_TR_NONE) {
    return;
  }
  if (!flush || Esys_FlushContext(esys, handle) != TSS2_RC_SUCCESS) {
    Esys_TR_Close(esys, &handle);
  }
  handle = ESYS_TR_NONE;
}

}  // namespace

TpmConnection::TpmConnection(std::string tcti_config) : tcti_config_(std::move(tcti_config)) {
  std::lock_guard lock(mutex_);
  try {
    connect_locked();
  } catch (const TpmError& e) {
    disconnect_locked();
    throw TpmError(NTE_DEVICE_NOT_FOUND, e.rc(), e.what());
  }
}

TpmConnection::~TpmConnection() {
  std::lock_guard lock(mutex_);
  flush_all_locked();
}

void TpmConnection::connect_locked() {
  // A device TCTI on a machine without that device: say so without asking the TCTI loader,
  // which would log errors to stderr on every attempt.
  constexpr std::string_view kDevice = "device:";
  if (tcti_config_.rfind(kDevice, 0) == 0) {
    const std::string path = tcti_config_.substr(kDevice.size());
    if (!path.empty() && ::access(path.c_str(), F_OK) != 0) {
      throw TpmError(NTE_DEVICE_NOT_FOUND, TSS2_TCTI_RC_NO_CONNECTION, "no TPM device " + path);
    }
  }
  TSS2_TCTI_CONTEXT* raw_tcti = nullptr;
  TSS2_RC rc = Tss2_TctiLdr_Initialize(tcti_config_.c_str(), &raw_tcti);
  if (rc != TSS2_RC_SUCCESS) {
    fail_no_tpm(rc, "no TPM at TCTI '" + tcti_config_ + "'");
  }
  TctiPtr tcti(raw_tcti);
  ESYS_CONTEXT* raw_esys = nullptr;
  rc = Esys_Initialize(&raw_esys, tcti.get(), nullptr);
  if (rc != TSS2_RC_SUCCESS) {
    fail_no_tpm(rc, "ESAPI initialization");
  }
  EsysPtr esys(raw_esys);
  // A TPM fresh from power-on needs TPM2_Startup; one already started answers
  // TPM2_RC_INITIALIZE. A resource manager may refuse the command: that is fine too.
  rc = Esys_Startup(esys.get(), TPM2_SU_CLEAR);
  if (rc != TSS2_RC_SUCCESS && is_transport_error(rc) && tpm_base_code(rc) != TPM2_RC_INITIALIZE) {
    fail_no_tpm(rc, "TPM2_Startup");
  }
  if (!have_caps_) {
    try {
      caps_ = query_capabilities(esys.get());
    } catch (const TpmError& e) {
      throw TpmError(NTE_DEVICE_NOT_FOUND, e.rc(), e.what());
    }
    have_caps_ = true;
  }
  tcti_ = std::move(tcti);
  esys_ = std::move(esys);
  flush_stale_transients_locked();
}

void TpmConnection::disconnect_locked() noexcept {
  cache_.clear();
  parents_.clear();
  default_parent_.reset();
  esys_.reset();  // frees every ESYS_TR; the TPM objects are gone or flushed at reconnect
  tcti_.reset();
}

// Without a resource manager, transient objects outlive the process that loaded them. A
// process that died without flushing would leave the TPM's few slots full: flush them all.
// (With /dev/tpmrm0 the list holds only this connection's objects, i.e. none.)
void TpmConnection::flush_stale_transients_locked() noexcept {
  EsysOut<TPMS_CAPABILITY_DATA> data;
  TPMI_YES_NO more = TPM2_NO;
  if (Esys_GetCapability(esys_.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                         TPM2_TRANSIENT_FIRST, TPM2_MAX_CAP_HANDLES, &more,
                         out(data)) != TSS2_RC_SUCCESS) {
    return;
  }
  for (UINT32 i = 0; i < data->data.handles.count; ++i) {
    ESYS_TR handle = ESYS_TR_NONE;
    if (Esys_TR_FromTPMPublic(esys_.get(), data->data.handles.handle[i], ESYS_TR_NONE, ESYS_TR_NONE,
                              ESYS_TR_NONE, &handle) == TSS2_RC_SUCCESS) {
      release_handle(esys_.get(), handle, true);
    }
  }
}

void TpmConnection::flush_all_locked() noexcept {
  if (!esys_) {
    return;
  }
  evict_all_locked();
  for (auto& [kind, parent] : parents_) {
    release_handle(esys_.get(), parent.handle, parent.transient);
  }
  parents_.clear();
}

void TpmConnection::run(const std::function<void(Session&)>& op) {
  std::lock_guard lock(mutex_);
  bool reconnected = false;
  bool evicted = false;
  for (;;) {
    try {
      if (!esys_) {
        connect_locked();
      }
      Session session(*this);
      op(session);
      return;
    } catch (const TpmError& e) {
      if (needs_reconnect(e.rc())) {
        disconnect_locked();
        if (!reconnected) {
          reconnected = true;
          continue;
        }
        throw;
      }
      if (is_object_memory_error(e.rc()) && !evicted && !cache_.empty()) {
        evicted = true;
        evict_all_locked();
        continue;
      }
      throw;
    }
  }
}

std::uint64_t TpmConnection::new_object_id() noexcept {
  std::lock_guard lock(mutex_);
  return next_id_++;
}

void TpmConnection::forget(std::uint64_t object_id) noexcept {
  std::lock_guard lock(mutex_);
  const auto it = std::find_if(cache_.begin(), cache_.end(),
                               [&](const CachedObject& o) { return o.id == object_id; });
  if (it != cache_.end()) {
    ESYS_TR handle = it->handle;
    release_handle(esys_.get(), handle, true);
    cache_.erase(it);
  }
}

std::size_t TpmConnection::cache_capacity_locked() const noexcept {
  std::size_t used_by_parents = 0;
  for (const auto& [kind, parent] : parents_) {
    used_by_parents += parent.transient ? 1 : 0;
  }
  const std::size_t slots = caps_.transient_slots;
  return slots > used_by_parents + 1 ? slots - used_by_parents : 1;
}

void TpmConnection::evict_one_locked() noexcept {
  if (cache_.empty()) {
    return;
  }
  ESYS_TR handle = cache_.back().handle;
  release_handle(esys_.get(), handle, true);
  cache_.pop_back();
}

void TpmConnection::evict_all_locked() noexcept {
  while (!cache_.empty()) {
    evict_one_locked();
  }
}

bool TpmConnection::persistent_handle_exists_locked(TPM2_HANDLE handle) {
  EsysOut<TPMS_CAPABILITY_DATA> data;
  TPMI_YES_NO more = TPM2_NO;
  check_tss(Esys_GetCapability(esys_.get(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                               TPM2_CAP_HANDLES, handle, 1, &more, out(data)),
            "TPM2_GetCapability(HANDLES)");
  return data->data.handles.count > 0 && data->data.handles.handle[0] == handle;
}

ParentKind TpmConnection::default_parent_locked() {
  if (default_parent_) {
    return *default_parent_;
  }
  try {
    // Asked first so that a TPM without a provisioned SRK costs no failing command (ESAPI
    // logs those to stderr).
    if (!persistent_handle_exists_locked(kSrkPersistentHandle)) {
      fail(NTE_BAD_KEYSET, "no key at 0x81000001");
    }
    const Parent& srk = parent_locked(ParentKind::kPersistentSrk);
    if (is_storage_key(srk.pub.publicArea)) {
      default_parent_ = ParentKind::kPersistentSrk;
      return *default_parent_;
    }
  } catch (const TpmError& e) {
    if (needs_reconnect(e.rc())) {
      throw;
    }
  } catch (const CngError&) {
    // Not a storage key at 0x81000001: use our own primary.
  }
  if (caps_.ecdh && caps_.has_curve(Curve::kP256)) {
    default_parent_ = ParentKind::kEccSrk;
  } else {
    require(caps_.has_rsa_bits(2048), NTE_NOT_SUPPORTED,
            "the TPM supports neither an ECC P-256 nor an RSA-2048 storage key");
    default_parent_ = ParentKind::kRsaSrk;
  }
  return *default_parent_;
}

TpmConnection::Parent& TpmConnection::parent_locked(ParentKind kind) {
  if (const auto it = parents_.find(kind); it != parents_.end()) {
    return it->second;
  }
  ESYS_CONTEXT* esys = esys_.get();
  Parent parent;
  if (kind == ParentKind::kPersistentSrk) {
    check_tss(Esys_TR_FromTPMPublic(esys, kSrkPersistentHandle, ESYS_TR_NONE, ESYS_TR_NONE,
                                    ESYS_TR_NONE, &parent.handle),
              "no storage key at 0x81000001");
    EsysOut<TPM2B_PUBLIC> pub;
    const TSS2_RC rc = Esys_ReadPublic(esys, parent.handle, ESYS_TR_NONE, ESYS_TR_NONE,
                                       ESYS_TR_NONE, out(pub), nullptr, nullptr);
    if (rc != TSS2_RC_SUCCESS) {
      release_handle(esys, parent.handle, false);
      fail_tss(rc, "TPM2_ReadPublic(0x81000001)");
    }
    parent.pub = *pub;
  } else {
    const TPM2B_PUBLIC templ = srk_template(kind);
    const TPM2B_SENSITIVE_CREATE sensitive{};
    const TPM2B_DATA outside{};
    const TPML_PCR_SELECTION pcrs{};
    for (;;) {
      EsysOut<TPM2B_PUBLIC> pub;
      const TSS2_RC rc = Esys_CreatePrimary(esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                            ESYS_TR_NONE, &sensitive, &templ, &outside, &pcrs,
                                            &parent.handle, out(pub), nullptr, nullptr, nullptr);
      if (rc == TSS2_RC_SUCCESS) {
        parent.pub = *pub;
        break;
      }
      if (is_object_memory_error(rc) && !cache_.empty()) {
        evict_one_locked();
        continue;
      }
      fail_tss(rc, "TPM2_CreatePrimary(storage key)");
    }
    parent.transient = true;
  }
  EsysOut<TPM2B_NAME> name;
  const TSS2_RC rc = Esys_TR_GetName(esys, parent.handle, out(name));
  if (rc != TSS2_RC_SUCCESS) {
    release_handle(esys, parent.handle, parent.transient);
    fail_tss(rc, "reading the storage key's name");
  }
  parent.name.assign(name->name, name->name + name->size);
  return parents_.emplace(kind, std::move(parent)).first->second;
}

ESYS_TR TpmConnection::load_locked(std::uint64_t id, const TpmKeyBlob& blob) {
  const auto it =
      std::find_if(cache_.begin(), cache_.end(), [&](const CachedObject& o) { return o.id == id; });
  if (it != cache_.end()) {
    cache_.splice(cache_.begin(), cache_, it);
    return cache_.front().handle;
  }
  const Parent& parent = parent_locked(blob.parent);
  while (!cache_.empty() && cache_.size() >= cache_capacity_locked()) {
    evict_one_locked();
  }
  for (;;) {
    ESYS_TR handle = ESYS_TR_NONE;
    const TSS2_RC rc = Esys_Load(esys_.get(), parent.handle, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                 ESYS_TR_NONE, &blob.priv, &blob.pub, &handle);
    if (rc == TSS2_RC_SUCCESS) {
      cache_.push_front({id, handle});
      return handle;
    }
    if (is_object_memory_error(rc) && !cache_.empty()) {
      evict_one_locked();
      continue;
    }
    if (!needs_reconnect(rc) && parent.name != blob.parent_name) {
      fail_tss(rc, "TPM2_Load: the key was wrapped by another TPM's storage key");
    }
    fail_tss(rc, "TPM2_Load");
  }
}

ESYS_CONTEXT* TpmConnection::Session::esys() const noexcept { return c_.esys_.get(); }
const TpmCapabilities& TpmConnection::Session::capabilities() const noexcept { return c_.caps_; }
ParentKind TpmConnection::Session::default_parent() { return c_.default_parent_locked(); }
ESYS_TR TpmConnection::Session::parent(ParentKind kind) { return c_.parent_locked(kind).handle; }
const Bytes& TpmConnection::Session::parent_name(ParentKind kind) {
  return c_.parent_locked(kind).name;
}
const TPM2B_PUBLIC& TpmConnection::Session::parent_public(ParentKind kind) {
  return c_.parent_locked(kind).pub;
}
ESYS_TR TpmConnection::Session::load(std::uint64_t object_id, const TpmKeyBlob& blob) {
  return c_.load_locked(object_id, blob);
}

}  // namespace cng::tpm
