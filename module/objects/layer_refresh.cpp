// ObjectLayerImpl: loading the scope's token objects and keeping them in step with the store
// when other processes change it (store_watch.h explains when a store is read again).
#include <algorithm>
#include <exception>
#include <string_view>
#include <utility>
#include <vector>

#include "core/p11_error.h"
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

namespace {

// A key listed since the last read: its summary objects (lazy) or, for keys a listing cannot
// summarise, its opened objects.
struct ListedKey {
  KeyPairObjects objects;
  bool lazy = false;
  std::uint64_t fingerprint = 0;
};

}  // namespace

void ObjectLayerImpl::refresh_keys() {
  // The snapshot comes first: a key this process creates or deletes while the store is being
  // read is then never mistaken for one that appeared or vanished elsewhere.
  struct Known {
    TokenKey entry;
    bool listed = false;
  };
  std::map<std::u16string, Known> known;
  std::uint64_t snapshot = 0;
  {
    std::shared_lock lock(mutex_);
    for (const auto& [name, entry] : token_keys_) {
      known.emplace_hint(known.end(), name, Known{entry});
    }
    snapshot = local_generation_;
  }
  // Listings, not files: a key is new, gone, or changed when its listing is (no per-key stat,
  // no key opened unless the listing cannot be summarised). One listing at a time: no vector
  // of every key's listing is ever held (peak RSS).
  // New keys in a vector (no node per key; sorted by name below, so that handles are given
  // in name order as before).
  std::vector<std::pair<std::u16string, ListedKey>> found;
  std::map<std::u16string, ListedKey> changed;  // objects: the new summaries, if any
  const auto visit_listing = [&](cng::KeyStoreListing& listing) {
    const std::u16string& name = listing.name;
    const std::uint64_t fingerprint = listing_fingerprint(listing);
    const auto it = known.find(name);
    if (it != known.end()) {
      it->second.listed = true;
      if (it->second.entry.fingerprint == fingerprint) {
        return;
      }
    }
    ListedKey key;
    key.fingerprint = fingerprint;
    try {
      if (auto summary = summarise_token_key(listing)) {
        key.objects = std::move(*summary);
        key.lazy = true;
      } else if (it == known.end()) {
        key.objects = open_token_key(context_, name);
      }
    } catch (const P11Error&) {
      // Deleted meanwhile, unreadable, or an algorithm PKCS#11 cannot show: not listed (a new
      // key), or reloaded below (a known one).
      if (it == known.end()) {
        return;
      }
    }
    if (it == known.end()) {
      found.emplace_back(name, std::move(key));
    } else {
      changed.emplace(name, std::move(key));
    }
  };
  std::exception_ptr failure;  // thrown by the visit: rethrown here, not taken for "no keys"
  const auto visit = [&](cng::KeyStoreListing& listing) {
    try {
      visit_listing(listing);
    } catch (...) {
      failure = std::current_exception();
      throw;
    }
  };
  if (cng::CngVisitKeyListings(context_.provider, context_.scope_flag | NCRYPT_SILENT_FLAG,
                               visit) != ERROR_SUCCESS) {
    if (failure) {
      std::rethrow_exception(failure);
    }
    // A store we cannot read lists nothing (as NCryptEnumKeys).
    found.clear();
    changed.clear();
    for (auto& [name, k] : known) {
      k.listed = false;
    }
  }
  // Handles are given in name order. What is sorted is a contiguous array of name views and
  // indexes: cheaper to move than the entries, and no entry is visited per comparison.
  struct NameAt {
    std::u16string_view name;
    std::uint32_t at;
  };
  std::vector<NameAt> order;
  order.reserve(found.size());
  for (std::uint32_t i = 0; i < found.size(); ++i) {
    order.push_back({found[i].first, i});
  }
  std::sort(order.begin(), order.end(),
            [](const NameAt& a, const NameAt& b) { return a.name < b.name; });
  std::unique_lock lock(mutex_);
  // Names this process created or destroyed since the snapshot: the local state is the truth.
  const auto touched = [&](const std::u16string& name) {
    const auto it = keys_touched_.find(name);
    return it != keys_touched_.end() && it->second > snapshot;
  };
  for (const auto& [name, k] : known) {
    if (touched(name)) {
      continue;
    }
    const TokenKey& entry = k.entry;
    const bool listed = k.listed;
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
      forget_token_key(name);
    }
  }
  for (auto& [name, listed] : changed) {
    if (touched(name)) {
      continue;
    }
    const auto entry = token_keys_.find(name);
    if (entry == token_keys_.end()) {
      continue;
    }
    const std::uint64_t last = entry->second.fingerprint;
    entry->second.fingerprint = listed.fingerprint;
    if (last == 0) {
      continue;  // made here: this is its first listing, and the local objects are its truth
    }
    refresh_key_objects(entry->second, listed.lazy ? &listed.objects : nullptr);
  }
  // Room for the new objects at once (a first read of a large store adds them all).
  objects_.reserve(objects_.size() + 2 * found.size());
  by_label_.reserve(by_label_.size() + found.size());  // (a pair's halves share one key)
  by_id_.reserve(by_id_.size() + found.size());
  for (const CK_OBJECT_CLASS cls : {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY}) {
    by_class_[cls].reserve(by_class_[cls].size() + found.size());
  }
  // New keys come in name order: a cursor walks token_keys_ alongside (its lower bound for the
  // name), so that neither the test for a known name nor the insertion searches the map.
  auto at = token_keys_.begin();
  for (const NameAt& n : order) {
    auto& [name, listed] = found[n.at];
    while (at != token_keys_.end() && at->first < name) {
      ++at;
    }
    if (touched(name) || (at != token_keys_.end() && at->first == name)) {
      continue;
    }
    keys_touched_.erase(name);  // found, not made here
    if (listed.lazy) {
      at = std::next(register_listed(std::move(name), listed.objects, listed.fingerprint, at));
    } else {
      register_pair(listed.objects);
      token_keys_[name].fingerprint = listed.fingerprint;
      at = token_keys_.upper_bound(name);  // (register_pair may have changed the map)
    }
  }
  // Changes older than the snapshot were visible to this read: forget them.
  std::erase_if(keys_touched_, [&](const auto& kv) { return kv.second <= snapshot; });
}

void ObjectLayerImpl::refresh_key_objects(TokenKey& entry, const KeyPairObjects* summary) {
  const ObjectPtr priv = lookup(entry.private_handle);
  const ObjectPtr pub = lookup(entry.public_handle);
  if (!priv && !pub) {
    return;
  }
  const bool summaries = (!priv || priv->summary) && (!pub || pub->summary);
  for (const ObjectPtr& o : {priv, pub}) {
    if (o) {
      index(*o, false);
    }
  }
  bool public_only = false;
  bool public_destroyed = false;
  if (summaries && summary != nullptr) {
    // Still summaries: the new listing's summaries replace them (no key opened).
    public_only = !summary->private_key;
    public_destroyed = !public_only && !summary->public_key;
    for (const auto& [o, fresh] :
         {std::pair{priv, summary->private_key}, std::pair{pub, summary->public_key}}) {
      if (o && fresh) {
        o->summary_private = fresh->summary_private;
        o->summary_values = fresh->summary_values;
      }
    }
  } else {
    try {
      public_only = reload_key_attributes(context_, priv.get(), pub.get());
      for (const ObjectPtr& o : {priv, pub}) {
        if (o && o->key) {
          o->summary = false;
          o->summary_values.reset();
        }
      }
      public_destroyed = !public_only && pub && priv && pub->key &&
                         is_public_destroyed(KeyProperties(pub->key->handle()));
    } catch (const P11Error&) {
      // Unreadable just now (being replaced): keep what we had and look again next time.
    }
  }
  for (const ObjectPtr& o : {priv, pub}) {
    if (o) {
      index(*o, true);
    }
  }
  if (public_only && priv) {
    // Another process destroyed the private key and kept the public one.
    erase(priv->handle);
    entry.private_handle = CK_INVALID_HANDLE;
  }
  if (public_destroyed && pub && priv) {
    // Another process destroyed the public object alone (key_objects.h).
    erase(pub->handle);
    entry.public_handle = CK_INVALID_HANDLE;
  }
}

}  // namespace p11::objects
