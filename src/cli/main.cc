// The `medvault` command. Bad use (unknown flag, missing vault, bad configuration, unsafe
// key file, unusable certificate, port in use) prints one line and exits 2; nothing here
// lets an exception or a stack trace reach the terminal.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include "cli/serve.h"
#include "cli/vault.h"

namespace {

namespace fs = std::filesystem;
using medvault::Status;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int Report(const Status& status) {
  if (status) return kExitOk;
  std::fprintf(stderr, "medvault: %s\n", status.error().message().c_str());
  return kExitUsage;
}

int Run(int argc, char** argv) {
  CLI::App app{"medvault: an encrypted, audited health-record server (FHIR R4, HL7v2, portal)",
               "medvault"};
  app.require_subcommand(1);

  fs::path init_dir;
  medvault::cli::VaultOptions vault_options;
  auto* init = app.add_subcommand("init", "Create a new vault: configuration, keys, certificate");
  init->add_option("--dir", init_dir, "Directory of the new vault")->required();
  init->add_option("--hostname", vault_options.hostnames,
                   "Names the self-signed certificate covers (repeatable)")
      ->take_all();
  init->add_option("--tls-certificate", vault_options.certificate,
                   "Use this PEM certificate chain instead of a self-signed one");
  init->add_option("--tls-private-key", vault_options.private_key,
                   "Private key of --tls-certificate");

  medvault::cli::ServeOptions serve_options;
  std::string listen;
  auto* serve = app.add_subcommand("serve", "Serve a vault over HTTPS until SIGINT or SIGTERM");
  serve->add_option("--dir", serve_options.vault_dir, "Directory of the vault")->required();
  serve->add_option("--listen", listen, "HOST:PORT to listen on (default from the vault's "
                                        "configuration: 127.0.0.1:8443)");

  fs::path demo_dir;
  auto* demo = app.add_subcommand("demo", "Create a vault filled with demo content");
  demo->add_option("--dir", demo_dir, "Directory of the new demo vault")->required();

  app.add_subcommand("version", "Print medvault's version");

  // CLI11 would only say that a subcommand is required; name the word it did not know.
  auto known = app.get_subcommands([&](CLI::App* command) {
    return argc > 1 && command->get_name() == argv[1];
  });
  if (argc > 1 && argv[1][0] != '-' && known.empty()) {
    std::fprintf(stderr, "medvault: unknown command '%s' (see 'medvault --help')\n", argv[1]);
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);  // --help
    std::string where = app.get_subcommands().empty()
                            ? "medvault --help"
                            : "medvault " + app.get_subcommands().front()->get_name() + " --help";
    std::fprintf(stderr, "medvault: %s (see '%s')\n", error.what(), where.c_str());
    return kExitUsage;
  }

  if (init->parsed()) {
    int code = Report(medvault::cli::CreateVault(init_dir, vault_options));
    if (code == kExitOk) std::printf("created vault %s\n", init_dir.c_str());
    return code;
  }
  if (demo->parsed()) {
    int code = Report(medvault::cli::CreateVault(demo_dir, {}));
    if (code == kExitOk) {
      std::printf("created demo vault %s\n", demo_dir.c_str());
      std::printf("demo accounts: none yet (accounts arrive with the identity module)\n");
    }
    return code;
  }
  if (serve->parsed()) {
    if (!listen.empty()) serve_options.listen = listen;
    return Report(medvault::cli::Serve(serve_options));
  }
  std::printf("medvault %s\n", MEDVAULT_VERSION);
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "medvault: unexpected error: %s\n", error.what());
  } catch (...) {
    std::fprintf(stderr, "medvault: unexpected error\n");
  }
  return kExitFailure;
}
