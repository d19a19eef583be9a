// Private-key work through the NCrypt API: NCryptSignHash and NCryptDecrypt on
// KeyView::ncrypt_key. Nothing here knows PKCS#11 mechanisms; the operations configure it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "ncrypt.h"

namespace p11::mech {

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

  [[nodiscard]] std::vector<std::uint8_t> sign(std::span<const std::uint8_t> input) const;

 private:
  [[nodiscard]] std::vector<std::uint8_t> sign_raw(std::span<const std::uint8_t> input) const;
};

// NCryptDecrypt with flags NCRYPT_NO_PADDING_FLAG / NCRYPT_PAD_PKCS1_FLAG / NCRYPT_PAD_OAEP_FLAG
// (padding_info: BCRYPT_OAEP_PADDING_INFO for OAEP, else nullptr). out receives the plaintext
// (resized to its length; the unused tail is wiped). The caller has checked the input length,
// so a failure to decrypt is CKR_ENCRYPTED_DATA_INVALID.
void ncrypt_decrypt(NCRYPT_KEY_HANDLE key, DWORD flags, void* padding_info,
                    std::span<const std::uint8_t> input, std::size_t max_output,
                    std::vector<std::uint8_t>& out);

}  // namespace p11::mech
