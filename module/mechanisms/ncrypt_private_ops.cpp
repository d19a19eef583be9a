#include "mechanisms/ncrypt_private_ops.h"

#include <openssl/crypto.h>

#include <cstring>
#include <limits>
#include <mutex>

#include "bridge/status_map.h"
#include "bridge/utf.h"

namespace p11::mech {

namespace {

// NCrypt takes non-const input pointers but does not write through them.
PBYTE input_ptr(std::span<const std::uint8_t> input) { return const_cast<PBYTE>(input.data()); }

DWORD dword_size(std::size_t size, CK_RV rv) {
  if (size > std::numeric_limits<DWORD>::max()) {
    fail(rv, "input too long for NCrypt");
  }
  return static_cast<DWORD>(size);
}

// Runs op under auth's login when there is one.
void with_auth(ContextAuth* auth, const std::function<void()>& op) {
  if (auth == nullptr) {
    op();
  } else {
    auth->run(op);
  }
}

}  // namespace

void ContextAuth::set_pin(const SecretBytes* utf16) const {
  // NCryptSetProperty takes a non-const PBYTE but never writes through it.
  const SECURITY_STATUS status =
      utf16 == nullptr
          ? NCryptSetProperty(key_, NCRYPT_PIN_PROPERTY, nullptr, 0, 0)
          : NCryptSetProperty(key_, NCRYPT_PIN_PROPERTY, const_cast<PBYTE>(utf16->data()),
                              static_cast<DWORD>(utf16->size()), 0);
  check_status(status, NcryptContext::kGeneral, "NCryptSetProperty(NCRYPT_PIN_PROPERTY)");
}

namespace {

// UTF-16LE with its NUL, as NCRYPT_PIN_PROPERTY takes it.
SecretBytes pin_property_value(std::span<const std::uint8_t> utf8_pin) {
  std::optional<std::u16string> text =
      utf8_to_utf16({reinterpret_cast<const char*>(utf8_pin.data()), utf8_pin.size()});
  require(text.has_value(), CKR_PIN_INCORRECT, "the PIN is not UTF-8");
  SecretBytes utf16((text->size() + 1) * sizeof(char16_t), 0);
  std::memcpy(utf16.data(), text->data(), text->size() * sizeof(char16_t));
  OPENSSL_cleanse(text->data(), text->size() * sizeof(char16_t));
  return utf16;
}

}  // namespace

void ContextAuth::login(std::span<const std::uint8_t> utf8_pin) {
  SecretBytes utf16 = pin_property_value(utf8_pin);
  {
    const std::lock_guard lock(*lock_);
    set_pin(&utf16);  // NCrypt's check: a wrong PIN fails here
    set_pin(nullptr);
  }
  pin_ = std::move(utf16);
}

void ContextAuth::give(std::span<const std::uint8_t> utf8_pin) {
  pin_ = pin_property_value(utf8_pin);
}

void ContextAuth::run(const std::function<void()>& private_operation) {
  std::optional<SecretBytes> pin = std::move(pin_);
  pin_.reset();  // used up, whatever the operation's outcome
  const std::lock_guard lock(*lock_);
  if (pin) {
    set_pin(&*pin);
  }
  try {
    private_operation();
  } catch (...) {
    if (pin) {
      (void)NCryptSetProperty(key_, NCRYPT_PIN_PROPERTY, nullptr, 0, 0);
    }
    throw;
  }
  if (pin) {
    set_pin(nullptr);
  }
}

std::vector<std::uint8_t> NcryptSigner::sign(std::span<const std::uint8_t> input) const {
  BCRYPT_PKCS1_PADDING_INFO pkcs1{hash_alg_id};
  BCRYPT_PSS_PADDING_INFO pss{hash_alg_id, salt_len};
  void* padding_info = nullptr;
  DWORD flags = 0;
  switch (padding) {
    case SignPadding::kPkcs1:
      padding_info = &pkcs1;
      flags = NCRYPT_PAD_PKCS1_FLAG;
      break;
    case SignPadding::kPss:
      padding_info = &pss;
      flags = NCRYPT_PAD_PSS_FLAG;
      break;
    case SignPadding::kEcdsa:
      if (input.size() > max_ecdsa_input) {
        input = input.first(max_ecdsa_input);
      }
      break;
    case SignPadding::kRawRsa:
      return sign_raw(input);
  }
  std::vector<std::uint8_t> signature(signature_size);
  DWORD written = 0;
  SECURITY_STATUS status = ERROR_SUCCESS;
  const DWORD input_size = dword_size(input.size(), CKR_DATA_LEN_RANGE);
  with_auth(auth.get(), [&] {
    status = NCryptSignHash(key, padding_info, input_ptr(input), input_size, signature.data(),
                            static_cast<DWORD>(signature.size()), &written, flags);
  });
  check_status(status, NcryptContext::kSign, "NCryptSignHash");
  require(written <= signature.size(), CKR_GENERAL_ERROR, "NCryptSignHash overran its buffer");
  signature.resize(written);
  return signature;
}

std::vector<std::uint8_t> NcryptSigner::sign_raw(std::span<const std::uint8_t> input) const {
  require(input.size() <= signature_size, CKR_DATA_LEN_RANGE, "raw RSA input longer than k");
  std::vector<std::uint8_t> block(signature_size, 0);  // the integer, left-padded to k bytes
  std::copy(input.begin(), input.end(), block.end() - static_cast<std::ptrdiff_t>(input.size()));
  std::vector<std::uint8_t> out(signature_size);
  DWORD written = 0;
  SECURITY_STATUS status = ERROR_SUCCESS;
  with_auth(auth.get(), [&] {
    status = NCryptDecrypt(key, block.data(), static_cast<DWORD>(block.size()), nullptr, out.data(),
                           static_cast<DWORD>(out.size()), &written, NCRYPT_NO_PADDING_FLAG);
  });
  OPENSSL_cleanse(block.data(), block.size());
  if (status == NTE_INVALID_PARAMETER || status == NTE_BAD_DATA) {
    fail(CKR_DATA_INVALID, "raw RSA input is not below the modulus");
  }
  check_status(status, NcryptContext::kSign, "NCryptDecrypt (raw RSA signature)");
  require(written <= out.size(), CKR_GENERAL_ERROR, "NCryptDecrypt overran its buffer");
  // The signature is k bytes: NCrypt may drop leading zero bytes of the integer.
  out.resize(written);
  out.insert(out.begin(), signature_size - written, 0);
  return out;
}

void ncrypt_decrypt(NCRYPT_KEY_HANDLE key, DWORD flags, void* padding_info,
                    std::span<const std::uint8_t> input, std::size_t max_output,
                    std::vector<std::uint8_t>& out, ContextAuth* auth) {
  out.assign(max_output, 0);
  DWORD written = 0;
  SECURITY_STATUS status = ERROR_SUCCESS;
  const DWORD input_size = dword_size(input.size(), CKR_ENCRYPTED_DATA_LEN_RANGE);
  with_auth(auth, [&] {
    status = NCryptDecrypt(key, input_ptr(input), input_size, padding_info, out.data(),
                           static_cast<DWORD>(out.size()), &written, flags);
  });
  if (status != ERROR_SUCCESS) {
    OPENSSL_cleanse(out.data(), out.size());
    out.clear();
    check_status(status, NcryptContext::kDecrypt, "NCryptDecrypt");
  }
  require(written <= out.size(), CKR_GENERAL_ERROR, "NCryptDecrypt overran its buffer");
  OPENSSL_cleanse(out.data() + written, out.size() - written);
  out.resize(written);
}

}  // namespace p11::mech
