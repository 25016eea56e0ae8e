#include "cli/export.h"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/users.h"
#include "crypto/private_file.h"
#include "crypto/sealed_file.h"
#include "policy/decider.h"
#include "records/bulk_export.h"
#include "records/clinical_records.h"

namespace medvault::cli {
namespace {

namespace fs = std::filesystem;

std::string When(Timestamp at) {
  return fmt::format("{:%FT%TZ}", std::chrono::floor<std::chrono::seconds>(at));
}

// Creates `path` for writing, mode 0600, refusing one that exists (or a symbolic link).
Status WriteNewPrivateFile(const fs::path& path, std::span<const std::uint8_t> bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Fail(ErrorCode::kAlreadyExists,
                "cannot create " + path.string() + " (it exists, or the directory is missing)");
  }
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n <= 0) {
      ::close(fd);
      return Fail(ErrorCode::kUnavailable, "cannot write " + path.string());
    }
    written += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) return Fail(ErrorCode::kUnavailable, "cannot write " + path.string());
  return {};
}

std::span<const std::uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// What deciding a job needs: the vault, its audit log, and the records the job runs through.
struct ExportVault {
  std::unique_ptr<OperatorVault> op;
  std::unique_ptr<policy::Decider> decider;
  std::unique_ptr<records::ClinicalRecords> clinical;
  std::unique_ptr<records::BulkExports> exports;
};

Result<ExportVault> OpenExports(const fs::path& vault_dir) {
  auto op = OpenForOperator(vault_dir);
  if (!op) return std::unexpected(op.error());
  ExportVault v;
  v.op = std::move(*op);
  OperatorVault& o = *v.op;
  v.decider = std::make_unique<policy::Decider>(*o.audit_log, o.clock);
  v.clinical = std::make_unique<records::ClinicalRecords>(*o.vault.records, *o.vault.store,
                                                         *o.audit_log, *v.decider, o.clock,
                                                         records::ClinicalRecords::Options{});
  const ExportConfig& config = o.vault.config.export_jobs;
  v.exports = std::make_unique<records::BulkExports>(
      *v.clinical, *o.vault.store, *o.audit_log, o.clock,
      records::BulkExports::Options{o.vault.config.vault_dir / "data" / "exports",
                                    config.request_ttl, config.file_ttl, config.canaries});
  return v;
}

}  // namespace

Status ExportKeygen(const fs::path& out) {
  auto pair = crypto::NewRecipientKeyPair();
  if (!pair) return std::unexpected(pair.error());
  if (auto s = WriteNewPrivateFile(out, pair->secret_key.bytes()); !s) return s;
  const std::string text = crypto::RecipientKeyText(pair->public_key);
  fs::path pub = out;
  pub += ".pub";
  if (auto s = WriteNewPrivateFile(pub, Bytes(text + "\n")); !s) return s;
  std::printf("secret key %s (0600, keep it with the recipient), public key %s\n", out.c_str(),
              pub.c_str());
  std::printf("recipient key: %s\n", text.c_str());
  return {};
}

Status ExportOpen(const fs::path& key_file, const fs::path& sealed, const fs::path& out_dir) {
  auto secret = crypto::ReadPrivateFile(key_file, "the recipient's secret key", 32);
  if (!secret) return std::unexpected(secret.error());
  auto public_key = crypto::RecipientPublicKeyOf(*secret);
  if (!public_key) return std::unexpected(public_key.error());
  std::ifstream in(sealed, std::ios::binary);
  if (!in) return Fail(ErrorCode::kNotFound, "cannot read " + sealed.string());
  auto reader = crypto::SealedFileReader::Open(*public_key, *secret, in);
  if (!reader) return std::unexpected(reader.error());
  std::error_code made;
  fs::create_directories(out_dir, made);
  if (made) return Fail(ErrorCode::kUnavailable, "cannot create " + out_dir.string());
  fs::permissions(out_dir, fs::perms::owner_all, made);
  // Records: a header, then per file its name and its lines, and a final count. Written as
  // they open, one file at a time.
  int fd = -1;
  std::size_t files = 0;
  std::size_t lines = 0;
  Status status;
  for (bool first = true;; first = false) {
    auto next = (*reader)->Next();
    if (!next) {
      status = std::unexpected(next.error());
      break;
    }
    if (!next->has_value()) break;
    const std::string_view record(reinterpret_cast<const char*>((**next).bytes().data()),
                                  (**next).size());
    if (first) {
      if (!record.starts_with("medvault-export 1 ")) {
        status = Fail(ErrorCode::kDataLoss, "not a medvault export");
        break;
      }
      continue;
    }
    if (record.starts_with("end ")) continue;
    if (record.starts_with("file ")) {
      const std::string name(record.substr(5));
      if (name.find('/') != std::string::npos || name.starts_with(".")) {
        status = Fail(ErrorCode::kDataLoss, "the export names a file outside its directory");
        break;
      }
      if (fd >= 0) ::close(fd);
      fd = ::open((out_dir / name).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0600);
      if (fd < 0) {
        status = Fail(ErrorCode::kAlreadyExists, "cannot create " + (out_dir / name).string());
        break;
      }
      ++files;
      continue;
    }
    if (fd < 0 || ::write(fd, record.data(), record.size()) != static_cast<ssize_t>(record.size()) ||
        ::write(fd, "\n", 1) != 1) {
      status = Fail(ErrorCode::kUnavailable, "cannot write into " + out_dir.string());
      break;
    }
    ++lines;
  }
  if (fd >= 0) ::close(fd);
  if (!status) return status;
  std::printf("opened %s: %zu files, %zu resources in %s\n", sealed.c_str(), files, lines,
              out_dir.c_str());
  return {};
}

Status ExportDecide(const fs::path& vault_dir, const std::string& job_id, const std::string& by,
                    ExportDecision decision) {
  auto v = OpenExports(vault_dir);
  if (!v) return std::unexpected(v.error());
  identity::Accounts accounts(*v->op->vault.store, v->op->clock, *v->op->events, {});
  auto admin = ActiveAdministrator(accounts, by);
  if (!admin) return std::unexpected(admin.error());
  policy::Principal principal;
  principal.account_id = admin->id;
  principal.role = audit::Role::kAdministrator;
  principal.client = "cli";
  auto job = decision == ExportDecision::kApprove ? v->exports->Approve(job_id, principal)
                                                  : v->exports->Refuse(job_id, principal);
  if (!job) return std::unexpected(job.error());
  std::printf("export job %s %s by %s%s\n", job->id.c_str(), job->state.c_str(), by.c_str(),
              decision == ExportDecision::kApprove
                  ? ": it runs when its requester next polls its status"
                  : "");
  return {};
}

Status ExportList(const fs::path& vault_dir) {
  auto v = OpenExports(vault_dir);
  if (!v) return std::unexpected(v.error());
  auto jobs = v->exports->List();
  if (!jobs) return std::unexpected(jobs.error());
  std::printf("%zu export job(s)\n", jobs->size());
  for (const store::ExportJobRecord& job : *jobs) {
    std::printf("  %s  %-9s  requested by %s at %s  types %s%s%s  expires %s\n", job.id.c_str(),
                job.state.c_str(), job.requested_by.c_str(), When(job.requested_at).c_str(),
                job.types.c_str(), job.decided_by.empty() ? "" : "  decided by ",
                job.decided_by.c_str(), When(job.expires_at).c_str());
  }
  return {};
}

Result<bool> ExportTrace(const fs::path& vault_dir, const std::vector<fs::path>& files) {
  std::string text;
  const auto add = [&](const fs::path& path) -> Status {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Fail(ErrorCode::kNotFound, "cannot read " + path.string());
    std::stringstream content;
    content << in.rdbuf();
    text += content.str();
    text += '\n';
    return {};
  };
  for (const fs::path& path : files) {
    std::error_code error;
    if (fs::is_directory(path, error)) {
      for (const auto& entry : fs::directory_iterator(path, error)) {
        if (entry.path().extension() == ".ndjson") {
          if (auto s = add(entry.path()); !s) return std::unexpected(s.error());
        }
      }
    } else if (auto s = add(path); !s) {
      return std::unexpected(s.error());
    }
  }
  auto op = OpenForOperator(vault_dir);
  if (!op) return std::unexpected(op.error());
  auto traced = records::TraceExport(*(*op)->vault.store, text);
  if (!traced) return std::unexpected(traced.error());
  if (traced->empty()) {
    std::printf("no export job's watermark is in these files\n");
    return false;
  }
  for (const records::Traced& found : *traced) {
    const store::ExportJobRecord& job = found.job;
    std::printf(
        "export job %s: requested by %s (%s) at %s, approved by %s at %s, %lld patients, "
        "%zu of its canaries found\n",
        job.id.c_str(), job.requested_by.c_str(), job.requester_role.c_str(),
        When(job.requested_at).c_str(), job.decided_by.c_str(), When(job.decided_at).c_str(),
        static_cast<long long>(job.patients), found.canaries_found);
  }
  return true;
}

}  // namespace medvault::cli
