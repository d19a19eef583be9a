// The platform (TPM) slots 2 and 3 of libcng_pkcs11.so, dlopen()ed, on a swtpm simulator this
// test starts itself: token labels, mechanism table against what the platform provider reports,
// token and session keys, signatures and decryption cross-checked with plain OpenSSL,
// persistence across C_Initialize, certificates, data objects, attribute changes. Skipped
// without swtpm.
#include <openssl/rsa.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <memory>
#include <set>

#include "ossl_support.h"
#include "p11_fixture.h"
#include "slots/capabilities.h"
#include "swtpm_process.h"

namespace {

using conf::Bytes;
using conf::Template;

// The platform provider's capabilities, asked in a child process so that this process never
// holds a TPM connection of its own next to the module's.
bool ProbeInChild(slots::Capabilities& out) {
  int fds[2];
  if (pipe(fds) != 0) {
    return false;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    slots::Capabilities caps;
    NCRYPT_PROV_HANDLE prov = 0;
    if (NCryptOpenStorageProvider(&prov, MS_PLATFORM_CRYPTO_PROVIDER, 0) == 0) {
      caps = slots::probe_capabilities(prov);
      (void)NCryptFreeObject(prov);
    }
    const ssize_t n = write(fds[1], &caps, sizeof caps);
    _exit(n == static_cast<ssize_t>(sizeof caps) ? 0 : 1);
  }
  close(fds[1]);
  const ssize_t n = pid > 0 ? read(fds[0], &out, sizeof out) : -1;
  close(fds[0]);
  int status = 0;
  if (pid > 0) {
    waitpid(pid, &status, 0);
  }
  return n == static_cast<ssize_t>(sizeof out) && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

class TpmSlot : public conf::P11Test, public ::testing::WithParamInterface<CK_SLOT_ID> {
 protected:
  // One simulator per process, started by the first test: the platform provider keeps its TPM
  // connection for the life of the process (across C_Finalize), so it must not move.
  static void TearDownTestSuite() {
    swtpm_.reset();
    state_dir_.reset();
  }

  void SetUp() override {
    if (!platform_test::swtpm_available()) {
      GTEST_SKIP() << "swtpm is not installed";
    }
    if (!swtpm_) {
      state_dir_ = std::make_unique<conf::TempDir>("swtpm");
      swtpm_ = std::make_unique<platform_test::SwtpmProcess>(state_dir_->path());
      ASSERT_EQ(setenv("CNG_PKCS11_TCTI", swtpm_->tcti().c_str(), 1), 0);
      probed_ = ProbeInChild(caps_);
    }
    ASSERT_TRUE(probed_) << "the platform provider did not answer on swtpm";
    conf::P11Test::SetUp();
  }

  CK_SLOT_ID slot() const { return GetParam(); }

  // The public key of a pair as OpenSSL sees it, from the token's public attributes.
  conf::PKey PublicKey(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub) {
    if (GetUlong(s, pub, CKA_KEY_TYPE) == CKK_RSA) {
      return conf::RsaPublicKey(GetBytes(s, pub, CKA_MODULUS),
                                GetBytes(s, pub, CKA_PUBLIC_EXPONENT));
    }
    return conf::EcPublicKey(GetBytes(s, pub, CKA_EC_PARAMS), GetBytes(s, pub, CKA_EC_POINT));
  }

  void CheckRsaPair(CK_SESSION_HANDLE s, const conf::KeyPair& kp) {
    const conf::PKey key = PublicKey(s, kp.pub);
    ASSERT_NE(key, nullptr);
    const Bytes msg = conf::ToBytes("signed in the TPM");
    CK_MECHANISM sha256_pkcs{CKM_SHA256_RSA_PKCS, nullptr, 0};
    EXPECT_TRUE(
        conf::VerifyRsaPkcs1(key.get(), EVP_sha256(), msg, Sign(s, &sha256_pkcs, kp.priv, msg)));
    CK_RSA_PKCS_PSS_PARAMS pss{CKM_SHA256, CKG_MGF1_SHA256, 32};
    CK_MECHANISM pss_mech{CKM_RSA_PKCS_PSS, &pss, sizeof pss};
    const Bytes digest = conf::Digest(EVP_sha256(), msg);
    EXPECT_TRUE(conf::VerifyRsaPss(key.get(), EVP_sha256(), EVP_sha256(), 32, digest,
                                   Sign(s, &pss_mech, kp.priv, digest), true));
    // Raw RSA (the libp11 engine's TLS 1.3 path): OpenSSL pads, the TPM does the private
    // operation; the public operation gives the block back left-padded to k.
    CK_MECHANISM raw{CKM_RSA_X_509, nullptr, 0};
    const Bytes block = {0x00, 0x2a, 0x17, 0x99};
    Bytes expected(256 - block.size(), 0);
    expected.insert(expected.end(), block.begin(), block.end());
    EXPECT_EQ(conf::RsaEncrypt(key.get(), RSA_NO_PADDING, nullptr, Sign(s, &raw, kp.priv, block)),
              expected);
    // Decryption of what plain OpenSSL encrypted: PKCS#1 v1.5, and OAEP SHA-256 without label.
    const Bytes secret = conf::ToBytes("a TPM-held secret");
    CK_MECHANISM pkcs{CKM_RSA_PKCS, nullptr, 0};
    EXPECT_EQ(
        Decrypt(s, &pkcs, kp.priv, conf::RsaEncrypt(key.get(), RSA_PKCS1_PADDING, nullptr, secret)),
        secret);
    CK_RSA_PKCS_OAEP_PARAMS oaep{CKM_SHA256, CKG_MGF1_SHA256, CKZ_DATA_SPECIFIED, nullptr, 0};
    CK_MECHANISM oaep_mech{CKM_RSA_PKCS_OAEP, &oaep, sizeof oaep};
    EXPECT_EQ(Decrypt(s, &oaep_mech, kp.priv,
                      conf::RsaEncrypt(key.get(), RSA_PKCS1_OAEP_PADDING, EVP_sha256(), secret)),
              secret);
  }

  void CheckEcPair(CK_SESSION_HANDLE s, const conf::KeyPair& kp) {
    const conf::PKey key = PublicKey(s, kp.pub);
    ASSERT_NE(key, nullptr);
    const Bytes digest = conf::Digest(EVP_sha256(), conf::ToBytes("ECDSA in the TPM"));
    CK_MECHANISM ecdsa{CKM_ECDSA, nullptr, 0};
    const Bytes sig = Sign(s, &ecdsa, kp.priv, digest);
    EXPECT_EQ(sig.size(), 64U);
    EXPECT_TRUE(conf::VerifyEcdsa(key.get(), EVP_sha256(), digest, sig, true));
  }

  CK_MECHANISM_INFO Info(CK_MECHANISM_TYPE type, CK_RV expected = CKR_OK) {
    CK_MECHANISM_INFO info{};
    EXPECT_CKR(expected, f_->C_GetMechanismInfo(slot(), type, &info))
        << "mechanism 0x" << std::hex << type;
    return info;
  }

  static inline slots::Capabilities caps_{};

 private:
  static inline bool probed_ = false;
  static inline std::unique_ptr<conf::TempDir> state_dir_;
  static inline std::unique_ptr<platform_test::SwtpmProcess> swtpm_;
};

TEST_P(TpmSlot, SlotAndTokenInfo) {
  CK_SLOT_INFO si{};
  ASSERT_CKR(CKR_OK, f_->C_GetSlotInfo(slot(), &si));
  EXPECT_NE(si.flags & CKF_HW_SLOT, 0U);
  EXPECT_NE(si.flags & CKF_TOKEN_PRESENT, 0U);
  EXPECT_EQ(conf::Trimmed(si.slotDescription, sizeof si.slotDescription),
            std::string("Microsoft Platform Crypto Provider (TPM), ") +
                (slot() == 2 ? "user" : "machine") + " scope");
  EXPECT_EQ(conf::Trimmed(si.manufacturerID, sizeof si.manufacturerID), "cng-pkcs11");
  CK_TOKEN_INFO ti{};
  ASSERT_CKR(CKR_OK, f_->C_GetTokenInfo(slot(), &ti));
  EXPECT_EQ(conf::Trimmed(ti.label, sizeof ti.label),
            slot() == 2 ? "CNG Platform (user)" : "CNG Platform (machine)");
  EXPECT_EQ(conf::Trimmed(ti.model, sizeof ti.model), "Platform KSP");
  EXPECT_EQ(conf::Trimmed(ti.manufacturerID, sizeof ti.manufacturerID), "cng-pkcs11");
  EXPECT_TRUE(conf::IsBlankPaddedText(ti.label, sizeof ti.label));
}

TEST_P(TpmSlot, MechanismsFollowTheProviderCapabilities) {
  CK_ULONG count = 0;
  ASSERT_CKR(CKR_OK, f_->C_GetMechanismList(slot(), nullptr, &count));
  std::vector<CK_MECHANISM_TYPE> list(count);
  ASSERT_CKR(CKR_OK, f_->C_GetMechanismList(slot(), list.data(), &count));
  const std::set<CK_MECHANISM_TYPE> offered(list.begin(), list.end());
  ASSERT_TRUE(caps_.rsa) << "swtpm always has RSA";
  ASSERT_TRUE(caps_.ecdsa_p256) << "swtpm always has P-256";
  for (CK_MECHANISM_TYPE t : {CKM_RSA_PKCS_KEY_PAIR_GEN, CKM_RSA_PKCS, CKM_SHA256_RSA_PKCS,
                              CKM_RSA_PKCS_PSS, CKM_RSA_PKCS_OAEP}) {
    EXPECT_EQ(offered.count(t), 1U) << "0x" << std::hex << t;
    const CK_MECHANISM_INFO info = Info(t);
    EXPECT_EQ(info.ulMinKeySize, caps_.rsa_bits.min_bits);
    EXPECT_EQ(info.ulMaxKeySize, caps_.rsa_bits.max_bits);
  }
  // Raw RSA (TPM2_RSA_Decrypt, NULL scheme) signs, verifies, encrypts and decrypts.
  EXPECT_EQ(offered.count(CKM_RSA_X_509), 1U);
  EXPECT_EQ(Info(CKM_RSA_X_509).flags, CKF_SIGN | CKF_VERIFY | CKF_ENCRYPT | CKF_DECRYPT);
  EXPECT_EQ(offered.count(CKM_SHA224_RSA_PKCS), 0U);
  Info(CKM_SHA224_RSA_PKCS, CKR_MECHANISM_INVALID);
  // EC: the key size range spans exactly the curves the TPM has (P-521 only if it has it).
  const CK_ULONG ec_max = (caps_.ecdsa_p521 || caps_.ecdh_p521)   ? 521U
                          : (caps_.ecdsa_p384 || caps_.ecdh_p384) ? 384U
                                                                  : 256U;
  for (CK_MECHANISM_TYPE t : {CKM_EC_KEY_PAIR_GEN, CKM_ECDSA, CKM_ECDSA_SHA256}) {
    EXPECT_EQ(offered.count(t), 1U) << "0x" << std::hex << t;
    const CK_MECHANISM_INFO info = Info(t);
    EXPECT_EQ(info.ulMinKeySize, 256U);
    EXPECT_EQ(info.ulMaxKeySize, ec_max);
  }
  // ECDH derives a secret key (a generic secret unless the template says AES): offered only
  // where the provider also keeps generic secrets, which the platform provider does not.
  EXPECT_FALSE(caps_.generic_secret);
  EXPECT_EQ(offered.count(CKM_ECDH1_DERIVE), caps_.any_ecdh() && caps_.generic_secret ? 1U : 0U);
  // A curve beyond the TPM's range is refused at generation.
  if (!caps_.ecdsa_p521 && !caps_.ecdh_p521) {
    const CK_SESSION_HANDLE s = OpenSession(slot());
    EXPECT_FALSE(GenerateEc(s, conf::EcParamsP521()).ok());
  }
}

TEST_P(TpmSlot, SessionAndTokenKeyPairsSignAndDecrypt) {
  const CK_SESSION_HANDLE s = OpenSession(slot());
  for (bool token : {false, true}) {
    SCOPED_TRACE(token ? "token keys" : "session keys");
    conf::KeyOptions o;
    o.token = token;
    o.derive = false;
    const conf::KeyPair rsa = GenerateRsa(s, 2048, o);
    ASSERT_TRUE(rsa.ok()) << conf::RvName(rsa.rv);
    EXPECT_EQ(GetBool(s, rsa.priv, CKA_TOKEN), token);
    EXPECT_EQ(GetUlong(s, rsa.pub, CKA_MODULUS_BITS), 2048U);
    CheckRsaPair(s, rsa);
    o.decrypt = false;
    const conf::KeyPair ec = GenerateEc(s, conf::EcParamsP256(), o);
    ASSERT_TRUE(ec.ok()) << conf::RvName(ec.rv);
    CheckEcPair(s, ec);
    for (CK_OBJECT_HANDLE h : {rsa.pub, rsa.priv, ec.pub, ec.priv}) {
      EXPECT_CKR(CKR_OK, f_->C_DestroyObject(s, h));
    }
  }
}

TEST_P(TpmSlot, TokenKeyFoundAfterReinitializeWithItsAttributes) {
  const Bytes id = conf::ToBytes("tpm-persist-id");
  CK_SESSION_HANDLE s = OpenSession(slot());
  conf::KeyOptions o;
  o.token = true;
  o.label = "persisted TPM key";
  o.id = id;
  const conf::KeyPair kp = GenerateRsa(s, 2048, o);
  ASSERT_TRUE(kp.ok()) << conf::RvName(kp.rv);
  const Bytes modulus = GetBytes(s, kp.pub, CKA_MODULUS);
  const CK_ATTRIBUTE_TYPE compared[] = {CKA_LABEL, CKA_ID, CKA_MODULUS, CKA_PUBLIC_EXPONENT};
  std::vector<Bytes> before;
  for (CK_ATTRIBUTE_TYPE t : compared) {
    before.push_back(GetBytes(s, kp.priv, t));
  }
  Reinitialize();
  s = OpenSession(slot());
  Template find;
  find.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Raw(CKA_ID, id);
  const auto found = Find(s, find);
  ASSERT_EQ(found.size(), 1U);
  for (std::size_t i = 0; i < std::size(compared); ++i) {
    EXPECT_EQ(GetBytes(s, found[0], compared[i]), before[i])
        << "attribute 0x" << std::hex << compared[i];
  }
  EXPECT_TRUE(GetBool(s, found[0], CKA_TOKEN));
  EXPECT_EQ(GetUlong(s, found[0], CKA_KEY_TYPE), CKK_RSA);
  // The found key still signs, verifiably with the public key read before.
  const conf::PKey key = conf::RsaPublicKey(modulus, GetBytes(s, found[0], CKA_PUBLIC_EXPONENT));
  const Bytes msg = conf::ToBytes("after C_Initialize");
  CK_MECHANISM mech{CKM_SHA256_RSA_PKCS, nullptr, 0};
  EXPECT_TRUE(conf::VerifyRsaPkcs1(key.get(), EVP_sha256(), msg, Sign(s, &mech, found[0], msg)));
  // CKA_LABEL changes, and stays changed.
  const std::string relabel = "relabelled TPM key";
  Template set;
  set.Str(CKA_LABEL, relabel);
  EXPECT_CKR(CKR_OK, f_->C_SetAttributeValue(s, found[0], set.data(), set.size()));
  EXPECT_EQ(GetBytes(s, found[0], CKA_LABEL), conf::ToBytes(relabel));
  EXPECT_EQ(FindByLabel(s, CKO_PRIVATE_KEY, relabel).size(), 1U);
  Template pub;
  pub.Ulong(CKA_CLASS, CKO_PUBLIC_KEY).Raw(CKA_ID, id);
  for (CK_OBJECT_HANDLE h : Find(s, pub)) {
    EXPECT_CKR(CKR_OK, f_->C_DestroyObject(s, h));
  }
  EXPECT_CKR(CKR_OK, f_->C_DestroyObject(s, found[0]));
  Template any;
  any.Raw(CKA_ID, id);
  EXPECT_TRUE(Find(s, any).empty());
}

TEST_P(TpmSlot, CertificatesCreatedAndFoundByIdAndSubject) {
  const CK_SESSION_HANDLE s = OpenSession(slot());
  const conf::TestCert cert = conf::MakeSelfSignedCert("TPM slot certificate");
  const Bytes id = conf::ToBytes("tpm-cert-id");
  Template create;
  create.Ulong(CKA_CLASS, CKO_CERTIFICATE)
      .Ulong(CKA_CERTIFICATE_TYPE, CKC_X_509)
      .Bool(CKA_TOKEN, true)
      .Str(CKA_LABEL, "tpm cert")
      .Raw(CKA_ID, id)
      .Raw(CKA_SUBJECT, cert.subject)
      .Raw(CKA_VALUE, cert.der);
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, f_->C_CreateObject(s, create.data(), create.size(), &h));
  Template by_id;
  by_id.Ulong(CKA_CLASS, CKO_CERTIFICATE).Raw(CKA_ID, id);
  const auto found_id = Find(s, by_id);
  ASSERT_EQ(found_id.size(), 1U);
  EXPECT_EQ(GetBytes(s, found_id[0], CKA_VALUE), cert.der);
  Template by_subject;
  by_subject.Ulong(CKA_CLASS, CKO_CERTIFICATE).Raw(CKA_SUBJECT, cert.subject);
  const auto found_subject = Find(s, by_subject);
  ASSERT_EQ(found_subject.size(), 1U);
  EXPECT_EQ(GetBytes(s, found_subject[0], CKA_ID), id);
  EXPECT_CKR(CKR_OK, f_->C_DestroyObject(s, found_id[0]));
  EXPECT_TRUE(Find(s, by_id).empty());
}

// Data objects of a platform slot are the platform provider's own: kept in the scope's
// "platform/data" directory, not shown by the software slot of the same scope.
TEST_P(TpmSlot, DataObjectsKeptApartFromTheSoftwareSlot) {
  CK_SESSION_HANDLE s = OpenSession(slot());
  Template create;
  create.Ulong(CKA_CLASS, CKO_DATA)
      .Bool(CKA_TOKEN, true)
      .Str(CKA_LABEL, "tpm data")
      .Str(CKA_APPLICATION, "tpm app")
      .Raw(CKA_VALUE, {1, 2, 3});
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  ASSERT_CKR(CKR_OK, f_->C_CreateObject(s, create.data(), create.size(), &h));
  const std::string scope_dir = slot() == 2 ? user_dir() : machine_dir();
  const std::filesystem::path dir = std::filesystem::path(scope_dir) / "platform" / "data";
  ASSERT_TRUE(std::filesystem::is_directory(dir));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir),
                          std::filesystem::directory_iterator()),
            1);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(scope_dir) / "data"));
  Reinitialize();
  s = OpenSession(slot());
  Template by_app;
  by_app.Ulong(CKA_CLASS, CKO_DATA).Str(CKA_APPLICATION, "tpm app");
  const auto found = Find(s, by_app);
  ASSERT_EQ(found.size(), 1U);
  EXPECT_EQ(GetBytes(s, found[0], CKA_VALUE), (Bytes{1, 2, 3}));
  const CK_SESSION_HANDLE software =
      OpenSession(slot() - 2);  // the software slot of the same scope
  EXPECT_TRUE(Find(software, by_app).empty());
  EXPECT_CKR(CKR_OK, f_->C_DestroyObject(s, found[0]));
  EXPECT_TRUE(Find(s, by_app).empty());
}

INSTANTIATE_TEST_SUITE_P(PlatformSlots, TpmSlot, ::testing::Values(CK_SLOT_ID{2}, CK_SLOT_ID{3}),
                         [](const ::testing::TestParamInfo<CK_SLOT_ID>& p) {
                           return p.param == 2 ? std::string("user") : std::string("machine");
                         });

}  // namespace
