// ObjectLayerImpl: data objects (CKO_DATA). Token data objects are files of the scope's data
// store (cng_data_store.h); they are listed as summaries and kept in step with other processes
// like token certificates (layer_stored.cpp, store_watch.h).
#include "core/p11_error.h"
#include "objects/data_objects.h"
#include "objects/key_objects.h"
#include "objects/object_layer_impl.h"

namespace p11::objects {

CK_OBJECT_HANDLE ObjectLayerImpl::store_data_object(const SessionContext& s, ObjectPtr data) {
  if (data->token) {
    try {
      data->data_id = data_store_.add(data_store_properties(*data));
    } catch (const std::exception& e) {
      fail(data_store_rv(e), e.what());
    }
    // The store id is stable and unique in the scope: it is the object's CKA_UNIQUE_ID in
    // every process.
    data->attrs[CKA_UNIQUE_ID] = to_bytes(data->data_id);
  } else {
    data->owner = s.handle;
    data->attrs[CKA_UNIQUE_ID] = to_bytes(random_hex(16));
  }
  std::unique_lock lock(mutex_);
  if (data->token) {
    if (const auto seen = token_data_.find(data->data_id); seen != token_data_.end()) {
      erase(seen->second);  // a refresh found it first: this process's object replaces it
    }
  }
  const CK_OBJECT_HANDLE h = insert(data);
  if (data->token) {
    token_data_[data->data_id] = h;
    touch_data(data->data_id);
    stored_created(*data);
  }
  return h;
}

void ObjectLayerImpl::persist_data_changes(const Object& data, const AttrMap& changes) {
  Object updated = data;
  for (const auto& [type, value] : changes) {
    updated.attrs[type] = value;
  }
  try {
    data_store_.set_properties(data.data_id, data_store_properties(updated));
  } catch (const std::exception& e) {
    if (cng::data_store_error_status(e) == static_cast<long>(NTE_NOT_FOUND)) {
      // Destroyed by another process meanwhile: the handle is stale.
      fail(CKR_OBJECT_HANDLE_INVALID, "the data object no longer exists");
    }
    fail(data_store_rv(e), e.what());
  }
  touch_data(data.data_id);
}

void ObjectLayerImpl::destroy_token_data(const Object& data) {
  try {
    data_store_.remove(data.data_id);
  } catch (const std::exception& e) {
    if (cng::data_store_error_status(e) != static_cast<long>(NTE_NOT_FOUND)) {
      fail(data_store_rv(e), e.what());
    }
  }
  token_data_.erase(data.data_id);
  touch_data(data.data_id);
  stored_destroyed(data);
}

}  // namespace p11::objects
