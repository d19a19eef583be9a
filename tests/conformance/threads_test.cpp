// Concurrency: 8 threads, each with its own sessions, signing with shared RSA-2048 and P-256
// token keys and generating session and token keys, for CONF_THREAD_SECONDS (default 3)
// seconds and at least kMinRounds rounds each. Every signature is verified with OpenSSL.
// The outcome does not depend on timing: the duration only scales the amount of work.
// A second test does the same with data objects (create, set, get, copy, find, destroy).
#include <openssl/evp.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include "ossl_support.h"
#include "p11_fixture.h"

namespace conf {
namespace {

constexpr int kThreads = 8;
constexpr int kMinRounds = 3;

double ConfiguredSeconds() {
  const char* env = std::getenv("CONF_THREAD_SECONDS");
  return env != nullptr ? std::atof(env) : 3.0;
}

class ThreadsTest : public P11Test {
 protected:
  // Work of one thread; returns a description of the first failure, empty on success.
  std::string Worker(int index, std::chrono::steady_clock::time_point deadline);

  KeyPair rsa_;
  KeyPair ec_;
  PKey rsa_pub_;
  PKey ec_pub_;
  std::atomic<long> signatures_{0};
  std::atomic<long> keys_{0};
};

std::string ThreadsTest::Worker(int index, std::chrono::steady_clock::time_point deadline) {
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  CK_RV rv =
      f_->C_OpenSession(kUserSlot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s);
  if (rv != CKR_OK) {
    return "C_OpenSession: " + RvName(rv);
  }
  const std::string tag = "thread-" + std::to_string(index);
  for (int round = 0; round < kMinRounds || std::chrono::steady_clock::now() < deadline; ++round) {
    Bytes data = ToBytes(tag + " round " + std::to_string(round));
    const auto dlen = static_cast<CK_ULONG>(data.size());
    CK_MECHANISM rsa_mech{CKM_SHA256_RSA_PKCS, nullptr, 0};
    CK_MECHANISM ec_mech{CKM_ECDSA_SHA256, nullptr, 0};
    for (auto [mech, key] : {std::pair{&rsa_mech, rsa_.priv}, std::pair{&ec_mech, ec_.priv}}) {
      Bytes sig(512);
      CK_ULONG len = static_cast<CK_ULONG>(sig.size());
      if ((rv = f_->C_SignInit(s, mech, key)) != CKR_OK ||
          (rv = f_->C_Sign(s, data.data(), dlen, sig.data(), &len)) != CKR_OK) {
        return "sign round " + std::to_string(round) + ": " + RvName(rv);
      }
      sig.resize(len);
      const bool ok = mech == &rsa_mech
                          ? VerifyRsaPkcs1(rsa_pub_.get(), EVP_sha256(), data, sig)
                          : VerifyEcdsa(ec_pub_.get(), EVP_sha256(), data, sig, false);
      if (!ok) {
        return "OpenSSL rejected a signature in round " + std::to_string(round);
      }
      ++signatures_;
    }
    // Alternate session and token key generation; token keys are destroyed again.
    const bool token = round % 2 == 1;
    Template pub;
    Template priv;
    pub.Bool(CKA_TOKEN, token).Raw(CKA_EC_PARAMS, EcParamsP256()).Str(CKA_LABEL, tag);
    priv.Bool(CKA_TOKEN, token).Bool(CKA_SIGN, true).Str(CKA_LABEL, tag);
    CK_MECHANISM gen{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
    CK_OBJECT_HANDLE hpub = 0;
    CK_OBJECT_HANDLE hpriv = 0;
    if ((rv = f_->C_GenerateKeyPair(s, &gen, pub.data(), pub.size(), priv.data(), priv.size(),
                                    &hpub, &hpriv)) != CKR_OK) {
      return "generate (token=" + std::to_string(token) + "): " + RvName(rv);
    }
    ++keys_;
    Bytes hash(32, static_cast<unsigned char>(round));
    CK_MECHANISM raw{CKM_ECDSA, nullptr, 0};
    Bytes sig(64);
    CK_ULONG len = 64;
    if ((rv = f_->C_SignInit(s, &raw, hpriv)) != CKR_OK ||
        (rv = f_->C_Sign(s, hash.data(), 32, sig.data(), &len)) != CKR_OK) {
      return "sign with fresh key: " + RvName(rv);
    }
    sig.resize(len);
    // OpenSSL checks the fresh key's signature against the public key the token reports.
    Bytes point(160);
    CK_ATTRIBUTE point_attr{CKA_EC_POINT, point.data(), static_cast<CK_ULONG>(point.size())};
    if ((rv = f_->C_GetAttributeValue(s, hpub, &point_attr, 1)) != CKR_OK) {
      return "CKA_EC_POINT of the fresh key: " + RvName(rv);
    }
    point.resize(point_attr.ulValueLen);
    const PKey fresh_pub = EcPublicKey(EcParamsP256(), point);
    if (!fresh_pub || !VerifyEcdsa(fresh_pub.get(), nullptr, hash, sig, true)) {
      return "OpenSSL rejected the fresh key's signature in round " + std::to_string(round);
    }
    // Each thread's label is unique, so exactly one private key carries it right now.
    Template find;
    find.Ulong(CKA_CLASS, CKO_PRIVATE_KEY).Str(CKA_LABEL, tag);
    CK_OBJECT_HANDLE found[4];
    CK_ULONG n = 0;
    if ((rv = f_->C_FindObjectsInit(s, find.data(), find.size())) != CKR_OK ||
        (rv = f_->C_FindObjects(s, found, 4, &n)) != CKR_OK ||
        (rv = f_->C_FindObjectsFinal(s)) != CKR_OK) {
      return "find: " + RvName(rv);
    }
    if (n != 1) {
      return "found " + std::to_string(n) + " keys labelled " + tag;
    }
    // Public first: destroy order semantics are checked in object_test.cpp.
    if ((rv = f_->C_DestroyObject(s, hpub)) != CKR_OK ||
        (rv = f_->C_DestroyObject(s, hpriv)) != CKR_OK) {
      return "destroy: " + RvName(rv);
    }
    CK_TOKEN_INFO info;
    if ((rv = f_->C_GetTokenInfo(kUserSlot, &info)) != CKR_OK) {
      return "C_GetTokenInfo: " + RvName(rv);
    }
  }
  if ((rv = f_->C_CloseSession(s)) != CKR_OK) {
    return "C_CloseSession: " + RvName(rv);
  }
  return "";
}

TEST_F(ThreadsTest, EightThreadsSignAndGenerate) {
  const CK_SESSION_HANDLE s = OpenSession();
  rsa_ = GenerateRsa(s, 2048, {.token = true, .label = "shared-rsa"});
  ec_ = GenerateEc(s, EcParamsP256(), {.token = true, .label = "shared-ec"});
  ASSERT_TRUE(rsa_.ok() && ec_.ok());
  rsa_pub_ =
      RsaPublicKey(GetBytes(s, rsa_.pub, CKA_MODULUS), GetBytes(s, rsa_.pub, CKA_PUBLIC_EXPONENT));
  ec_pub_ = EcPublicKey(GetBytes(s, ec_.pub, CKA_EC_PARAMS), GetBytes(s, ec_.pub, CKA_EC_POINT));
  ASSERT_NE(rsa_pub_, nullptr);
  ASSERT_NE(ec_pub_, nullptr);

  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(ConfiguredSeconds()));
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      std::string err = Worker(i, deadline);
      if (!err.empty()) {
        std::lock_guard<std::mutex> lock(failures_mutex);
        failures.push_back("thread " + std::to_string(i) + ": " + err);
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (const auto& f : failures) {
    ADD_FAILURE() << f;
  }
  EXPECT_GE(signatures_.load(), 2L * kThreads * kMinRounds);
  EXPECT_GE(keys_.load(), 1L * kThreads * kMinRounds);
  // Only the two shared key pairs remain on the token.
  Template tokens;
  tokens.Bool(CKA_TOKEN, true).Ulong(CKA_CLASS, CKO_PRIVATE_KEY);
  EXPECT_EQ(Find(s, tokens).size(), 2u);
  std::printf("signatures: %ld, key pairs: %ld\n", signatures_.load(), keys_.load());
}

// Data objects from 8 threads: each thread creates, changes, finds, copies and destroys its own
// token and session data objects while the others do the same (one object table, one store).
std::string DataWorker(CK_FUNCTION_LIST* f, int index,
                       std::chrono::steady_clock::time_point deadline) {
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  CK_RV rv = f->C_OpenSession(kUserSlot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s);
  if (rv != CKR_OK) {
    return "C_OpenSession: " + RvName(rv);
  }
  const std::string app = "data-thread-" + std::to_string(index);
  for (int round = 0; round < kMinRounds || std::chrono::steady_clock::now() < deadline; ++round) {
    const std::string where = " (round " + std::to_string(round) + "): ";
    CK_OBJECT_HANDLE h[2] = {};
    for (const bool token : {true, false}) {
      Template t;
      t.Ulong(CKA_CLASS, CKO_DATA).Bool(CKA_TOKEN, token).Str(CKA_APPLICATION, app);
      t.Raw(CKA_VALUE, Bytes(100, static_cast<unsigned char>(round)));
      if ((rv = f->C_CreateObject(s, t.data(), t.size(), &h[token ? 0 : 1])) != CKR_OK) {
        return "create" + where + RvName(rv);
      }
    }
    Template change;
    const Bytes value = ToBytes(app + where);
    change.Raw(CKA_VALUE, value);
    if ((rv = f->C_SetAttributeValue(s, h[0], change.data(), change.size())) != CKR_OK) {
      return "set" + where + RvName(rv);
    }
    Bytes back(value.size());
    CK_ATTRIBUTE get{CKA_VALUE, back.data(), static_cast<CK_ULONG>(back.size())};
    if ((rv = f->C_GetAttributeValue(s, h[0], &get, 1)) != CKR_OK || back != value) {
      return "get" + where + RvName(rv);
    }
    CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
    Template to_session;
    to_session.Bool(CKA_TOKEN, false);
    if ((rv = f->C_CopyObject(s, h[0], to_session.data(), to_session.size(), &copy)) != CKR_OK) {
      return "copy" + where + RvName(rv);
    }
    // Exactly this thread's three objects carry its application name.
    Template find;
    find.Ulong(CKA_CLASS, CKO_DATA).Str(CKA_APPLICATION, app);
    CK_OBJECT_HANDLE found[8];
    CK_ULONG n = 0;
    if ((rv = f->C_FindObjectsInit(s, find.data(), find.size())) != CKR_OK ||
        (rv = f->C_FindObjects(s, found, 8, &n)) != CKR_OK ||
        (rv = f->C_FindObjectsFinal(s)) != CKR_OK) {
      return "find" + where + RvName(rv);
    }
    if (n != 3) {
      return "found " + std::to_string(n) + " objects" + where;
    }
    for (const CK_OBJECT_HANDLE o : {h[0], h[1], copy}) {
      if ((rv = f->C_DestroyObject(s, o)) != CKR_OK) {
        return "destroy" + where + RvName(rv);
      }
    }
  }
  return (rv = f->C_CloseSession(s)) == CKR_OK ? "" : "C_CloseSession: " + RvName(rv);
}

TEST_F(ThreadsTest, EightThreadsWorkOnDataObjects) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(ConfiguredSeconds()));
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      std::string err = DataWorker(f_, i, deadline);
      if (!err.empty()) {
        std::lock_guard<std::mutex> lock(failures_mutex);
        failures.push_back("thread " + std::to_string(i) + ": " + err);
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (const auto& f : failures) {
    ADD_FAILURE() << f;
  }
  const CK_SESSION_HANDLE s = OpenSession();
  Template data;
  data.Ulong(CKA_CLASS, CKO_DATA);
  EXPECT_TRUE(Find(s, data).empty());
  Reinitialize();
  EXPECT_TRUE(Find(OpenSession(), data).empty()) << "a destroyed token object is still stored";
}

}  // namespace
}  // namespace conf
