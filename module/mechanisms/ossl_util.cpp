#include "mechanisms/ossl_util.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <array>
#include <climits>
#include <string>

namespace p11::mech {

void ossl_fail(CK_RV rv, const char* what) {
  const unsigned long code = ERR_peek_last_error();
  std::string cause(what);
  if (code != 0) {
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    cause += ": ";
    cause += text.data();
  }
  ERR_clear_error();
  fail(rv, cause);
}

PkeyPtr parse_spki(std::span<const std::uint8_t> der, const char* expected_type) {
  if (der.empty() || der.size() > static_cast<std::size_t>(LONG_MAX)) {
    fail(CKR_GENERAL_ERROR, "key object has no public key (SubjectPublicKeyInfo)");
  }
  const unsigned char* p = der.data();
  PkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!key) {
    ossl_fail(CKR_GENERAL_ERROR, "cannot parse the key's SubjectPublicKeyInfo");
  }
  if (EVP_PKEY_is_a(key.get(), expected_type) != 1) {
    fail(CKR_GENERAL_ERROR, std::string("public key is not of type ") + expected_type);
  }
  return key;
}

}  // namespace p11::mech
