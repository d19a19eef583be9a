// ObjectLayerImpl: loading the scope's token objects and keeping them in step with the store
// when other processes change it (store_watch.h explains when a store is read again).
#include <set>

#include "core/p11_error.h"
#include "objects/certificates.h"
#include "objects/object_layer_impl.h"

namespace p11::objects {

void ObjectLayerImpl::refresh_token_objects() {
  std::lock_guard refresh(refresh_mutex_);
  FileStamp keys_now;
  if (key_watch_.needs_read(keys_now)) {
    refresh_keys();
    key_watch_.mark_read(keys_now);
  }
  FileStamp certs_now;
  if (cert_watch_.needs_read(certs_now)) {
    refresh_certificates();
    cert_watch_.mark_read(certs_now);
  }
  FileStamp data_now;
  if (data_watch_.needs_read(data_now)) {
    refresh_data_objects();
    data_watch_.mark_read(data_now);
  }
}

void ObjectLayerImpl::refresh_keys() {
  // The snapshot comes first: a key this process creates or deletes while the store is being
  // read is then never mistaken for one that appeared or vanished elsewhere.
  std::map<std::u16string, TokenKey> known;
  std::uint64_t snapshot = 0;
  {
    std::shared_lock lock(mutex_);
    known = token_keys_;
    snapshot = local_generation_;
  }
  const std::vector<std::u16string> names = enumerate_key_names(context_);
  std::map<std::u16string, KeyPairObjects> opened;
  std::vector<std::u16string> changed;
  for (const std::u16string& name : names) {
    const auto it = known.find(name);
    if (it == known.end()) {
      try {
        opened.emplace(name, open_token_key(context_, name));
      } catch (const P11Error&) {
        // Deleted meanwhile, unreadable, or an algorithm PKCS#11 cannot show: not listed.
      }
    } else if (!it->second.file.empty() && stamp_of(it->second.file) != it->second.stamp) {
      changed.push_back(name);
    }
  }
  const std::set<std::u16string> listed_names(names.begin(), names.end());
  std::unique_lock lock(mutex_);
  // Names this process created or destroyed since the snapshot: the local state is the truth.
  const auto touched = [&](const std::u16string& name) {
    const auto it = keys_touched_.find(name);
    return it != keys_touched_.end() && it->second > snapshot;
  };
  for (const auto& [name, entry] : known) {
    if (touched(name)) {
      continue;
    }
    const bool listed = listed_names.contains(name);
    const auto now = token_keys_.find(name);
    // Still the objects of the snapshot (a public-only key has no private handle).
    const bool same =
        now != token_keys_.end() && (entry.private_handle != CK_INVALID_HANDLE
                                         ? now->second.private_handle == entry.private_handle
                                         : now->second.public_handle == entry.public_handle);
    if (!listed && same) {
      // Deleted by another process: the objects go (operations in flight keep the key open).
      erase(entry.public_handle);
      erase(entry.private_handle);
      token_keys_.erase(now);
    }
  }
  for (const std::u16string& name : changed) {
    if (touched(name)) {
      continue;
    }
    const auto entry = token_keys_.find(name);
    if (entry == token_keys_.end()) {
      continue;
    }
    const ObjectPtr priv = lookup(entry->second.private_handle);
    const ObjectPtr pub = lookup(entry->second.public_handle);
    if (!priv && !pub) {
      continue;
    }
    for (const ObjectPtr& o : {priv, pub}) {
      if (o) {
        index(*o, false);
      }
    }
    bool public_only = false;
    try {
      public_only = reload_key_attributes(context_, priv.get(), pub.get());
    } catch (const P11Error&) {
      // Unreadable just now (being replaced): keep what we had and look again next time.
    }
    for (const ObjectPtr& o : {priv, pub}) {
      if (o) {
        index(*o, true);
      }
    }
    if (public_only && priv) {
      // Another process destroyed the private key and kept the public one.
      erase(priv->handle);
      entry->second.private_handle = CK_INVALID_HANDLE;
    }
    if (!public_only && pub && priv && pub->key && is_public_destroyed(pub->key->handle())) {
      // Another process destroyed the public object alone (key_objects.h).
      erase(pub->handle);
      entry->second.public_handle = CK_INVALID_HANDLE;
    }
    entry->second.stamp = stamp_of(entry->second.file);
  }
  for (auto& [name, pair] : opened) {
    if (!touched(name) && !token_keys_.contains(name)) {
      register_pair(pair);
      keys_touched_.erase(name);  // found, not made here
    }
  }
  // Changes older than the snapshot were visible to this read: forget them.
  std::erase_if(keys_touched_, [&](const auto& kv) { return kv.second <= snapshot; });
}

void ObjectLayerImpl::refresh_certificates() {
  std::map<std::string, CK_OBJECT_HANDLE> known;
  std::uint64_t snapshot = 0;
  {
    std::shared_lock lock(mutex_);
    known = token_certs_;
    snapshot = local_generation_;
  }
  std::vector<cng::StoredCertificate> stored;
  try {
    stored = cert_store_.list();
  } catch (const std::exception&) {
    return;  // an unreadable store shows no certificates
  }
  std::map<std::string, ObjectPtr> fresh;
  for (const cng::StoredCertificate& c : stored) {
    if (ObjectPtr obj = certificate_from_store(c)) {
      fresh.emplace(c.id, std::move(obj));
    }
  }
  std::unique_lock lock(mutex_);
  const auto touched = [&](const std::string& id) {
    const auto it = certs_touched_.find(id);
    return it != certs_touched_.end() && it->second > snapshot;
  };
  for (const auto& [id, handle] : known) {
    if (touched(id)) {
      continue;
    }
    const auto now = token_certs_.find(id);
    if (!fresh.contains(id) && now != token_certs_.end() && now->second == handle) {
      erase(handle);
      token_certs_.erase(now);
    }
  }
  for (auto& [id, obj] : fresh) {
    if (touched(id)) {
      continue;
    }
    const auto have = token_certs_.find(id);
    if (have == token_certs_.end()) {
      token_certs_[id] = insert(obj);
      continue;
    }
    // Another process may have changed its properties (label, id): take the stored view.
    if (const ObjectPtr current = lookup(have->second); current && current->attrs != obj->attrs) {
      index(*current, false);
      current->attrs = std::move(obj->attrs);
      index(*current, true);
    }
  }
  std::erase_if(certs_touched_, [&](const auto& kv) { return kv.second <= snapshot; });
}

}  // namespace p11::objects
