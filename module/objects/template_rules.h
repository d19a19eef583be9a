// The generic template engine over the schemas of bridge/class_schema.h: parsing and
// validating templates for each operation, defaults, change rules, and the five-case
// C_GetAttributeValue algorithm.
#pragma once

#include <functional>
#include <optional>
#include <span>

#include "bridge/class_schema.h"
#include "objects/object.h"

namespace p11::objects {

enum class TemplateOp { kCreate, kGenerate, kCopy, kSet };

// Copies a caller's template. Unknown attribute types -> CKR_ATTRIBUTE_TYPE_INVALID; values of
// the wrong shape (CK_BBOOL not 1 byte, CK_ULONG not sizeof(CK_ULONG), …) ->
// CKR_ATTRIBUTE_VALUE_INVALID; pValue NULL with a length -> CKR_ARGUMENTS_BAD; the same type
// twice with different values -> CKR_TEMPLATE_INCONSISTENT.
AttrMap parse_template(std::span<const CK_ATTRIBUTE> tmpl);
// Attribute arrays (CKA_WRAP_TEMPLATE, CKA_UNWRAP_TEMPLATE) are kept serialised: for each
// attribute, its type and length as 8-byte little-endian numbers, then the value. An empty
// value is the empty array.
Bytes encode_attribute_array(const AttrMap& attrs);
AttrMap decode_attribute_array(ByteView encoded);  // CKR_GENERAL_ERROR when malformed

// For C_FindObjectsInit: never fails on content; nullopt when the template can match nothing
// (an attribute type this module does not know).
std::optional<AttrMap> parse_find_template(std::span<const CK_ATTRIBUTE> tmpl);

// Checks every attribute may appear in a template of this operation:
// not in the schema -> CKR_ATTRIBUTE_TYPE_INVALID, not allowed here -> CKR_ATTRIBUTE_READ_ONLY,
// a required one missing (create/generate) -> CKR_TEMPLATE_INCOMPLETE.
void validate_template(const AttrMap& tmpl, const bridge::Schema& schema, TemplateOp op);

// Attributes only the Security Officer may set to TRUE (PKCS#11 3.0 §4.4 table footnote: "Can
// only be set to CK_TRUE by the SO user"; CKA_TRUSTED): TRUE in a template of any other
// session is CKR_ATTRIBUTE_READ_ONLY (§4.1.1: read-only under certain circumstances; SoftHSMv2
// answers the same). FALSE is anyone's to set. Every create, generate, derive, unwrap, copy and
// set path calls this with its template.
void check_officer_only(const AttrMap& tmpl, bool security_officer);

// The template plus the schema's defaults for everything it leaves out.
AttrMap with_defaults(const AttrMap& tmpl, const bridge::Schema& schema);

// Rules for changing an existing object (C_SetAttributeValue, C_CopyObject):
// CKA_MODIFIABLE=FALSE -> CKR_ACTION_PROHIBITED (set only), not changeable ->
// CKR_ATTRIBUTE_READ_ONLY, CKA_SENSITIVE back to FALSE / CKA_EXTRACTABLE back to TRUE ->
// CKR_ATTRIBUTE_READ_ONLY. Unchanged values always pass.
void check_changes(const Object& object, const AttrMap& changes, const bridge::Schema& schema,
                   TemplateOp op);

// Reads a sensitive attribute when the object allows it; nullopt = CKR_ATTRIBUTE_SENSITIVE.
using SensitiveReader = std::function<std::optional<SecretBytes>(CK_ATTRIBUTE_TYPE)>;

// The five cases of C_GetAttributeValue (PKCS#11 3.0 §5.7.5) for every template entry; returns
// CKR_OK, CKR_ATTRIBUTE_SENSITIVE, CKR_ATTRIBUTE_TYPE_INVALID or CKR_BUFFER_TOO_SMALL (that
// priority when several apply).
CK_RV get_attributes(const Object& object, const bridge::Schema& schema,
                     std::span<CK_ATTRIBUTE> tmpl, const SensitiveReader& read_sensitive);

// Whether an object matches a find template (sensitive attributes never match).
bool matches(const Object& object, const AttrMap& tmpl);

}  // namespace p11::objects
