#include "audit/entry.h"

#include <array>
#include <utility>

namespace medvault::audit {
namespace {

constexpr std::uint8_t kFormatVersion = 1;

struct ActionInfo {
  Action action;
  std::string_view name;
};

constexpr std::array<ActionInfo, 27> kActions{{
    {Action::kLogin, "login"},
    {Action::kSecondFactor, "second_factor"},
    {Action::kEnrollFactor, "enroll_factor"},
    {Action::kLockout, "lockout"},
    {Action::kSessionStart, "session_start"},
    {Action::kSessionEnd, "session_end"},
    {Action::kSessionRevoke, "session_revoke"},
    {Action::kTokenIssue, "token_issue"},
    {Action::kTokenRevoke, "token_revoke"},
    {Action::kPasswordChange, "password_change"},
    {Action::kRead, "read"},
    {Action::kSearch, "search"},
    {Action::kCreate, "create"},
    {Action::kUpdate, "update"},
    {Action::kDelete, "delete"},
    {Action::kBreakTheGlass, "break_the_glass"},
    {Action::kExport, "export"},
    {Action::kKeyRotate, "key_rotate"},
    {Action::kPatientErase, "patient_erase"},
    {Action::kUserAdd, "user_add"},
    {Action::kUserChange, "user_change"},
    {Action::kConfigChange, "config_change"},
    {Action::kApprovalRequest, "approval_request"},
    {Action::kApprove, "approve"},
    {Action::kRefuse, "refuse"},
    {Action::kDownload, "download"},
    {Action::kAcknowledge, "acknowledge"},
}};

constexpr std::array<std::string_view, 8> kRoles{"none",           "patient",       "clinician",
                                                 "lab_technician", "administrator", "auditor",
                                                 "integration",    "operator"};
constexpr std::array<std::string_view, 7> kPurposes{
    "none",           "care_relation", "break_the_glass", "patient_self",
    "administration", "audit",         "integration"};
constexpr std::array<std::string_view, 5> kReasons{"none", "emergency", "continuity_of_care",
                                                   "patient_request", "other"};
constexpr std::array<std::string_view, 3> kOutcomes{"success", "denied", "failed"};

bool KnownAction(std::uint8_t value) {
  for (const ActionInfo& info : kActions) {
    if (static_cast<std::uint8_t>(info.action) == value) return true;
  }
  return false;
}

// Ids: FHIR id characters plus the separators account and client ids use. No spaces, no
// free text.
bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == ':' || c == '@';
}

bool IsAddressChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' ||
         c == ':';
}

bool IsTypeChar(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

template <typename Pred>
bool AllOf(std::string_view text, Pred pred) {
  for (char c : text) {
    if (!pred(c)) return false;
  }
  return true;
}

Status CheckId(std::string_view value, const char* field, bool may_be_empty) {
  if (value.empty() && !may_be_empty) {
    return Fail(ErrorCode::kInvalidArgument, std::string("audit entry: empty ") + field);
  }
  if (value.size() > kMaxIdBytes || !AllOf(value, IsIdChar)) {
    return Fail(ErrorCode::kInvalidArgument, std::string("audit entry: malformed ") + field);
  }
  return {};
}

class Writer {
 public:
  void U8(std::uint8_t v) { out_.push_back(v); }
  void U64(std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8)
      out_.push_back(static_cast<std::uint8_t>(v >> shift));
  }
  void Text(std::string_view text) {
    U16(text.size());
    out_.insert(out_.end(), text.begin(), text.end());
  }
  void List(const std::vector<std::string>& items) {
    U16(items.size());
    for (const std::string& item : items) Text(item);
  }
  std::vector<std::uint8_t> Take() { return std::move(out_); }

 private:
  void U16(std::size_t v) {
    out_.push_back(static_cast<std::uint8_t>(v >> 8));
    out_.push_back(static_cast<std::uint8_t>(v));
  }
  std::vector<std::uint8_t> out_;
};

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  bool U8(std::uint8_t& v) {
    if (pos_ + 1 > bytes_.size()) return false;
    v = bytes_[pos_++];
    return true;
  }
  bool U64(std::uint64_t& v) {
    if (pos_ + 8 > bytes_.size()) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | bytes_[pos_++];
    return true;
  }
  bool Text(std::string& text) {
    std::size_t size = 0;
    if (!U16(size) || pos_ + size > bytes_.size()) return false;
    text.assign(reinterpret_cast<const char*>(bytes_.data() + pos_), size);
    pos_ += size;
    return true;
  }
  bool List(std::vector<std::string>& items) {
    std::size_t count = 0;
    if (!U16(count) || count > kMaxIdsPerList) return false;
    items.resize(count);
    for (std::string& item : items) {
      if (!Text(item)) return false;
    }
    return true;
  }
  bool AtEnd() const { return pos_ == bytes_.size(); }

 private:
  bool U16(std::size_t& v) {
    if (pos_ + 2 > bytes_.size()) return false;
    v = (static_cast<std::size_t>(bytes_[pos_]) << 8) | bytes_[pos_ + 1];
    pos_ += 2;
    return true;
  }
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string_view ActionName(Action action) {
  for (const ActionInfo& info : kActions) {
    if (info.action == action) return info.name;
  }
  return "unknown";
}

std::optional<Action> ActionFromName(std::string_view name) {
  for (const ActionInfo& info : kActions) {
    if (info.name == name) return info.action;
  }
  return std::nullopt;
}

std::string_view RoleName(Role role) {
  const auto i = static_cast<std::size_t>(role);
  return i < kRoles.size() ? kRoles[i] : "unknown";
}
std::string_view PurposeName(Purpose purpose) {
  const auto i = static_cast<std::size_t>(purpose);
  return i < kPurposes.size() ? kPurposes[i] : "unknown";
}
std::string_view ReasonName(BreakGlassReason reason) {
  const auto i = static_cast<std::size_t>(reason);
  return i < kReasons.size() ? kReasons[i] : "unknown";
}
std::string_view OutcomeName(Outcome outcome) {
  const auto i = static_cast<std::size_t>(outcome);
  return i < kOutcomes.size() ? kOutcomes[i] : "unknown";
}

Status ValidateEntry(const Entry& entry) {
  if (!KnownAction(static_cast<std::uint8_t>(entry.action))) {
    return Fail(ErrorCode::kInvalidArgument, "audit entry: unknown action");
  }
  if (static_cast<std::size_t>(entry.role) >= kRoles.size()) {
    return Fail(ErrorCode::kInvalidArgument, "audit entry: unknown role");
  }
  if (static_cast<std::size_t>(entry.purpose) >= kPurposes.size()) {
    return Fail(ErrorCode::kInvalidArgument, "audit entry: unknown purpose");
  }
  if (static_cast<std::size_t>(entry.reason) >= kReasons.size()) {
    return Fail(ErrorCode::kInvalidArgument, "audit entry: unknown reason category");
  }
  if ((entry.purpose == Purpose::kBreakTheGlass) != (entry.reason != BreakGlassReason::kNone)) {
    return Fail(ErrorCode::kInvalidArgument,
                "audit entry: a reason category goes with break-the-glass, and only with it");
  }
  if (static_cast<std::size_t>(entry.outcome) >= kOutcomes.size()) {
    return Fail(ErrorCode::kInvalidArgument, "audit entry: unknown outcome");
  }
  if (entry.index > static_cast<std::uint64_t>(INT64_MAX)) {
    return Fail(ErrorCode::kInvalidArgument, "audit entry: index out of range");
  }
  if (auto s = CheckId(entry.account, "account", true); !s) return s;
  if (auto s = CheckId(entry.client, "client", true); !s) return s;
  if (entry.source_address.size() > 45 || !AllOf(entry.source_address, IsAddressChar)) {
    return Fail(ErrorCode::kInvalidArgument, "audit entry: malformed source address");
  }
  if (entry.resource_type.size() > 64 || !AllOf(entry.resource_type, IsTypeChar)) {
    return Fail(ErrorCode::kInvalidArgument, "audit entry: malformed resource type");
  }
  if (entry.resource_ids.size() > kMaxIdsPerList || entry.patient_ids.size() > kMaxIdsPerList) {
    return Fail(ErrorCode::kInvalidArgument, "audit entry: too many ids");
  }
  for (const std::string& id : entry.resource_ids) {
    if (auto s = CheckId(id, "resource id", false); !s) return s;
  }
  for (const std::string& id : entry.patient_ids) {
    if (auto s = CheckId(id, "patient id", false); !s) return s;
  }
  return {};
}

Result<std::vector<std::uint8_t>> EncodeEntry(const Entry& entry) {
  if (auto s = ValidateEntry(entry); !s) return std::unexpected(s.error());
  Writer w;
  w.U8(kFormatVersion);
  w.U64(entry.index);
  w.U64(static_cast<std::uint64_t>(entry.time.time_since_epoch().count()));
  w.U8(static_cast<std::uint8_t>(entry.action));
  w.U8(static_cast<std::uint8_t>(entry.outcome));
  w.U8(static_cast<std::uint8_t>(entry.role));
  w.U8(static_cast<std::uint8_t>(entry.purpose));
  w.U8(static_cast<std::uint8_t>(entry.reason));
  w.Text(entry.account);
  w.Text(entry.client);
  w.Text(entry.source_address);
  w.Text(entry.resource_type);
  w.List(entry.resource_ids);
  w.List(entry.patient_ids);
  return w.Take();
}

Result<Entry> ParseEntry(std::span<const std::uint8_t> bytes) {
  Reader r(bytes);
  Entry entry;
  std::uint8_t version = 0;
  std::uint64_t time = 0;
  std::uint8_t action = 0, outcome = 0, role = 0, purpose = 0, reason = 0;
  const bool read = r.U8(version) && version == kFormatVersion && r.U64(entry.index) &&
                    r.U64(time) && r.U8(action) && r.U8(outcome) && r.U8(role) && r.U8(purpose) &&
                    r.U8(reason) && r.Text(entry.account) && r.Text(entry.client) &&
                    r.Text(entry.source_address) && r.Text(entry.resource_type) &&
                    r.List(entry.resource_ids) && r.List(entry.patient_ids) && r.AtEnd();
  if (!read) return Fail(ErrorCode::kDataLoss, "audit entry: malformed encoding");
  entry.time = Timestamp(std::chrono::microseconds(static_cast<std::int64_t>(time)));
  entry.action = static_cast<Action>(action);
  entry.outcome = static_cast<Outcome>(outcome);
  entry.role = static_cast<Role>(role);
  entry.purpose = static_cast<Purpose>(purpose);
  entry.reason = static_cast<BreakGlassReason>(reason);
  if (auto s = ValidateEntry(entry); !s) {
    return Fail(ErrorCode::kDataLoss, "audit entry: invalid field in the encoding");
  }
  return entry;
}

}  // namespace medvault::audit
