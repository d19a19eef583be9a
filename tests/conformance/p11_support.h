// Small helpers shared by the conformance suite: byte buffers, attribute templates, CK_RV
// printing and assertion macros. Only PKCS#11 types; nothing of the module's internals.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <initializer_list>
#include <string>
#include <vector>

#include "pkcs11/pkcs11_all.h"

namespace conf {

using Bytes = std::vector<unsigned char>;

// Constants written here from the specifications, so the suite does not depend on which
// of them a header happens to define.
inline constexpr CK_OBJECT_CLASS kCkoProfile = 0x9UL;          // PKCS#11 3.0
inline constexpr CK_OBJECT_CLASS kCkoTrust = 0xBUL;            // PKCS#11 3.2
inline constexpr CK_OBJECT_CLASS kCkoNssTrust = 0xCE534353UL;  // NSS vendor class
inline constexpr CK_OBJECT_CLASS kCkoNssBuiltinRootList = 0xCE534354UL;
inline constexpr CK_ATTRIBUTE_TYPE kUnknownAttribute = 0x7FFFF0A1UL;  // not defined anywhere
inline constexpr CK_MECHANISM_TYPE kUnknownMechanism = 0x7FFFF0A2UL;
inline constexpr CK_FLAGS kCkfInterfaceForkSafe = 0x1UL;  // PKCS#11 3.0 §5.2

std::string RvName(CK_RV rv);
std::string Hex(const Bytes& b);
Bytes ToBytes(const std::string& s);

// A CK_RV that prints by name in gtest messages.
struct Rv {
  CK_RV value;
  bool operator==(const Rv& o) const { return value == o.value; }
};
void PrintTo(const Rv& rv, std::ostream* os);

::testing::AssertionResult RvIn(const char* expr_text, CK_RV actual,
                                std::initializer_list<CK_RV> allowed);

#define EXPECT_CKR(expected, expr) EXPECT_EQ(::conf::Rv{expected}, ::conf::Rv{(expr)}) << #expr
#define ASSERT_CKR(expected, expr) ASSERT_EQ(::conf::Rv{expected}, ::conf::Rv{(expr)}) << #expr
#define EXPECT_CKR_ONE_OF(expr, ...) EXPECT_TRUE(::conf::RvIn(#expr, (expr), {__VA_ARGS__}))
#define ASSERT_CKR_ONE_OF(expr, ...) ASSERT_TRUE(::conf::RvIn(#expr, (expr), {__VA_ARGS__}))

// An attribute template that owns its values (the CK_ATTRIBUTE array stays valid while the
// Template lives; values never move because they are kept in a deque).
class Template {
 public:
  Template() = default;
  Template(const Template&) = delete;
  Template& operator=(const Template&) = delete;

  Template& Bool(CK_ATTRIBUTE_TYPE type, bool v);
  Template& Ulong(CK_ATTRIBUTE_TYPE type, CK_ULONG v);
  Template& Raw(CK_ATTRIBUTE_TYPE type, const Bytes& v);
  Template& Str(CK_ATTRIBUTE_TYPE type, const std::string& v);
  // An attribute whose pValue/ulValueLen are given verbatim (for malformed-template tests).
  Template& Verbatim(CK_ATTRIBUTE_TYPE type, void* value, CK_ULONG len);

  CK_ATTRIBUTE* data() { return attrs_.empty() ? nullptr : attrs_.data(); }
  [[nodiscard]] CK_ULONG size() const { return static_cast<CK_ULONG>(attrs_.size()); }

 private:
  std::deque<Bytes> storage_;
  std::vector<CK_ATTRIBUTE> attrs_;
};

// Space-padded fixed-width PKCS#11 string field -> std::string without the padding.
std::string Trimmed(const unsigned char* field, size_t width);
// True when the field is blank-padded printable text without NUL bytes (PKCS#11 §3.2 rule).
bool IsBlankPaddedText(const unsigned char* field, size_t width);

// DER encodings of the named-curve OIDs (CKA_EC_PARAMS).
Bytes EcParamsP256();
Bytes EcParamsP384();
Bytes EcParamsP521();

}  // namespace conf
