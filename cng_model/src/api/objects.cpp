#include "api/objects.h"

#include "api/testing_hooks.h"
#include "core/cng_error.h"

namespace cng::api {

const KeyStore& ProviderContext::store(Scope scope) const {
  const auto& store = scope == Scope::kMachine ? machine_store : user_store;
  if (!store) {
    const StoreError& error = scope == Scope::kMachine ? machine_store_error : user_store_error;
    fail(error.status, error.cause);
  }
  return *store;
}

std::shared_ptr<const ProviderContext> ProviderContext::open(const ProviderDescriptor& descriptor) {
  testing::maybe_fail_allocation();
  auto context = std::make_shared<ProviderContext>();
  context->descriptor = &descriptor;
  context->provider = &descriptor.instance();
  const auto open_scope = [&descriptor](Scope scope, std::optional<KeyStore>& store,
                                        StoreError& error) {
    try {
      // Each provider has its own store within the scope's directory: the software provider
      // the directory itself, the platform (TPM) provider its "platform" subdirectory, so
      // enumeration and names never mix the two providers' keys (as on Windows, where
      // the software KSP and the PCP keep separate key folders).
      std::filesystem::path dir = KeyStore::default_dir(scope);
      const bool hardware = (descriptor.instance().impl_type() & NCRYPT_IMPL_HARDWARE_FLAG) != 0;
      if (hardware) {
        dir /= "platform";
      }
      store.emplace(dir, scope);
      if (!hardware) {
        // Software keys are encrypted at rest (the platform provider's are TPM-wrapped).
        install_master_key_sealer();
        store->protect_at_rest();
      }
    } catch (const CngError& e) {
      error = {e.status(), e.what()};
    }
  };
  open_scope(Scope::kUser, context->user_store, context->user_store_error);
  open_scope(Scope::kMachine, context->machine_store, context->machine_store_error);
  return context;
}

std::shared_ptr<KeyMaterial> KeyObject::material_locked() {
  if (!material_ && state == KeyState::kFinalized) {
    // Locked when the handle was opened (e.g. before the scope's PIN was given, as NSS opens
    // the token's keys before it logs in): read the private part again now.
    if (record.private_status != 0 && store_) {
      KeyRecord fresh = store_->load(record.name);
      if (fresh.private_status == 0) {
        record.private_blob = std::move(fresh.private_blob);
        record.private_status = 0;
        record.private_cause.clear();
      }
    }
    // Encrypted at rest under a master key this process cannot have (store moved without its
    // keyring, sealed to another TPM, PIN not given): every use of the key says so.
    if (record.private_status != 0) {
      fail(record.private_status, record.private_cause);
    }
    // Lazy: opening a key reads only its file; the private part is parsed on first use.
    material_ = provider().from_storage(record);
    record.private_blob = SecureBytes();  // the parsed key is the only copy kept
  }
  return material_;
}

}  // namespace cng::api
