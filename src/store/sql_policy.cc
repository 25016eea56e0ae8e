// SqlTransaction's operations on the access policy's tables (migration 007_policy).
#include <chrono>
#include <utility>

#include "store/sql_transaction.h"

namespace medvault::store {
namespace {

constexpr std::size_t kMaxSealedTextBytes = 64 * 1024;
constexpr std::size_t kMaxListLimit = 10'000;

std::int64_t Micros(Timestamp at) { return at.time_since_epoch().count(); }
Timestamp At(std::int64_t micros) { return Timestamp(std::chrono::microseconds(micros)); }

Status Unexpected(std::string_view table) {
  return Fail(ErrorCode::kInternal,
              "store: a " + std::string(table) + " row has unexpected columns");
}

// Columns: id, account_id, patient_id, reason, sealed_reason, granted_at, expires_at,
// reviewed_at, reviewer, sealed_note.
Result<BreakGlassGrant> BreakGlassFromRow(Row& row) {
  auto id = CellText(row, 0);
  auto account_id = CellText(row, 1);
  auto patient_id = CellText(row, 2);
  auto reason = CellInt(row, 3);
  auto sealed_reason = CellBytes(row, 4);
  auto granted_at = CellInt(row, 5);
  auto expires_at = CellInt(row, 6);
  auto reviewed_at = CellInt(row, 7);
  auto reviewer = CellText(row, 8);
  auto sealed_note = CellBytes(row, 9);
  if (!id || !account_id || !patient_id || !reason || !sealed_reason || !granted_at ||
      !expires_at || !reviewed_at || !reviewer || !sealed_note) {
    return std::unexpected(Unexpected("break-glass").error());
  }
  return BreakGlassGrant{.id = std::move(*id),
                         .account_id = std::move(*account_id),
                         .patient_id = std::move(*patient_id),
                         .reason = *reason,
                         .sealed_reason = std::move(*sealed_reason),
                         .granted_at = At(*granted_at),
                         .expires_at = At(*expires_at),
                         .reviewed_at = At(*reviewed_at),
                         .reviewer = std::move(*reviewer),
                         .sealed_note = std::move(*sealed_note)};
}

Result<std::vector<BreakGlassGrant>> BreakGlassRows(Result<QueryResult> result) {
  if (!result) return std::unexpected(result.error());
  std::vector<BreakGlassGrant> grants;
  grants.reserve(result->rows.size());
  for (Row& row : result->rows) {
    auto grant = BreakGlassFromRow(row);
    if (!grant) return std::unexpected(grant.error());
    grants.push_back(std::move(*grant));
  }
  return grants;
}

}  // namespace

Status SqlTransaction::ReplaceCareRelations(std::string_view source_type,
                                            std::string_view source_id,
                                            std::span<const CareRelation> relations) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckName(source_type, "source type"); !s) return s;
  if (auto s = CheckName(source_id, "source id"); !s) return s;
  for (const CareRelation& relation : relations) {
    if (relation.source_type != source_type || relation.source_id != source_id) {
      return Fail(ErrorCode::kInvalidArgument, "store: a care relation names another source");
    }
    if (auto s = CheckName(relation.practitioner_id, "practitioner id"); !s) return s;
    if (auto s = CheckName(relation.patient_id, "patient id"); !s) return s;
  }
  if (auto deleted = Run(Query::kDeleteCareRelations, {source_type, source_id}); !deleted) {
    return std::unexpected(deleted.error());
  }
  for (const CareRelation& relation : relations) {
    auto inserted =
        Run(Query::kInsertCareRelation,
            {std::string_view(relation.practitioner_id), std::string_view(relation.patient_id),
             source_type, source_id, Micros(relation.expires_at)});
    if (!inserted) return std::unexpected(inserted.error());
  }
  return {};
}

Result<std::vector<CareRelation>> SqlTransaction::ListCareRelations(
    std::string_view practitioner_id, Timestamp now) {
  if (auto s = CheckName(practitioner_id, "practitioner id"); !s) {
    return std::unexpected(s.error());
  }
  auto result = Run(Query::kListCareRelations, {practitioner_id, Micros(now)});
  if (!result) return std::unexpected(result.error());
  std::vector<CareRelation> relations;
  relations.reserve(result->rows.size());
  for (Row& row : result->rows) {
    auto patient_id = CellText(row, 0);
    auto source_type = CellText(row, 1);
    auto source_id = CellText(row, 2);
    auto expires_at = CellInt(row, 3);
    if (!patient_id || !source_type || !source_id || !expires_at) {
      return std::unexpected(Unexpected("care relation").error());
    }
    relations.push_back({.practitioner_id = std::string(practitioner_id),
                         .patient_id = std::move(*patient_id),
                         .source_type = std::move(*source_type),
                         .source_id = std::move(*source_id),
                         .expires_at = At(*expires_at)});
  }
  return relations;
}

Result<bool> SqlTransaction::HasCareRelation(std::string_view practitioner_id,
                                             std::string_view patient_id, Timestamp now) {
  if (auto s = CheckName(practitioner_id, "practitioner id"); !s) return std::unexpected(s.error());
  if (auto s = CheckName(patient_id, "patient id"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kHasCareRelation, {practitioner_id, patient_id, Micros(now)});
  if (!result) return std::unexpected(result.error());
  return !result->rows.empty();
}

Status SqlTransaction::PutAccountLink(const AccountLink& link) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckName(link.account_id, "account id"); !s) return s;
  if (auto s = CheckName(link.practitioner_id, "practitioner id", true); !s) return s;
  if (auto s = CheckName(link.organization_id, "organization id", true); !s) return s;
  auto result = Run(Query::kUpsertAccountLink,
                    {std::string_view(link.account_id), std::string_view(link.practitioner_id),
                     std::string_view(link.organization_id), Micros(link.updated_at)});
  if (!result) return std::unexpected(result.error());
  return {};
}

Result<AccountLink> SqlTransaction::GetAccountLink(std::string_view account_id) {
  if (auto s = CheckName(account_id, "account id"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kSelectAccountLink, {account_id});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return Fail(ErrorCode::kNotFound, "store: the account is not linked");
  Row& row = result->rows.front();
  auto practitioner_id = CellText(row, 0);
  auto organization_id = CellText(row, 1);
  auto updated_at = CellInt(row, 2);
  if (!practitioner_id || !organization_id || !updated_at) {
    return std::unexpected(Unexpected("account link").error());
  }
  return AccountLink{.account_id = std::string(account_id),
                     .practitioner_id = std::move(*practitioner_id),
                     .organization_id = std::move(*organization_id),
                     .updated_at = At(*updated_at)};
}

Status SqlTransaction::InsertSensitiveGrant(const SensitiveGrant& grant) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckName(grant.account_id, "account id"); !s) return s;
  if (auto s = CheckName(grant.category, "category"); !s) return s;
  if (auto s = CheckName(grant.granted_by, "grantor"); !s) return s;
  auto result = Run(Query::kInsertSensitiveGrant,
                    {std::string_view(grant.account_id), std::string_view(grant.category),
                     Micros(grant.granted_at), std::string_view(grant.granted_by)});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kAlreadyExists, "store: already granted");
  return {};
}

Result<std::vector<SensitiveGrant>> SqlTransaction::ListSensitiveGrants(
    std::string_view account_id) {
  if (auto s = CheckName(account_id, "account id"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kListSensitiveGrants, {account_id});
  if (!result) return std::unexpected(result.error());
  std::vector<SensitiveGrant> grants;
  for (Row& row : result->rows) {
    auto category = CellText(row, 0);
    auto granted_at = CellInt(row, 1);
    auto granted_by = CellText(row, 2);
    if (!category || !granted_at || !granted_by) {
      return std::unexpected(Unexpected("sensitive grant").error());
    }
    grants.push_back({.account_id = std::string(account_id),
                      .category = std::move(*category),
                      .granted_at = At(*granted_at),
                      .granted_by = std::move(*granted_by)});
  }
  return grants;
}

Status SqlTransaction::InsertBreakGlass(const BreakGlassGrant& grant) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckName(grant.id, "grant id"); !s) return s;
  if (auto s = CheckName(grant.account_id, "account id"); !s) return s;
  if (auto s = CheckName(grant.patient_id, "patient id"); !s) return s;
  if (grant.sealed_reason.size() > kMaxSealedTextBytes) {
    return Fail(ErrorCode::kInvalidArgument, "store: the sealed reason is too long");
  }
  auto result = Run(Query::kInsertBreakGlass,
                    {std::string_view(grant.id), std::string_view(grant.account_id),
                     std::string_view(grant.patient_id), grant.reason,
                     std::span<const std::uint8_t>(grant.sealed_reason), Micros(grant.granted_at),
                     Micros(grant.expires_at), std::span<const std::uint8_t>()});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kAlreadyExists, "store: grant id taken");
  return {};
}

Result<BreakGlassGrant> SqlTransaction::GetBreakGlass(std::string_view id) {
  if (auto s = CheckName(id, "grant id"); !s) return std::unexpected(s.error());
  auto grants = BreakGlassRows(Run(Query::kSelectBreakGlass, {id}));
  if (!grants) return std::unexpected(grants.error());
  if (grants->empty()) return Fail(ErrorCode::kNotFound, "store: no such grant");
  return std::move(grants->front());
}

Result<std::vector<BreakGlassGrant>> SqlTransaction::ListActiveBreakGlass(
    std::string_view account_id, Timestamp now) {
  if (auto s = CheckName(account_id, "account id"); !s) return std::unexpected(s.error());
  return BreakGlassRows(Run(Query::kListActiveBreakGlass, {account_id, Micros(now)}));
}

Result<std::vector<BreakGlassGrant>> SqlTransaction::ListBreakGlassToReview(
    Timestamp after_granted_at, std::string_view after_id, std::size_t limit) {
  if (after_id.size() > kMaxNameBytes || limit == 0 || limit > kMaxListLimit) {
    return Fail(ErrorCode::kInvalidArgument, "store: bad break-glass page");
  }
  return BreakGlassRows(Run(Query::kListBreakGlassToReview,
                            {Micros(after_granted_at), after_id, static_cast<std::int64_t>(limit)}));
}

Status SqlTransaction::ReviewBreakGlass(const BreakGlassGrant& review) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckName(review.id, "grant id"); !s) return s;
  if (auto s = CheckName(review.reviewer, "reviewer"); !s) return s;
  if (review.sealed_note.size() > kMaxSealedTextBytes) {
    return Fail(ErrorCode::kInvalidArgument, "store: the sealed note is too long");
  }
  auto result = Run(Query::kReviewBreakGlass,
                    {std::string_view(review.id), Micros(review.reviewed_at),
                     std::string_view(review.reviewer),
                     std::span<const std::uint8_t>(review.sealed_note)});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) {
    auto current = Run(Query::kSelectBreakGlass, {std::string_view(review.id)});
    if (!current) return std::unexpected(current.error());
    if (current->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no such grant");
    return Fail(ErrorCode::kConflict, "store: the grant was reviewed already");
  }
  return {};
}

Status SqlTransaction::DeleteSensitiveGrant(std::string_view account_id,
                                            std::string_view category) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckName(account_id, "account id"); !s) return s;
  if (auto s = CheckName(category, "category"); !s) return s;
  auto result = Run(Query::kDeleteSensitiveGrant, {account_id, category});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kNotFound, "store: not granted");
  return {};
}

}  // namespace medvault::store
