#include "crypto/sealed_file.h"

#include <sodium.h>

#include <cstring>
#include <vector>

#include "core/base64.h"

namespace medvault::crypto {
namespace {

constexpr std::array<char, 9> kMagic{'M', 'V', 'S', 'E', 'A', 'L', 'E', 'D', 1};
constexpr std::size_t kFileKeyBytes = crypto_secretstream_xchacha20poly1305_KEYBYTES;
constexpr std::size_t kSealedKeyBytes = crypto_box_SEALBYTES + kFileKeyBytes;
constexpr std::size_t kFrameOverhead = crypto_secretstream_xchacha20poly1305_ABYTES;

static_assert(kRecipientKeyBytes == crypto_box_PUBLICKEYBYTES);
static_assert(crypto_box_SECRETKEYBYTES == 32);

Status Written(const std::ostream& out) {
  if (!out) return Fail(ErrorCode::kUnavailable, "sealed file: the file cannot be written");
  return {};
}

Status Altered(std::string_view what) {
  return Fail(ErrorCode::kDataLoss, "sealed file: " + std::string(what));
}

bool ReadExactly(std::istream& in, std::uint8_t* data, std::size_t size) {
  in.read(reinterpret_cast<char*>(data), static_cast<std::streamsize>(size));
  return static_cast<std::size_t>(in.gcount()) == size;
}

}  // namespace

Result<RecipientKeyPair> NewRecipientKeyPair() {
  if (auto s = InitSodium(); !s) return std::unexpected(s.error());
  auto secret = Secret::Allocate(crypto_box_SECRETKEYBYTES);
  if (!secret) return std::unexpected(secret.error());
  RecipientKeyPair pair{{}, std::move(*secret)};
  if (crypto_box_keypair(pair.public_key.data(), pair.secret_key.mutable_bytes().data()) != 0) {
    return Fail(ErrorCode::kInternal, "sealed file: key pair generation failed");
  }
  return pair;
}

Result<std::array<std::uint8_t, kRecipientKeyBytes>> RecipientPublicKeyOf(const Secret& secret_key) {
  if (auto s = InitSodium(); !s) return std::unexpected(s.error());
  if (secret_key.size() != crypto_box_SECRETKEYBYTES) {
    return Fail(ErrorCode::kInvalidArgument, "a recipient's secret key is 32 bytes");
  }
  std::array<std::uint8_t, kRecipientKeyBytes> public_key{};
  if (crypto_scalarmult_base(public_key.data(), secret_key.bytes().data()) != 0) {
    return Fail(ErrorCode::kInvalidArgument, "the recipient's secret key is not usable");
  }
  return public_key;
}

std::string RecipientKeyText(std::span<const std::uint8_t> public_key) {
  return EncodeBase64(public_key, Base64Alphabet::kUrlSafe);
}

Result<std::array<std::uint8_t, kRecipientKeyBytes>> ParseRecipientKey(std::string_view text) {
  auto bytes = DecodeBase64(text, Base64Alphabet::kUrlSafe);
  if (!bytes) bytes = DecodeBase64(text, Base64Alphabet::kStandard);
  if (!bytes || bytes->size() != kRecipientKeyBytes) {
    return Fail(ErrorCode::kInvalidArgument,
                "a recipient key is an X25519 public key: 32 bytes in base64url (43 characters, "
                "from `medvault export keygen`)");
  }
  std::array<std::uint8_t, kRecipientKeyBytes> key{};
  std::memcpy(key.data(), bytes->data(), key.size());
  return key;
}

struct SealedFileWriter::State {
  crypto_secretstream_xchacha20poly1305_state stream;
};

SealedFileWriter::SealedFileWriter(std::unique_ptr<State> state, std::ostream& out)
    : state_(std::move(state)), out_(out) {}

SealedFileWriter::~SealedFileWriter() { sodium_memzero(state_.get(), sizeof(State)); }

Result<std::unique_ptr<SealedFileWriter>> SealedFileWriter::Start(
    std::span<const std::uint8_t> recipient, std::ostream& out) {
  if (auto s = InitSodium(); !s) return std::unexpected(s.error());
  if (recipient.size() != kRecipientKeyBytes) {
    return Fail(ErrorCode::kInvalidArgument, "sealed file: a recipient key is 32 bytes");
  }
  auto file_key = Secret::Random(kFileKeyBytes);
  if (!file_key) return std::unexpected(file_key.error());
  std::array<std::uint8_t, kSealedKeyBytes> sealed_key{};
  if (crypto_box_seal(sealed_key.data(), file_key->bytes().data(), kFileKeyBytes,
                      recipient.data()) != 0) {
    return Fail(ErrorCode::kInvalidArgument, "sealed file: the recipient key is not usable");
  }
  auto state = std::make_unique<State>();
  std::array<std::uint8_t, crypto_secretstream_xchacha20poly1305_HEADERBYTES> header{};
  if (crypto_secretstream_xchacha20poly1305_init_push(&state->stream, header.data(),
                                                      file_key->bytes().data()) != 0) {
    return Fail(ErrorCode::kInternal, "sealed file: the stream did not start");
  }
  out.write(kMagic.data(), kMagic.size());
  out.write(reinterpret_cast<const char*>(sealed_key.data()), sealed_key.size());
  out.write(reinterpret_cast<const char*>(header.data()), header.size());
  if (auto s = Written(out); !s) return std::unexpected(s.error());
  return std::unique_ptr<SealedFileWriter>(new SealedFileWriter(std::move(state), out));
}

Status SealedFileWriter::Push(std::span<const std::uint8_t> record, bool final) {
  if (finished_) return Fail(ErrorCode::kInternal, "sealed file: written after its end");
  if (record.size() > kMaxSealedRecordBytes) {
    return Fail(ErrorCode::kInvalidArgument, "sealed file: a record is too large");
  }
  std::vector<std::uint8_t> frame(4 + record.size() + kFrameOverhead);
  const auto length = static_cast<std::uint32_t>(record.size() + kFrameOverhead);
  frame[0] = static_cast<std::uint8_t>(length >> 24);
  frame[1] = static_cast<std::uint8_t>(length >> 16);
  frame[2] = static_cast<std::uint8_t>(length >> 8);
  frame[3] = static_cast<std::uint8_t>(length);
  const unsigned char tag = final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                                  : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
  if (crypto_secretstream_xchacha20poly1305_push(&state_->stream, frame.data() + 4, nullptr,
                                                 record.data(), record.size(), nullptr, 0,
                                                 tag) != 0) {
    return Fail(ErrorCode::kInternal, "sealed file: a record did not seal");
  }
  out_.write(reinterpret_cast<const char*>(frame.data()), static_cast<std::streamsize>(frame.size()));
  finished_ = final;
  return Written(out_);
}

Status SealedFileWriter::Add(std::span<const std::uint8_t> record) { return Push(record, false); }

Status SealedFileWriter::Add(std::string_view record) {
  return Push({reinterpret_cast<const std::uint8_t*>(record.data()), record.size()}, false);
}

Status SealedFileWriter::Finish(std::string_view record) {
  if (auto s = Push({reinterpret_cast<const std::uint8_t*>(record.data()), record.size()}, true);
      !s) {
    return s;
  }
  out_.flush();
  return Written(out_);
}

struct SealedFileReader::State {
  crypto_secretstream_xchacha20poly1305_state stream;
};

SealedFileReader::SealedFileReader(std::unique_ptr<State> state, std::istream& in)
    : state_(std::move(state)), in_(in) {}

SealedFileReader::~SealedFileReader() { sodium_memzero(state_.get(), sizeof(State)); }

Result<std::unique_ptr<SealedFileReader>> SealedFileReader::Open(
    std::span<const std::uint8_t> public_key, const Secret& secret_key, std::istream& in) {
  if (auto s = InitSodium(); !s) return std::unexpected(s.error());
  if (public_key.size() != kRecipientKeyBytes ||
      secret_key.size() != crypto_box_SECRETKEYBYTES) {
    return Fail(ErrorCode::kInvalidArgument, "sealed file: a key is 32 bytes");
  }
  std::array<char, kMagic.size()> magic{};
  in.read(magic.data(), magic.size());
  if (static_cast<std::size_t>(in.gcount()) != magic.size() || magic != kMagic) {
    return std::unexpected(Altered("not a medvault sealed file (or another version)").error());
  }
  std::array<std::uint8_t, kSealedKeyBytes> sealed_key{};
  std::array<std::uint8_t, crypto_secretstream_xchacha20poly1305_HEADERBYTES> header{};
  if (!ReadExactly(in, sealed_key.data(), sealed_key.size()) ||
      !ReadExactly(in, header.data(), header.size())) {
    return std::unexpected(Altered("the file ends inside its header").error());
  }
  auto file_key = Secret::Allocate(kFileKeyBytes);
  if (!file_key) return std::unexpected(file_key.error());
  if (crypto_box_seal_open(file_key->mutable_bytes().data(), sealed_key.data(), sealed_key.size(),
                           public_key.data(), secret_key.bytes().data()) != 0) {
    return Fail(ErrorCode::kPermissionDenied,
                "sealed file: it was not sealed for this key (or its header was altered)");
  }
  auto state = std::make_unique<State>();
  if (crypto_secretstream_xchacha20poly1305_init_pull(&state->stream, header.data(),
                                                      file_key->bytes().data()) != 0) {
    return std::unexpected(Altered("its stream header was altered").error());
  }
  return std::unique_ptr<SealedFileReader>(new SealedFileReader(std::move(state), in));
}

Result<std::optional<Secret>> SealedFileReader::Next() {
  if (done_) return std::optional<Secret>();
  std::array<std::uint8_t, 4> length_bytes{};
  if (!ReadExactly(in_, length_bytes.data(), length_bytes.size())) {
    return std::unexpected(Altered("the file ends before its last record").error());
  }
  const std::uint32_t length = (std::uint32_t{length_bytes[0]} << 24) |
                               (std::uint32_t{length_bytes[1]} << 16) |
                               (std::uint32_t{length_bytes[2]} << 8) | length_bytes[3];
  if (length < kFrameOverhead || length > kMaxSealedRecordBytes + kFrameOverhead) {
    return std::unexpected(Altered("a record has an impossible length").error());
  }
  std::vector<std::uint8_t> frame(length);
  if (!ReadExactly(in_, frame.data(), frame.size())) {
    return std::unexpected(Altered("the file ends inside a record").error());
  }
  auto record = Secret::Allocate(length - kFrameOverhead);
  if (!record) return std::unexpected(record.error());
  unsigned char tag = 0;
  if (crypto_secretstream_xchacha20poly1305_pull(&state_->stream,
                                                 record->mutable_bytes().data(), nullptr, &tag,
                                                 frame.data(), frame.size(), nullptr, 0) != 0) {
    return std::unexpected(Altered("a record was altered, moved or dropped").error());
  }
  if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) done_ = true;
  return std::optional<Secret>(std::move(*record));
}

}  // namespace medvault::crypto
