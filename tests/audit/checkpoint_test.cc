#include "audit/checkpoint.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "audit/checkpointer.h"
#include "audit_log_fixture.h"
#include "core/manual_clock.h"
#include "core/secret.h"

namespace medvault::audit {
namespace {

crypto::SigningKey KeyFromByte(std::uint8_t byte) {
  auto seed = Secret::Allocate(crypto::kEd25519SeedBytes);
  EXPECT_TRUE(seed.has_value());
  std::ranges::fill(seed->mutable_bytes(), byte);
  return crypto::SigningKey::FromSeed(*seed).value();
}

Checkpoint Sample(const crypto::SigningKey& key) {
  Checkpoint c;
  c.origin = OriginFor(key.public_key());
  c.size = 1234;
  for (std::size_t i = 0; i < kHashBytes; ++i) c.root[i] = static_cast<std::uint8_t>(i);
  c.extensions = {"time 2026-12-01T20:00:00Z"};
  return c;
}

NoteVerifier VerifierOf(const crypto::SigningKey& key) {
  return {OriginFor(key.public_key()), key.public_key()};
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(Checkpoint, BodyIsTheC2spTlogCheckpointFormat) {
  const auto key = KeyFromByte(7);
  const std::string text = CheckpointText(Sample(key)).value();
  EXPECT_EQ(text, OriginFor(key.public_key()) +
                      "\n1234\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
                      "time 2026-12-01T20:00:00Z\n");
  EXPECT_EQ(ParseCheckpointText(text).value(), Sample(key));
}

TEST(Checkpoint, SignedNoteOpensOnlyWithItsKeyAndUnchanged) {
  const auto key = KeyFromByte(7);
  const std::string note = SignCheckpoint(Sample(key), key).value();
  // The note: text, blank line, one "— name base64" line.
  EXPECT_NE(note.find("\n\n\xE2\x80\x94 " + OriginFor(key.public_key()) + " "), std::string::npos);
  auto opened = OpenCheckpoint(note, VerifierOf(key));
  ASSERT_TRUE(opened.has_value()) << opened.error().message();
  EXPECT_EQ(*opened, Sample(key));

  EXPECT_FALSE(OpenCheckpoint(note, VerifierOf(KeyFromByte(8))).has_value());
  std::string bigger = note;
  bigger.replace(bigger.find("\n1234\n"), 6, "\n1235\n");
  EXPECT_EQ(OpenCheckpoint(bigger, VerifierOf(key)).error().code(), ErrorCode::kDataLoss);
  std::string resigned = note;
  resigned[resigned.size() - 10] ^= 1;
  EXPECT_FALSE(OpenCheckpoint(resigned, VerifierOf(key)).has_value());
  EXPECT_FALSE(OpenCheckpoint(note.substr(0, note.size() - 1), VerifierOf(key)).has_value());
}

TEST(Checkpoint, OtherKeysSignaturesAreIgnoredButOneValidIsNeeded) {
  const auto key = KeyFromByte(7);
  const auto witness = KeyFromByte(9);
  const std::string note = SignCheckpoint(Sample(key), key).value();
  const std::string text = CheckpointText(Sample(key)).value();
  const std::string by_witness = SignNote(text, "witness.example", witness).value();
  const std::string cosigned = note + by_witness.substr(text.size() + 1);
  EXPECT_TRUE(OpenCheckpoint(cosigned, VerifierOf(key)).has_value());
  EXPECT_FALSE(OpenCheckpoint(by_witness, VerifierOf(key)).has_value());
}

TEST(Checkpoint, VerifierKeyRoundTripsAndItsKeyHashIsChecked) {
  const auto key = KeyFromByte(7);
  const std::string text = VerifierKeyText(VerifierOf(key));
  auto parsed = ParseVerifierKey(text + "\n");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message();
  EXPECT_EQ(parsed->name, OriginFor(key.public_key()));
  EXPECT_EQ(parsed->public_key, key.public_key());
  std::string wrong_hash = text;
  wrong_hash[wrong_hash.find('+') + 1] = wrong_hash[wrong_hash.find('+') + 1] == '0' ? '1' : '0';
  EXPECT_FALSE(ParseVerifierKey(wrong_hash).has_value());
}

TEST(Checkpoint, ParsersRejectMalformedText) {
  for (const char* text :
       {"", "origin\n", "origin\n12\n", "origin\n012\nAAAA\n", "origin\n12\nnot base64\n",
        "origin\n-1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "origin\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n",
        "origin\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}) {
    EXPECT_FALSE(ParseCheckpointText(text).has_value()) << text;
  }
}

class CheckpointerTest : public testing::StoreBackend {};

TEST_P(CheckpointerTest, WritesVerifiableCheckpointsStoresThemAndRunsTheCommand) {
  ::medvault::testing::ManualClock clock;
  auto log = AuditLog::Open(*store_, clock);
  ASSERT_TRUE(log.has_value());
  const auto key = KeyFromByte(3);
  const std::filesystem::path out = std::filesystem::temp_directory_path() /
                                    ("medvault-cp-" + std::to_string(::getpid()) + GetParam());
  std::filesystem::remove_all(out);
  std::filesystem::create_directories(out);
  const std::filesystem::path script = out / "ship.sh";
  {
    std::ofstream s(script);
    s << "#!/bin/sh\ncp \"$1\" \"" << (out / "shipped").string() << ".tmp\" && mv \""
      << (out / "shipped").string() << ".tmp\" \"" << (out / "shipped").string() << "\"\n";
  }
  ::chmod(script.c_str(), 0700);
  const std::filesystem::path dir = out / "checkpoints";
  {
    auto checkpointer =
        Checkpointer::Start(**log, *store_, key, clock, {dir, std::chrono::hours(1), script});
    ASSERT_TRUE(checkpointer.has_value()) << checkpointer.error().message();
    EXPECT_EQ(std::filesystem::status(dir).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_all);
    auto verifier = ParseVerifierKey(ReadFile(dir / "medvault.pub"));
    ASSERT_TRUE(verifier.has_value());
    auto first = OpenCheckpoint(ReadFile(dir / "checkpoint"), *verifier);
    ASSERT_TRUE(first.has_value()) << first.error().message();
    EXPECT_EQ(first->size, 0u);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*log)->Append(testing::ReadBy("acc-1", {"pat-1"})));
  }  // shutdown writes a last checkpoint
  auto verifier = ParseVerifierKey(ReadFile(dir / "medvault.pub")).value();
  auto last = OpenCheckpoint(ReadFile(dir / "checkpoint"), verifier);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->size, 3u);
  EXPECT_EQ(last->root, (*log)->Head()->root);

  std::vector<store::AuditCheckpoint> stored;
  ASSERT_TRUE(store_->Transact(
      [&](store::Transaction& tx) -> Status {
        auto got = tx.ListAuditCheckpoints(-1, 10);
        if (!got) return std::unexpected(got.error());
        stored = *got;
        return {};
      },
      store::Access::kReadOnly));
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].size, 0);
  EXPECT_EQ(stored[1].size, 3);
  EXPECT_TRUE(OpenCheckpoint(stored[1].note, verifier).has_value());

  // The command got a checkpoint file's path (it runs on its own; wait for its copy).
  for (int i = 0; i < 500 && !std::filesystem::exists(out / "shipped"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(std::filesystem::exists(out / "shipped"));
  EXPECT_TRUE(OpenCheckpoint(ReadFile(out / "shipped"), verifier).has_value());
  std::filesystem::remove_all(out);
}

INSTANTIATE_TEST_SUITE_P(Backends, CheckpointerTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace medvault::audit
