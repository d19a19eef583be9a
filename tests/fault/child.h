// The fault child: one process that runs one store operation with the fault shim armed around
// it (op), builds the template store (setup), or reports the state of stores (verify).
// Output is "key=value" lines on stdout, read by fault_test.cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "ncrypt.h"
#include "pkcs11/pkcs11_all.h"

namespace fault {

using Bytes = std::vector<std::uint8_t>;

// The shim's controls (fault_shim.c), found with dlsym; inert when the shim is not loaded.
void arm(bool on);
long shim_calls();
std::string shim_fired();

// Reads/writes a whole file.
Bytes read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const Bytes& bytes);
std::string hex(const Bytes& b, std::size_t max_bytes = 8);
Bytes sha256(const Bytes& b);

// Points the NCrypt stores at <run>/user and <run>/machine.
void use_store(const std::filesystem::path& run);

// NCrypt side (child_ncrypt.cpp).
NCRYPT_PROV_HANDLE open_provider();
// Signs a fixed digest with the key through NCrypt and verifies with OpenSSL against its
// exported public key; "" on success, else the failure.
std::string ncrypt_sign_check(NCRYPT_KEY_HANDLE key);
// Public key hash (SHA-256 of the BCRYPT_ECCPUBLIC_BLOB), "" when the export fails.
std::string public_hash(NCRYPT_KEY_HANDLE key);
// Runs an NCrypt operation (nc_*) armed; returns the status. after: bystander check.
bool run_ncrypt_op(const std::string& op, SECURITY_STATUS& status, std::string& after);
// The NCrypt view of the current store: sorted "key ..." lines (old/new against template).
std::vector<std::string> ncrypt_state(const std::vector<std::string>& template_keys);
void create_template_keys(const std::filesystem::path& root);

// PKCS#11 side (child_p11.cpp), slot 0 (software provider, user scope).
CK_FUNCTION_LIST* p11();
bool run_p11_op(const std::string& op, const std::filesystem::path& root, CK_RV& rv,
                std::string& after);
std::vector<std::string> p11_state();
void create_template_objects(const std::filesystem::path& root);
// C_GetTokenInfo flags of slot 0 and C_OpenSession(RW) result, each as "key=value".
std::vector<std::string> p11_readonly_report();

}  // namespace fault
