// --json output of list, show and cert list, read back with an independent parser
// (json_reader.cpp): valid JSON, stable field names, strings escaped so that any key name
// survives the round trip, values equal to the text output and to OpenSSL's view of the key.
#include <string>
#include <vector>

#include "cngkey_fixture.h"
#include "json_reader.h"

namespace cngkey_test {
namespace {

JsonValue parsed(const ProcessResult& result) {
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  std::string error;
  auto value = parse_json(result.out, &error);
  EXPECT_TRUE(value.has_value()) << error << "\n" << result.out;
  return value.value_or(JsonValue{});
}

TEST_F(CngkeyTest, EmptyListsAreEmptyArrays) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"list", "--json"},
                                               {"list", "--json", "--long"},
                                               {"list", "--json", "--scope", "machine"},
                                               {"cert", "list", "--json"}}) {
    const JsonValue value = parsed(cngkey(args));
    EXPECT_EQ(value.type, JsonValue::Type::kArray);
    EXPECT_TRUE(value.array.empty());
  }
}

TEST_F(CngkeyTest, ListJsonEscapesAnyName) {
  // Quote, backslash, tab, newline, another control character, non-ASCII, a non-BMP character.
  const std::string odd = "q\"b\\t\tn\nc\x01 \xC3\xA9 \xF0\x9F\x94\x91";
  const std::vector<std::string> names = {"alpha", odd, "zeta"};
  for (const std::string& name : names) {
    create_key({"--name", name, "--algorithm", "ECDSA_P256"});
  }
  create_key({"--name", "rsa", "--algorithm", "RSA", "--length", "2048", "--usage", "sign",
              "--legacy-spec", "exchange", "--scope", "machine"});

  const JsonValue list = parsed(cngkey({"list", "--json"}));
  ASSERT_EQ(list.array.size(), 3u);
  std::vector<std::string> listed;
  for (const JsonValue& entry : list.array) {
    EXPECT_EQ(entry.keys, (std::vector<std::string>{"name", "algorithm", "scope", "provider",
                                                    "legacy_key_spec"}));
    listed.push_back(entry.at("name").str());
    EXPECT_EQ(entry.at("algorithm").str(), "ECDSA_P256");
    EXPECT_EQ(entry.at("scope").str(), "user");
    EXPECT_EQ(entry.at("provider").str(), "software");
  }
  EXPECT_EQ(listed, (std::vector<std::string>{"alpha", odd, "zeta"}))
      << "sorted by UTF-16 name, like the text listing";

  const JsonValue machine = parsed(cngkey({"list", "--json", "--long", "--scope", "machine"}));
  ASSERT_EQ(machine.array.size(), 1u);
  const JsonValue& rsa = machine.array[0];
  EXPECT_EQ(rsa.at("name").str(), "rsa");
  EXPECT_EQ(rsa.at("legacy_key_spec").str(), "exchange");
  EXPECT_EQ(rsa.at("length").str(), "2048");
  EXPECT_EQ(rsa.at("length").type, JsonValue::Type::kNumber);
  EXPECT_EQ(rsa.at("key_usage").str(), "2");  // NCRYPT_ALLOW_SIGNING_FLAG

  const JsonValue shown = parsed(cngkey({"show", "--name", odd, "--json"}));
  EXPECT_EQ(shown.at("name").str(), odd);
}

TEST_F(CngkeyTest, ShowJsonMatchesTheTextReportAndOpenSsl) {
  create_key({"--name", "signer", "--algorithm", "ECDSA_P384", "--usage", "sign", "--exportable",
              "--legacy-spec", "signature"});
  const auto text = show_key("signer");
  const JsonValue json = parsed(cngkey({"show", "--name", "signer", "--json"}));
  EXPECT_EQ(json.keys, (std::vector<std::string>{
                           "name", "provider", "algorithm", "algorithm_group", "length",
                           "key_usage", "key_usage_names", "export_policy", "export_policy_names",
                           "key_type", "scope", "unique_name", "modified", "legacy_key_spec",
                           "pkcs11_label", "pkcs11_id", "public_key", "public_key_sha1"}));
  EXPECT_EQ(json.at("name").str(), "signer");
  EXPECT_EQ(json.at("provider").str(), "software");
  EXPECT_EQ(json.at("algorithm").str(), "ECDSA_P384");
  EXPECT_EQ(json.at("algorithm_group").str(), "ECDSA");
  EXPECT_EQ(json.at("length").str(), "384");
  EXPECT_EQ(json.at("key_usage").str(), "2");
  ASSERT_EQ(json.at("key_usage_names").array.size(), 1u);
  EXPECT_EQ(json.at("key_usage_names").array[0].str(), "sign");
  EXPECT_EQ(json.at("export_policy").str(), "3");
  ASSERT_EQ(json.at("export_policy_names").array.size(), 2u);
  EXPECT_EQ(json.at("export_policy_names").array[1].str(), "plaintext-export");
  EXPECT_EQ(json.at("key_type").str(), "0");
  EXPECT_EQ(json.at("scope").str(), "user");
  EXPECT_EQ(json.at("unique_name").str(), text.at("Unique name"));
  EXPECT_EQ(json.at("modified").str(), text.at("Modified"));
  EXPECT_EQ(json.at("legacy_key_spec").str(), "signature");
  EXPECT_TRUE(json.at("pkcs11_label").is_null());
  EXPECT_TRUE(json.at("pkcs11_id").is_null());
  EXPECT_EQ(json.at("public_key").str(), text.at("Public key"));

  const auto pem = path("signer.pem");
  ASSERT_EQ(cngkey({"export-public", "--name", "signer", "--out", pem.string()}).exit_code, 0);
  EXPECT_EQ(json.at("public_key_sha1").str(), public_value_sha1(pem));
}

TEST_F(CngkeyTest, SecretKeysAreListedAndShownWithoutAPublicKey) {
  // AES and generic-secret CNG keys (as C_GenerateKey makes them) have an algorithm and a
  // length but no public half: show reports none instead of failing.
  create_key({"--name", "aes-key", "--algorithm", "AES", "--length", "192"});
  create_key({"--name", "hmac-key", "--algorithm", "GENERIC_SECRET", "--length", "512"});
  const auto text = show_key("aes-key");
  EXPECT_EQ(text.at("Algorithm"), "AES");
  EXPECT_EQ(text.at("Algorithm group"), "AES");
  EXPECT_EQ(text.at("Length"), "192");
  EXPECT_EQ(text.at("Public key"), "none (secret key)");
  const JsonValue json = parsed(cngkey({"show", "--name", "hmac-key", "--json"}));
  EXPECT_EQ(json.at("algorithm").str(), "GENERIC_SECRET");
  EXPECT_EQ(json.at("length").str(), "512");
  EXPECT_TRUE(json.at("public_key").is_null());
  EXPECT_TRUE(json.at("public_key_sha1").is_null());
  const JsonValue list = parsed(cngkey({"list", "--long", "--json"}));
  ASSERT_EQ(list.array.size(), 2u);
  for (const JsonValue& entry : list.array) {
    const std::string name = entry.at("name").str();
    EXPECT_EQ(entry.at("algorithm").str(), name == "aes-key" ? "AES" : "GENERIC_SECRET");
    EXPECT_EQ(entry.at("length").str(), name == "aes-key" ? "192" : "512");
  }
}

}  // namespace
}  // namespace cngkey_test
