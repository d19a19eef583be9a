// fault_child modes:
//   setup <root>            template store in <root>/template, certificate for the tests
//   op <root> <op>          the operation on the store of $CNG_PKCS11_USER_DIR, shim armed
//   verify <root> <run>...  the state of each run's store ("state.<i>=" lines)
//   readonly                token flags and refusals on a store the shim makes read-only
#include <dlfcn.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "child.h"

namespace fault {

namespace {

template <class F>
F shim_symbol(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name));
}

std::vector<std::string> template_keys(const std::filesystem::path& root) {
  std::vector<std::string> lines;
  std::ifstream in(root / "template-keys");
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

int verify(const std::filesystem::path& root, int argc, char** argv) {
  const auto keys = template_keys(root);
  for (int i = 0; i < argc; ++i) {
    const std::filesystem::path run = argv[i];
    use_store(run);
    std::vector<std::string> lines = ncrypt_state(keys);
    const auto objects = p11_state();
    lines.insert(lines.end(), objects.begin(), objects.end());
    std::string joined;
    for (const auto& line : lines) {
      joined += line + ";";
    }
    std::cout << "state." << i << "=" << joined << "\n";
  }
  return 0;
}

}  // namespace

void arm(bool on) {
  if (auto f = shim_symbol<void (*)(int)>("fault_shim_arm")) {
    f(on ? 1 : 0);
  }
}

long shim_calls() {
  auto f = shim_symbol<long (*)()>("fault_shim_calls");
  return f != nullptr ? f() : -1;
}

std::string shim_fired() {
  auto f = shim_symbol<const char* (*)()>("fault_shim_fired");
  return f != nullptr ? std::string(f()) : std::string();
}

Bytes read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_file(const std::filesystem::path& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

std::string hex(const Bytes& b, std::size_t max_bytes) {
  std::string out;
  char buf[3];
  for (std::size_t i = 0; i < b.size() && i < max_bytes; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", b[i]);
    out += buf;
  }
  return out;
}

Bytes sha256(const Bytes& b) {
  Bytes out(32);
  unsigned int len = 0;
  EVP_Digest(b.data(), b.size(), out.data(), &len, EVP_sha256(), nullptr);
  return out;
}

void use_store(const std::filesystem::path& run) {
  setenv("CNG_PKCS11_USER_DIR", (run / "user").c_str(), 1);
  setenv("CNG_PKCS11_MACHINE_DIR", (run / "machine").c_str(), 1);
}

}  // namespace fault

int main(int argc, char** argv) {
  using namespace fault;
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "setup" && argc == 3) {
    const std::filesystem::path root = argv[2];
    use_store(root / "template");
    create_template_keys(root);
    create_template_objects(root);
    return 0;
  }
  if (mode == "verify" && argc >= 3) {
    return verify(argv[2], argc - 3, argv + 3);
  }
  if (mode == "readonly") {
    for (const auto& line : p11_readonly_report()) {
      std::cout << line << "\n";
    }
    return 0;
  }
  if (mode == "op" && argc == 4) {
    const std::string op = argv[3];
    std::string after;
    unsigned long code = 0;
    bool known = false;
    if (op.starts_with("nc_")) {
      SECURITY_STATUS st = 0;
      known = run_ncrypt_op(op, st, after);
      code = static_cast<std::uint32_t>(st);
    } else {
      CK_RV rv = 0;
      known = run_p11_op(op, argv[2], rv, after);
      code = rv;
    }
    if (!known) {
      std::cerr << "unknown operation " << op << "\n";
      return 2;
    }
    std::cout << "rv=" << code << "\ncalls=" << shim_calls() << "\nfired=" << shim_fired()
              << "\nafter=" << (after.empty() ? "ok" : after) << "\n";
    return 0;
  }
  std::cerr << "usage: fault_child setup|op|verify|readonly ...\n";
  return 2;
}
