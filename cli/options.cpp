#include "options.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <set>

#include "text.h"

namespace cngkey {
namespace {

constexpr unsigned bit(Command c) { return 1u << static_cast<unsigned>(c); }
constexpr unsigned kKeyCommands = bit(Command::kCreate) | bit(Command::kShow) |
                                  bit(Command::kDelete) | bit(Command::kExportPublic) |
                                  bit(Command::kImport);
constexpr unsigned kCertCommands =
    bit(Command::kCertAdd) | bit(Command::kCertList) | bit(Command::kCertRemove);
constexpr unsigned kPinCommands = bit(Command::kPinSet) | bit(Command::kPinChange) |
                                  bit(Command::kPinRemove) | bit(Command::kPinStatus);
// Commands that write private key material under the scope's master key: with a scope PIN
// they log the scope in first (scope_login.h), so they take the PIN options.
constexpr unsigned kLoginCommands =
    bit(Command::kCreate) | bit(Command::kImport) | bit(Command::kRekey);
constexpr unsigned kPinSourceCommands =
    kLoginCommands | bit(Command::kPinSet) | bit(Command::kPinChange) | bit(Command::kPinRemove);
constexpr unsigned kStoreCommands =
    kKeyCommands | bit(Command::kList) | kCertCommands | kPinCommands;
// Commands that take one positional argument: a FILE (import, cert add) or an ID (cert remove).
constexpr unsigned kPositionalCommands =
    bit(Command::kImport) | bit(Command::kCertAdd) | bit(Command::kCertRemove);

struct OptionSpec {
  std::string_view name;  // without the leading "--"
  bool takes_value;
  unsigned commands;  // bit(Command) of the commands that accept it
};

constexpr std::array kOptionSpecs = {
    OptionSpec{"scope", true, kStoreCommands | bit(Command::kStatus) | bit(Command::kRekey)},
    OptionSpec{"provider", true, kStoreCommands},
    OptionSpec{"long", false, bit(Command::kList)},
    OptionSpec{"json", false,
               bit(Command::kList) | bit(Command::kShow) | bit(Command::kCertList) |
                   bit(Command::kPinStatus)},
    OptionSpec{"pin-file", true, kPinSourceCommands},
    OptionSpec{"pin-fd", true, kPinSourceCommands},
    OptionSpec{"new-pin-file", true, bit(Command::kPinChange)},
    OptionSpec{"force", false, bit(Command::kPinRemove)},
    OptionSpec{"name", true, kKeyCommands},
    OptionSpec{"algorithm", true, bit(Command::kCreate)},
    OptionSpec{"length", true, bit(Command::kCreate)},
    OptionSpec{"usage", true, bit(Command::kCreate)},
    OptionSpec{"legacy-spec", true, bit(Command::kCreate)},
    OptionSpec{"overwrite", false, bit(Command::kCreate) | bit(Command::kImport)},
    OptionSpec{"ephemeral", false, bit(Command::kCreate)},
    OptionSpec{"exportable", false, bit(Command::kCreate) | bit(Command::kImport)},
    OptionSpec{"format", true, bit(Command::kExportPublic)},
    OptionSpec{"out", true, bit(Command::kExportPublic)},
    OptionSpec{"label", true, bit(Command::kCertAdd)},
};

// The algorithms `create` offers (the software provider's named-curve set, AES and the
// model's generic secrets).
constexpr std::array<std::u16string_view, 9> kAlgorithms = {
    NCRYPT_RSA_ALGORITHM,        NCRYPT_ECDSA_P256_ALGORITHM, NCRYPT_ECDSA_P384_ALGORITHM,
    NCRYPT_ECDSA_P521_ALGORITHM, NCRYPT_ECDH_P256_ALGORITHM,  NCRYPT_ECDH_P384_ALGORITHM,
    NCRYPT_ECDH_P521_ALGORITHM,  NCRYPT_AES_ALGORITHM,        NCRYPT_GENERIC_SECRET_ALGORITHM,
};

constexpr std::array<std::pair<std::string_view, Command>, 15> kCommands = {{
    {"list", Command::kList},
    {"create", Command::kCreate},
    {"show", Command::kShow},
    {"delete", Command::kDelete},
    {"export-public", Command::kExportPublic},
    {"import", Command::kImport},
    {"cert add", Command::kCertAdd},
    {"cert list", Command::kCertList},
    {"cert remove", Command::kCertRemove},
    {"pin set", Command::kPinSet},
    {"pin change", Command::kPinChange},
    {"pin remove", Command::kPinRemove},
    {"pin status", Command::kPinStatus},
    {"status", Command::kStatus},
    {"rekey", Command::kRekey},
}};

std::optional<Command> find_command(std::string_view word) {
  for (const auto& [name, command] : kCommands) {
    if (name == word) {
      return command;
    }
  }
  return std::nullopt;
}

// The command named by args[0] (and args[1] after "cert"); sets consumed to the words used.
std::optional<Command> find_command(std::span<const std::string> args, std::size_t& consumed) {
  consumed = 1;
  if (args[0] != "cert" && args[0] != "pin") {
    return find_command(args[0]);
  }
  if (args.size() < 2 || args[1].starts_with("-")) {
    return std::nullopt;
  }
  consumed = 2;
  return find_command(args[0] + " " + args[1]);
}

std::u16string parse_algorithm(std::string_view value) {
  std::u16string upper;
  for (const char c : value) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      break;  // not ASCII: cannot match any algorithm
    }
    upper.push_back(static_cast<char16_t>(std::toupper(static_cast<unsigned char>(c))));
  }
  const auto* found = std::find(kAlgorithms.begin(), kAlgorithms.end(), upper);
  if (upper.size() != value.size() || found == kAlgorithms.end()) {
    throw UsageError("unknown algorithm '" + std::string(value) +
                     "' (RSA, ECDSA_P256, ECDSA_P384, ECDSA_P521, ECDH_P256, ECDH_P384, "
                     "ECDH_P521)");
  }
  return std::u16string(*found);
}

DWORD parse_length(std::string_view value) {
  DWORD bits = 0;
  const auto* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, bits);
  if (value.empty() || ec != std::errc() || ptr != end || bits == 0) {
    throw UsageError("--length needs a positive number of bits, not '" + std::string(value) + "'");
  }
  return bits;
}

DWORD parse_usage(std::string_view value) {
  DWORD usage = 0;
  std::size_t start = 0;
  while (start <= value.size()) {
    const std::size_t comma = std::min(value.find(',', start), value.size());
    const std::string_view word = value.substr(start, comma - start);
    if (word == "sign") {
      usage |= NCRYPT_ALLOW_SIGNING_FLAG;
    } else if (word == "decrypt") {
      usage |= NCRYPT_ALLOW_DECRYPT_FLAG;
    } else if (word == "agree") {
      usage |= NCRYPT_ALLOW_KEY_AGREEMENT_FLAG;
    } else if (word == "all") {
      usage |= NCRYPT_ALLOW_ALL_USAGES;
    } else {
      throw UsageError("unknown usage '" + std::string(word) +
                       "' (a comma-separated list of sign, decrypt, agree, all)");
    }
    start = comma + 1;
  }
  return usage;
}

template <typename T, std::size_t N>
T parse_choice(std::string_view option, std::string_view value,
               const std::array<std::pair<std::string_view, T>, N>& choices) {
  for (const auto& [word, choice] : choices) {
    if (word == value) {
      return choice;
    }
  }
  std::string allowed;
  for (const auto& [word, choice] : choices) {
    allowed += (allowed.empty() ? "" : ", ") + std::string(word);
  }
  throw UsageError("--" + std::string(option) + " must be one of " + allowed + ", not '" +
                   std::string(value) + "'");
}

void apply_option(Options& options, std::string_view name, std::string_view value) {
  if (name == "scope") {
    options.scope = parse_choice<Scope, 2>(
        name, value, {{{"user", Scope::kUser}, {"machine", Scope::kMachine}}});
  } else if (name == "provider") {
    options.provider = parse_choice<ProviderKind, 2>(
        name, value,
        {{{"software", ProviderKind::kSoftware}, {"platform", ProviderKind::kPlatform}}});
  } else if (name == "long") {
    options.long_listing = true;
  } else if (name == "json") {
    options.json = true;
  } else if (name == "label") {
    if (!utf8_to_utf16(value)) {
      throw UsageError("--label needs UTF-8 text");
    }
    options.label = std::string(value);
    options.has_label = true;
  } else if (name == "name") {
    auto utf16 = utf8_to_utf16(value);
    if (!utf16 || utf16->empty()) {
      throw UsageError("--name needs a non-empty UTF-8 key name");
    }
    options.name = std::move(*utf16);
    options.name_utf8 = std::string(value);
  } else if (name == "algorithm") {
    options.algorithm = parse_algorithm(value);
  } else if (name == "length") {
    options.length_bits = parse_length(value);
  } else if (name == "usage") {
    options.key_usage = parse_usage(value);
  } else if (name == "legacy-spec") {
    options.legacy_key_spec = parse_choice<DWORD, 3>(
        name, value, {{{"none", 0}, {"exchange", AT_KEYEXCHANGE}, {"signature", AT_SIGNATURE}}});
  } else if (name == "overwrite") {
    options.overwrite = true;
  } else if (name == "ephemeral") {
    options.ephemeral = true;
  } else if (name == "exportable") {
    options.exportable = true;
  } else if (name == "format") {
    options.format = parse_choice<ExportFormat, 3>(name, value,
                                                   {{{"pem", ExportFormat::kPem},
                                                     {"der", ExportFormat::kDer},
                                                     {"blob", ExportFormat::kBlob}}});
  } else if (name == "pin-file" || name == "new-pin-file") {
    if (value.empty()) {
      throw UsageError("--" + std::string(name) + " needs a file name");
    }
    (name == "pin-file" ? options.pin_file : options.new_pin_file) = std::string(value);
  } else if (name == "pin-fd") {
    int fd = -1;
    const auto* end = value.data() + value.size();
    const auto [ptr, ec] = std::from_chars(value.data(), end, fd);
    if (value.empty() || ec != std::errc() || ptr != end || fd < 0) {
      throw UsageError("--pin-fd needs a file descriptor number, not '" + std::string(value) + "'");
    }
    options.pin_fd = fd;
  } else if (name == "force") {
    options.force = true;
  } else if (name == "out") {
    if (value.empty()) {
      throw UsageError("--out needs a file name");
    }
    options.out_path = std::string(value);
  }
}

// Rules that involve more than one option.
void check_combination(const Options& options, const std::set<std::string_view>& seen) {
  const bool has_name = seen.contains("name");
  if (options.command == Command::kPinRemove && options.force &&
      (seen.contains("pin-file") || seen.contains("pin-fd"))) {
    throw UsageError("pin remove --force takes no PIN; drop --pin-file / --pin-fd");
  }
  if (seen.contains("pin-file") && seen.contains("pin-fd")) {
    throw UsageError("--pin-file and --pin-fd both give the PIN; keep one");
  }
  if (options.command == Command::kCreate && options.ephemeral) {
    if (has_name) {
      throw UsageError("--ephemeral keys have no name; drop --name");
    }
    if (options.overwrite) {
      throw UsageError("--overwrite does not apply to --ephemeral keys");
    }
    return;
  }
  if ((kKeyCommands & bit(options.command)) != 0 && !has_name) {
    throw UsageError(std::string(command_name(options.command)) + " needs --name");
  }
  if ((kPositionalCommands & bit(options.command)) != 0 && options.argument.empty()) {
    throw UsageError(
        std::string(command_name(options.command)) +
        (options.command == Command::kCertRemove ? " needs a certificate ID" : " needs a FILE"));
  }
}

Options parse_help(std::span<const std::string> args) {
  Options options;
  options.command = Command::kHelp;
  if (args.size() == 3 && (args[1] == "cert" || args[1] == "pin")) {
    options.help_topic = find_command(args[1] + " " + args[2]);
    if (!options.help_topic) {
      throw UsageError("unknown command '" + args[1] + " " + args[2] + "'");
    }
    return options;
  }
  if (args.size() > 2) {
    throw UsageError("help takes at most one command name");
  }
  if (args.size() == 2) {
    options.help_topic = args[1] == "cert"  ? Command::kCertList
                         : args[1] == "pin" ? Command::kPinStatus
                                            : find_command(args[1]);
    if (!options.help_topic) {
      throw UsageError("unknown command '" + args[1] + "'");
    }
  }
  return options;
}

}  // namespace

Options parse_arguments(std::span<const std::string> args) {
  if (args.empty()) {
    throw UsageError("missing command");
  }
  if (args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    return parse_help(args);
  }
  if ((args[0] == "cert" || args[0] == "pin") && args.size() >= 2 &&
      (args[1] == "--help" || args[1] == "-h")) {
    Options help;
    // One help text covers each group: cert add|list|remove, pin set|change|remove|status.
    help.help_topic = args[0] == "cert" ? Command::kCertList : Command::kPinStatus;
    return help;
  }
  std::size_t first = 1;
  const auto command = find_command(args, first);
  if (!command) {
    throw UsageError(args[0] == "cert"  ? "cert needs a subcommand: add, list or remove"
                     : args[0] == "pin" ? "pin needs a subcommand: set, change, remove or status"
                                        : "unknown command '" + args[0] + "'");
  }
  Options options;
  options.command = *command;
  std::set<std::string_view> seen;
  for (std::size_t i = first; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      Options help;
      help.help_topic = *command;
      return help;
    }
    if (!arg.starts_with("--") || arg == "--") {
      if (arg == "--" && i + 1 < args.size()) {
        arg = args[++i];  // "--": the next word is the positional argument, even "-x"
      }
      if ((kPositionalCommands & bit(*command)) == 0 || !options.argument.empty() || arg.empty() ||
          arg == "--") {
        throw UsageError("unexpected argument '" + std::string(arg) + "'");
      }
      options.argument = std::string(arg);
      continue;
    }
    arg.remove_prefix(2);
    std::optional<std::string_view> inline_value;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    const auto* spec = std::find_if(kOptionSpecs.begin(), kOptionSpecs.end(),
                                    [&](const OptionSpec& s) { return s.name == arg; });
    if (spec == kOptionSpecs.end() || (spec->commands & bit(*command)) == 0) {
      throw UsageError("unknown option '--" + std::string(arg) + "' for " +
                       std::string(command_name(*command)));
    }
    if (!seen.insert(spec->name).second) {
      throw UsageError("--" + std::string(arg) + " given twice");
    }
    std::string_view value;
    if (spec->takes_value) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        throw UsageError("--" + std::string(arg) + " needs a value");
      }
    } else if (inline_value) {
      throw UsageError("--" + std::string(arg) + " takes no value");
    }
    apply_option(options, spec->name, value);
  }
  check_combination(options, seen);
  return options;
}

std::string_view command_name(Command command) {
  for (const auto& [name, c] : kCommands) {
    if (c == command) {
      return name;
    }
  }
  return "help";
}

std::string_view scope_name(Scope scope) { return scope == Scope::kMachine ? "machine" : "user"; }

std::string_view provider_name(ProviderKind provider) {
  return provider == ProviderKind::kPlatform ? "platform" : "software";
}

}  // namespace cngkey
