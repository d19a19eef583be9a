#include "mechanisms/secret_ops.h"

#include <openssl/crypto.h>

#include "bridge/ncrypt_props.h"
#include "bridge/status_map.h"

namespace p11::mech {

namespace {

// NCrypt reads a NULL pbOutput as a size query, so empty buffers get a real address.
std::uint8_t g_empty_byte = 0;

// std::mutex is constant-initialised and trivially destructible: usable by operations that end
// in atexit handlers, with nothing on the heap.
constinit std::mutex g_fallback_lock;

std::mutex& fallback_lock() { return g_fallback_lock; }

}  // namespace

[[noreturn]] void fail_length(bool encrypt, const char* cause) {
  fail(encrypt ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE, cause);
}

AesKey::AesKey(const KeyView& key)
    : key_(key.ncrypt_key), owner_(key.key_owner), lock_(key.handle_lock) {
  require(key_ != 0, CKR_KEY_HANDLE_INVALID, "secret key has no CNG key");
}

std::size_t AesKey::crypt(bool encrypt, const char16_t* mode, NCRYPT_CIPHER_PADDING_INFO& info,
                          std::span<const std::uint8_t> in, std::span<std::uint8_t> out) const {
  if (in.size() > kMaxNcryptInput) {
    fail_length(encrypt, "input too long for NCrypt");
  }
  auto* in_ptr = in.empty() ? &g_empty_byte : const_cast<std::uint8_t*>(in.data());
  auto* out_ptr = out.empty() ? &g_empty_byte : out.data();
  const auto in_len = static_cast<DWORD>(in.size());
  const auto out_len = static_cast<DWORD>(out.size());
  DWORD written = 0;
  SECURITY_STATUS status = ERROR_SUCCESS;
  {
    const std::lock_guard guard(lock_ != nullptr ? *lock_ : fallback_lock());
    bridge::set_string_property(key_, NCRYPT_CHAINING_MODE_PROPERTY, mode, 0,
                                NcryptContext::kGeneral);
    status = encrypt ? NCryptEncrypt(key_, in_ptr, in_len, &info, out_ptr, out_len, &written,
                                     NCRYPT_PAD_CIPHER_FLAG)
                     : NCryptDecrypt(key_, in_ptr, in_len, &info, out_ptr, out_len, &written,
                                     NCRYPT_PAD_CIPHER_FLAG);
  }
  if (status != ERROR_SUCCESS) {
    OPENSSL_cleanse(out.data(), out.size());
    if (status == static_cast<SECURITY_STATUS>(STATUS_AUTH_TAG_MISMATCH)) {
      fail(CKR_ENCRYPTED_DATA_INVALID, "GCM tag does not verify");
    }
    check_status(status, encrypt ? NcryptContext::kEncrypt : NcryptContext::kDecrypt,
                 encrypt ? "NCryptEncrypt" : "NCryptDecrypt");
  }
  require(written <= out.size(), CKR_GENERAL_ERROR, "NCrypt overran its buffer");
  return written;
}

CipherOperation::~CipherOperation() { OPENSSL_cleanse(result_.data(), result_.size()); }

void CipherOperation::update(std::span<const std::uint8_t> /*data*/) {
  fail(CKR_GENERAL_ERROR, "cipher operations are fed through update_output()");
}

std::size_t CipherOperation::output_size() const {
  return state_ == State::kActive ? final_output_size() : result_.size();
}

std::vector<std::uint8_t> CipherOperation::final() {
  if (state_ != State::kActive) {
    require(!encrypt_ && state_ == State::kFinalDone, CKR_OPERATION_NOT_INITIALIZED,
            "operation already finished");
    return result_;
  }
  result_ = do_final();
  state_ = State::kFinalDone;
  return result_;
}

std::vector<std::uint8_t> CipherOperation::one_shot(std::span<const std::uint8_t> data) {
  if (state_ != State::kActive) {
    require(!encrypt_ && state_ == State::kOneShotDone, CKR_OPERATION_NOT_INITIALIZED,
            "operation already finished");
    return result_;
  }
  check_whole_length(data.size());
  std::vector<std::uint8_t> out = do_update(data);
  std::vector<std::uint8_t> tail = do_final();
  out.insert(out.end(), tail.begin(), tail.end());
  OPENSSL_cleanse(tail.data(), tail.size());
  result_ = std::move(out);
  state_ = State::kOneShotDone;
  return result_;
}

std::size_t CipherOperation::update_output_size(std::size_t input_len) const {
  return state_ == State::kActive ? pending_output_size(input_len) : 0;
}

std::vector<std::uint8_t> CipherOperation::update_output(std::span<const std::uint8_t> data) {
  require(state_ == State::kActive, CKR_OPERATION_NOT_INITIALIZED, "operation already finished");
  return do_update(data);
}

std::size_t CipherOperation::one_shot_output_size(std::size_t input_len) const {
  return state_ == State::kOneShotDone ? result_.size() : whole_output_size(input_len);
}

}  // namespace p11::mech
