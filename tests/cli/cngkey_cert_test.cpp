// cngkey cert add/list/remove: certificates made by the openssl tool over keys imported with
// cngkey; the PKCS#11 module (dlopen) must show each certificate with CKA_VALUE = the DER
// openssl wrote, CKA_LABEL = the label, and CKA_ID = its key's CKA_ID (SHA-1 of the public
// value, computed by OpenSSL from the key file).
#include <sstream>
#include <string>
#include <vector>

#include "cngkey_fixture.h"
#include "json_reader.h"
#include "p11_view.h"

namespace cngkey_test {
namespace {

std::vector<std::vector<std::string>> split_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string>& fields = rows.emplace_back();
    std::istringstream cells(line);
    for (std::string field; std::getline(cells, field, '\t');) {
      fields.push_back(field);
    }
  }
  return rows;
}

class CngkeyCertTest : public CngkeyTest {
 protected:
  // Imports a fresh key of kind under name; returns its public value SHA-1 (OpenSSL's).
  std::string import_key(const std::string& name, const std::string& kind,
                         const std::string& scope = "user") {
    const auto key = generate_key(name + ".pem", kind);
    const auto pub = path(name + "-pub.pem");
    openssl_ok({"pkey", "-in", key.string(), "-pubout", "-out", pub.string()});
    const ProcessResult imported =
        cngkey({"import", "--name", name, "--scope", scope, key.string()});
    EXPECT_EQ(imported.exit_code, 0) << imported.err;
    return public_value_sha1(pub);
  }
  std::string der_of(const std::filesystem::path& cert, const std::string& leaf) const {
    openssl_ok({"x509", "-in", cert.string(), "-outform", "DER", "-out", path(leaf).string()});
    return read_file(path(leaf));
  }
};

TEST_F(CngkeyCertTest, CertificatesLinkToTheirKeysByCkaId) {
  const std::string ec_id = import_key("ec key", "P-256");
  const std::string rsa_id = import_key("rsa key", "RSA");
  const auto ec_cert = make_certificate("ec.crt", path("ec key.pem"), "/O=Example/CN=Alice EC");
  const auto rsa_cert = make_certificate("rsa.der", path("rsa key.pem"), "/O=No Common Name", true);

  const ProcessResult added_ec = cngkey({"cert", "add", ec_cert.string()});
  ASSERT_EQ(added_ec.exit_code, 0) << added_ec.err;
  const auto ec_report = parse_report(added_ec.out);
  EXPECT_EQ(ec_report.at("Key id"), ec_id);
  EXPECT_EQ(ec_report.at("Label"), "Alice EC");  // the subject CN
  EXPECT_EQ(ec_report.at("Linked key"), "ec key");
  EXPECT_EQ(ec_report.at("Subject"), "CN=Alice EC,O=Example");

  const ProcessResult added_rsa =
      cngkey({"cert", "add", "--label", "Mail \xE2\x9C\x89", rsa_cert.string()});
  ASSERT_EQ(added_rsa.exit_code, 0) << added_rsa.err;
  const auto rsa_report = parse_report(added_rsa.out);
  EXPECT_EQ(rsa_report.at("Key id"), rsa_id);
  EXPECT_EQ(rsa_report.at("Label"), "Mail \xE2\x9C\x89");
  EXPECT_EQ(rsa_report.at("Linked key"), "rsa key");

  const ProcessResult listed = cngkey({"cert", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const auto rows = split_rows(listed.out);
  ASSERT_EQ(rows.size(), 2u);  // sorted by subject
  EXPECT_EQ(rows[0], (std::vector<std::string>{ec_report.at("Certificate"), ec_id, "Alice EC",
                                               "ec key", "CN=Alice EC,O=Example"}));
  EXPECT_EQ(rows[1],
            (std::vector<std::string>{rsa_report.at("Certificate"), rsa_id, "Mail \xE2\x9C\x89",
                                      "rsa key", "O=No Common Name"}));

  const ProcessResult json = cngkey({"cert", "list", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  std::string error;
  const auto parsed = parse_json(json.out, &error);
  ASSERT_TRUE(parsed) << error << "\n" << json.out;
  ASSERT_EQ(parsed->array.size(), 2u);
  EXPECT_EQ(parsed->array[0].at("key_id").str(), ec_id);
  EXPECT_EQ(parsed->array[0].at("key").str(), "ec key");
  EXPECT_EQ(parsed->array[1].at("label").str(), "Mail \xE2\x9C\x89");
  EXPECT_EQ(parsed->array[1].at("issuer").str(), "O=No Common Name");
  const ProcessResult serial =
      openssl({"x509", "-in", rsa_cert.string(), "-inform", "DER", "-noout", "-serial"});
  std::string expected_serial = serial.out.substr(serial.out.find('=') + 1);
  expected_serial.erase(expected_serial.find_last_not_of("\n") + 1);
  for (char& c : expected_serial) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  EXPECT_EQ(parsed->array[1].at("serial").str(), expected_serial);

  // The module's view: each certificate carries its key's CKA_ID and the label.
  use_stores_in_this_process();
  P11View p11;
  ASSERT_TRUE(p11.open(0));
  const auto certs = p11.objects(CKO_CERTIFICATE);
  ASSERT_EQ(certs.size(), 2u);
  const std::string ec_der = der_of(ec_cert, "ec-crt.der");
  const std::string rsa_der = read_file(rsa_cert);
  for (const P11Object& cert : certs) {
    const std::string value(cert.value.begin(), cert.value.end());
    const bool is_ec = value == ec_der;
    EXPECT_TRUE(is_ec || value == rsa_der) << "CKA_VALUE is one of the two certificates";
    EXPECT_EQ(cert.label, is_ec ? "Alice EC" : "Mail \xE2\x9C\x89");
    const auto key = p11.objects(CKO_PRIVATE_KEY, is_ec ? "ec key" : "rsa key");
    ASSERT_EQ(key.size(), 1u);
    EXPECT_EQ(cert.id, key[0].id);
    EXPECT_EQ(hex_of(cert.id), is_ec ? ec_id : rsa_id);
  }
}

TEST_F(CngkeyCertTest, UnlinkedCertificateAndRemove) {
  // A certificate whose key is not in the store: no linked key.
  const auto orphan_key = generate_key("orphan.pem", "P-384");
  const auto orphan = make_certificate("orphan.crt", orphan_key, "/CN=Orphan");
  const ProcessResult added = cngkey({"cert", "add", orphan.string()});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const auto report = parse_report(added.out);
  EXPECT_EQ(report.at("Linked key"), "(none)");
  const std::string id = report.at("Certificate");
  const auto json = parse_json(cngkey({"cert", "list", "--json"}).out);
  ASSERT_TRUE(json);
  ASSERT_EQ(json->array.size(), 1u);
  EXPECT_TRUE(json->array[0].at("key").is_null());
  EXPECT_EQ(split_rows(cngkey({"cert", "list"}).out)[0][3], "-");

  // Adding it again with another label keeps one certificate and takes the new label; adding
  // it once more without --label keeps that label.
  ASSERT_EQ(cngkey({"cert", "add", "--label", "renamed", orphan.string()}).exit_code, 0);
  auto rows = split_rows(cngkey({"cert", "list"}).out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][2], "renamed");
  const ProcessResult readded = cngkey({"cert", "add", orphan.string()});
  ASSERT_EQ(readded.exit_code, 0) << readded.err;
  EXPECT_EQ(parse_report(readded.out).at("Label"), "renamed");
  EXPECT_EQ(parse_report(readded.out).at("Certificate"), id);
  rows = split_rows(cngkey({"cert", "list"}).out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][2], "renamed");

  // Importing the key afterwards links it.
  ASSERT_EQ(cngkey({"import", "--name", "late key", orphan_key.string()}).exit_code, 0);
  EXPECT_EQ(split_rows(cngkey({"cert", "list"}).out)[0][3], "late key");

  // Other scopes do not see it; removal by an 8-character prefix, then by full id.
  EXPECT_EQ(cngkey({"cert", "list", "--scope", "machine"}).out, "");
  const ProcessResult wrong_scope = cngkey({"cert", "remove", "--scope", "machine", id});
  EXPECT_EQ(wrong_scope.exit_code, 4);
  const ProcessResult removed = cngkey({"cert", "remove", id.substr(0, 8)});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(removed.out, "Removed certificate " + id + " (user scope)\n");
  EXPECT_EQ(cngkey({"cert", "list"}).out, "");
  const ProcessResult again = cngkey({"cert", "remove", id});
  EXPECT_EQ(again.exit_code, 4);
  EXPECT_NE(again.err.find("no certificate with id"), std::string::npos) << again.err;

  use_stores_in_this_process();
  P11View p11;
  ASSERT_TRUE(p11.open(0));
  EXPECT_TRUE(p11.objects(CKO_CERTIFICATE).empty());
}

// The other direction: a certificate the module stores (C_CreateObject) is listed by cngkey
// with the label and CKA_ID the module wrote, and linked to the key whose CKA_ID that is.
TEST_F(CngkeyCertTest, ListsCertificatesTheModuleStored) {
  const std::string id = import_key("p11 key", "P-256");
  const auto cert = make_certificate("p11.der", path("p11 key.pem"), "/CN=Via PKCS11", true);
  const auto other = generate_key("other.pem", "P-256");
  const auto other_cert = make_certificate("other.der", other, "/CN=Explicit Id", true);
  const std::string der = read_file(cert);
  const std::string other_der = read_file(other_cert);
  {
    use_stores_in_this_process();
    P11View p11;
    ASSERT_TRUE(p11.open(0));
    const auto key = p11.objects(CKO_PRIVATE_KEY, "p11 key");
    ASSERT_EQ(key.size(), 1u);
    EXPECT_EQ(p11.create_certificate(Bytes(der.begin(), der.end()), "module label", key[0].id),
              CKR_OK);
    EXPECT_EQ(p11.create_certificate(Bytes(other_der.begin(), other_der.end()), "explicit",
                                     Bytes{0xAA, 0xBB}),
              CKR_OK);
  }
  const auto rows = split_rows(cngkey({"cert", "list"}).out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][1], "aabb");
  EXPECT_EQ(rows[0][2], "explicit");
  EXPECT_EQ(rows[0][3], "-");
  EXPECT_EQ(rows[0][4], "CN=Explicit Id");
  EXPECT_EQ(rows[1][1], id);
  EXPECT_EQ(rows[1][2], "module label");
  EXPECT_EQ(rows[1][3], "p11 key");
  EXPECT_EQ(rows[1][4], "CN=Via PKCS11");

  // Re-adding the module's certificate with cngkey keeps its explicit CKA_ID.
  const ProcessResult readded =
      cngkey({"cert", "add", "--label", "relabelled", other_cert.string()});
  ASSERT_EQ(readded.exit_code, 0) << readded.err;
  EXPECT_EQ(parse_report(readded.out).at("Key id"), "aabb");
  use_stores_in_this_process();
  P11View p11;
  ASSERT_TRUE(p11.open(0));
  const auto relabelled = p11.objects(CKO_CERTIFICATE, "relabelled");
  ASSERT_EQ(relabelled.size(), 1u);
  EXPECT_EQ(relabelled[0].id, (Bytes{0xAA, 0xBB}));
  EXPECT_EQ(p11.objects(CKO_CERTIFICATE).size(), 2u);
}

TEST_F(CngkeyCertTest, MachineScopeCertificate) {
  const std::string id = import_key("machine key", "RSA", "machine");
  const auto cert = make_certificate("m.crt", path("machine key.pem"), "/CN=Machine");
  const ProcessResult added = cngkey({"cert", "add", "--scope", "machine", cert.string()});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(parse_report(added.out).at("Linked key"), "machine key");
  EXPECT_EQ(cngkey({"cert", "list"}).out, "");

  use_stores_in_this_process();
  P11View p11;
  ASSERT_TRUE(p11.open(1));
  const auto certs = p11.objects(CKO_CERTIFICATE);
  ASSERT_EQ(certs.size(), 1u);
  EXPECT_EQ(hex_of(certs[0].id), id);
  EXPECT_EQ(certs[0].label, "Machine");
  ASSERT_TRUE(p11.open(0));
  EXPECT_TRUE(p11.objects(CKO_CERTIFICATE).empty());
}

}  // namespace
}  // namespace cngkey_test
