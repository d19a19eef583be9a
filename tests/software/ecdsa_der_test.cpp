// ecdsa_der_to_raw against OpenSSL: every ECDSA-Sig-Value i2d_ECDSA_SIG writes for r and s of
// the sizes P-256, P-384 and P-521 give (short and long form lengths, values with the high bit
// set, with leading zero octets, tiny ones) turns into BN_bn2binpad(r) ‖ BN_bn2binpad(s); what is
// not exactly one such SEQUENCE is refused.
#include "providers/software/ecdsa_der.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/rand.h>

#include <cstdint>
#include <vector>

#include "cng_common/ossl_ptr.h"

namespace {

using Bytes = std::vector<std::uint8_t>;

cng::ossl::BnPtr bn_of(const Bytes& big_endian) {
  return cng::ossl::BnPtr(
      BN_bin2bn(big_endian.data(), static_cast<int>(big_endian.size()), nullptr));
}

// A value of n bytes: random, then shaped (top octet forced high, or zeroed leading octets).
Bytes value(std::size_t n, int shape) {
  Bytes v(n);
  EXPECT_EQ(RAND_bytes(v.data(), static_cast<int>(n)), 1);
  if (shape == 1) {
    v[0] |= 0x80;  // DER needs a 00 sign octet
  } else if (shape == 2) {
    for (std::size_t i = 0; i < n / 3; ++i) {
      v[i] = 0;  // shorter INTEGER, left-padded back
    }
  } else if (shape == 3) {
    std::fill(v.begin(), v.end() - 1, 0);  // a one-octet INTEGER
    v.back() |= 1;
  }
  return v;
}

Bytes der_of(const Bytes& r, const Bytes& s) {
  cng::ossl::Owned<ECDSA_SIG> sig(ECDSA_SIG_new());
  auto br = bn_of(r);
  auto bs = bn_of(s);
  EXPECT_EQ(ECDSA_SIG_set0(sig.get(), br.release(), bs.release()), 1);
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  EXPECT_GT(len, 0);
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

Bytes padded(const Bytes& v, std::size_t n) {
  Bytes out(n);
  auto bn = bn_of(v);
  EXPECT_EQ(BN_bn2binpad(bn.get(), out.data(), static_cast<int>(n)), static_cast<int>(n));
  return out;
}

TEST(EcdsaDerTest, EverySignatureShapeOpenSslWritesDecodesToRAndS) {
  for (const std::size_t n : {32u, 48u, 66u}) {
    for (int shape_r = 0; shape_r < 4; ++shape_r) {
      for (int shape_s = 0; shape_s < 4; ++shape_s) {
        const Bytes r = value(n, shape_r);
        const Bytes s = value(n, shape_s);
        Bytes expected = padded(r, n);
        const Bytes ps = padded(s, n);
        expected.insert(expected.end(), ps.begin(), ps.end());
        Bytes out(2 * n, 0xEE);
        ASSERT_TRUE(cng::soft::ecdsa_der_to_raw(der_of(r, s), out)) << n << " " << shape_r;
        EXPECT_EQ(out, expected) << n << " " << shape_r << " " << shape_s;
      }
    }
  }
}

TEST(EcdsaDerTest, AnythingButOneWholeSequenceIsRefused) {
  const Bytes good = der_of(value(32, 1), value(32, 0));
  Bytes out(64);
  ASSERT_TRUE(cng::soft::ecdsa_der_to_raw(good, out));
  EXPECT_FALSE(cng::soft::ecdsa_der_to_raw({}, out));
  Bytes trailing = good;
  trailing.push_back(0);
  EXPECT_FALSE(cng::soft::ecdsa_der_to_raw(trailing, out));
  for (std::size_t cut = 1; cut < good.size(); ++cut) {
    EXPECT_FALSE(cng::soft::ecdsa_der_to_raw(std::span(good).first(cut), out)) << cut;
  }
  Bytes wrong_tag = good;
  wrong_tag[0] = 0x31;
  EXPECT_FALSE(cng::soft::ecdsa_der_to_raw(wrong_tag, out));
  Bytes wrong_inner = good;
  wrong_inner[2] = 0x04;
  EXPECT_FALSE(cng::soft::ecdsa_der_to_raw(wrong_inner, out));
  // r of 33 significant octets does not fit a P-256 half.
  Bytes too_long(33, 0x7F);
  EXPECT_FALSE(cng::soft::ecdsa_der_to_raw(der_of(too_long, value(32, 0)), out));
  // An empty INTEGER and an indefinite or oversized length.
  EXPECT_FALSE(cng::soft::ecdsa_der_to_raw(Bytes{0x30, 0x05, 0x02, 0x00, 0x02, 0x01, 0x01}, out));
  EXPECT_FALSE(
      cng::soft::ecdsa_der_to_raw(Bytes{0x30, 0x80, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01}, out));
  EXPECT_FALSE(cng::soft::ecdsa_der_to_raw(
      Bytes{0x30, 0x83, 0x00, 0x00, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01}, out));
}

}  // namespace
