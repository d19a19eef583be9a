// Message-based encryption and decryption (PKCS#11 3.0 §5.13, §5.14): one operation per
// direction per session, started by C_MessageEncryptInit / C_MessageDecryptInit, encrypting or
// decrypting any number of messages under one key, each with its own parameter (for CKM_AES_GCM
// a CK_GCM_MESSAGE_PARAMS: IV, IV generator, tag) and additional data, until
// C_MessageEncryptFinal / C_MessageDecryptFinal. A message is one C_EncryptMessage call, or
// C_EncryptMessageBegin followed by C_EncryptMessageNext calls, the last with
// CKF_END_OF_MESSAGE. All functions throw P11Error.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "mechanisms/key_view.h"
#include "mechanisms/secret_bytes.h"
#include "slots/capabilities.h"

namespace p11 {

enum class MessageKind : std::uint8_t { kEncrypt, kDecrypt };

// A per-message mechanism parameter as the caller passed it (pParameter, ulParameterLen).
struct MessageParam {
  CK_VOID_PTR data = nullptr;
  CK_ULONG len = 0;
};

class MessageOperation {
 public:
  MessageOperation() = default;
  MessageOperation(const MessageOperation&) = delete;
  MessageOperation& operator=(const MessageOperation&) = delete;
  virtual ~MessageOperation() = default;

  // True from begin() until the message ends (the end part, or abort_message()).
  [[nodiscard]] virtual bool in_message() const noexcept = 0;
  // Checks a parameter without using it, so that C_EncryptMessage refuses a bad one before the
  // length protocol answers. A NULL or wrong-sized parameter is CKR_ARGUMENTS_BAD (it is a
  // function argument here), a bad value in it CKR_MECHANISM_PARAM_INVALID.
  virtual void check_param(MessageParam param) const = 0;
  // Starts a message. Encrypt: the IV is made as the parameter's generator says and written back
  // into the caller's pIv. The additional data is copied.
  virtual void begin(MessageParam param, std::span<const std::uint8_t> aad) = 0;
  // The exact output next() would return for input_len more bytes (nothing changes).
  [[nodiscard]] virtual std::size_t next_output_size(std::size_t input_len, bool end) const = 0;
  // Feeds a part of the message; with end, finishes it (encrypt: writes the tag to the
  // parameter's pTag; decrypt: checks the tag from pTag) and returns what became available.
  // The parameter must describe the message begin() started (same IV and tag lengths).
  [[nodiscard]] virtual SecretBytes next(MessageParam param, std::span<const std::uint8_t> part,
                                         bool end) = 0;
  // Drops the current message, if any (after an error: the message ends, the operation stays).
  virtual void abort_message() noexcept = 0;
};

// C_MessageEncryptInit / C_MessageDecryptInit: the checks of start_operation (mechanism offered
// with CKF_MESSAGE_ENCRYPT / CKF_MESSAGE_DECRYPT: CKR_MECHANISM_INVALID; key class and type,
// CKA_ENCRYPT / CKA_DECRYPT, CKA_ALLOWED_MECHANISMS; the Init's own parameter must be absent:
// CKR_MECHANISM_PARAM_INVALID; key size), then the mechanism's message operation.
std::unique_ptr<MessageOperation> start_message_operation(MessageKind kind,
                                                          const CK_MECHANISM& mechanism,
                                                          const KeyView& key,
                                                          const slots::Capabilities& caps);

}  // namespace p11
