// Token data objects across processes: what one process creates, changes or destroys, another
// (fresh or already running) sees; session data objects die with their process.
#include "p11_fixture.h"
#include "subprocess.h"

namespace conf {
namespace {

using DataMultiProcessTest = P11Test;

std::map<std::string, std::string> RunData(const std::vector<std::string>& args) {
  const ChildOutcome c = RunHelper(args);
  EXPECT_TRUE(c.exited && c.exit_code == 0) << c.Describe();
  return ParseKeyValues(c.output);
}

std::string At(const std::map<std::string, std::string>& kv, const std::string& key) {
  const auto it = kv.find(key);
  return it == kv.end() ? "<absent>" : it->second;
}

TEST_F(DataMultiProcessTest, TokenDataObjectFromProcessAIsSeenByProcessB) {
  const auto a = RunData({"data-put", std::to_string(kUserSlot), "shared-data", "app-a", "c0ffee"});
  EXPECT_EQ(At(a, "create_token"), "CKR_OK");
  EXPECT_EQ(At(a, "session_count"), "1");
  const auto b = RunData({"data-dump", std::to_string(kUserSlot), "shared-data"});
  EXPECT_EQ(At(b, "count"), "1");
  EXPECT_EQ(At(b, "session_count"), "0") << "a session object outlived its process";
  EXPECT_EQ(At(b, "value"), "c0ffee");
  EXPECT_EQ(At(b, "application"), Hex(ToBytes("app-a")));
  EXPECT_EQ(At(b, "object_id"), "0603550403");
  EXPECT_EQ(At(b, "token"), "01");
  EXPECT_EQ(At(b, "unique_id"), At(a, "unique_id")) << "CKA_UNIQUE_ID is the same everywhere";
  EXPECT_EQ(At(RunData({"data-dump", std::to_string(kOtherScopeSlot), "shared-data"}), "count"),
            "0")
      << "the other scope's slot";
}

// This process has loaded its view of the store before each change another process makes.
TEST_F(DataMultiProcessTest, RunningProcessSeesOtherProcessesChanges) {
  const CK_SESSION_HANDLE s = OpenSession();
  Template by_label;
  by_label.Ulong(CKA_CLASS, CKO_DATA).Str(CKA_LABEL, "live");
  EXPECT_TRUE(Find(s, by_label).empty());

  EXPECT_EQ(
      At(RunData({"data-put", std::to_string(kUserSlot), "live", "app", "01"}), "create_token"),
      "CKR_OK");
  auto found = Find(s, by_label);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(GetBytes(s, found[0], CKA_VALUE), Bytes{0x01});

  EXPECT_EQ(At(RunData({"data-set", std::to_string(kUserSlot), "live", "0203"}), "set"), "CKR_OK");
  found = Find(s, by_label);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(GetBytes(s, found[0], CKA_VALUE), (Bytes{0x02, 0x03}));

  // And the other way round: a change made here is what the next process reads.
  Template change;
  change.Raw(CKA_VALUE, {0x04});
  EXPECT_CKR(CKR_OK, f_->C_SetAttributeValue(s, found[0], change.data(), change.size()));
  EXPECT_EQ(At(RunData({"data-dump", std::to_string(kUserSlot), "live"}), "value"), "04");

  EXPECT_EQ(At(RunData({"data-destroy", std::to_string(kUserSlot), "live"}), "destroy"), "CKR_OK");
  EXPECT_TRUE(Find(s, by_label).empty());
  CK_RV rv = CKR_OK;
  GetBytes(s, found[0], CKA_VALUE, &rv);
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, rv);
}

}  // namespace
}  // namespace conf
