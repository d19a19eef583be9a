// ObjectLayerImpl: data objects (CKO_DATA). Token data objects are files of the scope's data
// store (cng_data_store.h); they are kept in step with other processes like token certificates
// (layer_refresh.cpp, store_watch.h).
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
}

void ObjectLayerImpl::refresh_data_objects() {
  // The snapshot comes first (as for keys and certificates): an object this process creates,
  // changes or destroys while the store is read keeps its local state.
  std::map<std::string, CK_OBJECT_HANDLE> known;
  std::uint64_t snapshot = 0;
  {
    std::shared_lock lock(mutex_);
    known = token_data_;
    snapshot = local_generation_;
  }
  std::vector<cng::StoredDataObject> stored;
  try {
    stored = data_store_.list();
  } catch (const std::exception&) {
    return;  // an unreadable store shows no data objects
  }
  std::map<std::string, ObjectPtr> fresh;
  for (const cng::StoredDataObject& d : stored) {
    if (ObjectPtr obj = data_object_from_store(d)) {
      fresh.emplace(d.id, std::move(obj));
    }
  }
  std::unique_lock lock(mutex_);
  const auto touched = [&](const std::string& id) {
    const auto it = data_touched_.find(id);
    return it != data_touched_.end() && it->second > snapshot;
  };
  for (const auto& [id, handle] : known) {
    if (touched(id)) {
      continue;
    }
    const auto now = token_data_.find(id);
    if (!fresh.contains(id) && now != token_data_.end() && now->second == handle) {
      erase(handle);  // destroyed by another process
      token_data_.erase(now);
    }
  }
  for (auto& [id, obj] : fresh) {
    if (touched(id)) {
      continue;
    }
    const auto have = token_data_.find(id);
    if (have == token_data_.end()) {
      token_data_[id] = insert(obj);
      continue;
    }
    // Another process may have changed it (C_SetAttributeValue there): take the stored view.
    if (const ObjectPtr current = lookup(have->second); current && current->attrs != obj->attrs) {
      index(*current, false);
      current->attrs = std::move(obj->attrs);
      index(*current, true);
    }
  }
  std::erase_if(data_touched_, [&](const auto& kv) { return kv.second <= snapshot; });
}

}  // namespace p11::objects
