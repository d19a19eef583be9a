// CNG_PKCS11_DEBUG tracing: one line per call with its arguments, and never a secret. The trace
// of a C_Login and of a C_CreateObject of an RSA private key (token and session object) is
// captured from stderr and searched for the PIN and every private component (raw bytes, hex
// in both cases): none may appear, while the calls themselves must.
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "module_test_support.h"

namespace {

using Bytes = std::vector<unsigned char>;

Bytes bn_param(const EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) {
    return {};
  }
  Bytes out(static_cast<std::size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, out.data());
  BN_clear_free(bn);
  return out;
}

std::string hex(const Bytes& bytes, bool upper) {
  static constexpr char kLower[] = "0123456789abcdef";
  static constexpr char kUpper[] = "0123456789ABCDEF";
  const char* digits = upper ? kUpper : kLower;
  std::string out;
  for (unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 0x0f];
  }
  return out;
}

// Runs fn with stderr (fd 2) sent to a file; returns what was written.
template <class Fn>
std::string capture_stderr(Fn fn) {
  char path[] = "/tmp/cng-trace-XXXXXX";
  const int fd = ::mkstemp(path);
  EXPECT_GE(fd, 0);
  std::fflush(stderr);
  const int saved = ::dup(2);
  ::dup2(fd, 2);
  fn();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  ::close(fd);
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  ::unlink(path);
  return text.str();
}

void expect_absent(const std::string& trace, const Bytes& secret, const std::string& what) {
  ASSERT_GE(secret.size(), 8U) << what;
  const std::string raw(secret.begin(), secret.end());
  EXPECT_EQ(trace.find(raw), std::string::npos) << what << " (raw) is in the trace";
  EXPECT_EQ(trace.find(hex(secret, false)), std::string::npos) << what << " (hex) is in the trace";
  EXPECT_EQ(trace.find(hex(secret, true)), std::string::npos) << what << " (HEX) is in the trace";
  // A prefix long enough to be no accident: catches a truncated dump too.
  const Bytes head(secret.begin(), secret.begin() + 8);
  EXPECT_EQ(trace.find(hex(head, false)), std::string::npos) << what << " (hex prefix)";
  EXPECT_EQ(trace.find(hex(head, true)), std::string::npos) << what << " (HEX prefix)";
}

class TraceTest : public module_test::InitializedTest {};

TEST_F(TraceTest, LoginAndPrivateKeyImportTraceNoSecret) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  ASSERT_NE(key, nullptr);
  const Bytes n = bn_param(key, OSSL_PKEY_PARAM_RSA_N);
  const Bytes e = bn_param(key, OSSL_PKEY_PARAM_RSA_E);
  const Bytes d = bn_param(key, OSSL_PKEY_PARAM_RSA_D);
  const Bytes p = bn_param(key, OSSL_PKEY_PARAM_RSA_FACTOR1);
  const Bytes q = bn_param(key, OSSL_PKEY_PARAM_RSA_FACTOR2);
  const Bytes dp = bn_param(key, OSSL_PKEY_PARAM_RSA_EXPONENT1);
  const Bytes dq = bn_param(key, OSSL_PKEY_PARAM_RSA_EXPONENT2);
  const Bytes qinv = bn_param(key, OSSL_PKEY_PARAM_RSA_COEFFICIENT1);
  EVP_PKEY_free(key);
  const std::string pin_text = "Trace-Secret-PIN-7391";
  const Bytes pin(pin_text.begin(), pin_text.end());

  CK_SESSION_HANDLE session = open(0, true);
  CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
  CK_KEY_TYPE type = CKK_RSA;
  CK_BBOOL yes = CK_TRUE;
  char label[] = "trace-import";
  std::vector<CK_OBJECT_HANDLE> objects;
  const std::string trace = capture_stderr([&] {
    Bytes pin_copy = pin;
    EXPECT_EQ(p11->C_Login(session, CKU_USER, pin_copy.data(), pin_copy.size()), CKR_OK);
    const CK_BBOOL tokens[] = {CK_TRUE, CK_FALSE};
    for (CK_BBOOL token : tokens) {
      Bytes vn = n, ve = e, vd = d, vp = p, vq = q, vdp = dp, vdq = dq, vqi = qinv;
      CK_BBOOL token_value = token;
      CK_ATTRIBUTE tmpl[] = {
          {CKA_CLASS, &cls, sizeof cls},
          {CKA_KEY_TYPE, &type, sizeof type},
          {CKA_TOKEN, &token_value, sizeof token_value},
          {CKA_SIGN, &yes, sizeof yes},
          {CKA_LABEL, label, sizeof label - 1},
          {CKA_MODULUS, vn.data(), vn.size()},
          {CKA_PUBLIC_EXPONENT, ve.data(), ve.size()},
          {CKA_PRIVATE_EXPONENT, vd.data(), vd.size()},
          {CKA_PRIME_1, vp.data(), vp.size()},
          {CKA_PRIME_2, vq.data(), vq.size()},
          {CKA_EXPONENT_1, vdp.data(), vdp.size()},
          {CKA_EXPONENT_2, vdq.data(), vdq.size()},
          {CKA_COEFFICIENT, vqi.data(), vqi.size()},
      };
      CK_OBJECT_HANDLE object = CK_INVALID_HANDLE;
      EXPECT_EQ(p11->C_CreateObject(session, tmpl, sizeof tmpl / sizeof tmpl[0], &object), CKR_OK);
      objects.push_back(object);
    }
  });
  for (CK_OBJECT_HANDLE object : objects) {
    EXPECT_EQ(p11->C_DestroyObject(session, object), CKR_OK);
  }

  // The calls are traced, with their arguments (attribute types and lengths) and CK_RV.
  EXPECT_NE(trace.find("cng-pkcs11: C_Login(" + std::to_string(session) + ", 1, 0x"),
            std::string::npos)
      << trace;
  EXPECT_NE(trace.find(", " + std::to_string(pin.size()) + ") -> 0x00000000 (CKR_OK)"),
            std::string::npos)
      << trace;
  EXPECT_NE(
      trace.find("cng-pkcs11: C_CreateObject(" + std::to_string(session) + ", [{type=0x0, len="),
      std::string::npos)
      << trace;
  EXPECT_NE(trace.find("{type=0x123, len=" + std::to_string(d.size()) + "}"), std::string::npos)
      << trace;  // CKA_PRIVATE_EXPONENT: its length, not its value
  // Nothing secret.
  expect_absent(trace, pin, "the PIN");
  expect_absent(trace, d, "CKA_PRIVATE_EXPONENT");
  expect_absent(trace, p, "CKA_PRIME_1");
  expect_absent(trace, q, "CKA_PRIME_2");
  expect_absent(trace, dp, "CKA_EXPONENT_1");
  expect_absent(trace, dq, "CKA_EXPONENT_2");
  expect_absent(trace, qinv, "CKA_COEFFICIENT");
  // Nor even the public modulus: no attribute value is ever printed.
  expect_absent(trace, n, "CKA_MODULUS");
}

}  // namespace

int main(int argc, char** argv) {
  // Before the module first reads it (log_enabled() caches the value).
  ::setenv("CNG_PKCS11_DEBUG", "1", 1);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
