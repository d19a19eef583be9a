// NCryptDeriveKey KDFs: known answers computed here independently with OpenSSL primitives
// (digests and HMAC), and the parameter error statuses.
#include "providers/software/kdf.h"

#include <gtest/gtest.h>
#include <openssl/hmac.h>

#include <string>
#include <utility>
#include <vector>

#include "bcrypt.h"
#include "test_support.h"

namespace cng_test {
namespace {

using cng::SecureBytes;

// Owns the buffers of an NCryptBufferDesc.
class Params {
 public:
  Params& add(ULONG type, Bytes value) {
    values_.push_back(std::move(value));
    types_.push_back(type);
    return *this;
  }
  Params& hash(std::u16string_view name) {
    Bytes utf16;
    for (const char16_t c : name) {
      utf16.push_back(static_cast<std::uint8_t>(c & 0xff));
      utf16.push_back(static_cast<std::uint8_t>(c >> 8));
    }
    utf16.push_back(0);
    utf16.push_back(0);
    return add(KDF_HASH_ALGORITHM, utf16);
  }
  NCryptBufferDesc* desc() {
    buffers_.clear();
    for (std::size_t i = 0; i < values_.size(); ++i) {
      buffers_.push_back(NCryptBuffer{static_cast<ULONG>(values_[i].size()), types_[i],
                                      values_[i].empty() ? nullptr : values_[i].data()});
    }
    desc_ = NCryptBufferDesc{NCRYPTBUFFER_VERSION, static_cast<ULONG>(buffers_.size()),
                             buffers_.data()};
    return &desc_;
  }

 private:
  std::vector<Bytes> values_;
  std::vector<ULONG> types_;
  std::vector<NCryptBuffer> buffers_;
  NCryptBufferDesc desc_{};
};

Bytes cat(std::initializer_list<ByteView> parts) {
  Bytes out;
  for (const auto p : parts) {
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

Bytes hmac(const char* md, ByteView key, ByteView data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  HMAC(EVP_get_digestbyname(md), key.data(), static_cast<int>(key.size()), data.data(), data.size(),
       out.data(), &len);
  out.resize(len);
  return out;
}

// RFC 5246 §5 P_hash.
Bytes p_hash(const char* md, ByteView secret, ByteView seed, std::size_t len) {
  Bytes out;
  Bytes a = hmac(md, secret, seed);
  while (out.size() < len) {
    const Bytes block = hmac(md, secret, cat({a, seed}));
    out.insert(out.end(), block.begin(), block.end());
    a = hmac(md, secret, a);
  }
  out.resize(len);
  return out;
}

Bytes plain(const SecureBytes& s) { return {s.begin(), s.end()}; }

class SoftwareKdf : public ::testing::Test {
 protected:
  SecureBytes secret_ = [] {
    const Bytes r = random_bytes(32);
    return SecureBytes(r.begin(), r.end());
  }();
  Bytes z_ = plain(secret_);  // the big-endian shared secret
  Bytes derive(std::u16string_view kdf, Params& p, DWORD flags = 0, std::size_t len = 0) {
    return plain(cng::derive_key(kdf, p.desc(), secret_, flags, len));
  }
};

TEST_F(SoftwareKdf, HashOverPrependSecretAppend) {
  Params none;
  EXPECT_EQ(plain(cng::derive_key(BCRYPT_KDF_HASH, nullptr, secret_, 0)), digest("SHA1", z_));
  EXPECT_EQ(derive(BCRYPT_KDF_HASH, none), digest("SHA1", z_));
  const Bytes pre1 = random_bytes(5);
  const Bytes pre2 = random_bytes(7);
  const Bytes app = random_bytes(9);
  Params p;
  p.add(KDF_SECRET_PREPEND, pre1).hash(u"SHA256").add(KDF_SECRET_APPEND, app);
  p.add(KDF_SECRET_PREPEND, pre2);  // prepends concatenate in array order
  EXPECT_EQ(derive(BCRYPT_KDF_HASH, p), digest("SHA256", cat({pre1, pre2, z_, app})));
  Params sha512;
  sha512.hash(u"SHA512");
  EXPECT_EQ(derive(BCRYPT_KDF_HASH, sha512).size(), 64U);
}

TEST_F(SoftwareKdf, HmacWithKeyOrSecretAsKey) {
  const Bytes key = random_bytes(20);
  const Bytes pre = random_bytes(3);
  const Bytes app = random_bytes(4);
  Params p;
  p.hash(u"SHA384").add(KDF_HMAC_KEY, key).add(KDF_SECRET_PREPEND, pre).add(KDF_SECRET_APPEND, app);
  EXPECT_EQ(derive(BCRYPT_KDF_HMAC, p), hmac("SHA384", key, cat({pre, z_, app})));
  Params q;
  q.add(KDF_SECRET_APPEND, app);
  EXPECT_EQ(derive(BCRYPT_KDF_HMAC, q, KDF_USE_SECRET_AS_HMAC_KEY_FLAG),
            hmac("SHA1", z_, cat({z_, app})));
  Params missing;
  EXPECT_EQ(status_of([&] { (void)derive(BCRYPT_KDF_HMAC, missing); }), NTE_INVALID_PARAMETER);
}

TEST_F(SoftwareKdf, TlsPrfDefaultsToTls10AndSupportsTls12) {
  const Bytes label = {'m', 'a', 's', 't', 'e', 'r', ' ', 's', 'e', 'c', 'r', 'e', 't'};
  const Bytes seed = random_bytes(64);
  const Bytes ls = cat({label, seed});
  Params p;
  p.add(KDF_TLS_PRF_LABEL, label).add(KDF_TLS_PRF_SEED, seed);
  // TLS 1.0/1.1: P_MD5(S1) xor P_SHA1(S2), S1/S2 the two halves of the secret.
  Bytes expected = p_hash("MD5", ByteView(z_).first(16), ls, 48);
  const Bytes sha1 = p_hash("SHA1", ByteView(z_).last(16), ls, 48);
  for (std::size_t i = 0; i < 48; ++i) {
    expected[i] ^= sha1[i];
  }
  EXPECT_EQ(derive(BCRYPT_KDF_TLS_PRF, p), expected);

  const auto protocol = [](DWORD v) {
    return Bytes{static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(v >> 8), 0, 0};
  };
  Params tls12 = p;
  tls12.add(KDF_TLS_PRF_PROTOCOL, protocol(0x0303));
  EXPECT_EQ(derive(BCRYPT_KDF_TLS_PRF, tls12), p_hash("SHA256", z_, ls, 48));
  Params tls12_384 = tls12;
  tls12_384.hash(u"SHA384");
  EXPECT_EQ(derive(BCRYPT_KDF_TLS_PRF, tls12_384), p_hash("SHA384", z_, ls, 48));

  Params short_seed;
  short_seed.add(KDF_TLS_PRF_LABEL, label).add(KDF_TLS_PRF_SEED, random_bytes(63));
  EXPECT_EQ(status_of([&] { (void)derive(BCRYPT_KDF_TLS_PRF, short_seed); }),
            NTE_INVALID_PARAMETER);
  Params no_label;
  no_label.add(KDF_TLS_PRF_SEED, seed);
  EXPECT_EQ(status_of([&] { (void)derive(BCRYPT_KDF_TLS_PRF, no_label); }), NTE_INVALID_PARAMETER);
  Params ssl3 = p;
  ssl3.add(KDF_TLS_PRF_PROTOCOL, protocol(0x0300));
  EXPECT_EQ(status_of([&] { (void)derive(BCRYPT_KDF_TLS_PRF, ssl3); }), NTE_INVALID_PARAMETER);
}

TEST_F(SoftwareKdf, Sp80056aConcat) {
  const Bytes alg = {0x0a, 'A', 'E', 'S'};
  const Bytes u = random_bytes(8);
  const Bytes v = random_bytes(8);
  const Bytes pub = {0x00, 0x00, 0x01, 0x00};
  Params p;
  p.add(KDF_ALGORITHMID, alg).add(KDF_PARTYUINFO, u).add(KDF_PARTYVINFO, v).hash(u"SHA256");
  p.add(KDF_SUPPPUBINFO, pub);
  const Bytes other = cat({alg, u, v, pub});
  const auto block = [&](const char* md, std::uint8_t counter) {
    return digest(md, cat({Bytes{0, 0, 0, counter}, z_, other}));
  };
  Bytes expected = cat({block("SHA256", 1), block("SHA256", 2)});
  expected.resize(48);
  EXPECT_EQ(derive(BCRYPT_KDF_SP80056A_CONCAT, p, 0, 48), expected);
  EXPECT_EQ(derive(BCRYPT_KDF_SP80056A_CONCAT, p), block("SHA256", 1));  // natural: hash size
  Params sha1;  // empty AlgorithmID/PartyU/PartyV are present, hence valid
  sha1.add(KDF_ALGORITHMID, {}).add(KDF_PARTYUINFO, {}).add(KDF_PARTYVINFO, {});
  EXPECT_EQ(derive(BCRYPT_KDF_SP80056A_CONCAT, sha1), digest("SHA1", cat({Bytes{0, 0, 0, 1}, z_})));
  Params missing;
  missing.add(KDF_ALGORITHMID, alg).add(KDF_PARTYUINFO, u);
  EXPECT_EQ(status_of([&] { (void)derive(BCRYPT_KDF_SP80056A_CONCAT, missing); }),
            NTE_INVALID_PARAMETER);
}

TEST_F(SoftwareKdf, TruncateReturnsTheLittleEndianSecret) {
  Params none;
  const Bytes out = derive(BCRYPT_KDF_RAW_SECRET, none);
  EXPECT_EQ(out, Bytes(z_.rbegin(), z_.rend()));
}

TEST_F(SoftwareKdf, HkdfMatchesRfc5869) {
  const Bytes salt = random_bytes(16);
  const Bytes info = random_bytes(10);
  const auto hkdf = [&](const char* md, ByteView s, std::size_t len) {
    const std::size_t h = digest(md, {}).size();
    const Bytes prk = hmac(md, s.empty() ? Bytes(h, 0) : Bytes(s.begin(), s.end()), z_);
    Bytes okm;
    Bytes t;
    for (std::uint8_t i = 1; okm.size() < len; ++i) {
      t = hmac(md, prk, cat({t, info, Bytes{i}}));
      okm.insert(okm.end(), t.begin(), t.end());
    }
    okm.resize(len);
    return okm;
  };
  Params p;
  p.hash(u"SHA256").add(KDF_HKDF_SALT, salt).add(KDF_HKDF_INFO, info);
  EXPECT_EQ(derive(BCRYPT_KDF_HKDF, p), hkdf("SHA256", salt, 32));
  EXPECT_EQ(derive(BCRYPT_KDF_HKDF, p, 0, 80), hkdf("SHA256", salt, 80));
  Params unsalted;
  unsalted.hash(u"SHA512").add(KDF_HKDF_INFO, info);
  EXPECT_EQ(derive(BCRYPT_KDF_HKDF, unsalted), hkdf("SHA512", {}, 64));
  EXPECT_EQ(status_of([&] { (void)derive(BCRYPT_KDF_HKDF, p, 0, 255 * 32 + 1); }),
            NTE_INVALID_PARAMETER);
}

TEST_F(SoftwareKdf, ErrorStatuses) {
  Params none;
  EXPECT_EQ(status_of([&] { (void)derive(u"PBKDF2", none); }), NTE_NOT_SUPPORTED);
  EXPECT_EQ(status_of([&] { (void)derive(BCRYPT_KDF_HASH, none, 0x100); }), NTE_BAD_FLAGS);
  Params bad_hash;
  bad_hash.hash(u"SHA999");
  EXPECT_EQ(status_of([&] { (void)derive(BCRYPT_KDF_HASH, bad_hash); }), NTE_INVALID_PARAMETER);
  Params twice;
  twice.add(KDF_HMAC_KEY, {1}).add(KDF_HMAC_KEY, {2});
  EXPECT_EQ(status_of([&] { (void)derive(BCRYPT_KDF_HMAC, twice); }), NTE_INVALID_PARAMETER);
  NCryptBufferDesc wrong_version{1, 0, nullptr};
  EXPECT_EQ(status_of([&] { (void)cng::derive_key(BCRYPT_KDF_HASH, &wrong_version, secret_, 0); }),
            NTE_INVALID_PARAMETER);
  NCryptBuffer dangling{4, KDF_SECRET_APPEND, nullptr};
  NCryptBufferDesc with_null{NCRYPTBUFFER_VERSION, 1, &dangling};
  EXPECT_EQ(status_of([&] { (void)cng::derive_key(BCRYPT_KDF_HASH, &with_null, secret_, 0); }),
            NTE_INVALID_PARAMETER);
  NCryptBufferDesc no_array{NCRYPTBUFFER_VERSION, 2, nullptr};
  EXPECT_EQ(status_of([&] { (void)cng::derive_key(BCRYPT_KDF_HASH, &no_array, secret_, 0); }),
            NTE_INVALID_PARAMETER);
}

}  // namespace
}  // namespace cng_test
