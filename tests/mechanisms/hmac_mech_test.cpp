// CKM_SHA*_HMAC and CKM_SHA*_HMAC_GENERAL over CNG generic secret keys: RFC 2202 / RFC 4231
// vectors, OpenSSL HMAC for random keys and messages, multi-part with odd chunks, verify and
// every error path.
#include "secret_test_support.h"

namespace mechtest {
namespace {

using p11::OpKind;

struct HmacMech {
  CK_MECHANISM_TYPE plain;
  CK_MECHANISM_TYPE general;
  const char* md_name;
  std::size_t size;
};

const HmacMech kHmacs[] = {
    {CKM_SHA_1_HMAC, CKM_SHA_1_HMAC_GENERAL, "SHA1", 20},
    {CKM_SHA224_HMAC, CKM_SHA224_HMAC_GENERAL, "SHA224", 28},
    {CKM_SHA256_HMAC, CKM_SHA256_HMAC_GENERAL, "SHA256", 32},
    {CKM_SHA384_HMAC, CKM_SHA384_HMAC_GENERAL, "SHA384", 48},
    {CKM_SHA512_HMAC, CKM_SHA512_HMAC_GENERAL, "SHA512", 64},
};

Bytes mac_of(const CK_MECHANISM& m, const p11::KeyView& key, const Bytes& data) {
  return one_shot(OpKind::kSign, m, key, data);
}

TEST(Hmac, Rfc2202AndRfc4231Vectors) {
  const auto k1 = import_secret(CKK_GENERIC_SECRET, Bytes(20, 0x0b));
  const auto k2 = import_secret(CKK_GENERIC_SECRET, text("Jefe"));
  const auto k3 = import_secret(CKK_GENERIC_SECRET, Bytes(20, 0xaa));
  const auto k5 = import_secret(CKK_GENERIC_SECRET, Bytes(20, 0x0c));
  const auto k6 = import_secret(CKK_GENERIC_SECRET, Bytes(131, 0xaa));
  const Bytes d1 = text("Hi There");
  const Bytes d2 = text("what do ya want for nothing?");
  const Bytes d3(50, 0xdd);
  const Bytes d5 = text("Test With Truncation");
  const Bytes d6 = text("Test Using Larger Than Block-Size Key - Hash Key First");
  const struct {
    const SecretKey* key;
    const Bytes* data;
    CK_MECHANISM_TYPE mech;
    const char* mac;
  } cases[] = {
      {k1.get(), &d1, CKM_SHA_1_HMAC, "b617318655057264e28bc0b6fb378c8ef146be00"},  // RFC 2202
      {k2.get(), &d2, CKM_SHA_1_HMAC, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
      {k1.get(), &d1, CKM_SHA224_HMAC, "896fb1128abbdf196832107cd49df33f47b4b1169912ba4f53684b22"},
      {k1.get(), &d1, CKM_SHA256_HMAC,
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {k1.get(), &d1, CKM_SHA384_HMAC,
       "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
       "faea9ea9076ede7f4af152e8b2fa9cb6"},
      {k1.get(), &d1, CKM_SHA512_HMAC,
       "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
       "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
      {k2.get(), &d2, CKM_SHA224_HMAC, "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44"},
      {k2.get(), &d2, CKM_SHA256_HMAC,
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {k2.get(), &d2, CKM_SHA384_HMAC,
       "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
       "8e2240ca5e69e2c78b3239ecfab21649"},
      {k2.get(), &d2, CKM_SHA512_HMAC,
       "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
       "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
      {k3.get(), &d3, CKM_SHA256_HMAC,
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {k6.get(), &d6, CKM_SHA256_HMAC,
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {k6.get(), &d6, CKM_SHA512_HMAC,
       "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
       "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.mac);
    const CK_MECHANISM m = mechanism(c.mech);
    const Bytes expected = hex(c.mac);
    EXPECT_EQ(mac_of(m, c.key->view(), *c.data), expected);
    EXPECT_EQ(multi_part(OpKind::kSign, m, c.key->view(), *c.data, odd_chunks()), expected);
    EXPECT_EQ(verify_multi(m, c.key->view(), *c.data, expected, 3), CKR_OK);
  }
  // RFC 4231 test case 5: truncated to 128 bits, through the _GENERAL mechanisms.
  const struct {
    CK_MECHANISM_TYPE mech;
    const char* mac;
  } truncated[] = {{CKM_SHA224_HMAC_GENERAL, "0e2aea68a90c8d37c988bcdb9fca6fa8"},
                   {CKM_SHA256_HMAC_GENERAL, "a3b6167473100ee06e0c796c2955552b"},
                   {CKM_SHA384_HMAC_GENERAL, "3abf34c3503b2a23a46efc619baef897"},
                   {CKM_SHA512_HMAC_GENERAL, "415fad6271580a531d4179bc891d87a6"}};
  for (const auto& t : truncated) {
    CK_ULONG len = 16;
    const CK_MECHANISM m = mechanism(t.mech, &len, sizeof(len));
    EXPECT_EQ(mac_of(m, k5->view(), d5), hex(t.mac)) << t.mac;
    EXPECT_EQ(verify_multi(m, k5->view(), d5, hex(t.mac), 7), CKR_OK);
  }
}

TEST(Hmac, MatchesOpenSslForRandomKeysAndMessages) {
  for (const std::size_t key_len : {1U, 16U, 64U, 65U, 128U, 129U, 200U, 512U}) {
    const auto key = import_secret(CKK_GENERIC_SECRET, random_bytes(key_len));
    for (const HmacMech& h : kHmacs) {
      for (const std::size_t n : {0U, 1U, 63U, 64U, 65U, 128U, 129U, 1000U}) {
        SCOPED_TRACE(std::string(h.md_name) + " key " + std::to_string(key_len) + " n " +
                     std::to_string(n));
        const Bytes data = random_bytes(n);
        const Bytes expected = ossl_hmac(h.md_name, key->value, data);
        const CK_MECHANISM m = mechanism(h.plain);
        EXPECT_EQ(mac_of(m, key->view(), data), expected);
        EXPECT_EQ(multi_part(OpKind::kSign, m, key->view(), data, odd_chunks()), expected);
        EXPECT_EQ(verify_multi(m, key->view(), data, expected, 13), CKR_OK);
        EXPECT_EQ(verify(m, key->view(), data, expected), CKR_OK);
        for (const CK_ULONG len : {CK_ULONG{1}, CK_ULONG{10}, CK_ULONG{h.size}}) {
          CK_ULONG param = len;
          const CK_MECHANISM g = mechanism(h.general, &param, sizeof(param));
          const Bytes prefix(expected.begin(), expected.begin() + static_cast<std::ptrdiff_t>(len));
          EXPECT_EQ(mac_of(g, key->view(), data), prefix);
          EXPECT_EQ(verify_multi(g, key->view(), data, prefix, 64), CKR_OK);
        }
      }
    }
  }
}

TEST(Hmac, VerifyErrors) {
  const auto key = import_secret(CKK_GENERIC_SECRET, random_bytes(32));
  const Bytes data = random_bytes(77);
  for (const HmacMech& h : kHmacs) {
    SCOPED_TRACE(h.md_name);
    const CK_MECHANISM m = mechanism(h.plain);
    const Bytes mac = ossl_hmac(h.md_name, key->value, data);
    Bytes wrong = mac;
    wrong.back() ^= 0x01;
    EXPECT_EQ(verify(m, key->view(), data, wrong), CKR_SIGNATURE_INVALID);
    EXPECT_EQ(verify_multi(m, key->view(), data, wrong, 5), CKR_SIGNATURE_INVALID);
    Bytes other = data;
    other[0] ^= 0x01;
    EXPECT_EQ(verify(m, key->view(), other, mac), CKR_SIGNATURE_INVALID);
    EXPECT_EQ(verify(m, key->view(), data, Bytes(mac.begin(), mac.end() - 1)),
              CKR_SIGNATURE_LEN_RANGE);
    EXPECT_EQ(verify(m, key->view(), data, concat(mac, Bytes{0})), CKR_SIGNATURE_LEN_RANGE);
    EXPECT_EQ(verify(m, key->view(), data, {}), CKR_SIGNATURE_LEN_RANGE);
    CK_ULONG len = 12;
    const CK_MECHANISM g = mechanism(h.general, &len, sizeof(len));
    EXPECT_EQ(verify(g, key->view(), data, mac), CKR_SIGNATURE_LEN_RANGE);
    EXPECT_EQ(verify(g, key->view(), data, Bytes(mac.begin(), mac.begin() + 12)), CKR_OK);
    Bytes short_wrong(mac.begin(), mac.begin() + 12);
    short_wrong[11] ^= 0x80;
    EXPECT_EQ(verify(g, key->view(), data, short_wrong), CKR_SIGNATURE_INVALID);
  }
}

TEST(Hmac, ParameterAndKeyErrors) {
  const auto key = import_secret(CKK_GENERIC_SECRET, random_bytes(32));
  const p11::KeyView view = key->view();
  auto start = [](OpKind kind, const CK_MECHANISM& m, const p11::KeyView& k) {
    return rv_of([&] { static_cast<void>(start_sw(kind, m, &k)); });
  };
  for (const HmacMech& h : kHmacs) {
    SCOPED_TRACE(h.md_name);
    CK_ULONG len = h.size;
    EXPECT_EQ(start(OpKind::kSign, mechanism(h.plain, &len, sizeof(len)), view),
              CKR_MECHANISM_PARAM_INVALID);
    EXPECT_EQ(start(OpKind::kVerify, mechanism(h.plain, nullptr, 4), view),
              CKR_MECHANISM_PARAM_INVALID);
    for (const CK_ULONG bad : {CK_ULONG{0}, CK_ULONG{h.size + 1}, CK_ULONG{1000}}) {
      len = bad;
      EXPECT_EQ(start(OpKind::kSign, mechanism(h.general, &len, sizeof(len)), view),
                CKR_MECHANISM_PARAM_INVALID)
          << bad;
    }
    len = 8;
    EXPECT_EQ(start(OpKind::kSign, mechanism(h.general, &len, sizeof(len) - 1), view),
              CKR_MECHANISM_PARAM_INVALID);
    EXPECT_EQ(start(OpKind::kSign, mechanism(h.general), view), CKR_MECHANISM_PARAM_INVALID);
    EXPECT_EQ(start(OpKind::kSign, mechanism(h.general, &len, sizeof(len)), view), CKR_OK);
    EXPECT_EQ(start(OpKind::kEncrypt, mechanism(h.plain), view), CKR_MECHANISM_INVALID);
  }
  const CK_MECHANISM m = mechanism(CKM_SHA256_HMAC);
  p11::KeyView no_sign = view;
  no_sign.can_sign = false;
  EXPECT_EQ(start(OpKind::kSign, m, no_sign), CKR_KEY_FUNCTION_NOT_PERMITTED);
  EXPECT_EQ(start(OpKind::kVerify, m, no_sign), CKR_OK);
  p11::KeyView no_verify = view;
  no_verify.can_verify = false;
  EXPECT_EQ(start(OpKind::kVerify, m, no_verify), CKR_KEY_FUNCTION_NOT_PERMITTED);
  EXPECT_EQ(start(OpKind::kSign, m, random_aes(16)->view()), CKR_KEY_TYPE_INCONSISTENT);
  EXPECT_EQ(start(OpKind::kSign, m, rsa2048().private_view()), CKR_KEY_TYPE_INCONSISTENT);
  p11::KeyView as_public = view;
  as_public.object_class = CKO_PUBLIC_KEY;
  EXPECT_EQ(start(OpKind::kVerify, m, as_public), CKR_KEY_TYPE_INCONSISTENT);
  for (const CK_ULONG bits : {0UL, 12UL, 8UL * 513}) {
    p11::KeyView odd = view;
    odd.bits = bits;
    EXPECT_EQ(start(OpKind::kSign, m, odd), CKR_KEY_SIZE_RANGE) << bits;
  }
  p11::KeyView no_handle = view;
  no_handle.ncrypt_key = 0;
  EXPECT_EQ(start(OpKind::kSign, m, no_handle), CKR_KEY_HANDLE_INVALID);
  EXPECT_EQ(rv_of([&] { static_cast<void>(start_sw(OpKind::kSign, m, &view, true)); }),
            CKR_MECHANISM_INVALID);
}

TEST(Hmac, LifeCycle) {
  const auto key = import_secret(CKK_GENERIC_SECRET, random_bytes(20));
  const p11::KeyView view = key->view();
  const CK_MECHANISM m = mechanism(CKM_SHA384_HMAC);
  auto op = start_sw(OpKind::kSign, m, &view);
  EXPECT_TRUE(op->multi_part());
  EXPECT_EQ(op->output_size(), 48U);
  op->update(text("abc"));
  const Bytes mac = op->final();
  EXPECT_EQ(mac, ossl_hmac("SHA384", key->value, text("abc")));
  EXPECT_EQ(rv_of([&] { op->update(text("x")); }), CKR_OPERATION_NOT_INITIALIZED);
  EXPECT_EQ(rv_of([&] { static_cast<void>(op->final()); }), CKR_OPERATION_NOT_INITIALIZED);
  auto ver = start_sw(OpKind::kVerify, m, &view);
  EXPECT_EQ(rv_of([&] { static_cast<void>(ver->final()); }), CKR_OPERATION_NOT_INITIALIZED);
  ver->update(text("abc"));
  ver->verify_final(mac);
  EXPECT_EQ(rv_of([&] { ver->verify_final(mac); }), CKR_OPERATION_NOT_INITIALIZED);
}

}  // namespace
}  // namespace mechtest
