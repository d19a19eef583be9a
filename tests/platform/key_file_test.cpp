// What the platform provider writes to disk: only the TPM-wrapped key, useless on any other TPM.
#include "store/key_file.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <tss2/tss2_mu.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "cng_common/ossl_ptr.h"
#include "core/cng_error.h"
#include "openssl_check.h"
#include "platform_test_support.h"
#include "providers/platform/platform_provider.h"
#include "providers/platform/tpm_blob.h"
#include "store/key_store.h"

namespace platform_test {
namespace {

using ncrypt_test::export_key;

using Bn = cng::ossl::BnPtr;

Bn bn_param(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(key, name, &bn);
  return Bn(bn);
}

// Every window of the file, read big- or little-endian, as a candidate private scalar d:
// true when one of them satisfies d·G = Q for the key's public point.
bool file_holds_ec_private_key(const Bytes& file, EVP_PKEY* pub) {
  const cng::ossl::Owned<EC_GROUP> group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
  std::size_t len = 0;
  EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0, &len);
  Bytes q_bytes(len);
  EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, q_bytes.data(), len, &len);
  const cng::ossl::Owned<EC_POINT> q(EC_POINT_new(group.get()));
  const cng::ossl::Owned<EC_POINT> p(EC_POINT_new(group.get()));
  EXPECT_EQ(EC_POINT_oct2point(group.get(), q.get(), q_bytes.data(), len, nullptr), 1);
  for (std::size_t i = 0; i + 32 <= file.size(); ++i) {
    for (const bool little : {false, true}) {
      Bn d(little ? BN_lebin2bn(&file[i], 32, nullptr) : BN_bin2bn(&file[i], 32, nullptr));
      if (BN_is_zero(d.get()) ||
          EC_POINT_mul(group.get(), p.get(), d.get(), nullptr, nullptr, nullptr) != 1) {
        continue;
      }
      if (EC_POINT_cmp(group.get(), p.get(), q.get(), nullptr) == 0) {
        return true;
      }
    }
  }
  return false;
}

// Every window of half the modulus size, as a candidate prime factor p of n.
bool file_holds_rsa_factor(const Bytes& file, EVP_PKEY* pub) {
  const Bn n = bn_param(pub, OSSL_PKEY_PARAM_RSA_N);
  const std::size_t half = static_cast<std::size_t>(BN_num_bytes(n.get())) / 2;
  const cng::ossl::BnCtxPtr ctx(BN_CTX_new());
  const Bn rem(BN_new());
  for (std::size_t i = 0; i + half <= file.size(); ++i) {
    for (const bool little : {false, true}) {
      Bn p(little ? BN_lebin2bn(&file[i], static_cast<int>(half), nullptr)
                  : BN_bin2bn(&file[i], static_cast<int>(half), nullptr));
      if (BN_is_zero(p.get()) || BN_is_one(p.get()) ||
          BN_num_bits(p.get()) < static_cast<int>(half * 8 - 8)) {
        continue;
      }
      if (BN_mod(rem.get(), n.get(), p.get(), ctx.get()) == 1 && BN_is_zero(rem.get())) {
        return true;
      }
    }
  }
  return false;
}

class KeyFileTest : public PlatformTest {
 protected:
  Bytes file_of(const char16_t* name) { return read_file(key_file_path(user_dir(), name)); }
};

TEST_F(KeyFileTest, TheFileHoldsOnlyTheWrappedTpmBlobNeverThePrivateKey) {
  const NCRYPT_KEY_HANDLE ec = create_key(u"ECDSA_P256", u"ec-file");
  const NCRYPT_KEY_HANDLE rsa = create_key(u"RSA", u"rsa-file", 0, 2048);
  const Pkey ec_pub = ncrypt_test::pkey_from_bcrypt_public(export_key(ec, BCRYPT_ECCPUBLIC_BLOB));
  const Pkey rsa_pub = ncrypt_test::pkey_from_bcrypt_public(export_key(rsa, BCRYPT_RSAPUBLIC_BLOB));
  ASSERT_TRUE(ec_pub && rsa_pub);

  // The detectors find a private key in the clear: the software provider's key files.
  NCRYPT_PROV_HANDLE software = 0;
  ASSERT_OK(NCryptOpenStorageProvider(&software, MS_KEY_STORAGE_PROVIDER, 0));
  NCRYPT_KEY_HANDLE soft_ec = 0;
  NCRYPT_KEY_HANDLE soft_rsa = 0;
  ASSERT_OK(NCryptCreatePersistedKey(software, &soft_ec, u"ECDSA_P256", u"soft-ec", 0, 0));
  ASSERT_OK(NCryptFinalizeKey(soft_ec, 0));
  ASSERT_OK(NCryptCreatePersistedKey(software, &soft_rsa, u"RSA", u"soft-rsa", 0, 0));
  ASSERT_OK(ncrypt_test::set_dword(soft_rsa, NCRYPT_LENGTH_PROPERTY, 2048));
  ASSERT_OK(NCryptFinalizeKey(soft_rsa, 0));
  const Pkey soft_ec_pub =
      ncrypt_test::pkey_from_bcrypt_public(export_key(soft_ec, BCRYPT_ECCPUBLIC_BLOB));
  const Pkey soft_rsa_pub =
      ncrypt_test::pkey_from_bcrypt_public(export_key(soft_rsa, BCRYPT_RSAPUBLIC_BLOB));
  // The software provider's store is the scope directory itself (the platform one is below it).
  const auto software_file_of = [&](const char16_t* name) {
    return read_file(key_file_path(user_dir().parent_path(), name));
  };
  // Software keys are encrypted at rest: their files hold no private key either...
  EXPECT_FALSE(file_holds_ec_private_key(software_file_of(u"soft-ec"), soft_ec_pub.get()));
  EXPECT_FALSE(file_holds_rsa_factor(software_file_of(u"soft-rsa"), soft_rsa_pub.get()));
  // ...while the same records written in the clear (a legacy file) are found.
  cng::KeyStore software_store(user_dir().parent_path(), cng::Scope::kUser);
  software_store.protect_at_rest();
  const auto clear_dir = user_dir().parent_path() / "clear-copy";
  cng::KeyStore clear_store(clear_dir, cng::Scope::kUser);
  clear_store.store(software_store.load(u"soft-ec"), true);
  clear_store.store(software_store.load(u"soft-rsa"), true);
  EXPECT_TRUE(file_holds_ec_private_key(read_file(key_file_path(clear_dir, u"soft-ec")),
                                        soft_ec_pub.get()));
  EXPECT_TRUE(
      file_holds_rsa_factor(read_file(key_file_path(clear_dir, u"soft-rsa")), soft_rsa_pub.get()));
  EXPECT_OK(NCryptDeleteKey(soft_ec, 0));
  EXPECT_OK(NCryptDeleteKey(soft_rsa, 0));
  EXPECT_OK(NCryptFreeObject(software));

  // …and find nothing in the TPM keys' files.
  const Bytes ec_file = file_of(u"ec-file");
  const Bytes rsa_file = file_of(u"rsa-file");
  EXPECT_FALSE(file_holds_ec_private_key(ec_file, ec_pub.get()));
  EXPECT_FALSE(file_holds_rsa_factor(rsa_file, rsa_pub.get()));

  // The record's private part is exactly our header + TPM2B_PUBLIC + TPM2B_PRIVATE, and the
  // public area is the key's public key.
  const cng::KeyRecord record = cng::key_file::decode(ec_file);
  EXPECT_EQ(record.provider, MS_PLATFORM_CRYPTO_PROVIDER);
  const cng::tpm::TpmKeyBlob blob = cng::tpm::decode_blob(record.private_blob);
  EXPECT_GT(blob.priv.size, 0u);
  const TPMS_ECC_POINT& q = blob.pub.publicArea.unique.ecc;
  const Bytes exported = export_key(ec, BCRYPT_ECCPUBLIC_BLOB);
  EXPECT_EQ(Bytes(q.x.buffer, q.x.buffer + q.x.size),
            Bytes(exported.begin() + 8, exported.begin() + 40));
  EXPECT_EQ(Bytes(q.y.buffer, q.y.buffer + q.y.size), Bytes(exported.begin() + 40, exported.end()));
  EXPECT_NE(blob.pub.publicArea.objectAttributes & TPMA_OBJECT_FIXEDTPM, 0u);
  EXPECT_NE(blob.pub.publicArea.objectAttributes & TPMA_OBJECT_SENSITIVEDATAORIGIN, 0u);

  EXPECT_OK(NCryptDeleteKey(ec, 0));
  EXPECT_OK(NCryptDeleteKey(rsa, 0));
}

TEST_F(KeyFileTest, AlteredWrappedBlobIsRejectedByTheTpm) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", u"tampered");
  EXPECT_OK(NCryptFreeObject(key));
  const auto path = key_file_path(user_dir(), u"tampered");
  cng::KeyRecord record = cng::key_file::decode(read_file(path));
  record.private_blob[record.private_blob.size() - 5] ^= 0x01;  // inside TPM2B_PRIVATE
  cng::KeyStore(user_dir(), cng::Scope::kUser).update(record);
  NCRYPT_KEY_HANDLE opened = 0;
  ASSERT_OK(NCryptOpenKey(provider_, &opened, u"tampered", 0, 0));
  Bytes sig;
  EXPECT_STATUS(NTE_BAD_DATA, try_sign(opened, nullptr, Bytes(32, 1), 0, sig));
  EXPECT_OK(NCryptDeleteKey(opened, 0));
}

// A key file copied to another TPM's store: that TPM cannot unwrap it (its storage key comes
// from another owner seed), and says so with an NTE_* code.
TEST_F(KeyFileTest, KeyFileCopiedToAnotherTpmCannotBeUsed) {
  const NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", u"travelling");
  EXPECT_OK(NCryptFreeObject(key));
  const auto other_store = test_root() / "other-store";
  std::filesystem::create_directories(other_store);
  std::filesystem::copy_file(key_file_path(user_dir(), u"travelling"),
                             key_file_path(other_store, u"travelling"),
                             std::filesystem::copy_options::overwrite_existing);

  SwtpmProcess other_tpm(test_root() / "tpm-b");
  const std::unique_ptr<cng::Provider> other = cng::make_platform_provider(other_tpm.tcti());
  const cng::KeyRecord record = cng::KeyStore(other_store, cng::Scope::kUser).load(u"travelling");
  try {
    (void)other->from_storage(record);
    ADD_FAILURE() << "another TPM loaded the key";
  } catch (const cng::CngError& e) {
    EXPECT_EQ(static_cast<std::uint32_t>(e.status()), static_cast<std::uint32_t>(NTE_BAD_DATA))
        << e.what();
  }
  // The other TPM works for its own keys, and the first TPM still uses the original.
  // Each signature verifies with OpenSSL against the public key of the key that made it.
  const Bytes hash(32, 3);
  cng::KeySpec spec;
  spec.algorithm = cng::KeyAlgorithm::kEcdsa;
  spec.curve = cng::Curve::kP256;
  const auto own = other->generate(spec);
  const ncrypt_test::Pkey own_pub = ncrypt_test::pkey_from_bcrypt_public(own->public_blob());
  ASSERT_TRUE(own_pub);
  EXPECT_TRUE(ncrypt_test::verify_ecdsa_raw(own_pub.get(), hash, own->sign_hash({}, hash)));
  NCRYPT_KEY_HANDLE original = 0;
  ASSERT_OK(NCryptOpenKey(provider_, &original, u"travelling", 0, 0));
  const ncrypt_test::Pkey original_pub =
      ncrypt_test::pkey_from_bcrypt_public(export_key(original, BCRYPT_ECCPUBLIC_BLOB));
  ASSERT_TRUE(original_pub);
  EXPECT_TRUE(
      ncrypt_test::verify_ecdsa_raw(original_pub.get(), hash, sign(original, nullptr, hash, 0)));
  EXPECT_OK(NCryptDeleteKey(original, 0));

  // Garbage where the wrapped key should be: NTE_BAD_DATA, without touching the TPM.
  cng::KeyRecord garbage = record;
  garbage.private_blob.assign(40, 0x5a);
  try {
    (void)other->from_storage(garbage);
    ADD_FAILURE() << "garbage accepted";
  } catch (const cng::CngError& e) {
    EXPECT_EQ(static_cast<std::uint32_t>(e.status()), static_cast<std::uint32_t>(NTE_BAD_DATA));
  }

  // The provider's PCP properties, asked of the second TPM.
  const auto version = other->provider_property(NCRYPT_PCP_TPM_VERSION_PROPERTY);
  ASSERT_TRUE(version.has_value());
  EXPECT_EQ(*version, (Bytes{2, 0, 0, 0}));
  const auto type = other->provider_property(NCRYPT_PCP_PLATFORM_TYPE_PROPERTY);
  ASSERT_TRUE(type.has_value());
  std::u16string type_text(type->size() / 2, u'\0');
  std::memcpy(type_text.data(), type->data(), type->size());
  EXPECT_EQ(type_text.rfind(u"TPM-Version:2.0", 0), 0u);
  const auto srk = other->provider_property(NCRYPT_PCP_SRKPUB_PROPERTY);
  ASSERT_TRUE(srk.has_value());
  TPM2B_PUBLIC srk_pub{};
  std::size_t offset = 0;
  ASSERT_EQ(Tss2_MU_TPM2B_PUBLIC_Unmarshal(srk->data(), srk->size(), &offset, &srk_pub), 0u);
  EXPECT_EQ(offset, srk->size());
  EXPECT_NE(srk_pub.publicArea.objectAttributes & TPMA_OBJECT_RESTRICTED, 0u);
  EXPECT_NE(srk_pub.publicArea.objectAttributes & TPMA_OBJECT_DECRYPT, 0u);
  EXPECT_FALSE(other->provider_property(u"PCP_NO_SUCH_PROPERTY").has_value());
  const auto usage = own->key_property(NCRYPT_PCP_KEY_USAGE_POLICY_PROPERTY);
  ASSERT_TRUE(usage.has_value());
  EXPECT_EQ(*usage, (Bytes{NCRYPT_PCP_SIGNATURE_KEY, 0, 0, 0}));
}

}  // namespace
}  // namespace platform_test
