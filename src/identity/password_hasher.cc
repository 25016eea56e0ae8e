#include "identity/password_hasher.h"

#include <sodium.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <optional>
#include <utility>

namespace medvault::identity {
namespace {

static_assert(crypto_pwhash_argon2id_ALG_ARGON2ID13 == crypto_pwhash_ALG_ARGON2ID13);
constexpr std::string_view kPrefix = "$argon2id$v=19$m=";

// The cost written in a PHC string medvault could have produced:
// "$argon2id$v=19$m=<digits>,t=<digits>,p=1$<salt>$<hash>"; nothing otherwise.
std::optional<Argon2Cost> ParseCost(std::string_view encoded) {
  if (encoded.size() >= crypto_pwhash_STRBYTES || !encoded.starts_with(kPrefix)) {
    return std::nullopt;
  }
  std::string_view rest = encoded.substr(kPrefix.size());
  const auto number = [&rest](auto& out) {
    const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), out);
    if (error != std::errc() || end == rest.data()) return false;
    rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
    return true;
  };
  Argon2Cost cost;
  if (!number(cost.memory_kib) || !rest.starts_with(",t=")) return std::nullopt;
  rest.remove_prefix(3);
  if (!number(cost.iterations) || !rest.starts_with(",p=1$")) return std::nullopt;
  return cost;
}

Status CheckStored(std::string_view encoded) {
  const std::optional<Argon2Cost> cost = ParseCost(encoded);
  if (!cost) return Fail(ErrorCode::kDataLoss, "stored password hash is not Argon2id");
  if (cost->memory_kib > kArgon2MaxVerifyMemoryKib ||
      cost->iterations > kArgon2MaxVerifyIterations) {
    return Fail(ErrorCode::kDataLoss, "stored password hash asks for an excessive cost");
  }
  return {};
}

Result<std::string> HashAt(const Argon2Cost& cost, const Secret& password) {
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), reinterpret_cast<const char*>(password.bytes().data()),
                            password.size(), cost.iterations,
                            static_cast<std::size_t>(cost.memory_kib) * 1024,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Fail(ErrorCode::kInternal, "Argon2id hashing failed (out of memory?)");
  }
  return std::string(out.data());
}

Result<PasswordHasher::Verdict> VerifyAt(const Argon2Cost& cost, std::string_view encoded,
                                         const Secret& password) {
  if (auto ok = CheckStored(encoded); !ok) return std::unexpected(ok.error());
  // libsodium wants a NUL-terminated string of at most crypto_pwhash_STRBYTES.
  std::array<char, crypto_pwhash_STRBYTES> stored{};
  encoded.copy(stored.data(), encoded.size());
  PasswordHasher::Verdict verdict;
  verdict.match = crypto_pwhash_str_verify(stored.data(),
                                           reinterpret_cast<const char*>(password.bytes().data()),
                                           password.size()) == 0;
  if (verdict.match) {
    verdict.needs_rehash =
        crypto_pwhash_str_needs_rehash(stored.data(), cost.iterations,
                                       static_cast<std::size_t>(cost.memory_kib) * 1024) != 0;
  }
  return verdict;
}

}  // namespace

Result<std::unique_ptr<PasswordHasher>> PasswordHasher::Create(Options options) {
  if (auto ok = InitSodium(); !ok) return std::unexpected(ok.error());
  if (options.cost.memory_kib < kArgon2Floor.memory_kib ||
      options.cost.iterations < kArgon2Floor.iterations) {
    return Fail(ErrorCode::kInvalidArgument,
                "Argon2id cost is below the floor of 64 MiB and 2 iterations");
  }
  if (options.cost.memory_kib > kArgon2MaxVerifyMemoryKib ||
      options.cost.iterations > kArgon2MaxVerifyIterations) {
    return Fail(ErrorCode::kInvalidArgument, "Argon2id cost is above 4 GiB or 64 iterations");
  }
  if (options.threads == 0 || options.threads > 64 || options.max_pending == 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "password hasher needs 1 to 64 threads and a queue of at least one job");
  }
  std::unique_ptr<PasswordHasher> hasher(new PasswordHasher(options));
  auto nobody = Secret::Random(32);
  if (!nobody) return std::unexpected(nobody.error());
  auto dummy = hasher->HashNow(*nobody);
  if (!dummy) return std::unexpected(dummy.error());
  hasher->dummy_encoded_ = std::move(*dummy);
  for (std::size_t i = 0; i < options.threads; ++i) {
    hasher->workers_.emplace_back([raw = hasher.get()] { raw->WorkerLoop(); });
  }
  return hasher;
}

PasswordHasher::PasswordHasher(Options options) : options_(options) {}

PasswordHasher::~PasswordHasher() {
  std::deque<Job> abandoned;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    abandoned.swap(pending_);
  }
  wake_.notify_all();
  for (std::thread& worker : workers_) worker.join();
  for (Job& job : abandoned) job(Fail(ErrorCode::kUnavailable, "password hasher is shutting down"));
}

void PasswordHasher::Submit(Job job) {
  {
    std::unique_lock lock(mutex_);
    if (!stopping_ && pending_.size() < options_.max_pending) {
      pending_.push_back(std::move(job));
      lock.unlock();
      wake_.notify_one();
      return;
    }
  }
  job(Fail(ErrorCode::kUnavailable, "too many password checks are waiting; retry shortly"));
}

void PasswordHasher::WorkerLoop() {
  // Best effort: a refused change (a seccomp filter, a container) leaves the thread at 0.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), options_.worker_nice);
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (stopping_) return;
      job = std::move(pending_.front());
      pending_.pop_front();
    }
    job(Status{});
  }
}

void PasswordHasher::Hash(Secret password, std::function<void(Result<std::string>)> done) {
  Submit([this, password = std::make_shared<Secret>(std::move(password)),
          done = std::move(done)](Status runnable) {
    if (!runnable) return done(std::unexpected(runnable.error()));
    done(HashAt(options_.cost, *password));
  });
}

void PasswordHasher::HashAll(std::vector<Secret> passwords,
                             std::function<void(Result<std::vector<std::string>>)> done) {
  Submit([this, passwords = std::make_shared<std::vector<Secret>>(std::move(passwords)),
          done = std::move(done)](Status runnable) {
    if (!runnable) return done(std::unexpected(runnable.error()));
    std::vector<std::string> hashes;
    hashes.reserve(passwords->size());
    for (const Secret& password : *passwords) {
      auto hash = HashAt(options_.cost, password);
      if (!hash) return done(std::unexpected(hash.error()));
      hashes.push_back(std::move(*hash));
    }
    done(std::move(hashes));
  });
}

void PasswordHasher::Verify(std::string encoded, Secret password,
                            std::function<void(Result<Verdict>)> done) {
  Submit([this, encoded = std::move(encoded),
          password = std::make_shared<Secret>(std::move(password)),
          done = std::move(done)](Status runnable) {
    if (!runnable) return done(std::unexpected(runnable.error()));
    done(VerifyAt(options_.cost, encoded, *password));
  });
}

void PasswordHasher::VerifyDummy(Secret password, std::function<void(Result<Verdict>)> done) {
  Submit([this, password = std::make_shared<Secret>(std::move(password)),
          done = std::move(done)](Status runnable) {
    if (!runnable) return done(std::unexpected(runnable.error()));
    auto verdict = VerifyAt(options_.cost, dummy_encoded_, *password);
    if (!verdict) return done(std::unexpected(verdict.error()));
    done(Verdict{});  // whatever the password, an unknown account never matches
  });
}

Result<std::string> PasswordHasher::HashNow(const Secret& password) const {
  return HashAt(options_.cost, password);
}

Result<PasswordHasher::Verdict> PasswordHasher::VerifyNow(std::string_view encoded,
                                                          const Secret& password) const {
  return VerifyAt(options_.cost, encoded, password);
}

}  // namespace medvault::identity
