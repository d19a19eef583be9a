// The object layer of one slot (object_layer.h): an in-memory table of the slot's objects
// with hash indexes by class, CKA_ID and CKA_LABEL, over the scope's CNG keys, certificates
// and data objects (loaded lazily, refreshed when another process changed a store).
//
// Locking: mutex_ guards the table, the indexes and every Object (shared for reads,
// exclusive for changes); refresh_mutex_ serialises store refreshes (taken before mutex_).
// No lock is held during a cryptographic operation: key_view() hands out the open key
// handle with a shared_ptr that keeps it open.
//
// Lazy token keys (layer_lazy.cpp): a refresh reads the store's listing (cng_key_listing.h)
// and gives every listed key pair or public-only key its object handles at once, but builds
// only summary objects (object.h) from it, without opening the key. Whatever needs more
// (C_GetAttributeValue of another attribute, operations, set/copy/destroy/wrap, a find
// naming an attribute outside the summary) first calls hold_full(), which opens the key and
// reads its attributes with no lock held, installs them under a short exclusive lock, and pins
// the key (KeyCache, key_cache.h) so that it is not dropped back to its summary while the
// caller uses it. The cache's own mutex is taken after mutex_, never before.
#pragma once

#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "cng_cert_store.h"
#include "cng_data_store.h"
#include "objects/handle_index.h"
#include "objects/key_cache.h"
#include "objects/key_factory.h"
#include "objects/object_layer.h"
#include "objects/store_watch.h"

namespace p11::objects {

class ObjectLayerImpl final : public ObjectLayer {
 public:
  explicit ObjectLayerImpl(slots::Slot& slot);

  std::pair<CK_OBJECT_HANDLE, CK_OBJECT_HANDLE> generate_key_pair(
      const SessionContext& s, const CK_MECHANISM& mechanism,
      std::span<const CK_ATTRIBUTE> public_template,
      std::span<const CK_ATTRIBUTE> private_template) override;
  CK_OBJECT_HANDLE generate_key(const SessionContext& s, const CK_MECHANISM& mechanism,
                                std::span<const CK_ATTRIBUTE> tmpl) override;
  CK_OBJECT_HANDLE create_object(const SessionContext& s,
                                 std::span<const CK_ATTRIBUTE> tmpl) override;
  CK_OBJECT_HANDLE copy_object(const SessionContext& s, CK_OBJECT_HANDLE object,
                               std::span<const CK_ATTRIBUTE> tmpl) override;
  void destroy_object(const SessionContext& s, CK_OBJECT_HANDLE object) override;
  CK_ULONG object_size(const SessionContext& s, CK_OBJECT_HANDLE object) override;
  CK_RV get_attribute_value(const SessionContext& s, CK_OBJECT_HANDLE object,
                            std::span<CK_ATTRIBUTE> tmpl) override;
  void set_attribute_value(const SessionContext& s, CK_OBJECT_HANDLE object,
                           std::span<const CK_ATTRIBUTE> tmpl) override;
  std::vector<CK_OBJECT_HANDLE> find(const SessionContext& s,
                                     std::span<const CK_ATTRIBUTE> tmpl) override;
  KeyView key_view(const SessionContext& s, CK_OBJECT_HANDLE key) override;
  CK_OBJECT_HANDLE derive_key(const SessionContext& s, const CK_MECHANISM& mechanism,
                              CK_OBJECT_HANDLE base_key,
                              std::span<const CK_ATTRIBUTE> tmpl) override;
  Bytes wrap_key(const SessionContext& s, const CK_MECHANISM& mechanism,
                 CK_OBJECT_HANDLE wrapping_key, CK_OBJECT_HANDLE key) override;
  CK_OBJECT_HANDLE unwrap_key(const SessionContext& s, const CK_MECHANISM& mechanism,
                              CK_OBJECT_HANDLE unwrapping_key,
                              std::span<const std::uint8_t> wrapped,
                              std::span<const CK_ATTRIBUTE> tmpl) override;
  SecretBytes digestible_value(const SessionContext& s, CK_OBJECT_HANDLE key) override;
  void close_session(CK_SESSION_HANDLE session) override;

 private:
  // One persisted CNG key: a key pair (both handles), or a public-only key (token public key,
  // private_handle 0).
  struct TokenKey {
    CK_OBJECT_HANDLE private_handle = CK_INVALID_HANDLE;  // 0 for a public-only key
    CK_OBJECT_HANDLE public_handle = CK_INVALID_HANDLE;   // 0 when hidden (destroyed alone)
    // listing_fingerprint() of the listing last read; 0 when made here and not listed since.
    std::uint64_t fingerprint = 0;
    // Its objects may be summaries (materialised on use, dropped back under pressure): token
    // key pairs and public-only keys whose every object is a token object.
    bool lazy = false;
  };

  // Table (callers hold mutex_).
  [[nodiscard]] ObjectPtr lookup(CK_OBJECT_HANDLE handle) const;
  [[nodiscard]] ObjectPtr require(CK_OBJECT_HANDLE handle) const;  // CKR_OBJECT_HANDLE_INVALID
  // CKR_USER_NOT_LOGGED_IN for a CKA_PRIVATE object while the session's private objects are
  // hidden (a scope PIN, the user not logged in: PKCS#11 3.0 §4.4).
  static void check_private_access(const SessionContext& s, const Object& o);
  CK_OBJECT_HANDLE insert(ObjectPtr object);
  void erase(CK_OBJECT_HANDLE handle);
  void index(const Object& object, bool add);
  CK_OBJECT_HANDLE register_pair(const KeyPairObjects& pair);  // returns the private handle
  CK_OBJECT_HANDLE register_public_only(const ObjectPtr& public_key);
  CK_OBJECT_HANDLE register_secret(const ObjectPtr& secret);  // session or token
  // The entry of a pair (from its private key object) or of a public-only key (its object).
  TokenKey token_key_entry(const Object& key_object);
  // Lazy token keys (layer_lazy.cpp). hold_full: the object materialised and pinned (an empty
  // pin for objects that are not lazy token keys or unknown); CKR_OBJECT_HANDLE_INVALID when
  // its key left the store. Called with no lock held.
  KeyPin hold_full(CK_OBJECT_HANDLE handle);
  // The name of a lazy token key object (callers hold mutex_); empty for other objects.
  std::u16string lazy_name(const Object& object) const;
  // Summaries of a listed key; hint: where its token_keys_ entry goes (the first greater name).
  std::map<std::u16string, TokenKey>::iterator register_listed(
      std::u16string name, KeyPairObjects& pair, std::uint64_t fingerprint,
      std::map<std::u16string, TokenKey>::iterator hint);
  void evict_overflow();                              // callers hold mutex_ exclusively
  void forget_token_key(const std::u16string& name);  // token_keys_ and the cache
  void delete_token_key(const std::u16string& name);  // NCryptDeleteKey; absent is fine
  void touch_key(const std::u16string& name) { keys_touched_[name] = ++local_generation_; }
  void touch_cert(const std::string& id) { certs_touched_[id] = ++local_generation_; }
  void touch_data(const std::string& id) { data_touched_[id] = ++local_generation_; }

  // Store refresh (takes the locks itself).
  void refresh_token_objects();
  void refresh_keys();
  // A known key another process changed: its objects read again (summaries from the new
  // listing's, when summary is given and they are still summaries); callers hold mutex_.
  void refresh_key_objects(TokenKey& entry, const KeyPairObjects* summary);
  void refresh_certificates();  // layer_stored.cpp
  void refresh_data_objects();  // layer_stored.cpp

  // Checks for creating/changing/destroying token objects.
  void check_token_write(const SessionContext& s) const;
  // The unwrapping key's CKA_UNWRAP_TEMPLATE (layer_wrap.cpp); empty when it has none.
  AttrMap unwrap_template_of(CK_OBJECT_HANDLE unwrapping_key) const;
  std::optional<SecretBytes> read_sensitive(const Object& object, CK_ATTRIBUTE_TYPE type) const;
  void persist_changes(const Object& object, const AttrMap& changes);

  CK_OBJECT_HANDLE create_certificate(const SessionContext& s, const AttrMap& tmpl);
  CK_OBJECT_HANDLE create_public_key(const SessionContext& s, const AttrMap& tmpl);
  CK_OBJECT_HANDLE create_secret_key(const SessionContext& s, const AttrMap& tmpl,
                                     const SecretBytes& value, const Object* base);
  CK_OBJECT_HANDLE store_certificate(const SessionContext& s, ObjectPtr cert);
  // Data objects (layer_data.cpp). store_data_object() persists a token object first.
  CK_OBJECT_HANDLE store_data_object(const SessionContext& s, ObjectPtr data);
  void persist_data_changes(const Object& data, const AttrMap& changes);
  void destroy_token_data(const Object& data);  // caller holds mutex_ (exclusive)

  slots::Slot& slot_;
  SlotContext context_;
  // context_ with the session's login PIN (for creating private keys).
  [[nodiscard]] SlotContext context_for(const SessionContext& s) const {
    SlotContext c = context_;
    c.user_pin = s.user_pin;
    return c;
  }
  cng::CertStore cert_store_;
  cng::DataStore data_store_;

  mutable std::shared_mutex mutex_;
  std::unordered_map<CK_OBJECT_HANDLE, ObjectPtr> objects_;
  // Flat indexes (handle_index.h). By class: keyed by the handle itself.
  std::unordered_map<CK_OBJECT_CLASS, HandleIndex> by_class_;
  // By a 64-bit digest of the value (value_digest): no copy of the value; find() tests every
  // candidate in full, so a digest shared by two values costs only a test.
  HandleIndex by_label_;
  HandleIndex by_id_;
  std::map<std::u16string, TokenKey> token_keys_;        // by CNG key name
  std::map<std::string, CK_OBJECT_HANDLE> token_certs_;  // by certificate store id
  std::map<std::string, CK_OBJECT_HANDLE> token_data_;   // by data store id
  // Token objects this process created or destroyed, with the local generation of that
  // change: a refresh that read the store around the same time leaves them alone (its view
  // of those names may predate the change).
  std::uint64_t local_generation_ = 0;
  std::map<std::u16string, std::uint64_t> keys_touched_;
  std::map<std::string, std::uint64_t> certs_touched_;
  std::map<std::string, std::uint64_t> data_touched_;

  KeyCache cache_;

  // Lazy token certificates and data objects (layer_stored.cpp): summaries from their stores'
  // listings, read on first use (hold_full() calls hold_stored()), dropped back to their
  // summaries beyond stored_cache_'s bound (the same LRU design and bound as cache_).
  // hold_stored: false for other objects; CKR_OBJECT_HANDLE_INVALID when gone from the store,
  // the store's error when its value cannot be read. No lock held by the caller.
  bool hold_stored(CK_OBJECT_HANDLE handle, KeyPin& pin);
  KeyPin hold_to_destroy(CK_OBJECT_HANDLE handle);  // no value read for these objects
  ObjectPtr read_stored(CK_OBJECT_CLASS cls, const std::string& id) const;  // full object
  // Callers hold mutex_ exclusively:
  void stored_created(Object& o);  // a token certificate or data object made here
  void stored_destroyed(const Object& o);
  void evict_stored_overflow();
  // A refresh's view before it lists: each known object's handle and stored_version, and
  // local_generation_ (takes mutex_ shared).
  struct StoredSnapshot {
    std::map<std::string, std::pair<CK_OBJECT_HANDLE, std::uint64_t>> objects;
    std::uint64_t generation = 0;
    // Whether a listing says nothing new about a known object (its version is the one held).
    [[nodiscard]] bool unchanged(const std::string& id, std::uint64_t version) const {
      const auto it = objects.find(id);
      return it != objects.end() && it->second.second == version;
    }
  };
  StoredSnapshot snapshot_stored(CK_OBJECT_CLASS cls) const;
  // A listing into token_certs_ / token_data_ (takes the locks itself): fresh holds the objects
  // (summaries, or full objects) of what is new or changed, listed_ids every listed id.
  void merge_listed(CK_OBJECT_CLASS cls, std::map<std::string, ObjectPtr>& fresh,
                    const std::unordered_set<std::string>& listed_ids, const StoredSnapshot& known);
  KeyCache stored_cache_;

  std::mutex refresh_mutex_;
  DirectoryWatch key_watch_;
  DirectoryWatch cert_watch_;
  DirectoryWatch data_watch_;
};

}  // namespace p11::objects
