#include "api/key_password.h"

#include <functional>
#include <mutex>

#include "api/key_common.h"
#include "api/scope_login.h"
#include "core/cng_error.h"
#include "store/pin_file.h"

namespace cng::api {

namespace {

const std::u16string kName(kKeyPasswordName);

pin_file::PinRecord record_of(const KeyRecord& record) {
  const auto it = record.properties.find(kName);
  require(it != record.properties.end(), NTE_BAD_DATA, "the key's password record is gone");
  return pin_file::decode(it->second);  // NTE_BAD_DATA
}

// Applies change to the key's password record: for a key on disk to the file's current
// record (others' property updates are kept) under the scope's PIN lock and this process's
// key-file update lock, written back atomically; then to the handle's copy. Returns the
// record as changed.
pin_file::PinRecord update_record(KeyObject& key,
                                  const std::function<bool(pin_file::PinRecord&)>& change) {
  pin_file::PinRecord result;
  if (key.persisted() && key.state == KeyState::kFinalized) {
    const std::lock_guard lock(key_file_update_mutex());
    pin_store_of(key.scope()).run_locked([&] {
      KeyRecord current = key.store()->load(key.record.name);
      result = record_of(current);
      if (change(result)) {
        current.properties[kName] = pin_file::encode(result);
        key.store()->update(current);
      }
    });
  } else {
    result = record_of(key.record);
    (void)change(result);
  }
  key.record.properties[kName] = pin_file::encode(result);
  return result;
}

}  // namespace

bool has_key_password(const KeyObject& key) { return key.record.properties.contains(kName); }

Bytes new_key_password_record(std::string_view password) {
  SecureBytes unused_kek;
  return pin_file::encode(pin_file::make_record(password, &unused_kek));
}

void check_key_password(KeyObject& key, std::string_view password) {
  // Spent before the check: killing the process does not refund it.
  const pin_file::PinRecord counted = update_record(key, [](pin_file::PinRecord& r) {
    require(!r.locked(), SCARD_W_CHV_BLOCKED, "the key's password is locked");
    ++r.failures;
    return true;
  });
  require(pin_file::matches(pin_file::derive(password, counted), counted), NTE_INCORRECT_PASSWORD,
          "wrong key password");
  (void)update_record(key, [&](pin_file::PinRecord& r) {
    if (r.salt != counted.salt || r.failures == 0) {
      return false;  // nothing to reset (or the record was replaced meanwhile)
    }
    r.failures = 0;
    return true;
  });
}

}  // namespace cng::api
