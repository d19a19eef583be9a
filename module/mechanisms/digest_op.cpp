// Message digests (CKM_SHA_1, CKM_SHA224 … CKM_SHA512) in OpenSSL, multi-part.
#include "mechanisms/registry.h"

namespace p11::mech {

namespace {

class DigestOperation final : public Operation {
 public:
  explicit DigestOperation(HashAlg alg) : hasher_(alg) {}

  void update(std::span<const std::uint8_t> data) override { hasher_.update(data); }
  [[nodiscard]] std::size_t output_size() const override { return hasher_.size(); }
  [[nodiscard]] std::vector<std::uint8_t> final() override {
    std::vector<std::uint8_t> digest(hasher_.size());
    hasher_.final(digest);
    return digest;
  }
  [[nodiscard]] bool multi_part() const noexcept override { return true; }

 private:
  Hasher hasher_;
};

}  // namespace

std::unique_ptr<Operation> make_digest_operation(OpKind kind, const MechanismSpec& spec,
                                                 const DecodedParams& /*params*/,
                                                 const KeyView* /*key*/) {
  require(kind == OpKind::kDigest, CKR_GENERAL_ERROR, "not a digest operation");
  return std::make_unique<DigestOperation>(spec.hash);
}

}  // namespace p11::mech
