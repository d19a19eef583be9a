// Writes the seed corpus of the fuzz targets: make_corpus <dir> creates <dir>/key_file/* and
// <dir>/cert_file/* and <dir>/data_file/* (small valid files of each format).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "store/cert_file.h"
#include "store/data_file.h"
#include "store/key_file.h"

namespace {

template <class Bytes>
void write(const std::filesystem::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir / "key_file");
  std::filesystem::create_directories(dir / "cert_file");
  std::filesystem::create_directories(dir / "data_file");

  cng::KeyRecord minimal;
  minimal.name = u"k";
  write(dir / "key_file" / "minimal", cng::key_file::encode(minimal));

  cng::KeyRecord full;
  full.name = u"seed key \u00e9";
  full.provider = MS_KEY_STORAGE_PROVIDER;
  full.algorithm = u"ECDSA_P256";
  full.curve_name = u"nistP256";
  full.legacy_key_spec = AT_SIGNATURE;
  full.length_bits = 256;
  full.export_policy = NCRYPT_ALLOW_EXPORT_FLAG;
  full.created_unix_ns = 1'700'000'000'000'000'000ULL;
  full.properties[u"PKCS11 Id"] = {1, 2, 3, 4};
  full.properties[u"PKCS11 Label"] = {'s', 'e', 'e', 'd'};
  full.public_blob.assign(16, 0x45);
  full.private_blob.assign(24, 0x30);
  write(dir / "key_file" / "with_properties", cng::key_file::encode(full));

  cng::StoredCertificate cert;
  cert.der = {0x30, 0x03, 0x02, 0x01, 0x01};  // the parser does not interpret the DER
  write(dir / "cert_file" / "no_properties", cng::cert_file::encode(cert));
  cert.properties["KeyId"] = {1, 2, 3};
  cert.properties["Label"] = {'c', 'e', 'r', 't'};
  write(dir / "cert_file" / "with_properties", cng::cert_file::encode(cert));

  cng::StoredDataObject data;
  data.id = std::string(cng::data_file::kIdChars, 'a');
  write(dir / "data_file" / "no_properties", cng::data_file::encode(data));
  data.properties["Application"] = {'a', 'p', 'p'};
  data.properties["Label"] = {'d', 'a', 't', 'a'};
  data.properties["Value"] = {0, 1, 2, 3};
  write(dir / "data_file" / "with_properties", cng::data_file::encode(data));
  return 0;
}
