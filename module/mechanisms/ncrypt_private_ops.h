// Private-key work through the NCrypt API: NCryptSignHash and NCryptDecrypt on
// KeyView::ncrypt_key. Nothing here knows PKCS#11 mechanisms; the operations configure it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "bridge/bytes.h"
#include "ncrypt.h"

namespace p11::mech {

// The per-operation login of a CKA_ALWAYS_AUTHENTICATE key (PKCS#11 3.0 §5.5, §5.13): the PIN
// of C_Login(CKU_CONTEXT_SPECIFIC) goes to NCrypt as NCRYPT_PIN_PROPERTY on the key handle for
// exactly one private operation (cng_model key_auth.h: one NCryptSetProperty authorises one
// private operation); NCrypt decides whether it is right and whether the key needs one (no
// PIN: NTE_SILENT_CONTEXT → CKR_USER_NOT_LOGGED_IN). The key handle is shared by every object
// and operation over the key, so setting the PIN, the operation and withdrawing the PIN run
// under the handle's lock, and every private operation on such a key takes it: no other
// session's operation can use (or consume) an authorisation meant for this one, whether NCrypt
// keeps it for one use or until withdrawn.
class ContextAuth {
 public:
  ContextAuth(NCRYPT_KEY_HANDLE key, std::shared_ptr<std::mutex> handle_lock)
      : key_(key), lock_(handle_lock ? std::move(handle_lock) : std::make_shared<std::mutex>()) {}

  // True until C_Login(CKU_CONTEXT_SPECIFIC) gave a PIN the key's NCrypt check accepted.
  [[nodiscard]] bool waiting() const noexcept { return !pin_.has_value(); }
  // Checks the UTF-8 PIN through NCrypt now (CKR_PIN_INCORRECT, CKR_PIN_LOCKED; a device that
  // checks it only at use answers at the operation) and keeps it for the operation.
  void login(std::span<const std::uint8_t> utf8_pin);
  // Keeps the UTF-8 PIN for the operation without checking it first: NCrypt checks it when
  // run() gives it to the key (a wrong one fails there). For a PIN already checked elsewhere
  // (the user's C_Login PIN, given to an ECDH derive), so it costs one check, not two.
  void give(std::span<const std::uint8_t> utf8_pin);
  // Runs one private operation with the kept PIN (none: NCrypt refuses); the login is used up.
  void run(const std::function<void()>& private_operation);

 private:
  void set_pin(const SecretBytes* utf16) const;

  NCRYPT_KEY_HANDLE key_;
  std::shared_ptr<std::mutex> lock_;
  std::optional<SecretBytes> pin_;  // UTF-16LE with its NUL, as NCRYPT_PIN_PROPERTY takes it
};

// kRawRsa: CKM_RSA_X_509, the RSA private operation on the input as a big-endian integer,
// done as NCryptDecrypt with NCRYPT_NO_PADDING_FLAG (CNG's NCryptSignHash always pads).
enum class SignPadding : std::uint8_t { kPkcs1, kPss, kEcdsa, kRawRsa };

struct NcryptSigner {
  NCRYPT_KEY_HANDLE key = 0;
  SignPadding padding = SignPadding::kPkcs1;
  // PKCS#1: the hash the input is a digest of, or nullptr when the input is a whole DigestInfo
  // (signed as-is). PSS: the hash of the input digest (required).
  const char16_t* hash_alg_id = nullptr;
  ULONG salt_len = 0;              // PSS
  std::size_t signature_size = 0;  // RSA: modulus bytes; ECDSA: 2 × field bytes (r||s)
  // ECDSA: a longer input is cut to its leftmost field-size bytes (FIPS 186-4 §6.4: only the
  // leftmost bits of the hash count), as providers such as PCP do not truncate themselves.
  std::size_t max_ecdsa_input = 0;
  // Set for a CKA_ALWAYS_AUTHENTICATE key: the operation's context login.
  std::shared_ptr<ContextAuth> auth;

  [[nodiscard]] std::vector<std::uint8_t> sign(std::span<const std::uint8_t> input) const;

 private:
  [[nodiscard]] std::vector<std::uint8_t> sign_raw(std::span<const std::uint8_t> input) const;
};

// NCryptDecrypt with flags NCRYPT_NO_PADDING_FLAG / NCRYPT_PAD_PKCS1_FLAG / NCRYPT_PAD_OAEP_FLAG
// (padding_info: BCRYPT_OAEP_PADDING_INFO for OAEP, else nullptr). out receives the plaintext
// (resized to its length; the unused tail is wiped). The caller has checked the input length,
// so a failure to decrypt is CKR_ENCRYPTED_DATA_INVALID.
// auth: the operation's context login (CKA_ALWAYS_AUTHENTICATE keys), else nullptr.
void ncrypt_decrypt(NCRYPT_KEY_HANDLE key, DWORD flags, void* padding_info,
                    std::span<const std::uint8_t> input, std::size_t max_output,
                    std::vector<std::uint8_t>& out, ContextAuth* auth = nullptr);

}  // namespace p11::mech
