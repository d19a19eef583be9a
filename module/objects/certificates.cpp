#include "objects/certificates.h"

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdio>
#include <ctime>

#include "bridge/attribute_map.h"
#include "bridge/class_schema.h"
#include "bridge/key_blobs.h"
#include "cng_common/ossl_ptr.h"
#include "core/p11_error.h"
#include "objects/key_objects.h"
#include "objects/template_rules.h"

namespace p11::objects {

namespace {

using cng::ossl::X509Ptr;

X509Ptr parse(const Bytes& der) {
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert || p != der.data() + der.size()) {
    return nullptr;
  }
  return cert;
}

template <class T, class F>
Bytes der_of(const T* value, F i2d) {
  const int len = i2d(value, nullptr);
  if (len <= 0) {
    fail(CKR_FUNCTION_FAILED, "DER encoding failed");
  }
  Bytes out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  i2d(value, &p);
  return out;
}

Bytes ck_date(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return {};
  }
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
                tm.tm_mday % 100);
  return Bytes(buf, buf + 8);
}

// The NSS CKA_ID of the certificate's key: SHA-1 of the RSA modulus or of the EC point.
Bytes key_id_of(X509* cert) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key == nullptr) {
    return {};
  }
  if (EVP_PKEY_is_a(key, "RSA")) {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &raw) != 1) {
      return {};
    }
    cng::ossl::BnPtr n(raw);
    Bytes modulus(static_cast<std::size_t>(BN_num_bytes(n.get())));
    BN_bn2bin(n.get(), modulus.data());
    return bridge::sha1(modulus);
  }
  if (EVP_PKEY_is_a(key, "EC")) {
    Bytes point(133);
    std::size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size(),
                                        &len) != 1) {
      return {};
    }
    point.resize(len);
    return bridge::sha1(point);
  }
  return {};
}

// Everything CKA_VALUE determines.
AttrMap derived_from_der(const Bytes& der) {
  X509Ptr cert = parse(der);
  if (!cert) {
    fail(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_VALUE is not a DER X.509 certificate");
  }
  AttrMap d;
  d[CKA_SUBJECT] = der_of(X509_get_subject_name(cert.get()), i2d_X509_NAME);
  d[CKA_ISSUER] = der_of(X509_get_issuer_name(cert.get()), i2d_X509_NAME);
  d[CKA_SERIAL_NUMBER] = der_of(X509_get0_serialNumber(cert.get()), i2d_ASN1_INTEGER);
  d[CKA_PUBLIC_KEY_INFO] = der_of(X509_get_X509_PUBKEY(cert.get()), i2d_X509_PUBKEY);
  const Bytes digest = bridge::sha1(der);
  d[CKA_CHECK_VALUE] = Bytes(digest.begin(), digest.begin() + 3);
  d[CKA_START_DATE] = ck_date(X509_get0_notBefore(cert.get()));
  d[CKA_END_DATE] = ck_date(X509_get0_notAfter(cert.get()));
  d[CKA_ID] = key_id_of(cert.get());
  return d;
}

// A serial number given as the INTEGER's content octets (Java's BigInteger.toByteArray())
// is the DER one without its tag and length.
bool same_serial(const Bytes& given, const Bytes& der) {
  return given == der || (der.size() >= 2 && given == Bytes(der.begin() + 2, der.end()));
}

ObjectPtr make_object(AttrMap attrs) {
  auto obj = std::make_shared<Object>();
  obj->object_class = CKO_CERTIFICATE;
  obj->subtype = CKC_X_509;
  obj->token = attr_true(attrs, CKA_TOKEN);
  obj->attrs = std::move(attrs);
  return obj;
}

// PKCS#11 2.40 §4.6.2 values p11-kit's header does not name.
constexpr CK_ULONG kCategoryUnspecified = 0;
constexpr CK_ULONG kSecurityDomainUnspecified = 0;

const bridge::Schema& x509_schema() { return *bridge::schema_for(CKO_CERTIFICATE, CKC_X_509); }

void fill_fixed(AttrMap& attrs) {
  attrs.try_emplace(CKA_CERTIFICATE_CATEGORY, ulong_bytes(kCategoryUnspecified));
  attrs.try_emplace(CKA_JAVA_MIDP_SECURITY_DOMAIN, ulong_bytes(kSecurityDomainUnspecified));
  attrs.try_emplace(CKA_NAME_HASH_ALGORITHM, ulong_bytes(CKM_SHA_1));
  attrs[CKA_CLASS] = ulong_bytes(CKO_CERTIFICATE);
  attrs[CKA_CERTIFICATE_TYPE] = ulong_bytes(CKC_X_509);
}

}  // namespace

ObjectPtr certificate_from_template(const AttrMap& tmpl) {
  validate_template(tmpl, x509_schema(), TemplateOp::kCreate);
  if (attr_ulong(tmpl, CKA_CERTIFICATE_TYPE) != CKC_X_509) {
    fail(CKR_ATTRIBUTE_VALUE_INVALID, "only X.509 certificates");
  }
  // CKA_TRUSTED=TRUE was checked against the session (check_officer_only).
  const AttrMap derived = derived_from_der(tmpl.at(CKA_VALUE));
  AttrMap attrs = with_defaults(tmpl, x509_schema());
  // The certificate is the authority for what it says: the caller's copies must agree
  // (a serial given as bare content octets is normalised to the DER INTEGER).
  for (const CK_ATTRIBUTE_TYPE type : {CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER}) {
    const auto given = tmpl.find(type);
    const Bytes& truth = derived.at(type);
    const bool agrees = given == tmpl.end() || given->second == truth ||
                        (type == CKA_SERIAL_NUMBER && same_serial(given->second, truth));
    if (!agrees) {
      fail(CKR_TEMPLATE_INCONSISTENT, "certificate attribute differs from CKA_VALUE");
    }
    attrs[type] = truth;
  }
  if (const auto check = tmpl.find(CKA_CHECK_VALUE);
      check != tmpl.end() && check->second != derived.at(CKA_CHECK_VALUE)) {
    fail(CKR_ATTRIBUTE_VALUE_INVALID, "CKA_CHECK_VALUE does not match the certificate");
  }
  for (const CK_ATTRIBUTE_TYPE type : {CKA_CHECK_VALUE, CKA_PUBLIC_KEY_INFO}) {
    attrs[type] = derived.at(type);
  }
  for (const CK_ATTRIBUTE_TYPE type : {CKA_START_DATE, CKA_END_DATE, CKA_ID}) {
    if (!tmpl.contains(type)) {
      attrs[type] = derived.at(type);
    }
  }
  fill_fixed(attrs);
  return make_object(std::move(attrs));
}

namespace {

// The attributes the store's properties carry (absent ones left out).
AttrMap property_attrs(const std::map<std::string, std::vector<std::uint8_t>>& properties) {
  AttrMap attrs;
  for (const bridge::SchemaEntry& e : x509_schema().entries) {
    const auto* info = bridge::attribute_info(e.type);
    if (info == nullptr || info->cert_property == nullptr) {
      continue;
    }
    if (const auto it = properties.find(info->cert_property); it != properties.end()) {
      if (auto value = from_stored(*info, it->second)) {
        attrs[e.type] = std::move(*value);
      }
    }
  }
  return attrs;
}

ObjectPtr stored_object(AttrMap attrs, const std::string& id, std::uint64_t version) {
  attrs = with_defaults(attrs, x509_schema());
  attrs[CKA_TOKEN] = bool_bytes(true);
  fill_fixed(attrs);
  auto obj = make_object(std::move(attrs));
  obj->cert_id = id;
  obj->stored_version = version;
  return obj;
}

}  // namespace

ObjectPtr certificate_from_store(const cng::StoredCertificate& stored) {
  AttrMap attrs;
  try {
    attrs = derived_from_der(stored.der);
  } catch (const P11Error&) {
    return nullptr;
  }
  attrs[CKA_VALUE] = stored.der;
  // The stored properties win over what the DER gives (a CKA_ID set by the application).
  for (auto& [type, value] : property_attrs(stored.properties)) {
    attrs[type] = std::move(value);
  }
  return stored_object(std::move(attrs), stored.id, stored.version);
}

ObjectPtr certificate_summary(const cng::CertificateSummary& summary) {
  AttrMap attrs = property_attrs(summary.properties);
  attrs[CKA_SUBJECT] = summary.subject;
  attrs[CKA_ISSUER] = summary.issuer;
  attrs[CKA_SERIAL_NUMBER] = summary.serial_number;
  // What the DER would give when the store has no property for it (object.h kValueDerived):
  // left out, not defaulted, so the layer materialises the object to answer it.
  std::vector<CK_ATTRIBUTE_TYPE> derived;
  for (const CK_ATTRIBUTE_TYPE type : {CKA_ID, CKA_START_DATE, CKA_END_DATE}) {
    if (!attrs.contains(type)) {
      derived.push_back(type);
    }
  }
  ObjectPtr obj = stored_object(std::move(attrs), summary.id, summary.version);
  for (const CK_ATTRIBUTE_TYPE type : derived) {
    obj->attrs.erase(type);
  }
  obj->summary = true;
  return obj;
}

std::map<std::string, std::vector<std::uint8_t>> certificate_store_properties(const Object& cert) {
  std::map<std::string, std::vector<std::uint8_t>> props;
  for (const auto& [type, value] : cert.attrs) {
    const auto* info = bridge::attribute_info(type);
    if (info != nullptr && info->cert_property != nullptr) {
      props[info->cert_property] = to_stored(*info, value);
    }
  }
  return props;
}

}  // namespace p11::objects
