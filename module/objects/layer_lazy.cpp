// ObjectLayerImpl: lazy token keys (object_layer_impl.h). Summary objects come from the
// store's listing; hold_full() materialises a key's objects on first use, and the KeyCache
// bound sends the least recently used ones back to their summaries.
#include "core/p11_error.h"
#include "objects/object_layer_impl.h"

namespace p11::objects {

std::u16string ObjectLayerImpl::lazy_name(const Object& object) const {
  return object.lazy_key ? *object.lazy_key : std::u16string();
}

KeyPin ObjectLayerImpl::hold_full(CK_OBJECT_HANDLE handle) {
  if (KeyPin stored; hold_stored(handle, stored)) {
    return stored;  // a token certificate or data object (layer_stored.cpp)
  }
  std::u16string name;
  KeyPin pin;
  {
    std::shared_lock lock(mutex_);
    const ObjectPtr o = lookup(handle);
    if (!o) {
      return pin;  // the caller reports the unknown handle
    }
    name = lazy_name(*o);
    if (name.empty()) {
      return pin;
    }
    // Pinned under the lock: no eviction can come between this check and the caller's use.
    pin = KeyPin(cache_, name);
    if (!o->summary) {
      return pin;
    }
  }
  // The NCrypt I/O, with no lock held. Its errors are the caller's (the status table maps a
  // key gone from the store to CKR_OBJECT_HANDLE_INVALID, a failing disk to its own code).
  const KeyPairObjects opened = open_token_key(context_, name);
  std::unique_lock lock(mutex_);
  const auto entry = token_keys_.find(name);
  bool installed = false;
  if (entry != token_keys_.end() && entry->second.lazy) {
    const std::pair<CK_OBJECT_HANDLE, ObjectPtr> halves[] = {
        {entry->second.private_handle, opened.private_key},
        {entry->second.public_handle, opened.public_key}};
    for (const auto& [h, fresh] : halves) {
      const ObjectPtr current = lookup(h);
      if (!current || !current->summary || !fresh || fresh->object_class != current->object_class) {
        continue;  // already materialised (another thread), or changed meanwhile
      }
      index(*current, false);
      current->attrs = std::move(fresh->attrs);
      current->key = fresh->key;
      current->summary = false;
      current->summary_values.reset();
      index(*current, true);
      installed = true;
    }
  }
  if (installed) {
    cache_.added(name);
    evict_overflow();
  }
  if (const ObjectPtr o = lookup(handle); o && o->summary) {
    // The store no longer has this object (its half was destroyed elsewhere): the next
    // refresh drops it.
    fail(CKR_OBJECT_HANDLE_INVALID, "the object's key changed in the store");
  }
  return pin;
}

void ObjectLayerImpl::evict_overflow() {
  for (const std::u16string& name : cache_.overflow()) {
    const auto entry = token_keys_.find(name);
    if (entry == token_keys_.end() || !entry->second.lazy) {
      continue;
    }
    for (const CK_OBJECT_HANDLE h : {entry->second.private_handle, entry->second.public_handle}) {
      if (const ObjectPtr o = lookup(h); o && !o->summary) {
        // It keeps the summary of its current values (a relabel here is in the store too).
        index(*o, false);
        keep_summary(*o);
        index(*o, true);
      }
    }
  }
}

std::map<std::u16string, ObjectLayerImpl::TokenKey>::iterator ObjectLayerImpl::register_listed(
    std::u16string name, KeyPairObjects& pair, std::uint64_t fingerprint,
    std::map<std::u16string, TokenKey>::iterator hint) {
  TokenKey entry;
  entry.fingerprint = fingerprint;
  entry.lazy = true;
  if (pair.private_key) {
    entry.private_handle = pair.private_key->handle = next_object_handle();
  }
  if (pair.public_key) {
    entry.public_handle = pair.public_key->handle = next_object_handle();
  }
  if (pair.private_key && pair.public_key) {
    share_summary_values(*pair.private_key, *pair.public_key);  // one block per pair
  }
  const auto shared_name = std::make_shared<const std::u16string>(name);
  for (const ObjectPtr& o : {pair.private_key, pair.public_key}) {
    if (o) {
      o->twin = o == pair.private_key ? entry.public_handle : entry.private_handle;
      o->lazy_key = shared_name;
      insert(o);
    }
  }
  return token_keys_.insert_or_assign(hint, std::move(name), entry);
}

void ObjectLayerImpl::forget_token_key(const std::u16string& name) {
  token_keys_.erase(name);
  cache_.removed(name);
}

}  // namespace p11::objects
