#include "identity/sessions.h"

#include <sodium.h>

#include <optional>

#include "core/base64.h"
#include "identity/tokens.h"

namespace medvault::identity {
namespace {

constexpr std::string_view kCsrfLabel = "medvault.csrf.v1:";

std::unexpected<Error> Denied() {
  return Fail(ErrorCode::kPermissionDenied, "no valid session: log in again");
}

}  // namespace

std::chrono::seconds Sessions::IdleTimeout(AccountKind kind) const {
  return kind == AccountKind::kPatient ? policy_.patient_idle : policy_.staff_idle;
}

Result<NewSession> Sessions::Start(store::Transaction& tx, const store::Account& account,
                                   store::SessionStage stage, Timestamp second_factor_at,
                                   std::string_view user_agent, std::string_view source,
                                   std::span<const std::uint8_t> challenge) {
  auto token = NewToken();
  if (!token) return std::unexpected(token.error());
  auto id = NewHandle();
  if (!id) return std::unexpected(id.error());
  const Timestamp now = clock_.Now();
  std::chrono::seconds lifetime = policy_.absolute;
  if (stage == store::SessionStage::kPendingSecondFactor) lifetime = policy_.pending_second_factor;
  if (stage == store::SessionStage::kEnrolling) lifetime = policy_.enrolling;
  store::SessionRecord record;
  record.token_hash = token->hash;
  record.id = *id;
  record.account_id = account.id;
  record.stage = stage;
  record.created_at = now;
  record.last_seen_at = now;
  record.expires_at = now + lifetime;
  record.second_factor_at = second_factor_at;
  record.challenge.assign(challenge.begin(), challenge.end());
  record.user_agent = std::string(user_agent.substr(0, store::kMaxNameBytes));
  record.source = std::string(source.substr(0, store::kMaxNameBytes));
  if (auto s = tx.InsertSession(record); !s) return std::unexpected(s.error());
  NewSession out{std::move(token->text), std::move(*id), "", record.expires_at};
  out.csrf_token = CsrfToken(out.token.view());
  return out;
}

Result<ActiveSession> Sessions::Authenticate(std::string_view token, store::SessionStage stage) {
  if (token.empty() || token.size() > 128) return Denied();
  const auto hash = Sha256(token);
  const Timestamp now = clock_.Now();
  std::optional<ActiveSession> found;
  bool denied = false;
  Status s = store_.Transact([&](store::Transaction& tx) -> Status {
    denied = false;
    auto record = tx.GetSession(hash);
    if (!record) {
      if (record.error().code() == ErrorCode::kNotFound) return denied = true, Status{};
      return std::unexpected(record.error());
    }
    auto account = tx.GetAccount(record->account_id);
    if (!account) return std::unexpected(account.error());
    auto kind = ParseAccountKind(account->kind);
    if (!kind) return std::unexpected(kind.error());
    const bool idle =
        stage == store::SessionStage::kSession && now - record->last_seen_at >= IdleTimeout(*kind);
    const bool expired = now >= record->expires_at;
    if (expired || idle) {
      // An ended session is forgotten at once.
      if (auto d = tx.DeleteSession(hash); !d) return d;
      return denied = true, Status{};
    }
    const bool status_ok = stage == store::SessionStage::kSession
                               ? account->status == kStatusActive
                               : account->status != kStatusDisabled;
    if (record->stage != stage || !status_ok) return denied = true, Status{};
    if (now - record->last_seen_at >= policy_.touch_interval) {
      record->last_seen_at = now;
      if (auto u = tx.UpdateSession(*record); !u) return u;
    }
    found = ActiveSession{std::move(*record), std::move(*account), *kind};
    return {};
  });
  if (!s) return std::unexpected(s.error());
  if (denied || !found) return Denied();
  return std::move(*found);
}

Result<NewSession> Sessions::Rotate(store::Transaction& tx, const ActiveSession& session,
                                    store::SessionStage stage, Timestamp second_factor_at) {
  if (auto d = tx.DeleteSession(session.record.token_hash); !d) return std::unexpected(d.error());
  auto started = Start(tx, session.account, stage, second_factor_at, session.record.user_agent,
                       session.record.source);
  if (!started) return std::unexpected(started.error());
  if (stage == store::SessionStage::kSession &&
      session.record.stage != store::SessionStage::kSession) {
    // Both factors checked: a full login, which the security console lists.
    if (auto m = tx.SetAccountLastLogin(session.account.id, second_factor_at); !m) {
      return std::unexpected(m.error());
    }
  }
  if (stage == store::SessionStage::kSession &&
      session.record.stage == store::SessionStage::kSession) {
    // A rotated session keeps its absolute expiry: rotation never extends a session.
    auto record = tx.GetSession(Sha256(started->token.view()));
    if (!record) return std::unexpected(record.error());
    record->expires_at = session.record.expires_at;
    if (auto u = tx.UpdateSession(*record); !u) return std::unexpected(u.error());
    started->expires_at = session.record.expires_at;
  }
  return started;
}

bool Sessions::HasFreshSecondFactor(const store::SessionRecord& session) const {
  const Timestamp now = clock_.Now();
  return session.second_factor_at != Timestamp{} && now >= session.second_factor_at &&
         now - session.second_factor_at <= policy_.step_up_window;
}

Result<std::vector<store::SessionRecord>> Sessions::List(std::string_view account_id) {
  std::vector<store::SessionRecord> out;
  const Timestamp now = clock_.Now();
  Status s = store_.Transact(
      [&](store::Transaction& tx) -> Status {
        auto all = tx.ListSessions(account_id);
        if (!all) return std::unexpected(all.error());
        out.clear();
        for (auto& record : *all) {
          if (record.stage == store::SessionStage::kSession && now < record.expires_at) {
            out.push_back(std::move(record));
          }
        }
        return {};
      },
      store::Access::kReadOnly);
  if (!s) return std::unexpected(s.error());
  return out;
}

Status Sessions::End(std::string_view account_id, std::string_view session_id) {
  return store_.Transact(
      [&](store::Transaction& tx) { return tx.DeleteSessionById(account_id, session_id); });
}

Result<std::int64_t> Sessions::EndAll(std::string_view account_id) {
  std::int64_t ended = 0;
  Status s = store_.Transact([&](store::Transaction& tx) -> Status {
    auto count = tx.DeleteSessions(account_id);
    if (!count) return std::unexpected(count.error());
    ended = *count;
    return {};
  });
  if (!s) return std::unexpected(s.error());
  return ended;
}

Status Sessions::Logout(std::string_view token) {
  if (token.empty() || token.size() > 128) return Denied();
  const auto hash = Sha256(token);
  Status s = store_.Transact([&](store::Transaction& tx) { return tx.DeleteSession(hash); });
  if (!s && s.error().code() == ErrorCode::kNotFound) return Denied();
  return s;
}

std::string Sessions::CsrfToken(std::string_view token) {
  std::string input(kCsrfLabel);
  input.append(token);
  crypto::WipedText wiped(std::move(input));
  const auto digest = Sha256(wiped.view());
  return EncodeBase64(digest, Base64Alphabet::kUrlSafe);
}

bool Sessions::CsrfMatches(std::string_view token, std::string_view header) {
  const std::string expected = CsrfToken(token);
  if (header.size() != expected.size()) return false;
  return sodium_memcmp(expected.data(), header.data(), expected.size()) == 0;
}

}  // namespace medvault::identity
