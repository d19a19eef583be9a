// ObjectLayerImpl: lazy token certificates and data objects (object_layer_impl.h). A refresh
// gives every listed object its handle but builds only its summary (object.h) from the store's
// listing, which holds no certificate DER and no data value; hold_stored() reads the object
// (a private data object's value decrypted) on first use, and the bound of stored_cache_
// sends the least recently used ones back to their summaries.
#include <unordered_set>

#include "core/p11_error.h"
#include "objects/certificates.h"
#include "objects/data_objects.h"
#include "objects/object_layer_impl.h"

namespace p11::objects {

namespace {

bool is_stored(const Object& o) {
  return o.token && ((o.object_class == CKO_CERTIFICATE && !o.cert_id.empty()) ||
                     (o.object_class == CKO_DATA && !o.data_id.empty()));
}

// The object's name in stored_cache_: its class's letter and its store id (ASCII hex).
std::u16string stored_name(const Object& o) {
  const std::string& id = o.object_class == CKO_CERTIFICATE ? o.cert_id : o.data_id;
  std::u16string name(1, o.object_class == CKO_CERTIFICATE ? u'c' : u'd');
  name.append(id.begin(), id.end());
  return name;
}

CK_RV cert_rv(const std::exception& e) { return object_store_rv(cng::cert_store_error_status(e)); }

}  // namespace

ObjectPtr ObjectLayerImpl::read_stored(CK_OBJECT_CLASS cls, const std::string& id) const {
  ObjectPtr full;
  if (cls == CKO_CERTIFICATE) {
    std::optional<cng::StoredCertificate> cert;
    try {
      cert = cert_store_.read(id);
    } catch (const std::exception& e) {
      fail(cert_rv(e), e.what());
    }
    full = cert ? certificate_from_store(*cert) : nullptr;
  } else {
    std::optional<cng::StoredDataObject> data;
    try {
      data = data_store_.read(id);
    } catch (const std::exception& e) {
      fail(data_store_rv(e), e.what());
    }
    if (data && data->value_status != 0) {
      // Its master key is unavailable, or the value does not authenticate: listed, but its
      // value cannot be read here.
      fail(object_store_rv(data->value_status), data->value_cause);
    }
    full = data ? data_object_from_store(*data) : nullptr;
  }
  if (!full) {
    fail(CKR_OBJECT_HANDLE_INVALID, "the object is no longer in the store");
  }
  return full;
}

bool ObjectLayerImpl::hold_stored(CK_OBJECT_HANDLE handle, KeyPin& pin) {
  std::u16string name;
  CK_OBJECT_CLASS cls = CKO_DATA;
  std::string id;
  {
    std::shared_lock lock(mutex_);
    const ObjectPtr o = lookup(handle);
    if (!o || !is_stored(*o)) {
      return false;
    }
    name = stored_name(*o);
    // Pinned under the lock: no eviction comes between this check and the caller's use.
    pin = KeyPin(stored_cache_, name);
    if (!o->summary) {
      return true;
    }
    cls = o->object_class;
    id = cls == CKO_CERTIFICATE ? o->cert_id : o->data_id;
  }
  const ObjectPtr full = read_stored(cls, id);  // the store I/O, with no lock held
  std::unique_lock lock(mutex_);
  const ObjectPtr o = lookup(handle);
  if (!o || !o->summary) {
    return true;  // gone (the caller reports it), or materialised by another thread
  }
  // What was read is at least as new as the summary (listed before the read began).
  index(*o, false);
  o->attrs = std::move(full->attrs);
  o->stored_version = full->stored_version;
  o->summary = false;
  index(*o, true);
  stored_cache_.added(name);
  evict_stored_overflow();
  return true;
}

KeyPin ObjectLayerImpl::hold_to_destroy(CK_OBJECT_HANDLE handle) {
  {
    // A certificate or data object is destroyed from its summary: no value is read (a private
    // data object whose master key is lost can still be destroyed).
    std::shared_lock lock(mutex_);
    if (const ObjectPtr o = lookup(handle); o && is_stored(*o)) {
      return KeyPin(stored_cache_, stored_name(*o));
    }
  }
  return hold_full(handle);
}

void ObjectLayerImpl::stored_created(Object& o) {
  o.stored_version = 0;  // the local object is its truth until listed again
  o.summary = false;
  stored_cache_.added(stored_name(o));
  evict_stored_overflow();
}

void ObjectLayerImpl::stored_destroyed(const Object& o) { stored_cache_.removed(stored_name(o)); }

void ObjectLayerImpl::evict_stored_overflow() {
  for (const std::u16string& name : stored_cache_.overflow()) {
    const auto& table = name.front() == u'c' ? token_certs_ : token_data_;
    std::string id;
    for (const char16_t c : std::u16string_view(name).substr(1)) {
      id.push_back(static_cast<char>(c));
    }
    const auto it = table.find(id);
    if (it == table.end()) {
      continue;
    }
    if (const ObjectPtr o = lookup(it->second); o && !o->summary && is_stored(*o)) {
      index(*o, false);
      keep_summary(*o);
      index(*o, true);
    }
  }
}

void ObjectLayerImpl::merge_listed(CK_OBJECT_CLASS cls, std::map<std::string, ObjectPtr>& fresh,
                                   const std::unordered_set<std::string>& listed_ids,
                                   const StoredSnapshot& known) {
  const std::uint64_t snapshot = known.generation;
  auto& table = cls == CKO_CERTIFICATE ? token_certs_ : token_data_;
  auto& touched_ids = cls == CKO_CERTIFICATE ? certs_touched_ : data_touched_;
  // A materialised object another process changed is read again now, with no lock held: it
  // stays materialised (a caller holding it never sees it become a summary).
  std::vector<std::string> reread;
  {
    std::shared_lock lock(mutex_);
    for (const auto& [id, listed] : fresh) {
      const auto have = table.find(id);
      const ObjectPtr current = have == table.end() ? nullptr : lookup(have->second);
      if (current && !current->summary && current->stored_version != 0 &&
          current->stored_version != listed->stored_version) {
        reread.push_back(id);
      }
    }
  }
  for (const std::string& id : reread) {
    try {
      fresh[id] = read_stored(cls, id);
    } catch (const P11Error&) {
      // Unreadable just now (gone, or its value cannot be opened): its new summary.
    }
  }
  std::unique_lock lock(mutex_);
  // Ids this process created, changed or destroyed since the snapshot: the local state is the
  // truth (this read may predate the change).
  const auto touched = [&](const std::string& id) {
    const auto it = touched_ids.find(id);
    return it != touched_ids.end() && it->second > snapshot;
  };
  for (const auto& [id, seen] : known.objects) {
    const CK_OBJECT_HANDLE handle = seen.first;
    const auto now = table.find(id);
    if (touched(id) || listed_ids.contains(id) || now == table.end() || now->second != handle) {
      continue;
    }
    if (const ObjectPtr o = lookup(handle)) {  // destroyed by another process
      stored_cache_.removed(stored_name(*o));
    }
    erase(handle);
    table.erase(now);
  }
  for (auto& [id, listed] : fresh) {
    if (touched(id)) {
      continue;
    }
    const auto have = table.find(id);
    if (have == table.end()) {
      table[id] = insert(listed);
      continue;
    }
    const ObjectPtr current = lookup(have->second);
    if (!current || current->stored_version == listed->stored_version) {
      continue;  // unchanged: nothing is read
    }
    if (current->stored_version == 0) {
      // Made or changed here: this is its first listing since, and the local object its truth.
      current->stored_version = listed->stored_version;
      continue;
    }
    // Changed by another process: its new summary, or its new full object when materialised.
    index(*current, false);
    current->attrs = std::move(listed->attrs);
    current->stored_version = listed->stored_version;
    current->summary = listed->summary;
    index(*current, true);
    if (current->summary) {
      stored_cache_.removed(stored_name(*current));
    } else {
      stored_cache_.added(stored_name(*current));  // (it may have been evicted meanwhile)
    }
  }
  std::erase_if(touched_ids, [&](const auto& kv) { return kv.second <= snapshot; });
}

ObjectLayerImpl::StoredSnapshot ObjectLayerImpl::snapshot_stored(CK_OBJECT_CLASS cls) const {
  // The snapshot comes first (as for keys): an object this process creates, changes or
  // destroys while the store is read keeps its local state.
  StoredSnapshot out;
  std::shared_lock lock(mutex_);
  for (const auto& [id, handle] : cls == CKO_CERTIFICATE ? token_certs_ : token_data_) {
    const ObjectPtr o = lookup(handle);
    out.objects.emplace(id, std::make_pair(handle, o ? o->stored_version : 0));
  }
  out.generation = local_generation_;
  return out;
}

void ObjectLayerImpl::refresh_certificates() {
  const StoredSnapshot known = snapshot_stored(CKO_CERTIFICATE);
  std::vector<cng::CertificateSummary> listed;
  try {
    listed = cert_store_.summaries();
  } catch (const std::exception&) {
    return;  // an unreadable store shows no certificates
  }
  // Objects are built only for what is new or changed: a refresh after one change elsewhere
  // costs no object per unchanged certificate.
  std::unordered_set<std::string> listed_ids;
  listed_ids.reserve(listed.size());
  std::map<std::string, ObjectPtr> fresh;
  for (cng::CertificateSummary& listing : listed) {
    // Each listing freed once its object is built: the two never both held whole (peak RSS).
    const cng::CertificateSummary c = std::move(listing);
    listed_ids.insert(c.id);
    if (known.unchanged(c.id, c.version)) {
      continue;
    }
    ObjectPtr obj = certificate_summary(c);
    if (!obj->attrs.contains(CKA_ID)) {
      // No "KeyId" property (neither this module nor cngkey stored it): the CKA_ID index
      // needs the value the DER gives, so this one is read now.
      try {
        obj = read_stored(CKO_CERTIFICATE, c.id);
      } catch (const P11Error&) {
        continue;
      }
    }
    fresh.emplace(c.id, std::move(obj));
  }
  merge_listed(CKO_CERTIFICATE, fresh, listed_ids, known);
}

void ObjectLayerImpl::refresh_data_objects() {
  const StoredSnapshot known = snapshot_stored(CKO_DATA);
  std::vector<cng::StoredDataObject> listed;
  try {
    listed = data_store_.summaries();  // no value read or decrypted
  } catch (const std::exception&) {
    return;  // an unreadable store shows no data objects
  }
  std::unordered_set<std::string> listed_ids;
  listed_ids.reserve(listed.size());
  std::map<std::string, ObjectPtr> fresh;
  for (cng::StoredDataObject& listing : listed) {
    const cng::StoredDataObject d = std::move(listing);  // freed once built, as above
    listed_ids.insert(d.id);
    if (known.unchanged(d.id, d.version)) {
      continue;
    }
    if (ObjectPtr obj = data_object_summary(d)) {
      fresh.emplace(d.id, std::move(obj));
    }
  }
  merge_listed(CKO_DATA, fresh, listed_ids, known);
}

}  // namespace p11::objects
