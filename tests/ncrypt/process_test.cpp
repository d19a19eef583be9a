// End-to-end process tests at the NCrypt level: SIGKILL during key writes, two processes
// racing for one name, and an unprivileged process against root-owned stores.
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "ncrypt_test_support.h"
#include "openssl_check.h"
#include "process_support.h"
#include "store/key_store.h"

namespace ncrypt_test {

Child spawn_child(const std::vector<std::string>& args, const std::function<bool()>& before_exec) {
  int in[2];
  int out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    return {};
  }
  std::vector<std::string> argv_storage = {"/proc/self/exe", "--child"};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    if (before_exec && !before_exec()) {
      ::_exit(70);
    }
    ::execv(argv[0], argv.data());
    ::_exit(71);
  }
  ::close(in[0]);
  ::close(out[1]);
  return {pid, in[1], out[0]};
}

std::map<std::string, std::string> finish_child(Child& child, int* wait_status) {
  if (child.stdin_fd >= 0) {
    ::close(child.stdin_fd);
    child.stdin_fd = -1;
  }
  std::string text;
  char buf[256];
  ssize_t n = 0;
  while ((n = ::read(child.stdout_fd, buf, sizeof buf)) > 0) {
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(child.stdout_fd);
  int status = 0;
  ::waitpid(child.pid, &status, 0);
  if (wait_status != nullptr) {
    *wait_status = status;
  }
  std::map<std::string, std::string> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = text.find('\n', pos);
    const std::string line = text.substr(pos, end - pos);
    if (const auto eq = line.find('='); eq != std::string::npos) {
      lines[line.substr(0, eq)] = line.substr(eq + 1);
    }
    pos = end == std::string::npos ? text.size() : end + 1;
  }
  return lines;
}

namespace {

std::string hex(SECURITY_STATUS s) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", static_cast<unsigned>(s));
  return buf;
}

// Reads until the child reports key= (a whole line), e.g. "ready" (so kills land in the loop,
// not during start-up) or "created" (a first key is whole on disk).
bool wait_for(const Child& child, const std::string& key = "ready=") {
  std::string text;
  char c = 0;
  while (text.find(key) == std::string::npos && ::read(child.stdout_fd, &c, 1) == 1) {
    text += c;
  }
  while (c != '\n' && ::read(child.stdout_fd, &c, 1) == 1) {
  }
  return text.find(key) != std::string::npos;
}

class ProcessTest : public NCryptTest {};

TEST_F(ProcessTest, KilledWritersLeaveEveryKeyWholeOrAbsent) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(2, 40);
  for (int round = 0; round < 30; ++round) {
    Child child = spawn_child({"create-loop"});
    ASSERT_GT(child.pid, 0);
    ASSERT_TRUE(wait_for(child));
    if (round == 0) {
      // However slow the machine (sanitizers, a loaded CI host), one key is whole before the
      // kills start: later kills must then leave it (or a newer version) whole, never absent.
      ASSERT_TRUE(wait_for(child, "created="));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    ::kill(child.pid, SIGKILL);
    int status = 0;
    finish_child(child, &status);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself: status " << status;
  }
  int present = 0;
  for (char16_t i = u'0'; i < u'4'; ++i) {
    const std::u16string name = std::u16string(u"crash-") + i;
    NCRYPT_KEY_HANDLE key = 0;
    const SECURITY_STATUS s = NCryptOpenKey(provider_, &key, name.c_str(), 0, 0);
    ASSERT_TRUE(s == ERROR_SUCCESS || s == NTE_BAD_KEYSET) << status_text(s);
    if (s == ERROR_SUCCESS) {
      ++present;
      Bytes hash(32, 0x42);
      BYTE sig[64];
      DWORD size = 0;
      EXPECT_OK(NCryptSignHash(key, nullptr, hash.data(), 32, sig, sizeof sig, &size, 0));
      // OpenSSL, not the provider that signed, judges the signature.
      const Pkey pub = pkey_from_bcrypt_public(export_key(key, BCRYPT_ECCPUBLIC_BLOB));
      ASSERT_TRUE(pub);
      EXPECT_TRUE(verify_ecdsa_raw(pub.get(), hash, Bytes(sig, sig + size)));
      EXPECT_OK(NCryptFreeObject(key));
    }
  }
  EXPECT_GT(present, 0) << "a key completed before the kills is gone";
  // Every listed key opens.
  void* state = nullptr;
  NCryptKeyName* item = nullptr;
  while (NCryptEnumKeys(provider_, nullptr, &item, &state, 0) == ERROR_SUCCESS) {
    NCRYPT_KEY_HANDLE key = 0;
    EXPECT_OK(NCryptOpenKey(provider_, &key, item->pszName, 0, 0));
    EXPECT_OK(NCryptFreeObject(key));
    EXPECT_OK(NCryptFreeBuffer(item));
  }
  EXPECT_OK(NCryptFreeBuffer(state));
}

TEST_F(ProcessTest, TwoCreatorsOfOneNameExactlyOneWins) {
  for (int round = 0; round < 20; ++round) {
    const std::string name = "race-" + std::to_string(round);
    Child a = spawn_child({"race", name});
    Child b = spawn_child({"race", name});
    ASSERT_GT(a.pid, 0);
    ASSERT_GT(b.pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // both waiting on stdin
    ::close(a.stdin_fd);                                         // go
    ::close(b.stdin_fd);
    a.stdin_fd = b.stdin_fd = -1;
    const auto ra = finish_child(a);
    const auto rb = finish_child(b);
    const auto won = [](const std::map<std::string, std::string>& r) {
      return r.count("create") != 0 && r.at("create") == hex(ERROR_SUCCESS) &&
             r.count("finalize") != 0 && r.at("finalize") == hex(ERROR_SUCCESS);
    };
    const auto lost_with_exists = [](const std::map<std::string, std::string>& r) {
      return (r.count("create") != 0 && r.at("create") == hex(NTE_EXISTS)) ||
             (r.count("finalize") != 0 && r.at("finalize") == hex(NTE_EXISTS));
    };
    EXPECT_TRUE((won(ra) && lost_with_exists(rb)) || (won(rb) && lost_with_exists(ra)))
        << "round " << round << ": a create=" << (ra.count("create") ? ra.at("create") : "-")
        << " finalize=" << (ra.count("finalize") ? ra.at("finalize") : "-")
        << "; b create=" << (rb.count("create") ? rb.at("create") : "-")
        << " finalize=" << (rb.count("finalize") ? rb.at("finalize") : "-");
    NCRYPT_KEY_HANDLE key = 0;
    const std::u16string wname(name.begin(), name.end());
    EXPECT_OK(NCryptOpenKey(provider_, &key, wname.c_str(), 0, 0));
    EXPECT_OK(NCryptFreeObject(key));
  }
  EXPECT_EQ(file_count(user_dir()), 20u);
}

// An unprivileged process (nobody) against root-owned stores: it can create nothing, cannot
// open keys it may not read, and cannot delete keys it may read; nothing changes on disk.
// Access denial is NTE_PERM (Windows says NTE_BAD_KEYSET on open; we keep the precise code,
// see NCryptOpenKey).
TEST_F(ProcessTest, UnprivilegedProcessCannotTouchRootStores) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to switch to another user";
  }
  const passwd* nobody = ::getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  const uid_t uid = nobody->pw_uid;
  const gid_t gid = nobody->pw_gid;

  // Root creates: a world-readable machine key (file 0644 in a 0755 directory), a private machine
  // key (0600), and a key in a root-only user store (0700) standing for another user's store.
  NCRYPT_KEY_HANDLE key = create_key(u"ECDSA_P256", u"root-readable-key", NCRYPT_MACHINE_KEY_FLAG);
  ASSERT_OK(NCryptFreeObject(key));
  key = create_key(u"ECDSA_P256", u"root-private-key", NCRYPT_MACHINE_KEY_FLAG);
  ASSERT_OK(NCryptFreeObject(key));
  key = create_key(u"ECDSA_P256", u"root-user-key");
  ASSERT_OK(NCryptFreeObject(key));
  ::chmod(user_dir().parent_path().c_str(), 0755);
  ::chmod(machine_dir().c_str(), 0755);
  ::chmod((machine_dir() / cng::KeyStore::file_name_for(u"root-readable-key")).c_str(), 0644);
  const auto machine_before = snapshot(machine_dir());
  const auto user_before = snapshot(user_dir());

  Child child = spawn_child({"perm"}, [uid, gid] {
    return ::setgroups(0, nullptr) == 0 && ::setgid(gid) == 0 && ::setuid(uid) == 0;
  });
  ASSERT_GT(child.pid, 0);
  int status = 0;
  const auto r = finish_child(child, &status);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  EXPECT_EQ(r.at("open_provider"), hex(ERROR_SUCCESS));
  EXPECT_EQ(r.at("create_machine"), hex(NTE_PERM));
  EXPECT_EQ(r.at("create_user"), hex(NTE_PERM));
  EXPECT_EQ(r.at("open_user"), hex(NTE_PERM));
  EXPECT_EQ(r.at("open_machine_private"), hex(NTE_PERM));
  // A key file readable by others is not trusted (StrictModes, store_dir.h), and it is not
  // the user's own anyway: refused, so it cannot be deleted either.
  EXPECT_EQ(r.at("open_machine_readable"), hex(NTE_PERM));
  EXPECT_EQ(r.count("delete_machine_readable"), 0U);
  EXPECT_EQ(snapshot(machine_dir()), machine_before);
  EXPECT_EQ(snapshot(user_dir()), user_before);
}

}  // namespace
}  // namespace ncrypt_test
