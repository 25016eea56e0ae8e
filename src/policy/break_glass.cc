#include "policy/break_glass.h"

#include <fmt/format.h>

#include <algorithm>

namespace medvault::policy {

std::optional<audit::BreakGlassReason> BreakGlassReasonOf(std::string_view code) {
  static constexpr audit::BreakGlassReason kReasons[] = {
      audit::BreakGlassReason::kEmergency, audit::BreakGlassReason::kContinuityOfCare,
      audit::BreakGlassReason::kPatientRequest, audit::BreakGlassReason::kOther};
  for (audit::BreakGlassReason reason : kReasons) {
    if (audit::ReasonName(reason) == code) return reason;
  }
  return std::nullopt;
}

Status CheckBreakGlassText(std::string_view text) {
  if (text.size() > kMaxBreakGlassTextBytes) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("the text is too long: at most {} bytes", kMaxBreakGlassTextBytes));
  }
  const bool blank = std::ranges::all_of(
      text, [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
  if (blank) return Fail(ErrorCode::kInvalidArgument, "the text is required: say why");
  return {};
}

Status MayBreakGlass(const Principal& principal) {
  if (principal.role == audit::Role::kClinician) return {};
  return Fail(ErrorCode::kPermissionDenied,
              "policy: only a clinician may break the glass, to treat a patient in an emergency");
}

Status MayReviewBreakGlass(const Principal& principal) {
  if (principal.role == audit::Role::kAuditor) return {};
  return Fail(ErrorCode::kPermissionDenied,
              "policy: the break-the-glass review queue is for auditors only");
}

}  // namespace medvault::policy
