// CKM_SHA*_HMAC and CKM_SHA*_HMAC_GENERAL on CKK_GENERIC_SECRET keys: NCryptSignHash /
// NCryptVerifySignature with NCRYPT_HMAC_PADDING_INFO (cng_model's generic secret keys).
// Single and multi-part alike: the message is buffered and MACed in one call at the end.
// Verify: a signature of the wrong length → CKR_SIGNATURE_LEN_RANGE, a mismatch →
// CKR_SIGNATURE_INVALID.
#include <limits>

#include "bridge/status_map.h"
#include "mechanisms/registry.h"

namespace p11::mech {

namespace {

class HmacOperation final : public Operation {
 public:
  HmacOperation(const KeyView& key, bool sign, HashAlg hash, std::size_t mac_bytes)
      : key_(key.ncrypt_key),
        key_owner_(key.key_owner),
        sign_(sign),
        info_{model_hash_alg_id(hash), static_cast<ULONG>(mac_bytes)},
        mac_bytes_(mac_bytes) {
    require(key_ != 0, CKR_KEY_HANDLE_INVALID, "secret key has no CNG key");
    require(mac_bytes_ >= 1 && mac_bytes_ <= hash_spec(hash).size, CKR_MECHANISM_PARAM_INVALID,
            "bad HMAC output length");
  }

  void update(std::span<const std::uint8_t> data) override {
    require(!done_, CKR_OPERATION_NOT_INITIALIZED, "operation already finished");
    if (data.size() > std::numeric_limits<DWORD>::max() - message_.size()) {
      fail(CKR_DATA_LEN_RANGE, "message too long for NCrypt");
    }
    message_.insert(message_.end(), data.begin(), data.end());
  }

  [[nodiscard]] std::size_t output_size() const override { return mac_bytes_; }

  [[nodiscard]] std::vector<std::uint8_t> final() override {
    require(sign_ && !done_, CKR_OPERATION_NOT_INITIALIZED, "no signature to finish");
    done_ = true;
    std::vector<std::uint8_t> mac(mac_bytes_);
    DWORD written = 0;
    const SECURITY_STATUS status =
        NCryptSignHash(key_, &info_, message_ptr(), static_cast<DWORD>(message_.size()), mac.data(),
                       static_cast<DWORD>(mac.size()), &written, 0);
    check_status(status, NcryptContext::kSign, "NCryptSignHash (HMAC)");
    require(written == mac.size(), CKR_GENERAL_ERROR, "HMAC of unexpected length");
    return mac;
  }

  void verify_final(std::span<const std::uint8_t> signature) override {
    require(!sign_ && !done_, CKR_OPERATION_NOT_INITIALIZED, "no verification to finish");
    done_ = true;
    if (signature.size() != mac_bytes_) {
      fail(CKR_SIGNATURE_LEN_RANGE, "MAC length differs from the mechanism's");
    }
    const SECURITY_STATUS status = NCryptVerifySignature(
        key_, &info_, message_ptr(), static_cast<DWORD>(message_.size()),
        const_cast<PBYTE>(signature.data()), static_cast<DWORD>(signature.size()), 0);
    if (status == NTE_BAD_SIGNATURE) {
      fail(CKR_SIGNATURE_INVALID, "MAC does not match");
    }
    check_status(status, NcryptContext::kVerify, "NCryptVerifySignature (HMAC)");
  }

  [[nodiscard]] bool multi_part() const noexcept override { return true; }

 private:
  // An empty message still needs a real pointer.
  PBYTE message_ptr() { return message_.empty() ? &empty_ : message_.data(); }

  NCRYPT_KEY_HANDLE key_;
  std::shared_ptr<const void> key_owner_;  // keeps key_ open until the operation ends
  bool sign_;
  NCRYPT_HMAC_PADDING_INFO info_;
  std::size_t mac_bytes_;
  std::vector<std::uint8_t> message_;
  std::uint8_t empty_ = 0;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<Operation> make_hmac_operation(OpKind kind, const MechanismSpec& spec,
                                               const DecodedParams& params, const KeyView* key) {
  require(key != nullptr, CKR_KEY_HANDLE_INVALID, "no key");
  require(kind == OpKind::kSign || kind == OpKind::kVerify, CKR_GENERAL_ERROR,
          "not a MAC operation");
  return std::make_unique<HmacOperation>(*key, kind == OpKind::kSign, spec.hash, params.mac_bytes);
}

}  // namespace p11::mech
