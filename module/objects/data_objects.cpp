#include "objects/data_objects.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>

#include <array>
#include <utility>

#include "bridge/attribute_map.h"
#include "bridge/class_schema.h"
#include "bridge/status_map.h"
#include "core/p11_error.h"
#include "objects/key_objects.h"
#include "objects/template_rules.h"

namespace p11::objects {

namespace {

// Which attribute each store property carries. CKA_CLASS and CKA_TOKEN are implied by the
// store; CKA_UNIQUE_ID is the store id.
constexpr std::array<std::pair<CK_ATTRIBUTE_TYPE, const char*>, 8> kProperties = {{
    {CKA_APPLICATION, "Application"},
    {CKA_COPYABLE, "Copyable"},
    {CKA_DESTROYABLE, "Destroyable"},
    {CKA_LABEL, "Label"},
    {CKA_MODIFIABLE, "Modifiable"},
    {CKA_OBJECT_ID, "ObjectId"},
    {CKA_PRIVATE, cng::kDataStorePrivateProperty},  // the store seals CKA_VALUE when TRUE
    {CKA_VALUE, cng::kDataStoreValueProperty},
}};

const bridge::Schema& data_schema() { return *bridge::schema_for(CKO_DATA, bridge::kDataSubtype); }

ObjectPtr make_object(AttrMap attrs) {
  auto obj = std::make_shared<Object>();
  obj->object_class = CKO_DATA;
  obj->subtype = bridge::kDataSubtype;
  obj->token = attr_true(attrs, CKA_TOKEN);
  obj->attrs = std::move(attrs);
  obj->attrs[CKA_CLASS] = ulong_bytes(CKO_DATA);
  return obj;
}

// One complete DER OBJECT IDENTIFIER (tag 6), nothing after it. OpenSSL checks the content
// encoding (minimal base-128 arcs).
bool is_der_oid(const Bytes& der) {
  const unsigned char* p = der.data();
  ASN1_OBJECT* oid = d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(der.size()));
  const bool whole = oid != nullptr && p == der.data() + der.size();
  ASN1_OBJECT_free(oid);
  return whole;
}

// The spec asks for the DER encoding; OpenSC's pkcs11-tool (--application-id) writes only the
// content octets. Both are accepted and kept as given, since clients search with the bytes
// they wrote.
bool is_oid(const Bytes& value) {
  if (value.size() >= 2 && value[0] == V_ASN1_OBJECT && is_der_oid(value)) {
    return true;
  }
  if (value.empty() || value.size() > 0xFFFF) {
    return false;
  }
  Bytes der = {V_ASN1_OBJECT};
  if (value.size() < 0x80) {
    der.push_back(static_cast<std::uint8_t>(value.size()));
  } else {
    der.push_back(0x82);  // long form, two length octets
    der.push_back(static_cast<std::uint8_t>(value.size() >> 8));
    der.push_back(static_cast<std::uint8_t>(value.size()));
  }
  der.insert(der.end(), value.begin(), value.end());
  return is_der_oid(der);
}

}  // namespace

void check_data_values(const AttrMap& values, bool token) {
  if (const auto oid = values.find(CKA_OBJECT_ID);
      oid != values.end() && !oid->second.empty() && !is_oid(oid->second)) {
    fail(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_OBJECT_ID is not an object identifier");
  }
  if (!token) {
    return;
  }
  for (const auto& [type, value] : values) {
    if (value.size() > cng::kDataStoreMaxValueBytes) {
      fail(CKR_DEVICE_MEMORY, "a token data object value is limited to 1 MiB");
    }
  }
}

ObjectPtr data_object_from_template(const AttrMap& tmpl) {
  validate_template(tmpl, data_schema(), TemplateOp::kCreate);
  check_data_values(tmpl, attr_true(tmpl, CKA_TOKEN));
  return make_object(with_defaults(tmpl, data_schema()));
}

namespace {

ObjectPtr from_store(const cng::StoredDataObject& stored, bool summary) {
  AttrMap attrs;
  for (const auto& [type, name] : kProperties) {
    const auto it = stored.properties.find(name);
    if (it == stored.properties.end()) {
      continue;  // absent: the schema's default
    }
    auto value = from_stored(*bridge::attribute_info(type), it->second);
    if (!value) {
      return nullptr;
    }
    attrs[type] = std::move(*value);
  }
  try {
    check_data_values(attrs, true);
  } catch (const P11Error&) {
    return nullptr;  // not written by this module: not shown
  }
  attrs = with_defaults(attrs, data_schema());
  attrs[CKA_TOKEN] = bool_bytes(true);
  attrs[CKA_UNIQUE_ID] = to_bytes(stored.id);
  if (summary) {
    attrs.erase(CKA_VALUE);  // not listed: read (a private one decrypted) on first use
  }
  auto obj = make_object(std::move(attrs));
  obj->data_id = stored.id;
  obj->stored_version = stored.version;
  obj->summary = summary;
  return obj;
}

}  // namespace

ObjectPtr data_object_from_store(const cng::StoredDataObject& stored) {
  if (stored.value_status != 0) {
    // A private object whose value cannot be decrypted here (its master key is unavailable):
    // not shown rather than shown with a value it does not have.
    return nullptr;
  }
  return from_store(stored, false);
}

ObjectPtr data_object_summary(const cng::StoredDataObject& summary) {
  return from_store(summary, true);
}

std::map<std::string, std::vector<std::uint8_t>> data_store_properties(const Object& data) {
  std::map<std::string, std::vector<std::uint8_t>> props;
  for (const auto& [type, name] : kProperties) {
    if (const auto it = data.attrs.find(type); it != data.attrs.end()) {
      props[name] = to_stored(*bridge::attribute_info(type), it->second);
    }
  }
  return props;
}

CK_RV object_store_rv(long status) noexcept {
  return rv_from_status(static_cast<SECURITY_STATUS>(status), NcryptContext::kObjectStore);
}

CK_RV data_store_rv(const std::exception& e) noexcept {
  return object_store_rv(cng::data_store_error_status(e));
}

}  // namespace p11::objects
