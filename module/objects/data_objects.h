// Data objects (CKO_DATA, PKCS#11 3.0 §4.5): application-defined bytes (CKA_VALUE) tagged with
// CKA_APPLICATION and CKA_OBJECT_ID. CNG has no analogue; token data objects live in the scope's
// data store (cng_data_store.h), each attribute a named store property.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cng_data_store.h"
#include "objects/object.h"

namespace p11::objects {

// From a C_CreateObject template: validated against the CKO_DATA schema, defaults filled in,
// CKA_UNIQUE_ID left for the caller (the store id for a token object).
ObjectPtr data_object_from_template(const AttrMap& tmpl);
// Checks the values a template gives a data object (create, copy, set): CKA_OBJECT_ID must be
// empty, one DER OBJECT IDENTIFIER, or the content octets of one as OpenSC's pkcs11-tool
// writes them (else CKR_ATTRIBUTE_VALUE_INVALID); a token object's values must fit the store
// (CKR_DEVICE_MEMORY).
void check_data_values(const AttrMap& values, bool token);
// A stored data object (nullptr when a stored value is malformed).
ObjectPtr data_object_from_store(const cng::StoredDataObject& stored);
// The summary object (object.h) of a listed data object (DataStore::summaries(): no value):
// every attribute but CKA_VALUE; nullptr when a stored value is malformed.
ObjectPtr data_object_summary(const cng::StoredDataObject& summary);
// The store properties that carry a data object's attributes.
std::map<std::string, std::vector<std::uint8_t>> data_store_properties(const Object& data);
// The CK_RV for a failure of the data or the certificate store (both report the same
// statuses: the errno table's for I/O, NTE_INVALID_PARAMETER beyond the file format's limits).
CK_RV object_store_rv(long status) noexcept;
CK_RV data_store_rv(const std::exception& e) noexcept;

}  // namespace p11::objects
