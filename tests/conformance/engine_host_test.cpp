// The module inside a host whose default RSA/EC methods come from an OpenSSL ENGINE, as in
// `openssl req -engine pkcs11 …` (the libp11 engine loading this very module). OpenSSL then
// routes EVP operations on RSA/EC keys named the legacy way to the engine; the module must keep
// generating, loading and signing with its own keys. Found by the libp11 engine interop test.
#define OPENSSL_SUPPRESS_DEPRECATED  // the ENGINE API is what such hosts use

#include <openssl/engine.h>
#include <openssl/err.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "ossl_support.h"
#include "p11_fixture.h"

namespace conf {
namespace {

class EngineHostTest : public P11Test {
 protected:
  // The libp11 engine leaks what it allocates (the methods it registers, and a new
  // EVP_PKEY_METHOD each time OpenSSL asks it for one), so leak checking looks away for this
  // test; the rest of the suite checks the module's own allocations.
  static void ignore_leaks(bool ignore) {
#if defined(__SANITIZE_ADDRESS__)
    ignore ? __lsan_disable() : __lsan_enable();
#else
    (void)ignore;
#endif
  }
  void SetUp() override {
    ignore_leaks(true);
    engine_ = ENGINE_by_id("pkcs11");
    if (engine_ == nullptr) {
      ignore_leaks(false);
      ERR_clear_error();
      GTEST_SKIP() << "libp11 engine (libengine-pkcs11-openssl) not installed";
    }
    // What `openssl -engine pkcs11` does: the engine becomes the default for every method.
    ASSERT_EQ(ENGINE_set_default(engine_, ENGINE_METHOD_ALL), 1);
    P11Test::SetUp();
  }
  void TearDown() override {
    P11Test::TearDown();
    if (engine_ != nullptr) {
      ENGINE_unregister_RSA(engine_);
      ENGINE_unregister_EC(engine_);
      ENGINE_unregister_pkey_meths(engine_);
      // Off the engine list now, while leaks are ignored: removing it runs libp11's method
      // cleanup, which otherwise runs in OPENSSL_cleanup at exit and leaves EVP_PKEY_METHODs
      // of its own behind (seen when the TSS stack of the platform slots used the engine).
      ENGINE_remove(engine_);
      ENGINE_free(engine_);
      ignore_leaks(false);
    }
  }
  ENGINE* engine_ = nullptr;
};

TEST_F(EngineHostTest, TokenKeysAreFoundAndSignUnderEngineDefaults) {
  const CK_SESSION_HANDLE s = OpenSession();
  const KeyPair rsa = GenerateRsa(s, 2048, {.token = true});
  const KeyPair ec = GenerateEc(s, EcParamsP256(), {.token = true});
  ASSERT_TRUE(rsa.ok() && ec.ok());
  // A fresh initialisation reloads the token keys from the store (public keys rebuilt from
  // their CNG blobs): both must still be there.
  Reinitialize();
  const CK_SESSION_HANDLE s2 = OpenSession();
  Template rsa_query;
  rsa_query.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Ulong(CKA_KEY_TYPE, CKK_RSA);
  Template ec_query;
  ec_query.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Ulong(CKA_KEY_TYPE, CKK_EC);
  const auto rsa_keys = Find(s2, rsa_query);
  const auto ec_keys = Find(s2, ec_query);
  ASSERT_EQ(rsa_keys.size(), 1U);
  ASSERT_EQ(ec_keys.size(), 1U);
  const Bytes data(100, 0x5a);
  CK_MECHANISM sha256_rsa{CKM_SHA256_RSA_PKCS, nullptr, 0};
  CK_RV rv = CKR_OK;
  const Bytes rsa_sig = Sign(s2, &sha256_rsa, rsa_keys[0], data, &rv);
  EXPECT_EQ(rv, CKR_OK);
  EXPECT_EQ(rsa_sig.size(), 256U);
  CK_MECHANISM ecdsa{CKM_ECDSA_SHA256, nullptr, 0};
  const Bytes ec_sig = Sign(s2, &ecdsa, ec_keys[0], data, &rv);
  EXPECT_EQ(rv, CKR_OK);
  EXPECT_EQ(ec_sig.size(), 64U);
}

}  // namespace
}  // namespace conf
