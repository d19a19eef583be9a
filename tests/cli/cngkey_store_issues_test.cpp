// cngkey and key files the store leaves out: a damaged file is listed as damaged (text and
// JSON) and `cngkey delete NAME` removes it; a file of another owner or with a loose mode is
// listed as refused and `show` says why.
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "cngkey_fixture.h"
#include "json_reader.h"

namespace cngkey_test {
namespace {

// The one key file in the user store.
std::filesystem::path only_key_file(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> keys;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().filename().string().size() == 32) {
      keys.push_back(entry.path());
    }
  }
  EXPECT_EQ(keys.size(), 1U);
  return keys.empty() ? std::filesystem::path() : keys.front();
}

TEST_F(CngkeyTest, DamagedKeyIsListedAsDamagedAndCanBeDeleted) {
  create_key({"--name", "victim", "--algorithm", "ECDSA_P256"});
  const auto file = only_key_file(user_dir_);
  ASSERT_FALSE(file.empty());
  std::string content = read_file(file);
  content[60] = static_cast<char>(content[60] ^ 0x5a);
  write_file(file, content);
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  const std::string id = file.filename().string();

  const auto rows = list_keys("user");
  ASSERT_EQ(rows.size(), 1U);
  ASSERT_GE(rows[0].size(), 3U);
  EXPECT_EQ(rows[0][0], "(file " + id + ")");
  EXPECT_EQ(rows[0][1].rfind("damaged: ", 0), 0U) << rows[0][1];
  EXPECT_EQ(rows[0][2], "user");

  const ProcessResult json = cngkey({"list", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto parsed = parse_json(json.out);
  ASSERT_TRUE(parsed.has_value()) << json.out;
  ASSERT_EQ(parsed->array.size(), 1U);
  EXPECT_EQ(parsed->array[0].at("file").text, id);
  EXPECT_EQ(parsed->array[0].at("status").text, "damaged");

  const ProcessResult show = cngkey({"show", "--name", "victim"});
  EXPECT_NE(show.exit_code, 0);
  EXPECT_NE(show.err.find("damaged: "), std::string::npos) << show.err;

  const ProcessResult deleted = cngkey({"delete", "--name", "victim"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_FALSE(std::filesystem::exists(file));
  EXPECT_TRUE(list_keys("user").empty());
  // The name is free again.
  create_key({"--name", "victim", "--algorithm", "ECDSA_P256"});
  EXPECT_EQ(show_key("victim").at("Name"), "victim");
}

TEST_F(CngkeyTest, UntrustedKeyFilesAreListedAsRefused) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to give a file to another uid";
  }
  create_key({"--name", "planted", "--algorithm", "ECDSA_P256"});
  const auto file = only_key_file(user_dir_);
  ASSERT_EQ(::chown(file.c_str(), 65534, 65534), 0);
  const ProcessResult show = cngkey({"show", "--name", "planted"});
  EXPECT_NE(show.exit_code, 0);
  EXPECT_NE(show.err.find("refused: owned by uid 65534"), std::string::npos) << show.err;
  const ProcessResult del = cngkey({"delete", "--name", "planted"});
  EXPECT_NE(del.exit_code, 0);
  EXPECT_TRUE(std::filesystem::exists(file));
  auto rows = list_keys("user");
  ASSERT_EQ(rows.size(), 1U);
  ASSERT_GE(rows[0].size(), 2U);
  EXPECT_EQ(rows[0][1].rfind("refused: owned by uid 65534", 0), 0U) << rows[0][1];

  ASSERT_EQ(::chown(file.c_str(), 0, 0), 0);
  ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
  const ProcessResult loose = cngkey({"show", "--name", "planted"});
  EXPECT_NE(loose.exit_code, 0);
  EXPECT_NE(loose.err.find("refused: mode 0644"), std::string::npos) << loose.err;
  const ProcessResult json = cngkey({"list", "--json"});
  const auto parsed = parse_json(json.out);
  ASSERT_TRUE(parsed.has_value()) << json.out;
  ASSERT_EQ(parsed->array.size(), 1U);
  EXPECT_EQ(parsed->array[0].at("status").text, "refused");
  EXPECT_EQ(parsed->array[0].at("reason").text.rfind("mode 0644", 0), 0U);
}

}  // namespace
}  // namespace cngkey_test
