#include "key_files.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>
#include <system_error>

#include "bcrypt.h"
#include "commands.h"
#include "options.h"

namespace cngkey {
namespace {

constexpr std::size_t kMaxFileSize = 1 << 20;  // no key or certificate file comes near 1 MiB

using cng::ossl::BioPtr;
using cng::ossl::BnPtr;
using cng::ossl::Owned;

[[noreturn]] void bad_input(const std::string& path, const std::string& why) {
  throw CliError(kExitBadInput, path + ": " + why);
}

SecretBytes read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IoError("cannot open " + path + ": " + std::generic_category().message(errno));
  }
  Bytes data;
  std::array<char, 4096> chunk{};
  while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
    data.insert(data.end(), chunk.begin(), chunk.begin() + in.gcount());
    if (data.size() > kMaxFileSize) {
      OPENSSL_cleanse(data.data(), data.size());
      bad_input(path, "larger than 1 MiB: not a key or certificate file");
    }
  }
  if (in.bad()) {
    throw IoError("cannot read " + path);
  }
  if (data.empty()) {
    bad_input(path, "empty file");
  }
  return SecretBytes(std::move(data));
}

bool looks_like_pem(const Bytes& data) {
  const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  return text.find("-----BEGIN ") != std::string_view::npos;
}

struct PemBlock {
  std::string name;
  bool encrypted_header = false;  // "Proc-Type: 4,ENCRYPTED" (traditional encrypted keys)
  SecretBytes der;
};

// The PEM blocks of data, in order (EC PARAMETERS blocks skipped); empty when none parse.
std::vector<PemBlock> pem_blocks(const Bytes& data) {
  std::vector<PemBlock> blocks;
  const BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* body = nullptr;
    long length = 0;
    if (!bio || PEM_read_bio(bio.get(), &name, &header, &body, &length) != 1) {
      break;
    }
    PemBlock block;
    block.name = name;
    block.encrypted_header = std::string_view(header).find("ENCRYPTED") != std::string_view::npos;
    block.der = SecretBytes(Bytes(body, body + length));
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_clear_free(body, static_cast<std::size_t>(length));
    if (block.name != "EC PARAMETERS") {
      blocks.push_back(std::move(block));
    }
  }
  return blocks;
}

template <class T>
Owned<T> decode_all(const Bytes& der, T* (*d2i)(T**, const unsigned char**, long)) {
  const unsigned char* cursor = der.data();
  Owned<T> value(d2i(nullptr, &cursor, static_cast<long>(der.size())));
  if (value && cursor != der.data() + der.size()) {
    value.reset();  // trailing bytes: not exactly one structure
  }
  return value;
}

struct CurveChoice {
  int nid;
  ULONG magic;
  ULONG coordinate_size;
  const char* nist_name;
};

constexpr std::array<CurveChoice, 3> kCurves = {{
    {NID_X9_62_prime256v1, BCRYPT_ECDSA_PUBLIC_P256_MAGIC, 32, "P-256"},
    {NID_secp384r1, BCRYPT_ECDSA_PUBLIC_P384_MAGIC, 48, "P-384"},
    {NID_secp521r1, BCRYPT_ECDSA_PUBLIC_P521_MAGIC, 66, "P-521"},
}};

void put_le32(Bytes& out, ULONG value) {
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
  }
}

Bytes bn_bytes(EVP_PKEY* key, const char* param, std::size_t width) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, param, &raw) != 1) {
    throw ConversionError("OpenSSL could not read the public key");
  }
  const BnPtr bn(raw);
  Bytes out(width == 0 ? static_cast<std::size_t>(BN_num_bytes(bn.get())) : width);
  if (BN_bn2binpad(bn.get(), out.data(), static_cast<int>(out.size())) < 0) {
    throw ConversionError("public key value does not fit its curve");
  }
  return out;
}

// Checks that the key is one CNG takes (RSA, EC on P-256/384/521) and fills the public blob.
void describe_key(const std::string& path, EVP_PKEY* key, KeyFile& out) {
  if (EVP_PKEY_is_a(key, "RSA") != 0) {
    const Bytes n = bn_bytes(key, OSSL_PKEY_PARAM_RSA_N, 0);
    const Bytes e = bn_bytes(key, OSSL_PKEY_PARAM_RSA_E, 0);
    put_le32(out.public_blob, BCRYPT_RSAPUBLIC_MAGIC);
    put_le32(out.public_blob, static_cast<ULONG>(EVP_PKEY_get_bits(key)));
    put_le32(out.public_blob, static_cast<ULONG>(e.size()));
    put_le32(out.public_blob, static_cast<ULONG>(n.size()));
    put_le32(out.public_blob, 0);
    put_le32(out.public_blob, 0);
    out.public_blob.insert(out.public_blob.end(), e.begin(), e.end());
    out.public_blob.insert(out.public_blob.end(), n.begin(), n.end());
    out.public_blob_type = BCRYPT_RSAPUBLIC_BLOB;
    out.description = "RSA " + std::to_string(EVP_PKEY_get_bits(key)) + " bits";
    return;
  }
  if (EVP_PKEY_is_a(key, "EC") == 0) {
    bad_input(path, std::string("unsupported key type ") + EVP_PKEY_get0_type_name(key) +
                        " (RSA and EC P-256, P-384, P-521 only)");
  }
  std::array<char, 80> group{};
  std::size_t group_length = 0;
  if (EVP_PKEY_get_group_name(key, group.data(), group.size(), &group_length) != 1) {
    bad_input(path, "unsupported curve: explicit EC parameters (P-256, P-384, P-521 only)");
  }
  const int nid = OBJ_sn2nid(group.data());
  const auto* curve = std::find_if(kCurves.begin(), kCurves.end(),
                                   [nid](const CurveChoice& c) { return c.nid == nid; });
  if (curve == kCurves.end()) {
    bad_input(path,
              std::string("unsupported curve ") + group.data() + " (P-256, P-384, P-521 only)");
  }
  const Bytes x = bn_bytes(key, OSSL_PKEY_PARAM_EC_PUB_X, curve->coordinate_size);
  const Bytes y = bn_bytes(key, OSSL_PKEY_PARAM_EC_PUB_Y, curve->coordinate_size);
  put_le32(out.public_blob, curve->magic);
  put_le32(out.public_blob, curve->coordinate_size);
  out.public_blob.insert(out.public_blob.end(), x.begin(), x.end());
  out.public_blob.insert(out.public_blob.end(), y.begin(), y.end());
  out.public_blob_type = BCRYPT_ECCPUBLIC_BLOB;
  out.description = std::string("EC ") + curve->nist_name;
}

constexpr const char* kNotAKey =
    "not an unencrypted PKCS#8 private key or a SubjectPublicKeyInfo public key (DER or PEM)";

// Classifies one DER structure of a key file.
KeyFile classify_der(const std::string& path, SecretBytes der) {
  KeyFile out;
  if (const auto p8 = decode_all<PKCS8_PRIV_KEY_INFO>(der.get(), d2i_PKCS8_PRIV_KEY_INFO)) {
    const PkeyPtr key(EVP_PKCS82PKEY(p8.get()));
    if (!key) {
      bad_input(path, "the PKCS#8 private key does not decode (unsupported or damaged key)");
    }
    describe_key(path, key.get(), out);
    out.is_private = true;
    out.pkcs8_der = std::move(der);
    return out;
  }
  const unsigned char* cursor = der.get().data();
  if (X509_SIG* sig = d2i_X509_SIG(nullptr, &cursor, static_cast<long>(der.get().size()))) {
    X509_SIG_free(sig);
    bad_input(path,
              "encrypted PKCS#8 is not supported; decrypt it first "
              "(openssl pkcs8 -in FILE -out PLAIN.pem)");
  }
  if (const auto key = decode_all<EVP_PKEY>(der.get(), d2i_PUBKEY)) {
    describe_key(path, key.get(), out);
    return out;
  }
  if (decode_all<EVP_PKEY>(der.get(), d2i_AutoPrivateKey)) {
    bad_input(path,
              "a traditional (PKCS#1 / SEC 1) private key, not PKCS#8 "
              "(convert: openssl pkcs8 -topk8 -nocrypt -in FILE)");
  }
  if (decode_all<X509>(der.get(), d2i_X509)) {
    bad_input(path, "a certificate, not a key (use `cngkey cert add`)");
  }
  bad_input(path, kNotAKey);
}

}  // namespace

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    OPENSSL_cleanse(bytes_.data(), bytes_.size());
    bytes_ = std::move(other.bytes_);
  }
  return *this;
}

SecretBytes::~SecretBytes() { OPENSSL_cleanse(bytes_.data(), bytes_.size()); }

KeyFile read_key_file(const std::string& path) {
  SecretBytes data = read_whole_file(path);
  if (!looks_like_pem(data.get())) {
    return classify_der(path, std::move(data));
  }
  std::vector<PemBlock> blocks = pem_blocks(data.get());
  if (blocks.empty()) {
    bad_input(path, "malformed PEM");
  }
  PemBlock& block = blocks.front();
  if (block.name == "ENCRYPTED PRIVATE KEY" || block.encrypted_header) {
    bad_input(path,
              "encrypted private key is not supported; decrypt it first "
              "(openssl pkcs8 -in FILE -out PLAIN.pem)");
  }
  if (block.name == "RSA PRIVATE KEY" || block.name == "EC PRIVATE KEY") {
    bad_input(path, "a traditional " + block.name +
                        ", not PKCS#8 (convert: openssl pkcs8 -topk8 -nocrypt -in FILE)");
  }
  if (block.name != "PRIVATE KEY" && block.name != "PUBLIC KEY") {
    bad_input(path, "PEM block '" + block.name + "': " + kNotAKey);
  }
  KeyFile out = classify_der(path, std::move(block.der));
  if (out.is_private != (block.name == "PRIVATE KEY")) {
    bad_input(path, "PEM block '" + block.name + "' does not hold what its name says");
  }
  return out;
}

X509Ptr parse_certificate(const Bytes& der) { return decode_all<X509>(der, d2i_X509); }

CertificateFile read_certificate_file(const std::string& path) {
  const SecretBytes data = read_whole_file(path);
  CertificateFile out;
  if (!looks_like_pem(data.get())) {
    out.der = data.get();
  } else {
    std::vector<PemBlock> blocks = pem_blocks(data.get());
    const auto cert_block = std::find_if(blocks.begin(), blocks.end(), [](const PemBlock& b) {
      return b.name == "CERTIFICATE" || b.name == "X509 CERTIFICATE";
    });
    if (cert_block == blocks.end()) {
      bad_input(path, blocks.empty() ? "malformed PEM" : "no CERTIFICATE block in the PEM file");
    }
    out.der = cert_block->der.get();
  }
  out.cert = parse_certificate(out.der);
  if (!out.cert) {
    bad_input(path, "not an X.509 certificate (DER or PEM)");
  }
  return out;
}

Bytes certificate_key_id(X509* cert) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  PublicKey value;
  if (key == nullptr) {
    return {};
  }
  if (EVP_PKEY_is_a(key, "RSA") != 0) {
    value.public_value = bn_bytes(key, OSSL_PKEY_PARAM_RSA_N, 0);
  } else if (EVP_PKEY_is_a(key, "EC") != 0) {
    std::size_t length = 0;
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, nullptr, 0, &length) != 1) {
      return {};
    }
    value.public_value.resize(length);
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, value.public_value.data(),
                                        length, &length) != 1) {
      return {};
    }
    value.public_value.resize(length);
  } else {
    return {};
  }
  return nss_key_id(value);
}

std::string subject_text(X509* cert) { return name_text(X509_get_subject_name(cert)); }

std::string name_text(const X509_NAME* name) {
  const BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
    throw ConversionError("OpenSSL could not print a certificate name");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return size > 0 && data != nullptr ? std::string(data, static_cast<std::size_t>(size)) : "";
}

std::string subject_common_name(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  const int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0) {
    return {};
  }
  unsigned char* utf8 = nullptr;
  const int length =
      ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)));
  if (length < 0) {
    return {};
  }
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return out;
}

}  // namespace cngkey
