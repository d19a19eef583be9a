// Crash safety of the scope PIN's hold on the master key (store/master_key.h, PIN protocol): a
// worker process sets, changes and removes the PIN in a loop over a store with software keys
// (file protector; with CNG_PKCS11_TCTI naming a TPM, TPM-sealed, and under a PIN sealed with
// the PIN's auth) and is SIGKILLed at random points, many of them near the end of an operation
// where the pin-state and master-key writes happen. After every kill exactly one of the PINs the
// worker used (or no PIN) logs in a fresh process, and with it every key signs (checked with
// OpenSSL against the public keys exported before). The binary re-executes itself:
// `--crash-child work STATE` (the loop) and `--crash-child sign PIN|- NAME…` (one check).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cng_key_protection.h"
#include "cng_scope_pin.h"
#include "openssl_check.h"
#include "store/master_key.h"
#include "swtpm_da.h"

extern char** environ;

namespace ncrypt_test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kPins[] = {"pin-A-1234", "pin-B-5678"};
constexpr const char* kKeyNames[] = {"crash-p256", "crash-p384"};
constexpr int kKills = 80;      // at least this many kills,
constexpr int kMaxKills = 400;  // and more until one landed between the two writes

cng::PinBytes bytes_of(const char* text) {
  return {reinterpret_cast<const std::uint8_t*>(text), std::strlen(text)};
}

std::string hex(const std::uint8_t* p, std::size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

Bytes unhex(const std::string& s) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(s.substr(i, 2), nullptr, 16)));
  }
  return out;
}

struct Spawned {
  pid_t pid = -1;
  int out = -1;  // read end of the child's stdout
};

Spawned spawn(const std::vector<std::string>& args) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return {};
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  std::vector<std::string> all = {"/proc/self/exe", "--crash-child"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  Spawned child;
  if (posix_spawn(&child.pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
    child.pid = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  child.out = fds[0];
  return child;
}

// Runs `sign PIN|- NAME…`; returns the exit code and the signature lines.
int run_sign(const char* pin, std::vector<std::string>& lines) {
  std::vector<std::string> args = {"sign", pin == nullptr ? "-" : pin};
  args.insert(args.end(), std::begin(kKeyNames), std::end(kKeyNames));
  Spawned child = spawn(args);
  std::string text;
  char buf[512];
  for (ssize_t n; (n = ::read(child.out, buf, sizeof buf)) > 0;) {
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(child.out);
  int status = 0;
  if (child.pid < 0 || waitpid(child.pid, &status, 0) != child.pid || !WIFEXITED(status)) {
    return -1;
  }
  lines.clear();
  for (std::size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) {
    lines.push_back(text.substr(at, nl - at));
  }
  return WEXITSTATUS(status);
}

class ScopePinCrashTest : public NCryptTest {};

TEST_F(ScopePinCrashTest, KilledSetChangeRemoveLeavesOnePinThatOpensEveryKey) {
  if (testing_platform()) {
    GTEST_SKIP() << "software keys only";
  }
  const char* tcti = std::getenv("CNG_PKCS11_TCTI");
  if (tcti != nullptr) {
    // The checks give each wrong PIN to the TPM too: a large budget, one forgiven per second.
    ASSERT_TRUE(platform_test::set_dictionary_attack(tcti, 1000, 1, 0));
  }
  std::vector<Pkey> publics;
  for (const char* name : kKeyNames) {
    const std::string n(name);
    const std::u16string name16(n.begin(), n.end());
    const NCRYPT_KEY_HANDLE key =
        create_key(n.ends_with("256") ? u"ECDSA_P256" : u"ECDSA_P384", name16.c_str());
    publics.push_back(pkey_from_bcrypt_public(export_key(key, BCRYPT_ECCPUBLIC_BLOB)));
    ASSERT_NE(publics.back(), nullptr);
    EXPECT_OK(NCryptFreeObject(key));
  }
  cng::KeyProtectionStatus protection;
  ASSERT_OK(cng::CngGetKeyProtectionStatus(provider_, 0, &protection));
  if (tcti != nullptr) {
    ASSERT_EQ(protection.protector, "tpm-sealed");
  } else if (std::string(protection.protector) != "file") {
    // A TPM of the machine: its dictionary-attack counter is not ours to spend.
    GTEST_SKIP() << "the master key is not under the file protector";
  }
  const cng::master_key::Keyring keyring(cng::master_key::Keyring::dir_for(user_dir()));
  const Bytes hash = digest("SHA256", "crash-safe PIN");
  std::mt19937 rng(std::random_device{}());
  std::map<char, Clock::duration> op_time;  // the last full duration of each operation
  std::map<std::string, int> seen;          // states found after the kills
  std::string state = "-";                  // "-" no PIN, else the PIN
  int between = 0;  // kills that left a state between the pin-state and master-key writes
  for (int kill_no = 0; kill_no < kMaxKills && (kill_no < kKills || between == 0); ++kill_no) {
    Spawned worker = spawn({"work", state});
    ASSERT_GT(worker.pid, 0);
    // The worker writes an operation letter when it starts one and '.' when it is done. Kill
    // during a random operation: at a random point, or (every other time) in the last few
    // milliseconds of its last measured duration, where the two writes happen.
    const int target = std::uniform_int_distribution<int>(0, 3)(rng);
    int started = 0;
    char op = 0;
    Clock::time_point begin;
    bool killed = false;
    while (!killed) {
      char c = 0;
      if (::read(worker.out, &c, 1) != 1) {
        break;  // the worker died on its own
      }
      if (c == '.') {
        op_time[op] = Clock::now() - begin;
        continue;
      }
      op = c;
      begin = Clock::now();
      if (started++ < target) {
        continue;
      }
      const auto full = op_time.count(op) ? op_time[op] : std::chrono::milliseconds(250);
      const auto full_us = std::chrono::duration_cast<std::chrono::microseconds>(full).count();
      const long at_us = kill_no % 2 == 0
                             ? std::uniform_int_distribution<long>(0, full_us)(rng)
                             : full_us - std::uniform_int_distribution<long>(0, 12000)(rng);
      std::this_thread::sleep_until(begin + std::chrono::microseconds(std::max(0L, at_us)));
      ::kill(worker.pid, SIGKILL);
      killed = true;
    }
    ::close(worker.out);
    int status = 0;
    ASSERT_EQ(waitpid(worker.pid, &status, 0), worker.pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the worker failed on its own: " << status;

    // What the kill left on disk, before any login repairs it.
    cng::ScopePinStatus pin_status;
    ASSERT_OK(cng::CngGetScopePinStatus(provider_, 0, &pin_status));
    const cng::master_key::Status mk = keyring.status();
    if (pin_status.pin_set && !cng::master_key::is_pin_protector(mk.protector)) {
      ++seen["pin set, master key not yet (or no longer) wrapped"];
      ++between;
    } else if (mk.kek_wraps == 2) {
      ++seen["master key wrapped under both PINs"];
      ++between;
    } else {
      ++seen[pin_status.pin_set ? "PIN, wrapped" : "no PIN"];
    }

    std::vector<const char*> opened;
    std::vector<std::string> lines;
    if (!pin_status.pin_set) {
      ASSERT_EQ(run_sign(nullptr, lines), 0) << "no PIN set, yet a key does not sign";
      opened.push_back("-");
    } else {
      for (const char* pin : kPins) {
        std::vector<std::string> out;
        const int rc = run_sign(pin, out);
        ASSERT_TRUE(rc == 0 || rc == 0x6B) << pin << ": status byte " << rc;
        if (rc == 0) {
          opened.push_back(pin);
          lines = out;
        }
      }
    }
    ASSERT_EQ(opened.size(), 1U) << "after kill " << kill_no;
    ASSERT_EQ(lines.size(), publics.size());
    for (std::size_t i = 0; i < publics.size(); ++i) {
      EXPECT_TRUE(verify_ecdsa_raw(publics[i].get(), hash, unhex(lines[i])))
          << kKeyNames[i] << " after kill " << kill_no;
    }
    state = opened.front();
  }
  std::string summary;
  for (const auto& [name, count] : seen) {
    summary += name + ": " + std::to_string(count) + "; ";
  }
  RecordProperty("states", summary);
  std::printf("states after the kills: %s\n", summary.c_str());
  EXPECT_GT(between, 0) << "no kill landed between the pin-state and master-key writes: "
                        << summary;
}

// The worker: from STATE ("-" or the PIN that is set), forever: set A, change A→B, change B→A,
// remove. Announces each operation on stdout; exits 1 when one fails.
int work(std::string state) {
  NCRYPT_PROV_HANDLE provider = 0;
  if (NCryptOpenStorageProvider(&provider, MS_KEY_STORAGE_PROVIDER, 0) != ERROR_SUCCESS) {
    return 2;
  }
  const std::string a = kPins[0];
  const std::string b = kPins[1];
  const auto say = [](char c) { return ::write(STDOUT_FILENO, &c, 1) == 1; };
  for (;;) {
    SECURITY_STATUS s = ERROR_SUCCESS;
    if (state == "-") {
      (void)say('S');
      s = cng::CngSetScopePin(provider, 0, bytes_of(a.c_str()));
      state = a;
    } else if (state == a) {
      (void)say('C');
      s = cng::CngChangeScopePin(provider, 0, bytes_of(a.c_str()), bytes_of(b.c_str()));
      state = b;
    } else {
      (void)say('R');
      s = cng::CngRemoveScopePin(provider, 0, bytes_of(b.c_str()));
      state = "-";
    }
    if (s != ERROR_SUCCESS || !say('.')) {
      return 1;
    }
  }
}

// Logs in with PIN (unless "-"), signs SHA-256("crash-safe PIN") with each named key, prints
// each raw signature in hex; exits with the low byte of the first failing status.
int sign(int argc, char** argv) {
  NCRYPT_PROV_HANDLE provider = 0;
  if (NCryptOpenStorageProvider(&provider, MS_KEY_STORAGE_PROVIDER, 0) != ERROR_SUCCESS) {
    return 255;
  }
  SECURITY_STATUS s = ERROR_SUCCESS;
  if (std::strcmp(argv[3], "-") != 0) {
    std::vector<std::uint8_t> value;
    for (const char* p = argv[3];; ++p) {
      value.push_back(static_cast<std::uint8_t>(*p));
      value.push_back(0);
      if (*p == '\0') {
        break;
      }
    }
    s = NCryptSetProperty(provider, NCRYPT_PIN_PROPERTY, value.data(),
                          static_cast<DWORD>(value.size()), 0);
  }
  const Bytes hash = digest("SHA256", "crash-safe PIN");
  for (int i = 4; i < argc && s == ERROR_SUCCESS; ++i) {
    const std::string name(argv[i]);
    const std::u16string name16(name.begin(), name.end());
    NCRYPT_KEY_HANDLE key = 0;
    s = NCryptOpenKey(provider, &key, name16.c_str(), 0, 0);
    BYTE signature[132];
    DWORD size = 0;
    if (s == ERROR_SUCCESS) {
      s = NCryptSignHash(key, nullptr, const_cast<BYTE*>(hash.data()),
                         static_cast<DWORD>(hash.size()), signature, sizeof signature, &size, 0);
      (void)NCryptFreeObject(key);
    }
    if (s == ERROR_SUCCESS) {
      std::printf("%s\n", hex(signature, size).c_str());
    }
  }
  std::fflush(stdout);
  return static_cast<int>(static_cast<std::uint32_t>(s) & 0xFF);
}

}  // namespace
}  // namespace ncrypt_test

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--crash-child") == 0 &&
      std::strcmp(argv[2], "work") == 0) {
    return ncrypt_test::work(argv[3]);
  }
  if (argc >= 4 && std::strcmp(argv[1], "--crash-child") == 0 &&
      std::strcmp(argv[2], "sign") == 0) {
    return ncrypt_test::sign(argc, argv);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
