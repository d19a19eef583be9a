// X.509 certificate objects (CKO_CERTIFICATE, CKC_X_509). Token certificates live in the
// scope's certificate store (cng_cert_store.h, the analogue of the Windows "My" store); their
// extra attributes are named store properties (bridge/attribute_map.h cert_property).
#pragma once

#include <map>
#include <string>

#include "cng_cert_store.h"
#include "objects/object.h"

namespace p11::objects {

// From a C_CreateObject template: validates it against the X.509 schema, parses CKA_VALUE
// (CKR_ATTRIBUTE_VALUE_INVALID when not one DER certificate) and derives what is missing:
// CKA_SUBJECT, CKA_ISSUER, CKA_SERIAL_NUMBER (DER INTEGER), CKA_CHECK_VALUE (SHA-1[0..3]),
// CKA_START_DATE/CKA_END_DATE (validity), CKA_PUBLIC_KEY_INFO and CKA_ID (the NSS id of the
// certificate's key, so it links to its key pair).
ObjectPtr certificate_from_template(const AttrMap& tmpl);
// A stored certificate (nullptr when its DER no longer parses).
ObjectPtr certificate_from_store(const cng::StoredCertificate& stored);
// The summary object (object.h) of a listed certificate: every attribute but CKA_VALUE and
// what is parsed from it beyond subject, issuer and serial number (CKA_ID and the validity
// dates too when the store has no property for them).
ObjectPtr certificate_summary(const cng::CertificateSummary& summary);
// The store properties that carry an object's attributes.
std::map<std::string, std::vector<std::uint8_t>> certificate_store_properties(const Object& cert);

}  // namespace p11::objects
