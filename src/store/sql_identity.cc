// SqlTransaction's operations on the identity tables (migration 004_identity).
#include <chrono>
#include <utility>

#include "store/sql_transaction.h"

namespace medvault::store {
namespace {

constexpr std::size_t kHashBytes = 32;

Status CheckHash(std::span<const std::uint8_t> hash) {
  if (hash.size() != kHashBytes) {
    return Fail(ErrorCode::kInvalidArgument, "store: a token hash must be 32 bytes");
  }
  return {};
}

Status CheckBytes(std::span<const std::uint8_t> bytes, std::size_t max, std::string_view what) {
  if (bytes.size() > max) {
    return Fail(ErrorCode::kInvalidArgument, std::string(what) + " is too long");
  }
  return {};
}

std::int64_t Micros(Timestamp at) { return at.time_since_epoch().count(); }
Timestamp At(std::int64_t micros) { return Timestamp(std::chrono::microseconds(micros)); }
std::span<const std::uint8_t> View(const Bytes& bytes) { return {bytes.data(), bytes.size()}; }

// Reads a row's cells in order, stopping at the first that has the wrong type.
class RowReader {
 public:
  explicit RowReader(Row& row) : row_(row) {}
  std::string Text() {
    auto value = CellText(row_, next_++);
    if (!value) return Keep(value.error()), std::string();
    return std::move(*value);
  }
  Bytes Blob() {
    auto value = CellBytes(row_, next_++);
    if (!value) return Keep(value.error()), Bytes();
    return std::move(*value);
  }
  std::int64_t Int() {
    auto value = CellInt(row_, next_++);
    if (!value) return Keep(value.error()), 0;
    return *value;
  }
  Timestamp Time() { return At(Int()); }
  Status Done() const {
    if (error_) return std::unexpected(*error_);
    return {};
  }

 private:
  void Keep(const Error& error) {
    if (!error_) error_ = error;
  }
  Row& row_;
  std::size_t next_ = 0;
  std::optional<Error> error_;
};

// Columns: id, login, kind, status, display_name, patient_id, created_at, updated_at.
Result<Account> AccountFromRow(Row& row) {
  RowReader r(row);
  Account a;
  a.id = r.Text();
  a.login = r.Text();
  a.kind = r.Text();
  a.status = r.Text();
  a.display_name = r.Text();
  a.patient_id = r.Text();
  a.created_at = r.Time();
  a.updated_at = r.Time();
  if (auto s = r.Done(); !s) return std::unexpected(s.error());
  return a;
}

// Columns: id, account_id, kind, material, external_id, counter, algorithm, created_at.
Result<Credential> CredentialFromRow(Row& row) {
  RowReader r(row);
  Credential c;
  c.id = r.Text();
  c.account_id = r.Text();
  c.kind = r.Text();
  c.material = r.Blob();
  c.external_id = r.Blob();
  c.counter = r.Int();
  c.algorithm = r.Int();
  c.created_at = r.Time();
  if (auto s = r.Done(); !s) return std::unexpected(s.error());
  return c;
}

// Columns: token_hash, id, account_id, stage, created_at, last_seen_at, expires_at,
// second_factor_at, challenge, user_agent, source.
Result<SessionRecord> SessionFromRow(Row& row) {
  RowReader r(row);
  SessionRecord s;
  s.token_hash = r.Blob();
  s.id = r.Text();
  s.account_id = r.Text();
  switch (r.Int()) {
    case static_cast<std::int64_t>(SessionStage::kSession):
      s.stage = SessionStage::kSession;
      break;
    case static_cast<std::int64_t>(SessionStage::kEnrolling):
      s.stage = SessionStage::kEnrolling;
      break;
    default:
      s.stage = SessionStage::kPendingSecondFactor;
  }
  s.created_at = r.Time();
  s.last_seen_at = r.Time();
  s.expires_at = r.Time();
  s.second_factor_at = r.Time();
  s.challenge = r.Blob();
  s.user_agent = r.Text();
  s.source = r.Text();
  if (auto status = r.Done(); !status) return std::unexpected(status.error());
  return s;
}

template <typename T, typename FromRow>
Result<std::vector<T>> AllRows(QueryResult& result, FromRow from_row) {
  std::vector<T> out;
  out.reserve(result.rows.size());
  for (Row& row : result.rows) {
    auto value = from_row(row);
    if (!value) return std::unexpected(value.error());
    out.push_back(std::move(*value));
  }
  return out;
}

Status CheckAccount(const Account& a) {
  if (auto s = CheckName(a.id, "account id"); !s) return s;
  if (auto s = CheckName(a.login, "login"); !s) return s;
  if (auto s = CheckName(a.kind, "account kind"); !s) return s;
  if (auto s = CheckName(a.status, "account status"); !s) return s;
  if (auto s = CheckName(a.display_name, "display name", true); !s) return s;
  return CheckName(a.patient_id, "patient id", true);
}

}  // namespace

Status SqlTransaction::InsertAccount(const Account& a) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckAccount(a); !s) return s;
  auto result = Run(Query::kInsertAccount,
                    {std::string_view(a.id), std::string_view(a.login), std::string_view(a.kind),
                     std::string_view(a.status), std::string_view(a.display_name),
                     std::string_view(a.patient_id), Micros(a.created_at), Micros(a.updated_at)});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kAlreadyExists, "store: account exists");
  return {};
}

Result<Account> SqlTransaction::GetAccount(std::string_view id) {
  if (auto s = CheckName(id, "account id"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kSelectAccount, {id});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no such account");
  return AccountFromRow(result->rows.front());
}

Result<Account> SqlTransaction::GetAccountByLogin(std::string_view login) {
  if (auto s = CheckName(login, "login"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kSelectAccountByLogin, {login});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no such account");
  return AccountFromRow(result->rows.front());
}

Status SqlTransaction::SetAccountStatus(std::string_view id, std::string_view status,
                                        Timestamp at) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckName(id, "account id"); !s) return s;
  if (auto s = CheckName(status, "account status"); !s) return s;
  auto result = Run(Query::kUpdateAccountStatus, {id, status, Micros(at)});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kNotFound, "store: no such account");
  return {};
}

Status SqlTransaction::InsertCredential(const Credential& c) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckName(c.id, "credential id"); !s) return s;
  if (auto s = CheckName(c.account_id, "account id"); !s) return s;
  if (auto s = CheckName(c.kind, "credential kind"); !s) return s;
  if (auto s = CheckBytes(c.material, kMaxCredentialBytes, "credential material"); !s) return s;
  if (auto s = CheckBytes(c.external_id, kMaxCredentialBytes, "credential id"); !s) return s;
  auto result =
      Run(Query::kInsertCredential,
          {std::string_view(c.id), std::string_view(c.account_id), std::string_view(c.kind),
           View(c.material), View(c.external_id), c.counter, c.algorithm, Micros(c.created_at)});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kAlreadyExists, "store: credential exists");
  return {};
}

Result<std::vector<Credential>> SqlTransaction::ListCredentials(std::string_view account_id) {
  if (auto s = CheckName(account_id, "account id"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kListCredentials, {account_id});
  if (!result) return std::unexpected(result.error());
  return AllRows<Credential>(*result, CredentialFromRow);
}

Result<Credential> SqlTransaction::GetPasskey(std::span<const std::uint8_t> external_id) {
  if (external_id.empty()) return Fail(ErrorCode::kInvalidArgument, "credential id is empty");
  if (auto s = CheckBytes(external_id, kMaxCredentialBytes, "credential id"); !s) {
    return std::unexpected(s.error());
  }
  auto result = Run(Query::kSelectPasskey, {external_id});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no such passkey");
  return CredentialFromRow(result->rows.front());
}

Status SqlTransaction::AdvanceCredentialCounter(std::string_view id, std::int64_t counter) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckName(id, "credential id"); !s) return s;
  auto result = Run(Query::kAdvanceCounter, {id, counter});
  if (!result) return std::unexpected(result.error());
  if (result->affected > 0) return {};
  auto existing = Run(Query::kSelectCredential, {id});
  if (!existing) return std::unexpected(existing.error());
  if (existing->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no such credential");
  return Fail(ErrorCode::kConflict, "store: credential counter did not move forward");
}

Status SqlTransaction::ReplaceCredentialMaterial(std::string_view id,
                                                 std::span<const std::uint8_t> material) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckName(id, "credential id"); !s) return s;
  if (auto s = CheckBytes(material, kMaxCredentialBytes, "credential material"); !s) return s;
  auto result = Run(Query::kUpdateMaterial, {id, material});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kNotFound, "store: no such credential");
  return {};
}

Status SqlTransaction::DeleteCredential(std::string_view id) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckName(id, "credential id"); !s) return s;
  auto result = Run(Query::kDeleteCredential, {id});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kNotFound, "store: no such credential");
  return {};
}

Result<std::int64_t> SqlTransaction::DeleteCredentials(std::string_view account_id,
                                                       std::string_view kind) {
  if (auto s = RequireWritable(); !s) return std::unexpected(s.error());
  if (auto s = CheckName(account_id, "account id"); !s) return std::unexpected(s.error());
  if (auto s = CheckName(kind, "credential kind", true); !s) return std::unexpected(s.error());
  auto result = Run(Query::kDeleteCredentials, {account_id, kind});
  if (!result) return std::unexpected(result.error());
  return result->affected;
}

Status SqlTransaction::InsertSession(const SessionRecord& s) {
  if (auto st = RequireWritable(); !st) return st;
  if (auto st = CheckHash(s.token_hash); !st) return st;
  if (auto st = CheckName(s.id, "session id"); !st) return st;
  if (auto st = CheckName(s.account_id, "account id"); !st) return st;
  if (auto st = CheckName(s.user_agent, "user agent", true); !st) return st;
  if (auto st = CheckName(s.source, "source", true); !st) return st;
  if (auto st = CheckBytes(s.challenge, kMaxNameBytes, "challenge"); !st) return st;
  auto result =
      Run(Query::kInsertSession,
          {View(s.token_hash), std::string_view(s.id), std::string_view(s.account_id),
           static_cast<std::int64_t>(s.stage), Micros(s.created_at), Micros(s.last_seen_at),
           Micros(s.expires_at), Micros(s.second_factor_at), View(s.challenge),
           std::string_view(s.user_agent), std::string_view(s.source)});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kAlreadyExists, "store: session exists");
  return {};
}

Result<SessionRecord> SqlTransaction::GetSession(std::span<const std::uint8_t> token_hash) {
  if (auto s = CheckHash(token_hash); !s) return std::unexpected(s.error());
  auto result = Run(Query::kSelectSession, {token_hash});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no such session");
  return SessionFromRow(result->rows.front());
}

Result<std::vector<SessionRecord>> SqlTransaction::ListSessions(std::string_view account_id) {
  if (auto s = CheckName(account_id, "account id"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kListSessions, {account_id});
  if (!result) return std::unexpected(result.error());
  return AllRows<SessionRecord>(*result, SessionFromRow);
}

Status SqlTransaction::UpdateSession(const SessionRecord& s) {
  if (auto st = RequireWritable(); !st) return st;
  if (auto st = CheckHash(s.token_hash); !st) return st;
  if (auto st = CheckBytes(s.challenge, kMaxNameBytes, "challenge"); !st) return st;
  auto result = Run(Query::kUpdateSession,
                    {View(s.token_hash), static_cast<std::int64_t>(s.stage), Micros(s.last_seen_at),
                     Micros(s.expires_at), Micros(s.second_factor_at), View(s.challenge)});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kNotFound, "store: no such session");
  return {};
}

Status SqlTransaction::DeleteSession(std::span<const std::uint8_t> token_hash) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckHash(token_hash); !s) return s;
  auto result = Run(Query::kDeleteSession, {token_hash});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kNotFound, "store: no such session");
  return {};
}

Status SqlTransaction::DeleteSessionById(std::string_view account_id, std::string_view id) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckName(account_id, "account id"); !s) return s;
  if (auto s = CheckName(id, "session id"); !s) return s;
  auto result = Run(Query::kDeleteSessionById, {account_id, id});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kNotFound, "store: no such session");
  return {};
}

Result<std::int64_t> SqlTransaction::DeleteSessions(std::string_view account_id) {
  if (auto s = RequireWritable(); !s) return std::unexpected(s.error());
  if (auto s = CheckName(account_id, "account id"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kDeleteSessions, {account_id});
  if (!result) return std::unexpected(result.error());
  return result->affected;
}

Result<std::int64_t> SqlTransaction::DeleteExpiredSessions(Timestamp now) {
  if (auto s = RequireWritable(); !s) return std::unexpected(s.error());
  auto result = Run(Query::kDeleteExpiredSessions, {Micros(now)});
  if (!result) return std::unexpected(result.error());
  return result->affected;
}

Result<ThrottleState> SqlTransaction::GetThrottle(std::string_view account_id) {
  if (auto s = CheckName(account_id, "account id"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kSelectThrottle, {account_id});
  if (!result) return std::unexpected(result.error());
  ThrottleState state;
  state.account_id = account_id;
  if (result->rows.empty()) return state;
  RowReader r(result->rows.front());
  state.consecutive_failures = r.Int();
  state.next_allowed_at = r.Time();
  state.disabled = r.Int() != 0;
  if (auto s = r.Done(); !s) return std::unexpected(s.error());
  return state;
}

Status SqlTransaction::PutThrottle(const ThrottleState& state) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckName(state.account_id, "account id"); !s) return s;
  auto result = Run(Query::kUpsertThrottle,
                    {std::string_view(state.account_id), state.consecutive_failures,
                     Micros(state.next_allowed_at), std::int64_t{state.disabled ? 1 : 0}});
  if (!result) return std::unexpected(result.error());
  return {};
}

Status SqlTransaction::InsertOneTimeCode(const OneTimeCode& code) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckHash(code.code_hash); !s) return s;
  if (auto s = CheckName(code.purpose, "code purpose"); !s) return s;
  if (auto s = CheckName(code.subject, "code subject"); !s) return s;
  auto result = Run(Query::kInsertCode, {View(code.code_hash), std::string_view(code.purpose),
                                         std::string_view(code.subject), Micros(code.created_at),
                                         Micros(code.expires_at)});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kAlreadyExists, "store: code exists");
  return {};
}

Result<OneTimeCode> SqlTransaction::FindOneTimeCode(Query query,
                                                    std::span<const std::uint8_t> code_hash,
                                                    std::string_view purpose, Timestamp now) {
  if (auto s = CheckHash(code_hash); !s) return std::unexpected(s.error());
  if (auto s = CheckName(purpose, "code purpose"); !s) return std::unexpected(s.error());
  auto result = Run(query, {code_hash, purpose, Micros(now)});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no usable code");
  RowReader r(result->rows.front());
  OneTimeCode code;
  code.code_hash.assign(code_hash.begin(), code_hash.end());
  code.purpose = purpose;
  code.subject = r.Text();
  code.created_at = r.Time();
  code.expires_at = r.Time();
  if (auto s = r.Done(); !s) return std::unexpected(s.error());
  return code;
}

Result<OneTimeCode> SqlTransaction::ConsumeOneTimeCode(std::span<const std::uint8_t> code_hash,
                                                       std::string_view purpose, Timestamp now) {
  if (auto s = RequireWritable(); !s) return std::unexpected(s.error());
  return FindOneTimeCode(Query::kConsumeCode, code_hash, purpose, now);
}

Result<OneTimeCode> SqlTransaction::PeekOneTimeCode(std::span<const std::uint8_t> code_hash,
                                                    std::string_view purpose, Timestamp now) {
  return FindOneTimeCode(Query::kSelectCode, code_hash, purpose, now);
}

Result<std::int64_t> SqlTransaction::DeleteOneTimeCodes(std::string_view subject,
                                                        std::string_view purpose) {
  if (auto s = RequireWritable(); !s) return std::unexpected(s.error());
  if (auto s = CheckName(subject, "code subject"); !s) return std::unexpected(s.error());
  if (auto s = CheckName(purpose, "code purpose"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kDeleteCodes, {subject, purpose});
  if (!result) return std::unexpected(result.error());
  return result->affected;
}

Status SqlTransaction::InsertApiClient(const ApiClient& client) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckName(client.client_id, "client id"); !s) return s;
  if (auto s = CheckName(client.organization, "organization", true); !s) return s;
  if (client.jwks.empty() || client.jwks.size() > kMaxJwksBytes) {
    return Fail(ErrorCode::kInvalidArgument, "store: client keys are empty or too long");
  }
  if (client.allowed_scopes.size() > kMaxScopesBytes) {
    return Fail(ErrorCode::kInvalidArgument, "store: client scopes are too long");
  }
  auto result =
      Run(Query::kInsertClient, {std::string_view(client.client_id), std::string_view(client.jwks),
                                 std::string_view(client.allowed_scopes),
                                 std::string_view(client.organization), Micros(client.created_at)});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kAlreadyExists, "store: client exists");
  return {};
}

Result<ApiClient> SqlTransaction::GetApiClient(std::string_view client_id) {
  if (auto s = CheckName(client_id, "client id"); !s) return std::unexpected(s.error());
  auto result = Run(Query::kSelectClient, {client_id});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no such client");
  RowReader r(result->rows.front());
  ApiClient client;
  client.client_id = r.Text();
  client.jwks = r.Text();
  client.allowed_scopes = r.Text();
  client.organization = r.Text();
  client.created_at = r.Time();
  if (auto s = r.Done(); !s) return std::unexpected(s.error());
  return client;
}

Status SqlTransaction::RecordUsedJti(std::string_view client_id, std::string_view jti,
                                     Timestamp expires_at, Timestamp now) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckName(client_id, "client id"); !s) return s;
  if (auto s = CheckName(jti, "jti"); !s) return s;
  if (auto forgot = Run(Query::kDeleteExpiredJtis, {Micros(now)}); !forgot) {
    return std::unexpected(forgot.error());
  }
  auto result = Run(Query::kInsertJti, {client_id, jti, Micros(expires_at)});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kAlreadyExists, "store: jti already used");
  return {};
}

Status SqlTransaction::InsertAccessToken(const AccessToken& token) {
  if (auto s = RequireWritable(); !s) return s;
  if (auto s = CheckHash(token.token_hash); !s) return s;
  if (auto s = CheckName(token.client_id, "client id"); !s) return s;
  if (token.scopes.size() > kMaxScopesBytes) {
    return Fail(ErrorCode::kInvalidArgument, "store: token scopes are too long");
  }
  if (auto forgot = Run(Query::kDeleteExpiredAccessTokens, {Micros(token.created_at)}); !forgot) {
    return std::unexpected(forgot.error());
  }
  auto result =
      Run(Query::kInsertAccessToken,
          {View(token.token_hash), std::string_view(token.client_id),
           std::string_view(token.scopes), Micros(token.created_at), Micros(token.expires_at)});
  if (!result) return std::unexpected(result.error());
  if (result->affected == 0) return Fail(ErrorCode::kAlreadyExists, "store: token exists");
  return {};
}

Result<AccessToken> SqlTransaction::GetAccessToken(std::span<const std::uint8_t> token_hash,
                                                   Timestamp now) {
  if (auto s = CheckHash(token_hash); !s) return std::unexpected(s.error());
  auto result = Run(Query::kSelectAccessToken, {token_hash, Micros(now)});
  if (!result) return std::unexpected(result.error());
  if (result->rows.empty()) return Fail(ErrorCode::kNotFound, "store: no such token");
  RowReader r(result->rows.front());
  AccessToken token;
  token.token_hash = r.Blob();
  token.client_id = r.Text();
  token.scopes = r.Text();
  token.created_at = r.Time();
  token.expires_at = r.Time();
  if (auto s = r.Done(); !s) return std::unexpected(s.error());
  return token;
}

}  // namespace medvault::store
