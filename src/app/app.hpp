#pragma once
// Private to app/: the subcommands, each a plain function of the configuration.

#include "core/config.hpp"
#include "model/event.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "storage/store.hpp"

#include <memory>

#include <cstdint>
#include <filesystem>
#include <optional>

#include <string>
#include <utility>
#include <vector>

namespace sai::app {

storage::SqliteOptions sqlite_options(const core::Config& config, bool apply_migrations);
/// The configured store: PostgreSQL when storage.postgres_url (POSTGRES_URL) is
/// set, else SQLite in the data directory.
core::Result<std::unique_ptr<storage::Store>> open_store(const core::Config& config, bool apply_migrations);
/// Where the store lives, for messages: the SQLite file, or PostgreSQL's host and database (no password).
std::string store_location(const core::Config& config);

/// Prints "securityai: error: ..." to stderr and returns `code`.
int fail(std::string_view message, int code = 1);

int serve(const core::Config& config);
int migrate(const core::Config& config, bool status_only);

struct UserCommand {
    std::string action;  // add, list, passwd, disable, enable, role
    std::string username;
    std::string role;
    bool password_stdin = false;
};
int user_command(const core::Config& config, const UserCommand& command);
int audit_verify(const core::Config& config);

struct IngestCommand {
    std::vector<std::string> files;  // empty or "-": stdin
    std::string format = "ndjson";   // ndjson, syslog, raw
    bool direct = false;             // write into the data directory instead of the API
    std::string url = "http://127.0.0.1:8000";
    std::string token;  // access token or API key (sk_...)
};
int ingest(const core::Config& config, const IngestCommand& command);

struct LogparseCommand {
    std::string format = "raw";       // built-in or configured name, or a format string
    std::string config_file;          // TOML file with a [parser] table
    std::vector<std::string> files;   // empty or "-": stdin
    bool final_templates = false;     // print after the end of input, with final template texts
    bool no_entities = false;
    bool quiet = false;               // parse only, print nothing (with --stats: speed runs)
    bool stats = false;               // templates, evictions and lines/s on stderr
};
/// `securityai logparse`: needs no store and reads only the [parser] table of --config.
int logparse(const LogparseCommand& command);
struct TrainCommand {
    std::string model;  // isolation_forest or random_forest
    std::string data;
    std::string label_column;
    std::vector<std::string> ignore_columns;
    std::vector<std::pair<std::string, std::string>> params;  // --param k=v
    std::optional<std::uint64_t> seed;
    std::string out;
    unsigned threads = 0;
};
int train(const TrainCommand& command);

struct EvaluateCommand {
    std::string model;
    std::string data;
    std::string label_column;  // default: the model's training target
    std::vector<std::string> ignore_columns;
    std::string predictions;
    unsigned threads = 0;
};
int evaluate(const EvaluateCommand& command);
/// Turns one input line into an event by format (ndjson, syslog, raw). Empty lines
/// are skipped (nullopt).
std::optional<core::Result<model::Event>> line_to_event(const std::string& format, std::string_view line);

struct RulesCheckCommand {
    std::vector<std::string> dirs;
    bool json = false;
};
/// `securityai rules check`: compiles rules, prints the report; 1 when any rule fails.
int rules_check(const RulesCheckCommand& command);

struct HuntCommand {
    std::vector<std::string> rules;  // rule directories or files; none: the built-in pack
    std::string input_format = "json";  // json (documents, arrays, NDJSON), ndjson, syslog, raw
    std::vector<std::string> files;
};
/// `securityai hunt`: runs the detection engine over event files, detections as JSON Lines on stdout.
int hunt(const HuntCommand& command);
/// The built-in Sigma rule pack: ./rules (a source checkout), next to the binary
/// (build/securityai -> ../rules), or where packages install it.
std::optional<std::filesystem::path> builtin_rules_dir();
struct DemoCommand {
    std::string url = "http://127.0.0.1:8000";
    std::string api_key;              // or env SECURITYAI_API_KEY
    std::string username = "admin";
    std::string password;             // default: env SECURITYAI_ADMIN_PASSWORD
    int duration_seconds = 20;        // the attack story is paced over this long
    unsigned seed = 42;
    bool quiet = false;
};
int demo(const DemoCommand& command);

/// CSV inventory into the store of the data directory (see assets_import.cpp).
int assets_import(const core::Config& config, const std::string& file);

}  // namespace sai::app
