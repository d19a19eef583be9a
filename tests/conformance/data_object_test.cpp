// Data objects (CKO_DATA, PKCS#11 3.0 §4.5): create, find, get, set, copy and destroy, as
// session and token objects, with the error codes of the spec (§5.7).
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "p11_fixture.h"

namespace conf {
namespace {

// DER of the OID 1.2.840.113549.1.7.1 (PKCS#7 data) and 2.5.4.3 (commonName).
const Bytes kOidPkcs7Data = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01};
const Bytes kOidCommonName = {0x06, 0x03, 0x55, 0x04, 0x03};

class DataObjectTest : public P11Test {
 protected:
  CK_OBJECT_HANDLE CreateData(CK_SESSION_HANDLE s, Template& t, CK_RV expected = CKR_OK) {
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    EXPECT_CKR(expected, f_->C_CreateObject(s, t.data(), t.size(), &h));
    return h;
  }
  CK_OBJECT_HANDLE CreateData(CK_SESSION_HANDLE s, bool token, const std::string& label,
                              const std::string& app, const Bytes& oid, const Bytes& value) {
    Template t;
    t.Ulong(CKA_CLASS, CKO_DATA).Bool(CKA_TOKEN, token).Str(CKA_LABEL, label);
    t.Str(CKA_APPLICATION, app).Raw(CKA_OBJECT_ID, oid).Raw(CKA_VALUE, value);
    return CreateData(s, t);
  }
  CK_RV Set(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, Template& t) {
    return f_->C_SetAttributeValue(s, h, t.data(), t.size());
  }
  CK_RV Copy(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, Template& t, CK_OBJECT_HANDLE* out) {
    return f_->C_CopyObject(s, h, t.data(), t.size(), out);
  }
  std::vector<CK_OBJECT_HANDLE> FindData(CK_SESSION_HANDLE s, CK_ATTRIBUTE_TYPE type,
                                         const Bytes& value) {
    Template t;
    t.Ulong(CKA_CLASS, CKO_DATA).Raw(type, value);
    return Find(s, t);
  }
  // The data store's files of the slot under test (an oracle outside the module's API): its
  // scope's "data" directory, under "platform" for the platform provider's slots.
  std::vector<std::filesystem::path> SlotDataFiles() const {
    std::vector<std::filesystem::path> out;
    std::filesystem::path dir = scope_dir();
    if (IsPlatformSlot(kUserSlot)) {
      dir /= "platform";
    }
    dir /= "data";
    if (std::filesystem::exists(dir)) {
      for (const auto& e : std::filesystem::directory_iterator(dir)) {
        if (e.path().filename() != ".listing-index") {  // the store's listing cache
          out.push_back(e.path());
        }
      }
    }
    return out;
  }
};

TEST_F(DataObjectTest, DefaultsOfAMinimalTemplate) {
  const CK_SESSION_HANDLE s = OpenSession(kUserSlot, false);
  Template t;
  t.Ulong(CKA_CLASS, CKO_DATA);
  const CK_OBJECT_HANDLE h = CreateData(s, t);
  ASSERT_NE(h, CK_INVALID_HANDLE);
  EXPECT_EQ(GetUlong(s, h, CKA_CLASS), CKO_DATA);
  EXPECT_FALSE(GetBool(s, h, CKA_TOKEN));
  EXPECT_FALSE(GetBool(s, h, CKA_PRIVATE));
  EXPECT_TRUE(GetBool(s, h, CKA_MODIFIABLE));
  EXPECT_TRUE(GetBool(s, h, CKA_COPYABLE));
  EXPECT_TRUE(GetBool(s, h, CKA_DESTROYABLE));
  for (const CK_ATTRIBUTE_TYPE empty : {CKA_LABEL, CKA_APPLICATION, CKA_OBJECT_ID, CKA_VALUE}) {
    CK_RV rv = CKR_GENERAL_ERROR;
    EXPECT_TRUE(GetBytes(s, h, empty, &rv).empty()) << empty;
    EXPECT_CKR(CKR_OK, rv);
  }
  EXPECT_FALSE(GetBytes(s, h, CKA_UNIQUE_ID).empty());
  // Attributes of other classes are not attributes of a data object.
  CK_RV rv = CKR_OK;
  GetBytes(s, h, CKA_ID, &rv);
  EXPECT_CKR(CKR_ATTRIBUTE_TYPE_INVALID, rv);
  GetBytes(s, h, CKA_KEY_TYPE, &rv);
  EXPECT_CKR(CKR_ATTRIBUTE_TYPE_INVALID, rv);
}

TEST_F(DataObjectTest, SessionObjectFindSetDestroy) {
  const CK_SESSION_HANDLE s = OpenSession(kUserSlot, false);
  const Bytes value = {0x00, 0x01, 0xfe, 0xff, 0x00};
  const CK_OBJECT_HANDLE h = CreateData(s, false, "blob", "my app", kOidPkcs7Data, value);
  const CK_OBJECT_HANDLE other = CreateData(s, false, "blob2", "other app", kOidCommonName, {1});
  ASSERT_NE(h, CK_INVALID_HANDLE);
  EXPECT_EQ(GetBytes(s, h, CKA_VALUE), value);
  EXPECT_EQ(GetBytes(s, h, CKA_APPLICATION), ToBytes("my app"));
  EXPECT_EQ(GetBytes(s, h, CKA_OBJECT_ID), kOidPkcs7Data);
  EXPECT_NE(GetBytes(s, h, CKA_UNIQUE_ID), GetBytes(s, other, CKA_UNIQUE_ID));

  const std::vector<CK_OBJECT_HANDLE> just_h = {h};
  EXPECT_EQ(FindData(s, CKA_LABEL, ToBytes("blob")), just_h);
  EXPECT_EQ(FindData(s, CKA_APPLICATION, ToBytes("my app")), just_h);
  EXPECT_EQ(FindData(s, CKA_OBJECT_ID, kOidPkcs7Data), just_h);
  EXPECT_EQ(FindData(s, CKA_VALUE, value), just_h);
  Template by_class;
  by_class.Ulong(CKA_CLASS, CKO_DATA);
  EXPECT_EQ(Find(s, by_class).size(), 2u);
  Template no_match;
  no_match.Ulong(CKA_CLASS, CKO_DATA).Str(CKA_APPLICATION, "my app").Str(CKA_LABEL, "blob2");
  EXPECT_TRUE(Find(s, no_match).empty());

  // Every §4.5 attribute is modifiable, and the change is what a search sees.
  Template change;
  change.Str(CKA_LABEL, "renamed").Str(CKA_APPLICATION, "new app");
  change.Raw(CKA_OBJECT_ID, kOidCommonName).Raw(CKA_VALUE, {9, 9});
  EXPECT_CKR(CKR_OK, Set(s, h, change));
  EXPECT_EQ(GetBytes(s, h, CKA_LABEL), ToBytes("renamed"));
  EXPECT_EQ(GetBytes(s, h, CKA_VALUE), (Bytes{9, 9}));
  EXPECT_EQ(GetBytes(s, h, CKA_OBJECT_ID), kOidCommonName);
  EXPECT_TRUE(FindData(s, CKA_APPLICATION, ToBytes("my app")).empty());
  EXPECT_EQ(FindData(s, CKA_APPLICATION, ToBytes("new app")), just_h);
  Template empty_value;
  empty_value.Raw(CKA_VALUE, {}).Raw(CKA_OBJECT_ID, {});
  EXPECT_CKR(CKR_OK, Set(s, h, empty_value));
  EXPECT_TRUE(GetBytes(s, h, CKA_VALUE).empty());

  EXPECT_CKR(CKR_OK, f_->C_DestroyObject(s, h));
  CK_RV rv = CKR_OK;
  GetBytes(s, h, CKA_VALUE, &rv);
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, rv);
  EXPECT_EQ(Find(s, by_class), std::vector<CK_OBJECT_HANDLE>{other});
}

// OpenSC's pkcs11-tool writes CKA_OBJECT_ID as the OID's content octets, without the DER tag
// and length: accepted, and kept as given (a search uses the same bytes).
TEST_F(DataObjectTest, ObjectIdAsBareContentOctets) {
  const CK_SESSION_HANDLE s = OpenSession(kUserSlot, false);
  const Bytes content(kOidPkcs7Data.begin() + 2, kOidPkcs7Data.end());
  const CK_OBJECT_HANDLE h = CreateData(s, false, "opensc", "app", content, {1});
  ASSERT_NE(h, CK_INVALID_HANDLE);
  EXPECT_EQ(GetBytes(s, h, CKA_OBJECT_ID), content);
  EXPECT_EQ(FindData(s, CKA_OBJECT_ID, content), std::vector<CK_OBJECT_HANDLE>{h});
  EXPECT_TRUE(FindData(s, CKA_OBJECT_ID, kOidPkcs7Data).empty());
}

TEST_F(DataObjectTest, SessionObjectSharedBySessionsAndGoneAfterCloseSession) {
  const CK_SESSION_HANDLE a = OpenSession(kUserSlot, false);
  const CK_SESSION_HANDLE b = OpenSession(kUserSlot, false);
  const CK_OBJECT_HANDLE h = CreateData(a, false, "ephemeral", "app", {}, {1, 2, 3});
  EXPECT_EQ(FindData(b, CKA_LABEL, ToBytes("ephemeral")), std::vector<CK_OBJECT_HANDLE>{h});
  EXPECT_CKR(CKR_OK, f_->C_CloseSession(a));
  EXPECT_TRUE(FindData(b, CKA_LABEL, ToBytes("ephemeral")).empty());
  CK_RV rv = CKR_OK;
  GetBytes(b, h, CKA_VALUE, &rv);
  EXPECT_CKR(CKR_OBJECT_HANDLE_INVALID, rv);
  EXPECT_TRUE(SlotDataFiles().empty()) << "a session object never reaches the store";
}

TEST_F(DataObjectTest, TokenObjectPersistsChangesAndIsDestroyedForGood) {
  CK_SESSION_HANDLE s = OpenSession();
  Template t;
  t.Ulong(CKA_CLASS, CKO_DATA).Bool(CKA_TOKEN, true).Bool(CKA_PRIVATE, true);
  t.Str(CKA_LABEL, "kept").Str(CKA_APPLICATION, "conformance").Raw(CKA_OBJECT_ID, kOidPkcs7Data);
  t.Raw(CKA_VALUE, {0xde, 0xad, 0xbe, 0xef});
  CK_OBJECT_HANDLE h = CreateData(s, t);
  ASSERT_NE(h, CK_INVALID_HANDLE);
  const Bytes unique_id = GetBytes(s, h, CKA_UNIQUE_ID);
  EXPECT_FALSE(unique_id.empty());
  const auto files = SlotDataFiles();
  ASSERT_EQ(files.size(), 1u);
  struct stat st {};
  ASSERT_EQ(::lstat(files[0].c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  Reinitialize();
  s = OpenSession();
  auto found = FindData(s, CKA_APPLICATION, ToBytes("conformance"));
  ASSERT_EQ(found.size(), 1u);
  h = found[0];
  EXPECT_TRUE(GetBool(s, h, CKA_TOKEN));
  EXPECT_TRUE(GetBool(s, h, CKA_PRIVATE)) << "no PIN: private objects are readable";
  EXPECT_EQ(GetBytes(s, h, CKA_VALUE), (Bytes{0xde, 0xad, 0xbe, 0xef}));
  EXPECT_EQ(GetBytes(s, h, CKA_OBJECT_ID), kOidPkcs7Data);
  EXPECT_EQ(GetBytes(s, h, CKA_LABEL), ToBytes("kept"));
  EXPECT_EQ(GetBytes(s, h, CKA_UNIQUE_ID), unique_id) << "CKA_UNIQUE_ID is stable";
  EXPECT_TRUE(FindData(OpenSession(kOtherScopeSlot), CKA_LABEL, ToBytes("kept")).empty());

  Template change;
  change.Raw(CKA_VALUE, {1}).Str(CKA_LABEL, "kept2");
  EXPECT_CKR(CKR_OK, Set(s, h, change));
  Reinitialize();
  s = OpenSession();
  found = FindData(s, CKA_LABEL, ToBytes("kept2"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(GetBytes(s, found[0], CKA_VALUE), Bytes{1});
  EXPECT_TRUE(FindData(s, CKA_LABEL, ToBytes("kept")).empty());

  EXPECT_CKR(CKR_OK, f_->C_DestroyObject(s, found[0]));
  EXPECT_TRUE(SlotDataFiles().empty());
  Reinitialize();
  s = OpenSession();
  EXPECT_TRUE(FindData(s, CKA_APPLICATION, ToBytes("conformance")).empty());
}

// A private token object's CKA_VALUE is encrypted at rest (cng_data_store.h): its bytes appear
// in no file of the scope's store nor of its keyring, and the module still returns them.
TEST_F(DataObjectTest, PrivateTokenObjectValueIsNotOnDisk) {
  Bytes value;
  for (int i = 0; i < 48; ++i) {
    value.push_back(static_cast<std::uint8_t>(0x5a ^ (i * 37)));
  }
  CK_SESSION_HANDLE s = OpenSession();
  Template t;
  t.Ulong(CKA_CLASS, CKO_DATA).Bool(CKA_TOKEN, true).Bool(CKA_PRIVATE, true);
  t.Str(CKA_LABEL, "sealed").Raw(CKA_VALUE, value);
  ASSERT_NE(CreateData(s, t), CK_INVALID_HANDLE);
  ASSERT_EQ(SlotDataFiles().size(), 1u);
  const auto value_on_disk = [&] {
    std::vector<std::string> hits;
    for (const std::string& root : {scope_dir(), scope_dir() + ".keyring"}) {
      if (!std::filesystem::exists(root)) {
        continue;
      }
      for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
        if (!e.is_regular_file()) {
          continue;
        }
        std::ifstream in(e.path(), std::ios::binary);
        const std::string content((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
        if (std::search(content.begin(), content.end(), value.begin(), value.end(),
                        [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; }) !=
            content.end()) {
          hits.push_back(e.path().string());
        }
      }
    }
    return hits;
  };
  EXPECT_TRUE(value_on_disk().empty());

  Reinitialize();
  s = OpenSession();
  const auto found = FindData(s, CKA_LABEL, ToBytes("sealed"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_TRUE(GetBool(s, found[0], CKA_PRIVATE));
  EXPECT_EQ(GetBytes(s, found[0], CKA_VALUE), value);
  EXPECT_TRUE(value_on_disk().empty()) << "nor after the store was listed again";
}

// Damaged store files are skipped, the other objects stay visible (and nothing crashes).
TEST_F(DataObjectTest, CorruptStoreFilesAreSkipped) {
  CK_SESSION_HANDLE s = OpenSession();
  CreateData(s, true, "intact-object", "corruption", {}, {1, 2, 3});
  CreateData(s, true, "broken-object", "corruption", {}, {4, 5, 6});
  Reinitialize();
  const auto files = SlotDataFiles();
  ASSERT_EQ(files.size(), 2u);
  // Flip a byte of the broken object's file (found by its label, stored in the clear; not a
  // string hex ids could contain).
  bool damaged = false;
  for (const auto& file : files) {
    std::FILE* f = std::fopen(file.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::string content(4096, '\0');
    content.resize(std::fread(content.data(), 1, content.size(), f));
    if (content.find("broken-object") != std::string::npos) {
      const long at = static_cast<long>(content.size() / 2);
      ASSERT_EQ(std::fseek(f, at, SEEK_SET), 0);
      std::fputc(content[static_cast<size_t>(at)] ^ 0x40, f);
      damaged = true;
    }
    std::fclose(f);
  }
  ASSERT_TRUE(damaged);
  // Garbage under an id-shaped name, and a stray file of another name.
  const std::filesystem::path dir = files[0].parent_path();
  std::FILE* junk = std::fopen((dir / std::string(32, 'a')).c_str(), "wb");
  ASSERT_NE(junk, nullptr);
  std::fputs("not a data object", junk);
  std::fclose(junk);
  s = OpenSession();
  const auto found = FindData(s, CKA_APPLICATION, ToBytes("corruption"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(GetBytes(s, found[0], CKA_LABEL), ToBytes("intact-object"));
  EXPECT_EQ(GetBytes(s, found[0], CKA_VALUE), (Bytes{1, 2, 3}));
}

TEST_F(DataObjectTest, CopyBetweenSessionAndToken) {
  CK_SESSION_HANDLE s = OpenSession();
  const CK_OBJECT_HANDLE session = CreateData(s, false, "orig", "copier", kOidCommonName, {5, 6});
  CK_OBJECT_HANDLE to_token = CK_INVALID_HANDLE;
  Template token_copy;
  token_copy.Bool(CKA_TOKEN, true).Str(CKA_LABEL, "on token").Raw(CKA_VALUE, {7});
  ASSERT_CKR(CKR_OK, Copy(s, session, token_copy, &to_token));
  EXPECT_TRUE(GetBool(s, to_token, CKA_TOKEN));
  EXPECT_EQ(GetBytes(s, to_token, CKA_VALUE), Bytes{7});
  EXPECT_EQ(GetBytes(s, to_token, CKA_OBJECT_ID), kOidCommonName);
  EXPECT_EQ(GetBytes(s, session, CKA_VALUE), (Bytes{5, 6})) << "the source is unchanged";
  EXPECT_NE(GetBytes(s, to_token, CKA_UNIQUE_ID), GetBytes(s, session, CKA_UNIQUE_ID));
  EXPECT_EQ(SlotDataFiles().size(), 1u);

  CK_OBJECT_HANDLE back = CK_INVALID_HANDLE;
  Template session_copy;
  session_copy.Bool(CKA_TOKEN, false).Bool(CKA_MODIFIABLE, false);
  ASSERT_CKR(CKR_OK, Copy(s, to_token, session_copy, &back));
  EXPECT_FALSE(GetBool(s, back, CKA_TOKEN));
  EXPECT_FALSE(GetBool(s, back, CKA_MODIFIABLE));
  EXPECT_EQ(GetBytes(s, back, CKA_LABEL), ToBytes("on token"));
  EXPECT_EQ(SlotDataFiles().size(), 1u);

  Reinitialize();
  s = OpenSession();
  const auto found = FindData(s, CKA_APPLICATION, ToBytes("copier"));
  ASSERT_EQ(found.size(), 1u) << "only the token copy outlives the sessions";
  EXPECT_EQ(GetBytes(s, found[0], CKA_LABEL), ToBytes("on token"));
}

TEST_F(DataObjectTest, CreateErrors) {
  const CK_SESSION_HANDLE rw = OpenSession();
  const CK_SESSION_HANDLE ro = OpenSession(kUserSlot, false);
  Template token_ro;
  token_ro.Ulong(CKA_CLASS, CKO_DATA).Bool(CKA_TOKEN, true);
  CreateData(ro, token_ro, CKR_SESSION_READ_ONLY);
  // Neither a DER OID nor the content octets of one: a last arc cut short (continuation bit
  // set on the last byte), or an arc with a non-minimal leading 0x80.
  for (const Bytes& bad_oid :
       {Bytes{0x2a, 0x86}, Bytes{0x06, 0x03, 0x55, 0x04, 0x83}, Bytes{0x06, 0x02, 0x80, 0x01},
        Bytes{0x80, 0x01}, Bytes{0x2a, 0x86, 0x48, 0x80, 0x86, 0x01}}) {
    Template t;
    t.Ulong(CKA_CLASS, CKO_DATA).Raw(CKA_OBJECT_ID, bad_oid);
    CreateData(rw, t, CKR_ATTRIBUTE_VALUE_INVALID);
  }
  Template twice;
  twice.Ulong(CKA_CLASS, CKO_DATA).Str(CKA_LABEL, "a").Str(CKA_LABEL, "b");
  CreateData(rw, twice, CKR_TEMPLATE_INCONSISTENT);
  Template foreign;
  foreign.Ulong(CKA_CLASS, CKO_DATA).Raw(CKA_ID, {1});
  CreateData(rw, foreign, CKR_ATTRIBUTE_TYPE_INVALID);
  Template unique;
  unique.Ulong(CKA_CLASS, CKO_DATA).Str(CKA_UNIQUE_ID, "mine");
  CreateData(rw, unique, CKR_ATTRIBUTE_READ_ONLY);
  CK_ULONG wide_bool = 1;
  Template malformed;
  malformed.Ulong(CKA_CLASS, CKO_DATA).Verbatim(CKA_TOKEN, &wide_bool, sizeof wide_bool);
  CreateData(rw, malformed, CKR_ATTRIBUTE_VALUE_INVALID);
  // A token object's value is bounded by the store; a session object's is not.
  const Bytes big(1024 * 1024 + 1, 0x42);
  Template token_big;
  token_big.Ulong(CKA_CLASS, CKO_DATA).Bool(CKA_TOKEN, true).Raw(CKA_VALUE, big);
  CreateData(rw, token_big, CKR_DEVICE_MEMORY);
  Template session_big;
  session_big.Ulong(CKA_CLASS, CKO_DATA).Raw(CKA_VALUE, big);
  const CK_OBJECT_HANDLE h = CreateData(rw, session_big);
  EXPECT_EQ(GetBytes(rw, h, CKA_VALUE), big);
  CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
  Template to_token;
  to_token.Bool(CKA_TOKEN, true);
  EXPECT_CKR(CKR_DEVICE_MEMORY, Copy(rw, h, to_token, &copy));
  EXPECT_TRUE(SlotDataFiles().empty()) << "nothing was stored by a failed create";
}

TEST_F(DataObjectTest, ChangeErrors) {
  const CK_SESSION_HANDLE rw = OpenSession();
  const CK_SESSION_HANDLE ro = OpenSession(kUserSlot, false);
  const CK_OBJECT_HANDLE token = CreateData(rw, true, "tok", "app", {}, {1});
  Template relabel;
  relabel.Str(CKA_LABEL, "x");
  EXPECT_CKR(CKR_SESSION_READ_ONLY, Set(ro, token, relabel));
  EXPECT_CKR(CKR_SESSION_READ_ONLY, f_->C_DestroyObject(ro, token));
  CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
  Template keep_token;
  keep_token.Str(CKA_LABEL, "copy");
  EXPECT_CKR(CKR_SESSION_READ_ONLY, Copy(ro, token, keep_token, &copy));

  for (const CK_ATTRIBUTE_TYPE fixed : {CKA_CLASS, CKA_TOKEN, CKA_PRIVATE, CKA_UNIQUE_ID}) {
    Template t;
    if (fixed == CKA_CLASS) {
      t.Ulong(CKA_CLASS, CKO_CERTIFICATE);
    } else if (fixed == CKA_UNIQUE_ID) {
      t.Str(CKA_UNIQUE_ID, "other");
    } else {
      t.Bool(fixed, fixed == CKA_PRIVATE);
    }
    EXPECT_CKR(CKR_ATTRIBUTE_READ_ONLY, Set(rw, token, t)) << fixed;
  }
  Template bad_oid;
  bad_oid.Raw(CKA_OBJECT_ID, {0x55, 0x04, 0x83});
  EXPECT_CKR(CKR_ATTRIBUTE_VALUE_INVALID, Set(rw, token, bad_oid));
  Template foreign;
  foreign.Raw(CKA_SUBJECT, {0x30, 0x00});
  EXPECT_CKR(CKR_ATTRIBUTE_TYPE_INVALID, Set(rw, token, foreign));
  EXPECT_EQ(GetBytes(rw, token, CKA_LABEL), ToBytes("tok")) << "failed sets changed nothing";

  Template locked;
  locked.Ulong(CKA_CLASS, CKO_DATA).Bool(CKA_MODIFIABLE, false).Bool(CKA_COPYABLE, false);
  locked.Bool(CKA_DESTROYABLE, false).Str(CKA_LABEL, "locked");
  const CK_OBJECT_HANDLE h = CreateData(rw, locked);
  EXPECT_CKR(CKR_ACTION_PROHIBITED, Set(rw, h, relabel));
  EXPECT_CKR(CKR_ACTION_PROHIBITED, Copy(rw, h, relabel, &copy));
  EXPECT_CKR(CKR_ACTION_PROHIBITED, f_->C_DestroyObject(rw, h));
  EXPECT_EQ(GetBytes(rw, h, CKA_LABEL), ToBytes("locked"));
  const CK_OBJECT_HANDLE free_obj = CreateData(rw, false, "free", "", {}, {});
  Template not_copyable;
  not_copyable.Bool(CKA_COPYABLE, false);
  ASSERT_CKR(CKR_OK, Copy(rw, free_obj, not_copyable, &copy));
  EXPECT_FALSE(GetBool(rw, copy, CKA_COPYABLE));
}

}  // namespace
}  // namespace conf
