#pragma once
// Event -> feature vector, with a declared, versioned schema (kEventSchema*,
// FeatureExtractor::feature_names()). Bump kEventSchemaVersion whenever a
// feature is added, removed, reordered or computed differently: models record
// the schema they were trained on and refuse another (Model::check_schema).
//
// Schema "event" v1, in order:
//   bytes_out_log, bytes_in_log, duration_ms_log   log1p of source.bytes (or network.bytes),
//                                                  destination.bytes, event.duration in ms
//   dst_port, dst_port_well_known, src_port_ephemeral   port (-1 absent), < 1024, >= 49152
//   severity                                       event.severity 0..4, -1 absent
//   category_code, type_code, action_code          ordinal codes of fixed ECS vocabularies (0 = other)
//   outcome_failure, outcome_success               one-hot of event.outcome
//   transport_tcp, transport_udp, transport_icmp   one-hot of network.transport
//   hour_sin, hour_cos                             time of day (UTC) of @timestamp, cyclic
//   template_rarity                                -log2 of the template id's share so far
//   login_attempts                                 the seed's flat field, 0 when absent
//   failed_logins_user, failed_logins_source       failures in the last failed_login_window
//   distinct_dst_ports_source, distinct_dst_hosts_source   in the last scan_window (scans)
//   bytes_out_source_log                           log1p of bytes sent by the source in bytes_window
//   first_seen_user_host                           1 when this user was never seen on this host
//   message_length_log                             log1p of the message length
//
// Windows run on event time (@timestamp), not wall time, so replays and tests
// give the same vectors; an event counts itself. Memory is bounded: at most
// max_keys tracked users/sources (idle then oldest evicted), at most
// kMaxDistinct ports/hosts per source, max_pairs user->host pairs and
// max_templates template counts (halved when full).

#include "ml/training.hpp"
#include "model/event.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sai::ml {

inline constexpr std::string_view kEventSchemaName = "event";
inline constexpr std::uint32_t kEventSchemaVersion = 1;

struct FeatureExtractorOptions {
    std::int64_t failed_login_window_ms = 5 * 60 * 1000;
    std::int64_t scan_window_ms = 60 * 1000;
    std::int64_t bytes_window_ms = 5 * 60 * 1000;
    std::size_t max_keys = 100000;
    std::size_t max_pairs = 200000;
    std::size_t max_templates = 50000;
};

/// Turns events into feature vectors and keeps the windowed behaviour state.
/// extract() is thread-safe (one internal mutex); for several pipeline
/// workers, either share one extractor (windows then see all events) or give
/// each worker its own (windows then see that worker's partition). Lives as
/// long as the pipeline.
class FeatureExtractor {
public:
    explicit FeatureExtractor(FeatureExtractorOptions options = {});
    ~FeatureExtractor();
    FeatureExtractor(const FeatureExtractor&) = delete;
    FeatureExtractor& operator=(const FeatureExtractor&) = delete;

    /// The schema: one name per feature, in vector order.
    static const std::vector<std::string>& feature_names();
    static std::size_t feature_count() { return feature_names().size(); }

    /// Updates the windows with `event` and returns its features.
    std::vector<float> extract(const model::Event& event);
    /// Same, into `out` (size feature_count()), without allocating.
    void extract(const model::Event& event, std::span<float> out);

    /// Users and sources currently tracked (for metrics and tests).
    std::size_t tracked_keys() const;

private:
    struct State;
    FeatureExtractorOptions options_;
    mutable std::mutex mutex_;
    std::unique_ptr<State> state_;
};

/// "name=+0.42, other=-0.10": an explanation as text for `ml.explanation`.
std::string format_explanation(std::span<const FeatureContribution> contributions);

}  // namespace sai::ml
