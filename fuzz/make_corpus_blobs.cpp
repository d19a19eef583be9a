// Writes the seed corpus of the blob fuzz targets: make_corpus_blobs <corpus dir> creates
// <dir>/tpm_blob/*, <dir>/key_blobs/* and <dir>/cipher_key_blob/* (small valid inputs of each
// parser, produced by the project's own encoders and OpenSSL). fuzz_abi's seeds are fuzzer-found
// call sequences (see README.md), not generated here.
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "bridge/cipher_key_blob.h"
#include "bridge/key_blobs.h"
#include "providers/platform/tpm_blob.h"

namespace {

template <class Bytes>
void write(const std::filesystem::path& path, std::uint8_t mode_byte, bool with_mode,
           const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (with_mode) {
    out.put(static_cast<char>(mode_byte));
  }
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

// The generator point of a curve, uncompressed (a valid public point).
p11::Bytes generator(int nid) {
  EC_GROUP* group = EC_GROUP_new_by_curve_name(nid);
  p11::Bytes out(1 + 2 * 66);
  out.resize(EC_POINT_point2oct(group, EC_GROUP_get0_generator(group),
                                POINT_CONVERSION_UNCOMPRESSED, out.data(), out.size(), nullptr));
  EC_GROUP_free(group);
  return out;
}

void tpm_blobs(const std::filesystem::path& dir) {
  for (const auto kind : {cng::tpm::ParentKind::kEccSrk, cng::tpm::ParentKind::kRsaSrk}) {
    cng::tpm::TpmKeyBlob blob;
    blob.parent = kind;
    blob.pub = cng::tpm::srk_template(kind);
    blob.parent_name = cng::tpm::object_name(blob.pub.publicArea);
    blob.priv.size = 48;
    std::memset(blob.priv.buffer, 0x5a, blob.priv.size);
    write(dir / (kind == cng::tpm::ParentKind::kEccSrk ? "ecc_parent" : "rsa_parent"), 0, false,
          cng::tpm::encode_blob(blob));
  }
}

void key_blobs(const std::filesystem::path& dir) {
  // Mode bytes as fuzz_key_blobs reads them: 0 public blob, 1 private blob, 2 EC point,
  // 3 EC params, 4 EC private value (the byte after the mode picks the curve: 0 P-256).
  p11::bridge::PublicKeyValues rsa;
  rsa.key_type = CKK_RSA;
  rsa.modulus.assign(128, 0xc3);
  rsa.public_exponent = {0x01, 0x00, 0x01};
  write(dir / "public_rsa", 0, true, p11::bridge::make_public_blob(rsa));
  p11::bridge::PublicKeyValues ec;
  ec.key_type = CKK_EC;
  ec.curve = p11::bridge::curve_by_cng_name(u"nistP256");
  ec.point = generator(NID_X9_62_prime256v1);
  write(dir / "public_ec", 0, true, p11::bridge::make_public_blob(ec));
  // RSAFULLPRIVATE: header {magic, bits, cbPublicExp, cbModulus, cbPrime1, cbPrime2}, then
  // e, n, p, q, dp, dq, qinv, d.
  const ULONG header[6] = {BCRYPT_RSAFULLPRIVATE_MAGIC, 64, 1, 8, 4, 4};
  p11::Bytes priv(sizeof header);
  std::memcpy(priv.data(), header, sizeof header);
  priv.push_back(3);
  for (int i = 0; i < 8 + 4 * 5 + 8; ++i) {
    priv.push_back(static_cast<std::uint8_t>(i + 1));
  }
  write(dir / "private_rsa", 1, true, priv);
  p11::Bytes point = {0};  // curve P-256
  point.insert(point.end(), ec.point.begin(), ec.point.end());
  write(dir / "ec_point_raw", 2, true, point);
  p11::Bytes der = {0};
  const p11::Bytes wrapped = p11::bridge::der_octet_string(ec.point);
  der.insert(der.end(), wrapped.begin(), wrapped.end());
  write(dir / "ec_point_der", 2, true, der);
  for (const char16_t* name : {u"nistP256", u"nistP384", u"nistP521"}) {
    const auto* curve = p11::bridge::curve_by_cng_name(name);
    write(dir / ("ec_params_" + std::to_string(curve->bits)), 3, true, curve->ec_params);
  }
  write(dir / "ec_private_p256", 4, true, p11::Bytes{0, 0x01, 0x23, 0x45, 0x67});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  for (const char* name : {"tpm_blob", "key_blobs", "cipher_key_blob"}) {
    std::filesystem::create_directories(dir / name);
  }
  tpm_blobs(dir / "tpm_blob");
  key_blobs(dir / "key_blobs");
  const p11::Bytes aes(16, 0x11);
  write(dir / "cipher_key_blob" / "aes128", 0, false, p11::bridge::cipher_key_blob(u"AES", aes));
  const p11::Bytes aes256(32, 0x22);
  write(dir / "cipher_key_blob" / "aes256", 0, false, p11::bridge::cipher_key_blob(u"AES", aes256));
  return 0;
}
