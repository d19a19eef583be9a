// NCryptSecretAgreement and NCryptDeriveKey.
#include "api/algorithms.h"
#include "api/boundary.h"
#include "api/key_auth.h"
#include "api/objects.h"
#include "api/output.h"
#include "core/u16.h"
#include "providers/software/kdf.h"
#include "providers/usage_auth.h"

using namespace cng;
using namespace cng::api;

namespace {

struct AgreementKey {
  std::shared_ptr<KeyObject> object;
  std::shared_ptr<KeyMaterial> material;
  DWORD key_usage = 0;
  const Provider* provider = nullptr;
};

AgreementKey agreement_key(NCRYPT_KEY_HANDLE handle) {
  const auto key = HandleTable::instance().get<KeyObject>(handle);
  std::lock_guard lock(key->mutex);
  require(key->state == KeyState::kFinalized, NTE_BAD_KEY_STATE, "the key is not finalized");
  auto material = key->material_locked();
  require(material != nullptr, NTE_BAD_KEY_STATE, "the key has no key material");
  return {key, std::move(material), key->record.key_usage, &key->provider()};
}

}  // namespace

SECURITY_STATUS WINAPI NCryptSecretAgreement(NCRYPT_KEY_HANDLE hPrivKey, NCRYPT_KEY_HANDLE hPubKey,
                                             NCRYPT_SECRET_HANDLE* phAgreedSecret, DWORD dwFlags) {
  return boundary([&] {
    check_flags(dwFlags, NCRYPT_SILENT_FLAG);
    const AgreementKey priv = agreement_key(hPrivKey);
    const AgreementKey peer = agreement_key(hPubKey);
    require_arg(phAgreedSecret, "phAgreedSecret is NULL");
    require(priv.provider == peer.provider, NTE_INVALID_PARAMETER,
            "both keys must come from the same provider");
    // Only ECDH keys agree (a key created as ECDSA cannot, as on Windows).
    require(priv.material->algorithm() == KeyAlgorithm::kEcdh, NTE_NOT_SUPPORTED,
            "secret agreement needs an ECDH key");
    require(is_ec(peer.material->algorithm()) && peer.material->curve() == priv.material->curve(),
            NTE_INVALID_PARAMETER, "the peer key is not on the same curve");
    require((priv.key_usage & NCRYPT_ALLOW_KEY_AGREEMENT_FLAG) != 0, NTE_PERM,
            "the key usage does not allow key agreement");
    require(priv.material->has_private(), NTE_INVALID_PARAMETER, "the key has no private part");
    const SecureBytes auth = take_private_use_auth(*priv.object);  // NTE_SILENT_CONTEXT
    const UsageAuthScope auth_scope(auth);
    auto secret = std::make_shared<SecretObject>(priv.material->agree(*peer.material));
    *phAgreedSecret = HandleTable::instance().insert(std::move(secret));
  });
}

SECURITY_STATUS WINAPI NCryptDeriveKey(NCRYPT_SECRET_HANDLE hSharedSecret, LPCWSTR pwszKDF,
                                       NCryptBufferDesc* pParameterList, PBYTE pbDerivedKey,
                                       DWORD cbDerivedKey, DWORD* pcbResult, ULONG dwFlags) {
  return boundary([&] {
    check_flags(dwFlags, KDF_USE_SECRET_AS_HMAC_KEY_FLAG | NCRYPT_SILENT_FLAG);
    const auto secret = HandleTable::instance().get<SecretObject>(hSharedSecret);
    const std::u16string kdf = u16_arg(pwszKDF, NCRYPT_MAX_ALG_ID_LENGTH, "pwszKDF");
    require_arg(pcbResult, "pcbResult is NULL");
    const SecureBytes derived = derive_key(kdf, pParameterList, secret->secret(),
                                           dwFlags & KDF_USE_SECRET_AS_HMAC_KEY_FLAG);
    write_output(derived, pbDerivedKey, cbDerivedKey, pcbResult);
  });
}
