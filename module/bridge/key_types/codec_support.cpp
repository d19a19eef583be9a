#include "bridge/key_types/codec_support.h"

#include <cstring>

#include "bridge/key_blobs.h"
#include "core/p11_error.h"

namespace p11::bridge::codec {

[[noreturn]] void bad_blob(const char* what) { fail(CKR_DEVICE_ERROR, what); }
[[noreturn]] void bad_value(const char* what) { fail(CKR_ATTRIBUTE_VALUE_INVALID, what); }
[[noreturn]] void openssl_failed(const char* what) { fail(CKR_FUNCTION_FAILED, what); }

ULONG read_ulong(ByteView blob, std::size_t at) {
  ULONG v = 0;
  std::memcpy(&v, blob.data() + at, sizeof v);
  return v;
}

void put_ulong(Bytes& out, ULONG v) {
  // resize + memcpy: inserting into an empty vector trips GCC 12 -O3 -Wstringop-overflow.
  const std::size_t at = out.size();
  out.resize(at + sizeof v);
  std::memcpy(out.data() + at, &v, sizeof v);
}

ByteView take(ByteView blob, std::size_t& at, std::size_t n) {
  if (blob.size() < at || blob.size() - at < n) {
    bad_blob("key blob shorter than its header says");
  }
  ByteView part = blob.subspan(at, n);
  at += n;
  return part;
}

Owned<BIGNUM> to_bn(ByteView v) {
  Owned<BIGNUM> bn(BN_bin2bn(v.data(), static_cast<int>(v.size()), nullptr));
  if (!bn) {
    openssl_failed("BN_bin2bn");
  }
  return bn;
}

Owned<EVP_PKEY> pkey_from_params(const char* type, OSSL_PARAM_BLD* bld, int selection) {
  Owned<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld));
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, provider_key_type(type), nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, selection, params.get()) != 1) {
    bad_value("key parts do not form a valid key");
  }
  return Owned<EVP_PKEY>(raw);
}

SecretBytes to_pkcs8(EVP_PKEY* pkey) {
  Owned<PKCS8_PRIV_KEY_INFO> p8(EVP_PKEY2PKCS8(pkey));
  if (!p8) {
    openssl_failed("EVP_PKEY2PKCS8");
  }
  const int len = i2d_PKCS8_PRIV_KEY_INFO(p8.get(), nullptr);
  if (len <= 0) {
    openssl_failed("i2d_PKCS8_PRIV_KEY_INFO");
  }
  SecretBytes out(static_cast<std::size_t>(len));
  unsigned char* p = out.data();
  i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &p);
  return out;
}

}  // namespace p11::bridge::codec
