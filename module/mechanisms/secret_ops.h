// Shared parts of the secret-key cipher operations (CKM_AES_*): the AES CNG key with its handle
// lock, and a base class that implements PKCS#11's multi-part and one-shot rules once.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "mechanisms/operation.h"
#include "ncrypt.h"

namespace p11::mech {

inline constexpr std::size_t kAesBlock = 16;

// An AES CNG key as the operations use it. The chaining mode is a property of the handle, and
// the handle is shared by every object and operation over the key: crypt() sets the mode and
// runs NCryptEncrypt/NCryptDecrypt while holding the handle's lock (KeyView::handle_lock; a
// process-wide lock when the view has none), never across anything else.
class AesKey {
 public:
  explicit AesKey(const KeyView& key);

  // One NCryptEncrypt (encrypt) or NCryptDecrypt with NCRYPT_PAD_CIPHER_FLAG and the given
  // info, in mode (BCRYPT_CHAIN_MODE_ECB/CBC/GCM). out must be large enough for the result;
  // returns the bytes written. For CBC, info.pbIV receives the chaining value. Errors: a
  // wrong GCM tag → CKR_ENCRYPTED_DATA_INVALID; others through the SECURITY_STATUS table
  // (bad padding → CKR_ENCRYPTED_DATA_INVALID, Key Usage → CKR_KEY_FUNCTION_NOT_PERMITTED).
  std::size_t crypt(bool encrypt, const char16_t* mode, NCRYPT_CIPHER_PADDING_INFO& info,
                    std::span<const std::uint8_t> in, std::span<std::uint8_t> out) const;

 private:
  NCRYPT_KEY_HANDLE key_;
  std::shared_ptr<const void> owner_;  // keeps key_ open until the operation ends
  std::shared_ptr<std::mutex> lock_;
};

// The GCM limits of CK_GCM_PARAMS and CK_GCM_MESSAGE_PARAMS: an IV of 1..256 bytes (what CNG
// accepts as a GCM nonce) and a tag of 32..128 bits in whole bytes.
inline constexpr CK_ULONG kMaxGcmIv = 256;
[[nodiscard]] constexpr bool gcm_iv_len_ok(CK_ULONG bytes) noexcept {
  return bytes >= 1 && bytes <= kMaxGcmIv;
}
[[nodiscard]] constexpr bool gcm_tag_bits_ok(CK_ULONG bits) noexcept {
  return bits >= 32 && bits <= 128 && bits % 8 == 0;
}

// One AES-GCM encryption or decryption through NCrypt's GCM chaining mode
// (BCRYPT_AUTHENTICATED_CIPHER_MODE_INFO). Encrypt writes in.size() bytes of ciphertext to out
// and the tag (4..16 bytes, its size) to tag; decrypt checks tag first and releases nothing on a
// mismatch (CKR_ENCRYPTED_DATA_INVALID). Shared by C_Encrypt/C_Decrypt and the message-based
// functions.
void gcm_crypt(const AesKey& key, bool encrypt, std::span<const std::uint8_t> iv,
               std::span<const std::uint8_t> aad, std::span<const std::uint8_t> in,
               std::span<std::uint8_t> out, std::span<std::uint8_t> tag);

// The largest input one NCrypt call takes (its lengths are DWORDs), less a tag's room.
inline constexpr std::size_t kMaxNcryptInput = 0xFFFFFFFFUL - 2 * kAesBlock;

// An encrypt or decrypt operation with PKCS#11's life cycle:
// - update_output() (C_*Update) returns what the mode has ready; update_output_size() says
//   how much that is beforehand.
// - final() ends the operation; for decrypt a second final() returns the same output again
//   (the ABI retries after a too-small buffer), for encrypt it is CKR_OPERATION_NOT_INITIALIZED.
// - one_shot() (C_Encrypt/C_Decrypt) checks the whole input's length first, then runs
//   update and final; for decrypt a repeated call returns the same plaintext.
// - update() is not used by cipher operations (the ABI calls update_output()).
class CipherOperation : public Operation {
 public:
  explicit CipherOperation(bool encrypt) : encrypt_(encrypt) {}
  CipherOperation(const CipherOperation&) = delete;
  CipherOperation& operator=(const CipherOperation&) = delete;
  ~CipherOperation() override;

  void update(std::span<const std::uint8_t> data) final;
  [[nodiscard]] std::size_t output_size() const final;
  [[nodiscard]] std::vector<std::uint8_t> final() final;
  [[nodiscard]] std::vector<std::uint8_t> one_shot(std::span<const std::uint8_t> data) final;
  [[nodiscard]] bool multi_part() const noexcept final { return true; }
  [[nodiscard]] std::size_t update_output_size(std::size_t input_len) const final;
  [[nodiscard]] std::vector<std::uint8_t> update_output(std::span<const std::uint8_t> data) final;
  [[nodiscard]] std::size_t one_shot_output_size(std::size_t input_len) const final;

 protected:
  [[nodiscard]] bool encrypting() const noexcept { return encrypt_; }
  // The mode's parts. do_update/do_final leave the state unchanged when they throw.
  [[nodiscard]] virtual std::size_t pending_output_size(std::size_t input_len) const = 0;
  [[nodiscard]] virtual std::vector<std::uint8_t> do_update(std::span<const std::uint8_t> in) = 0;
  [[nodiscard]] virtual std::size_t final_output_size() const = 0;
  [[nodiscard]] virtual std::vector<std::uint8_t> do_final() = 0;
  [[nodiscard]] virtual std::size_t whole_output_size(std::size_t input_len) const = 0;
  // Throws the single-part length error (CKR_DATA_LEN_RANGE / CKR_ENCRYPTED_DATA_LEN_RANGE).
  virtual void check_whole_length(std::size_t input_len) const = 0;

 private:
  enum class State : std::uint8_t { kActive, kFinalDone, kOneShotDone };
  bool encrypt_;
  State state_ = State::kActive;
  std::vector<std::uint8_t> result_;  // what final()/one_shot() returned (kept for decrypt)
};

// Fails with the length error of the direction (encrypt: CKR_DATA_LEN_RANGE, decrypt:
// CKR_ENCRYPTED_DATA_LEN_RANGE).
[[noreturn]] void fail_length(bool encrypt, const char* cause);

}  // namespace p11::mech
