// Test fixture for the cngkey tool: private user and machine stores in a temporary
// directory, and helpers that run the real cngkey and openssl binaries.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "process_runner.h"

namespace cngkey_test {

class CngkeyTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Runs cngkey with the test's store directories.
  ProcessResult cngkey(const std::vector<std::string>& args) const;
  // Runs prefix... cngkey args... (e.g. a prefix that changes the user).
  ProcessResult cngkey_with_prefix(const std::vector<std::string>& prefix,
                                   const std::vector<std::string>& args) const;
  // Runs the openssl command-line tool.
  ProcessResult openssl(const std::vector<std::string>& args) const;

  // Creates a key and asserts success; returns the `show`-style report it printed.
  std::map<std::string, std::string> create_key(const std::vector<std::string>& args) const;
  std::map<std::string, std::string> show_key(const std::string& name,
                                              const std::string& scope = "user") const;
  // `cngkey list` lines, split into tab-separated fields.
  std::vector<std::vector<std::string>> list_keys(const std::string& scope,
                                                  bool long_listing = false) const;

  // Regular files under a store directory (the stores must stay empty after failures).
  static std::vector<std::filesystem::path> files_under(const std::filesystem::path& dir);

  std::filesystem::path path(const std::string& leaf) const { return root_ / leaf; }

  // Runs the openssl tool and asserts success (key and certificate generation).
  void openssl_ok(const std::vector<std::string>& args) const;
  // A fresh private key (PKCS#8 PEM, written by `openssl genpkey`) at path(leaf): "RSA" or an
  // OpenSSL curve name ("P-256", "P-384", "P-521", "secp256k1").
  std::filesystem::path generate_key(const std::string& leaf, const std::string& kind) const;
  // A self-signed certificate over a PEM private key, PEM or DER.
  std::filesystem::path make_certificate(const std::string& leaf, const std::filesystem::path& key,
                                         const std::string& subject, bool der = false) const;
  // Points the module and NCrypt in this process at the test's stores (for in-process checks).
  void use_stores_in_this_process() const;

  // Extra NAME=value entries of the children's environment (e.g. CNG_PKCS11_TCTI).
  std::vector<std::string> extra_env_;

  std::filesystem::path root_;
  std::filesystem::path user_dir_;
  std::filesystem::path machine_dir_;
};

// "Label: value" lines of a `show` report.
std::map<std::string, std::string> parse_report(const std::string& text);

// Lower-case hex SHA-1 of the public value (RSA modulus / uncompressed EC point) of a PEM
// SubjectPublicKeyInfo file, computed independently of cngkey with OpenSSL.
std::string public_value_sha1(const std::filesystem::path& pem_file);

// Verifies a PKCS#11 signature over data with SHA-256 (RSA PKCS#1 v1.5, or ECDSA given as
// raw r||s) against the public key of a PEM file (private or public), with OpenSSL.
bool verify_sha256_signature(const std::filesystem::path& pem_file, const std::string& data,
                             const std::vector<unsigned char>& signature);

// Lower-case hex of bytes.
std::string hex_of(const std::vector<unsigned char>& bytes);

std::string read_file(const std::filesystem::path& file);
void write_file(const std::filesystem::path& file, const std::string& content);

}  // namespace cngkey_test
