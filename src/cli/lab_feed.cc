#include "cli/lab_feed.h"

#include <fmt/format.h>

#include "core/log.h"
#include "http/server.h"
#include "http/tls.h"

namespace medvault::cli {

Result<std::unique_ptr<LabFeed>> LabFeed::Start(const Config& config,
                                                records::ClinicalRecords& clinical,
                                                records::SealedStore& sealed, store::Store& store,
                                                audit::AuditLog& log, const Clock& clock) {
  auto feed = std::make_unique<LabFeed>();
  auto ingest = records::LabIngest::Create(clinical, sealed, store, log, clock);
  if (!ingest) return std::unexpected(ingest.error());
  feed->ingest_ = std::move(*ingest);
  if (!config.lab.client_id.empty()) {
    auto client = records::LabIngest::IntegrationPrincipal(store, config.lab.client_id, "");
    if (!client) {
      if (client.error().code() == ErrorCode::kNotFound ||
          client.error().code() == ErrorCode::kInvalidArgument) {
        return Fail(ErrorCode::kInvalidArgument,
                    "lab.client_id names no registered API client (medvault client add)");
      }
      return std::unexpected(client.error());
    }
    feed->client_ = std::move(*client);
  }
  if (config.lab.mllp_listen.empty()) return feed;
  if (!feed->client_) {
    return Fail(ErrorCode::kInvalidArgument, "lab.mllp_listen is set but lab.client_id is not");
  }
  auto listen = http::ParseListenAddress(config.lab.mllp_listen);
  if (!listen) return std::unexpected(listen.error());
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(listen->first, ec);
  if (ec) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("lab.mllp_listen '{}' is not an IP address", config.lab.mllp_listen));
  }
  std::unique_ptr<boost::asio::ssl::context> tls;
  if (config.lab.mllp_tls) {
    auto context = http::MakeServerTlsContext(config.tls.certificate, config.tls.private_key);
    if (!context) return std::unexpected(context.error());
    tls = std::move(*context);
  }
  lab::MllpListener::Options options;
  options.endpoint = {address, listen->second};
  options.max_message_bytes = config.lab.max_message_bytes;
  options.idle_timeout = config.lab.idle_timeout;
  LabFeed* self = feed.get();
  auto listener = lab::MllpListener::Open(options, std::move(tls),
                                          [self](std::string_view message, std::string_view peer) {
                                            policy::Principal client = *self->client_;
                                            client.source_address = std::string(peer);
                                            return self->ingest_->Ingest(client, message).ack;
                                          });
  if (!listener) {
    if (listener.error().code() == ErrorCode::kUnavailable) {
      return Fail(ErrorCode::kInvalidArgument, listener.error().message());
    }
    return std::unexpected(listener.error());
  }
  feed->listener_ = std::move(*listener);
  log::Info("mllp_listening",
            {{"address", feed->listener_->local_address()}, {"tls", config.lab.mllp_tls}});
  return feed;
}

}  // namespace medvault::cli
