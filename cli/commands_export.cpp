// `cngkey export-public`: the public key as SubjectPublicKeyInfo (PEM/DER) or raw CNG blob.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "commands.h"
#include "public_key_export.h"

namespace cngkey {
namespace {

void write_output(const std::string& path, const void* data, std::size_t size) {
  if (path.empty()) {
    if (std::fwrite(data, 1, size, stdout) != size || std::fflush(stdout) != 0) {
      throw IoError("cannot write to standard output");
    }
    return;
  }
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) {
    throw IoError("cannot open " + path + ": " + std::strerror(errno));
  }
  file.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  file.close();
  if (!file) {
    throw IoError("cannot write " + path);
  }
}

}  // namespace

int run_export_public(const Options& options) {
  const Handle provider = open_provider(options.provider);
  const Handle key = open_key(provider, options.name, options.scope);
  const Bytes blob = export_public_blob(key.get());
  switch (options.format) {
    case ExportFormat::kBlob:
      write_output(options.out_path, blob.data(), blob.size());
      break;
    case ExportFormat::kDer: {
      const Bytes der = spki_der(public_key_from_blob(blob));
      write_output(options.out_path, der.data(), der.size());
      break;
    }
    case ExportFormat::kPem: {
      const std::string pem = spki_pem(public_key_from_blob(blob));
      write_output(options.out_path, pem.data(), pem.size());
      break;
    }
  }
  return kExitOk;
}

}  // namespace cngkey
