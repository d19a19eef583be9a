// The in-memory object model of one slot's object layer.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include "bridge/attr_values.h"
#include "bridge/bytes.h"
#include "ncrypt.h"
#include "pkcs11/pkcs11_all.h"

namespace p11::objects {

using AttrMap = bridge::AttrMap;

// One open NCrypt key, shared by every object over it (the private and public key objects,
// token->session copies) and by the KeyViews of operations in flight: the handle stays open
// for as long as any of them lives, so destroying an object during a signature is safe and
// no operation ever reopens the key.
class CngKey {
 public:
  // Takes ownership of handle. name is empty for an ephemeral key.
  CngKey(NCRYPT_KEY_HANDLE handle, NCRYPT_PROV_HANDLE provider, std::u16string name) noexcept
      : handle_(handle), provider_(provider), name_(std::move(name)) {}
  CngKey(const CngKey&) = delete;
  CngKey& operator=(const CngKey&) = delete;
  ~CngKey() {
    if (handle_ != 0) {
      NCryptFreeObject(handle_);
    }
  }
  [[nodiscard]] NCRYPT_KEY_HANDLE handle() const noexcept { return handle_; }
  [[nodiscard]] NCRYPT_PROV_HANDLE provider() const noexcept { return provider_; }
  [[nodiscard]] const std::u16string& name() const noexcept { return name_; }
  [[nodiscard]] bool persisted() const noexcept { return !name_.empty(); }
  // Serialises calls that depend on per-handle state (a secret key's chaining mode).
  [[nodiscard]] const std::shared_ptr<std::mutex>& lock() const noexcept { return lock_; }

 private:
  NCRYPT_KEY_HANDLE handle_;
  NCRYPT_PROV_HANDLE provider_;
  std::u16string name_;
  std::shared_ptr<std::mutex> lock_ = std::make_shared<std::mutex>();
};

// What a summary object answers beyond its fields: CKA_LABEL then CKA_ID back to back in one
// block, which both halves of a key pair share when their values are equal (a few hundred
// thousand small allocations fewer at 10,000 keys than an attribute map per summary).
struct SummaryValues {
  Bytes bytes;  // the label, then the id
  std::size_t label_size = 0;
  bool has_label = false;
  bool has_id = false;
  bool operator==(const SummaryValues&) const = default;
};

struct Object {
  CK_OBJECT_HANDLE handle = CK_INVALID_HANDLE;
  CK_OBJECT_CLASS object_class = CKO_DATA;
  CK_ULONG subtype = 0;  // CKK_* for keys, CKC_* for certificates
  bool token = false;
  CK_SESSION_HANDLE owner = CK_INVALID_HANDLE;  // session objects: the creating session
  AttrMap attrs;                                // every non-sensitive attribute value
  std::shared_ptr<CngKey> key;                  // key objects over a CNG key
  CK_OBJECT_HANDLE twin = CK_INVALID_HANDLE;    // the other half of the same CNG key pair
  std::string cert_id;                          // token certificates: the certificate store id
  std::string data_id;                          // token data objects: the data store id
  // A summary object holds only what the listing gave (below) and no CNG key or value: the
  // layer materialises it on first use and may drop it back to its summary
  // (object_layer_impl.h). Token key objects from the key store's listing, token certificates
  // and data objects from their stores' listings.
  bool summary = false;
  // Token certificates and data objects: the store version (cng_cert_store.h) its attributes
  // were read from; 0 when made or changed here and not listed since.
  std::uint64_t stored_version = 0;
  bool summary_private = false;  // a key summary's CKA_PRIVATE (its attrs are empty)
  std::shared_ptr<const SummaryValues> summary_values;  // a key summary's CKA_LABEL and CKA_ID
  // Lazy token key objects (object_layer_impl.h): the CNG key's name, one block per key.
  std::shared_ptr<const std::u16string> lazy_key;
};

// What a key summary answers: what the layer's class/label/id indexes and the usual find
// templates need. It keeps no attrs: CKA_CLASS, CKA_KEY_TYPE and CKA_TOKEN it answers from
// object_class, subtype and token, the fields key_object_attrs derives those three from,
// CKA_PRIVATE from summary_private, CKA_LABEL and CKA_ID from summary_values.
inline constexpr CK_ATTRIBUTE_TYPE kSummaryAttributes[] = {CKA_CLASS,   CKA_KEY_TYPE, CKA_TOKEN,
                                                           CKA_PRIVATE, CKA_LABEL,    CKA_ID};
bool is_summary_attribute(CK_ATTRIBUTE_TYPE type) noexcept;  // of a key summary
// A certificate or data object summary holds every attribute but those its value determines
// (kValueDerived in object.cpp: a certificate's DER and what is parsed from it beyond
// subject, issuer and serial number; a data object's value): whether o, a summary of any
// class, answers type itself (with its value, or as an attribute it does not have).
bool is_summary_attribute(const Object& o, CK_ATTRIBUTE_TYPE type) noexcept;
// A summary's (or any object's) value of a summary attribute; nullopt when it has none.
std::optional<Bytes> summary_value(const Object& object, CK_ATTRIBUTE_TYPE type);
AttrMap summary_attrs(const Object& object);  // every summary attribute it has
// The object's CKA_LABEL or CKA_ID (summary or not), without a copy; nullopt when it has none.
std::optional<std::span<const std::uint8_t>> indexed_value(const Object& object,
                                                           CK_ATTRIBUTE_TYPE type);
bool is_private_object(const Object& object);  // CKA_PRIVATE is TRUE
// Makes the object a summary: drops its attributes (but what a summary answers) and its CNG
// key.
void keep_summary(Object& object);
// The other half of a key pair shares the first's summary values when they are equal.
void share_summary_values(const Object& first, Object& other);
// Whether the object matches the template's summary attributes (the others are not looked at).
bool matches_summary(const Object& object, const AttrMap& tmpl);
// Whether the object's summary attributes decide the match of the whole template.
bool summary_decides(const Object& object, const AttrMap& tmpl);

using ObjectPtr = std::shared_ptr<Object>;

// Typed reads of stored values (bridge/attr_values.h).
using bridge::attr_bool;
using bridge::attr_true;
using bridge::attr_ulong;
using bridge::bool_bytes;
using bridge::ulong_bytes;

// A process-wide, monotonic, never reused object handle (unique across slots, so a handle of
// another slot is simply unknown here).
CK_OBJECT_HANDLE next_object_handle() noexcept;

}  // namespace p11::objects
