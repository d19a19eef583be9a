#include "objects/object_layer_impl.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <string_view>

#include "bridge/attribute_map.h"
#include "bridge/class_schema.h"
#include "bridge/key_blobs.h"
#include "bridge/key_types/key_type.h"
#include "bridge/ncrypt_props.h"
#include "core/p11_error.h"
#include "objects/certificates.h"
#include "objects/data_objects.h"
#include "objects/secret_keys.h"
#include "objects/template_rules.h"

namespace p11 {

std::unique_ptr<ObjectLayer> ObjectLayer::create(slots::Slot& slot) {
  return std::make_unique<objects::ObjectLayerImpl>(slot);
}

namespace objects {

namespace {

// The key of the label and id indexes.
std::uint64_t value_digest(std::span<const std::uint8_t> b) {
  return std::hash<std::string_view>{}(
      std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

void index_value(HandleIndex& index, std::span<const std::uint8_t> value, CK_OBJECT_HANDLE h,
                 bool add) {
  add ? index.add(value_digest(value), h) : index.remove(value_digest(value), h);
}

const bridge::Schema& schema_of(const Object& o) {
  const bridge::Schema* s = bridge::schema_for(o.object_class, o.subtype);
  if (s == nullptr) {
    fail(CKR_GENERAL_ERROR, "object without a schema");
  }
  return *s;
}

CK_RV cert_store_rv(const std::exception& e) {
  return object_store_rv(cng::cert_store_error_status(e));
}

}  // namespace

ObjectLayerImpl::ObjectLayerImpl(slots::Slot& slot)
    : slot_(slot),
      context_{slot.provider(), slot.scope_flag(), slot.capabilities(),
               slot.profile().hardware_slot, nullptr},
      cert_store_(slot.descriptor().machine_scope, slot.profile().store_subdirectory),
      data_store_(slot.descriptor().machine_scope, slot.profile().store_subdirectory),
      key_watch_(slot.key_store_dir()),
      cert_watch_(slot.key_store_dir() / "certs"),
      data_watch_(slot.key_store_dir() / "data") {}

// ---- table -------------------------------------------------------------------------------

ObjectPtr ObjectLayerImpl::lookup(CK_OBJECT_HANDLE handle) const {
  const auto it = objects_.find(handle);
  return it == objects_.end() ? nullptr : it->second;
}

ObjectPtr ObjectLayerImpl::require(CK_OBJECT_HANDLE handle) const {
  ObjectPtr o = lookup(handle);
  if (!o) {
    fail(CKR_OBJECT_HANDLE_INVALID, "unknown object handle");
  }
  return o;
}

void ObjectLayerImpl::check_private_access(const SessionContext& s, const Object& o) {
  if (s.private_hidden && is_private_object(o)) {
    fail(CKR_USER_NOT_LOGGED_IN, "a private object: the user must log in");
  }
}

void ObjectLayerImpl::index(const Object& o, bool add) {
  if (add) {
    by_class_[o.object_class].add(o.handle, o.handle);
  } else if (const auto it = by_class_.find(o.object_class); it != by_class_.end()) {
    it->second.remove(o.handle, o.handle);
  }
  if (const auto label = indexed_value(o, CKA_LABEL)) {
    index_value(by_label_, *label, o.handle, add);
  }
  if (const auto id = indexed_value(o, CKA_ID)) {
    index_value(by_id_, *id, o.handle, add);
  }
}

CK_OBJECT_HANDLE ObjectLayerImpl::insert(ObjectPtr object) {
  if (object->handle == CK_INVALID_HANDLE) {
    object->handle = next_object_handle();
  }
  index(*object, true);
  const CK_OBJECT_HANDLE h = object->handle;
  objects_[h] = std::move(object);
  return h;
}

void ObjectLayerImpl::erase(CK_OBJECT_HANDLE handle) {
  const auto it = objects_.find(handle);
  if (it == objects_.end()) {
    return;
  }
  index(*it->second, false);
  if (const ObjectPtr twin = lookup(it->second->twin); twin && twin->twin == handle) {
    twin->twin = CK_INVALID_HANDLE;
    if (twin->object_class == CKO_PRIVATE_KEY && twin->key && twin->token) {
      if (auto entry = token_keys_.find(twin->key->name()); entry != token_keys_.end()) {
        entry->second.public_handle = CK_INVALID_HANDLE;
      }
    }
  }
  objects_.erase(it);
}

ObjectLayerImpl::TokenKey ObjectLayerImpl::token_key_entry(const Object& key_object) {
  TokenKey entry;
  // A key pair (from its private key) or a secret key fill the primary slot; a public-only
  // key the public one.
  const bool pair = key_object.object_class != CKO_PUBLIC_KEY;
  entry.private_handle = pair ? key_object.handle : CK_INVALID_HANDLE;
  entry.public_handle = pair ? key_object.twin : key_object.handle;
  // Lazy: a key pair or public-only key all of whose objects are token objects (a session
  // public key of a token pair lives only here and is never rebuilt from the store).
  const ObjectPtr twin = lookup(key_object.twin);
  entry.lazy = key_object.object_class != CKO_SECRET_KEY && key_object.token && key_object.key &&
               (!twin || twin->token);
  if (entry.lazy) {
    const std::u16string& name = key_object.key->name();
    const auto shared_name = std::make_shared<const std::u16string>(name);
    for (const CK_OBJECT_HANDLE h : {entry.private_handle, entry.public_handle}) {
      if (const ObjectPtr o = lookup(h)) {
        o->lazy_key = shared_name;
      }
    }
    cache_.added(name);
  }
  return entry;
}

CK_OBJECT_HANDLE ObjectLayerImpl::register_pair(const KeyPairObjects& pair) {
  if (!pair.private_key) {
    return register_public_only(pair.public_key);
  }
  pair.private_key->handle = next_object_handle();
  if (pair.public_key) {
    pair.public_key->handle = next_object_handle();
    pair.private_key->twin = pair.public_key->handle;
    pair.public_key->twin = pair.private_key->handle;
    insert(pair.public_key);
  }
  if (pair.private_key->token) {
    const std::u16string& name = pair.private_key->key->name();
    // A refresh may have found the new key first: this process's objects replace those.
    if (const auto seen = token_keys_.find(name); seen != token_keys_.end()) {
      erase(seen->second.public_handle);
      erase(seen->second.private_handle);
    }
    insert(pair.private_key);
    token_keys_[name] = token_key_entry(*pair.private_key);
    touch_key(name);
    evict_overflow();
  } else {
    insert(pair.private_key);
  }
  return pair.private_key->handle;
}

CK_OBJECT_HANDLE ObjectLayerImpl::register_public_only(const ObjectPtr& public_key) {
  const std::u16string& name = public_key->key->name();
  if (const auto seen = token_keys_.find(name); seen != token_keys_.end()) {
    erase(seen->second.public_handle);
    erase(seen->second.private_handle);
  }
  const CK_OBJECT_HANDLE h = insert(public_key);
  token_keys_[name] = token_key_entry(*public_key);
  touch_key(name);
  evict_overflow();
  return h;
}

CK_OBJECT_HANDLE ObjectLayerImpl::register_secret(const ObjectPtr& secret) {
  if (!secret->token) {
    return insert(secret);
  }
  const std::u16string& name = secret->key->name();
  if (const auto seen = token_keys_.find(name); seen != token_keys_.end()) {
    erase(seen->second.public_handle);
    erase(seen->second.private_handle);
  }
  const CK_OBJECT_HANDLE h = insert(secret);
  token_keys_[name] = token_key_entry(*secret);
  touch_key(name);
  return h;
}

void ObjectLayerImpl::delete_token_key(const std::u16string& name) {
  // A second handle does the deleting, so the shared handle stays valid for operations in
  // flight (they finish on the key they started with).
  NCRYPT_KEY_HANDLE victim = 0;
  const SECURITY_STATUS st =
      NCryptOpenKey(context_.provider, &victim, name.c_str(), 0, context_.scope_flag);
  if (st == ERROR_SUCCESS) {
    check_status(NCryptDeleteKey(victim, 0), NcryptContext::kPersist, "NCryptDeleteKey");
  } else if (st != NTE_BAD_KEYSET) {  // already deleted elsewhere: nothing to do
    check_status(st, NcryptContext::kOpenKey, "NCryptOpenKey");
  }
}

// ---- checks ------------------------------------------------------------------------------

void ObjectLayerImpl::check_token_write(const SessionContext& s) const {
  if (!s.read_write) {
    fail(CKR_SESSION_READ_ONLY, "token objects need a read/write session");
  }
  if (slot_.write_protected()) {
    fail(CKR_TOKEN_WRITE_PROTECTED, "this process may not write the slot's store");
  }
}

std::optional<SecretBytes> ObjectLayerImpl::read_sensitive(const Object& o,
                                                           CK_ATTRIBUTE_TYPE type) const {
  if (attr_bool(o.attrs, CKA_SENSITIVE).value_or(true) || !attr_true(o.attrs, CKA_EXTRACTABLE)) {
    return std::nullopt;
  }
  if (o.object_class == CKO_SECRET_KEY) {
    return secret_key_value(o);
  }
  if (o.object_class != CKO_PRIVATE_KEY || !o.key) {
    return std::nullopt;
  }
  const bridge::KeyTypeDescriptor* key_type = bridge::find_key_type(CKO_PRIVATE_KEY, o.subtype);
  if (key_type == nullptr) {
    return std::nullopt;
  }
  try {
    const SecretBytes blob = bridge::export_key(o.key->handle(), key_type->pair->private_blob_type,
                                                NcryptContext::kExport);
    return key_type->pair->private_attribute(blob, type);
  } catch (const P11Error&) {
    return std::nullopt;  // CNG refuses the export (policy): the value stays sensitive
  }
}

// ---- reading -----------------------------------------------------------------------------

CK_RV ObjectLayerImpl::get_attribute_value(const SessionContext& s, CK_OBJECT_HANDLE object,
                                           std::span<CK_ATTRIBUTE> tmpl) {
  {
    // A summary answers what it holds (the usual label/id reads) without opening the key.
    std::shared_lock lock(mutex_);
    const ObjectPtr o = require(object);
    if (o->summary) {
      check_private_access(s, *o);
      Object view;
      view.object_class = o->object_class;
      view.subtype = o->subtype;
      view.attrs = summary_attrs(*o);
      if (std::all_of(tmpl.begin(), tmpl.end(),
                      [&](const CK_ATTRIBUTE& a) { return view.attrs.contains(a.type); })) {
        return get_attributes(view, schema_of(view), tmpl,
                              [](CK_ATTRIBUTE_TYPE) { return std::optional<SecretBytes>(); });
      }
    }
  }
  const KeyPin pin = hold_full(object);
  std::shared_lock lock(mutex_);
  const ObjectPtr o = require(object);
  check_private_access(s, *o);
  return get_attributes(*o, schema_of(*o), tmpl,
                        [&](CK_ATTRIBUTE_TYPE type) { return read_sensitive(*o, type); });
}

CK_ULONG ObjectLayerImpl::object_size(const SessionContext& s, CK_OBJECT_HANDLE object) {
  const KeyPin pin = hold_full(object);
  std::shared_lock lock(mutex_);
  const ObjectPtr o = require(object);
  check_private_access(s, *o);
  CK_ULONG size = 0;
  for (const auto& [type, value] : o->attrs) {
    size += sizeof(CK_ATTRIBUTE) + value.size();
  }
  return size;
}

std::vector<CK_OBJECT_HANDLE> ObjectLayerImpl::find(const SessionContext& s,
                                                    std::span<const CK_ATTRIBUTE> tmpl) {
  const std::optional<AttrMap> query = parse_find_template(tmpl);
  if (!query) {
    return {};
  }
  refresh_token_objects();
  // A summary that matches on what it holds decides when it holds every attribute the
  // template names (summary_decides); if not, it is materialised after the indexed pass, and
  // tested in full.
  std::vector<CK_OBJECT_HANDLE> out;
  std::vector<CK_OBJECT_HANDLE> to_materialise;
  {
    std::shared_lock lock(mutex_);
    const auto consider = [&](CK_OBJECT_HANDLE h) {
      const ObjectPtr o = lookup(h);
      // Private objects stay invisible while the scope's PIN is not given (summaries hold
      // CKA_PRIVATE too).
      if (!o || (s.private_hidden && is_private_object(*o))) {
        return;
      }
      if (o->summary) {
        if (matches_summary(*o, *query)) {
          (summary_decides(*o, *query) ? out : to_materialise).push_back(h);
        }
      } else if (matches(*o, *query)) {
        out.push_back(h);
      }
    };
    // The most selective index the template allows; a scan only for "everything".
    if (const auto id = query->find(CKA_ID); id != query->end()) {
      by_id_.for_each(value_digest(id->second), consider);
    } else if (const auto label = query->find(CKA_LABEL); label != query->end()) {
      by_label_.for_each(value_digest(label->second), consider);
    } else if (const auto cls = attr_ulong(*query, CKA_CLASS)) {
      if (const auto it = by_class_.find(*cls); it != by_class_.end()) {
        it->second.for_each_handle(consider);
      }
    } else {
      for (const auto& [h, o] : objects_) {
        consider(h);
      }
    }
  }
  for (const CK_OBJECT_HANDLE h : to_materialise) {
    try {
      const KeyPin pin = hold_full(h);
      std::shared_lock lock(mutex_);
      if (const ObjectPtr o = lookup(h); o && !o->summary && matches(*o, *query)) {
        out.push_back(h);
      }
    } catch (const P11Error&) {
      // Its key left the store meanwhile: not found.
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

KeyView ObjectLayerImpl::key_view(const SessionContext& s, CK_OBJECT_HANDLE key) {
  const KeyPin pin = hold_full(key);
  std::shared_lock lock(mutex_);
  const ObjectPtr o = lookup(key);
  if (!o || (o->object_class != CKO_PRIVATE_KEY && o->object_class != CKO_PUBLIC_KEY &&
             o->object_class != CKO_SECRET_KEY)) {
    fail(CKR_KEY_HANDLE_INVALID, "not a key object");
  }
  check_private_access(s, *o);
  KeyView v;
  v.object_class = o->object_class;
  v.key_type = o->subtype;
  if (const auto* type = bridge::find_key_type(o->object_class, o->subtype)) {
    v.bits = type->key_bits(o->attrs);
  }
  if (o->key) {
    v.ncrypt_key = o->object_class != CKO_PUBLIC_KEY ? o->key->handle() : 0;
    v.key_owner = o->key;
    v.handle_lock = o->key->lock();
  }
  v.ncrypt_provider = context_.provider;
  if (const auto spki = o->attrs.find(CKA_PUBLIC_KEY_INFO); spki != o->attrs.end()) {
    v.spki_der = spki->second;
  }
  v.can_sign = attr_true(o->attrs, CKA_SIGN);
  v.can_verify = attr_true(o->attrs, CKA_VERIFY);
  v.can_encrypt = attr_true(o->attrs, CKA_ENCRYPT);
  v.can_decrypt = attr_true(o->attrs, CKA_DECRYPT);
  v.can_derive = attr_true(o->attrs, CKA_DERIVE);
  v.can_wrap = attr_true(o->attrs, CKA_WRAP);
  v.can_unwrap = attr_true(o->attrs, CKA_UNWRAP);
  v.always_authenticate =
      o->object_class == CKO_PRIVATE_KEY && attr_true(o->attrs, CKA_ALWAYS_AUTHENTICATE);
  if (const auto mechs = o->attrs.find(CKA_ALLOWED_MECHANISMS); mechs != o->attrs.end()) {
    for (std::size_t at = 0; at + sizeof(CK_MECHANISM_TYPE) <= mechs->second.size();
         at += sizeof(CK_MECHANISM_TYPE)) {
      CK_MECHANISM_TYPE m = 0;
      std::memcpy(&m, mechs->second.data() + at, sizeof m);
      v.allowed_mechanisms.push_back(m);
    }
  }
  return v;
}

// ---- changing ----------------------------------------------------------------------------

void ObjectLayerImpl::persist_changes(const Object& o, const AttrMap& changes) {
  if (!o.token) {
    return;
  }
  if (o.object_class == CKO_DATA) {
    persist_data_changes(o, changes);
    return;
  }
  if (o.object_class == CKO_CERTIFICATE) {
    Object updated = o;
    for (const auto& [type, value] : changes) {
      updated.attrs[type] = value;
    }
    try {
      cert_store_.set_properties(o.cert_id, certificate_store_properties(updated));
    } catch (const std::exception& e) {
      fail(cert_store_rv(e), e.what());
    }
    return;
  }
  if (o.key && o.key->persisted()) {
    write_custom_properties(o.key->handle(), o.object_class, o.subtype, changes);
  }
}

void ObjectLayerImpl::set_attribute_value(const SessionContext& s, CK_OBJECT_HANDLE object,
                                          std::span<const CK_ATTRIBUTE> tmpl) {
  const AttrMap changes = parse_template(tmpl);
  check_officer_only(changes, s.security_officer);
  const KeyPin pin = hold_full(object);
  std::unique_lock lock(mutex_);
  const ObjectPtr o = require(object);
  check_private_access(s, *o);
  check_changes(*o, changes, schema_of(*o), TemplateOp::kSet);
  if (o->object_class == CKO_DATA) {
    check_data_values(changes, o->token);
  }
  if (o->token && !s.read_write) {
    fail(CKR_SESSION_READ_ONLY, "token objects need a read/write session");
  }
  persist_changes(*o, changes);
  // Every attribute is the object's own: the other half of a pair keeps its label and id.
  index(*o, false);
  for (const auto& [type, value] : changes) {
    o->attrs[type] = value;
  }
  index(*o, true);
}

void ObjectLayerImpl::destroy_object(const SessionContext& s, CK_OBJECT_HANDLE object) {
  const KeyPin pin = hold_to_destroy(object);
  std::unique_lock lock(mutex_);
  const ObjectPtr o = require(object);
  check_private_access(s, *o);
  if (!attr_bool(o->attrs, CKA_DESTROYABLE).value_or(true)) {
    fail(CKR_ACTION_PROHIBITED, "object is not destroyable");
  }
  if (o->token && !s.read_write) {
    fail(CKR_SESSION_READ_ONLY, "token objects need a read/write session");
  }
  switch (o->object_class) {
    case CKO_PRIVATE_KEY: {
      // PKCS#11 objects are independent: the public key object outlives its private key.
      const ObjectPtr twin = lookup(o->twin);
      const bool twin_shares_key = twin && twin->key == o->key;
      if (o->token && o->key && o->key->persisted()) {
        const std::u16string name = o->key->name();
        if (twin_shares_key && twin->token) {
          // The token public key stays in the store: the key pair becomes a public-only key
          // of the same name (same CKA_ID/CKA_LABEL), and the public handle stays valid.
          twin->key = keep_public_half(context_, *twin);
          erase(object);
          token_keys_[name] = token_key_entry(*twin);
          touch_key(name);
          return;
        }
        delete_token_key(name);
        forget_token_key(name);
        touch_key(name);
      }
      // A session public key (of a session pair, or of a token pair generated with a session
      // public key) simply stays in memory.
      erase(object);
      return;
    }
    case CKO_PUBLIC_KEY:
      if (o->token && o->key && o->key->persisted()) {
        const auto entry = token_keys_.find(o->key->name());
        if (entry != token_keys_.end() && entry->second.public_handle == object &&
            entry->second.private_handle == CK_INVALID_HANDLE) {
          // A public-only key: destroying its one object deletes the CNG key.
          const std::u16string name = entry->first;
          delete_token_key(name);
          forget_token_key(name);
          touch_key(name);
          erase(object);
          return;
        }
      }
      // CNG cannot delete half a key pair: the public object of a token key pair whose
      // private key still exists is marked destroyed on the key (key_objects.h), so that no
      // process shows it again; the private key is untouched.
      if (o->token && o->key && o->key->persisted() && lookup(o->twin)) {
        try {
          mark_public_destroyed(o->key->handle());
          touch_key(o->key->name());
        } catch (const P11Error& e) {
          // A full store has no room for the mark: the object is hidden in this process only,
          // so that a pair can still be destroyed (public, then private: deleting the key).
          if (e.rv() != CKR_DEVICE_MEMORY) {
            throw;
          }
        }
      }
      erase(object);
      return;
    case CKO_SECRET_KEY:
      if (o->token && o->key && o->key->persisted()) {
        const std::u16string name = o->key->name();
        delete_token_key(name);
        forget_token_key(name);
        touch_key(name);
      }
      erase(object);
      return;
    case CKO_CERTIFICATE:
      if (o->token) {
        try {
          cert_store_.remove(o->cert_id);
        } catch (const std::exception& e) {
          if (cng::cert_store_error_status(e) != static_cast<long>(NTE_NOT_FOUND)) {
            fail(cert_store_rv(e), e.what());
          }
        }
        token_certs_.erase(o->cert_id);
        touch_cert(o->cert_id);
      }
      erase(object);
      return;
    case CKO_DATA:
      if (o->token) {
        destroy_token_data(*o);
      }
      erase(object);
      return;
    default:
      erase(object);
      return;
  }
}

SecretBytes ObjectLayerImpl::digestible_value(const SessionContext& s, CK_OBJECT_HANDLE key) {
  const KeyPin pin = hold_full(key);
  std::shared_lock lock(mutex_);
  const ObjectPtr o = lookup(key);
  if (!o || (o->object_class != CKO_SECRET_KEY && o->object_class != CKO_PRIVATE_KEY &&
             o->object_class != CKO_PUBLIC_KEY)) {
    fail(CKR_KEY_HANDLE_INVALID, "not a key object");
  }
  check_private_access(s, *o);
  // Only a secret key's CKA_VALUE is digested, and only when it may leave in the clear.
  if (o->object_class == CKO_SECRET_KEY) {
    if (auto value = read_sensitive(*o, CKA_VALUE)) {
      return std::move(*value);
    }
  }
  fail(CKR_KEY_INDIGESTIBLE, "the key's value may not leave the key storage provider");
}

void ObjectLayerImpl::close_session(CK_SESSION_HANDLE session) {
  std::unique_lock lock(mutex_);
  std::vector<CK_OBJECT_HANDLE> doomed;
  for (const auto& [h, o] : objects_) {
    if (!o->token && o->owner == session) {
      doomed.push_back(h);
    }
  }
  for (const CK_OBJECT_HANDLE h : doomed) {
    erase(h);
  }
}

}  // namespace objects
}  // namespace p11
