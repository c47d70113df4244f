// securityai: the command line. The composition root is serve.cpp; the
// administrative subcommands are in commands.cpp.

#include "app.hpp"
#include "core/config.hpp"
#include "parser/log_format.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <optional>

namespace {

using namespace sai;

/// Flags shared by every subcommand that reads the configuration.
struct CommonFlags {
    std::string config_file;
    std::string data_dir;
    std::string log_level;
};

struct ServeFlags {
    std::string host;
    std::optional<int> port;
    std::optional<int> workers;
    std::string environment;
};

void add_common(CLI::App& cmd, CommonFlags& flags) {
    cmd.add_option("-c,--config", flags.config_file, "TOML configuration file")->check(CLI::ExistingFile);
    cmd.add_option("-d,--data-dir", flags.data_dir, "data directory of the embedded store (env DATA_DIR)");
    cmd.add_option("--log-level", flags.log_level, "debug, info, warn, error or off (env LOG_LEVEL)");
}

core::Result<core::Config> load(const CommonFlags& common, const ServeFlags* serve) {
    core::ConfigSources sources;
    if (!common.config_file.empty()) {
        sources.file = common.config_file;
    }
    sources.env = core::process_env;
    auto& o = sources.overrides;
    if (!common.data_dir.empty()) o.emplace_back("data_dir", common.data_dir);
    if (!common.log_level.empty()) o.emplace_back("log.level", common.log_level);
    if (serve) {
        if (!serve->host.empty()) o.emplace_back("http.host", serve->host);
        if (serve->port) o.emplace_back("http.port", std::to_string(*serve->port));
        if (serve->workers) o.emplace_back("http.workers", std::to_string(*serve->workers));
        if (!serve->environment.empty()) o.emplace_back("environment", serve->environment);
    }
    return core::load_config(sources);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"SecurityAI: security monitoring and threat detection backend", "securityai"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("securityai ") + std::string(core::kVersion));

    CommonFlags common;
    ServeFlags serve_flags;
    auto* serve_cmd = app.add_subcommand("serve", "Run the HTTP API server");
    add_common(*serve_cmd, common);
    serve_cmd->add_option("--host", serve_flags.host, "address to listen on (env HOST, default 127.0.0.1)");
    serve_cmd->add_option("-p,--port", serve_flags.port, "TCP port, 0 for any free port (env PORT, default 8000)")
        ->check(CLI::Range(0, 65535));
    serve_cmd->add_option("--workers", serve_flags.workers, "I/O threads, 0 for one per core (env WORKERS)")
        ->check(CLI::Range(0, 256));
    serve_cmd->add_option("--environment", serve_flags.environment,
                          "development, staging, production or test (env ENVIRONMENT)");
    std::string keys_help = "\nConfiguration keys (TOML key / environment variable):\n";
    for (const auto& k : core::config_keys()) {
        keys_help += "  " + k.key + (k.env.empty() ? "" : " / " + k.env) + ": " + k.description + "\n";
    }
    keys_help += "  SECURITYAI_ADMIN_PASSWORD: password of the `admin` account created at first start\n";
    serve_cmd->footer(keys_help);

    bool status_only = false;
    auto* migrate_cmd = app.add_subcommand("migrate", "Apply pending schema migrations to the store and list them");
    add_common(*migrate_cmd, common);
    migrate_cmd->add_flag("--status", status_only, "only list applied migrations; change nothing");

    app::UserCommand user_cmd;
    auto* user = app.add_subcommand("user", "Manage user accounts (passwords are read from the terminal or stdin)");
    user->require_subcommand(1);
    auto* user_add = user->add_subcommand("add", "Create a user");
    user_add->add_option("username", user_cmd.username, "the new username")->required();
    user_add->add_option("-r,--role", user_cmd.role, "viewer (default), analyst or admin");
    auto* user_list = user->add_subcommand("list", "List users");
    auto* user_passwd = user->add_subcommand("passwd", "Set a user's password (signs the user out everywhere)");
    user_passwd->add_option("username", user_cmd.username)->required();
    auto* user_disable = user->add_subcommand("disable", "Disable a user (signs the user out everywhere)");
    user_disable->add_option("username", user_cmd.username)->required();
    auto* user_enable = user->add_subcommand("enable", "Enable a disabled user");
    user_enable->add_option("username", user_cmd.username)->required();
    auto* user_role = user->add_subcommand("role", "Change a user's role (signs the user out everywhere)");
    user_role->add_option("username", user_cmd.username)->required();
    user_role->add_option("role", user_cmd.role, "viewer, analyst or admin")->required();
    for (auto* sub : {user_add, user_list, user_passwd, user_disable, user_enable, user_role}) {
        add_common(*sub, common);
    }

    auto* audit = app.add_subcommand("audit", "Inspect the tamper-evident audit log");
    audit->require_subcommand(1);
    auto* audit_verify = audit->add_subcommand("verify", "Check the whole hash chain; exit 1 at the first broken entry");
    add_common(*audit_verify, common);

    app::IngestCommand ingest_cmd;
    auto* ingest = app.add_subcommand("ingest", "Load events from files or stdin (NDJSON, syslog or raw lines)");
    add_common(*ingest, common);
    ingest->add_option("files", ingest_cmd.files, "files to read; none or - for stdin");
    ingest->add_option("-f,--format", ingest_cmd.format, "ndjson (default), syslog or raw")
        ->check(CLI::IsMember({"ndjson", "syslog", "raw"}));
    ingest->add_flag("--direct", ingest_cmd.direct, "write straight into --data-dir instead of a running server");
    ingest->add_option("--url", ingest_cmd.url, "server to send to (default http://127.0.0.1:8000)");
    ingest->add_option("--token", ingest_cmd.token,
                       "access token or API key (or env SECURITYAI_TOKEN / SECURITYAI_API_KEY)");

    app::LogparseCommand logparse_cmd;
    auto* logparse = app.add_subcommand("logparse", "Mine log templates and entities from raw lines (JSON Lines out)");
    logparse->add_option("files", logparse_cmd.files, "files to read; none or - for stdin");
    logparse->add_option("-f,--format", logparse_cmd.format,
                         "built-in or configured format name, or a format string like "
                         "'<Date> <Time> <Level> <Content>' (default raw)");
    logparse->add_option("-c,--config", logparse_cmd.config_file, "TOML file whose [parser] table configures the parser")
        ->check(CLI::ExistingFile);
    logparse->add_flag("--final", logparse_cmd.final_templates,
                       "write after the end of input, each line with its template as it finally stands");
    logparse->add_flag("--no-entities", logparse_cmd.no_entities, "skip entity extraction");
    logparse->add_flag("--quiet", logparse_cmd.quiet, "write nothing (speed measurements with --stats)");
    logparse->add_flag("--stats", logparse_cmd.stats, "print lines, templates, evictions and lines/s to stderr");
    std::string formats_help = "\nBuilt-in formats:\n";
    for (const auto& f : parser::builtin_formats()) {
        formats_help += "  " + std::string(f.name) + ": " + std::string(f.description) + "\n";
    }
    logparse->footer(formats_help);

    app::TrainCommand train_cmd;
    std::vector<std::string> train_params;
    auto* train = app.add_subcommand("train", "Train an anomaly detector or a classifier on a CSV file");
    train->add_option("--model", train_cmd.model, "isolation_forest or random_forest")
        ->required()
        ->check(CLI::IsMember({"isolation_forest", "random_forest"}));
    train->add_option("--data", train_cmd.data, "training data, CSV with a header row (.csv or .csv.gz)")
        ->required()
        ->check(CLI::ExistingFile);
    train->add_option("--label-column", train_cmd.label_column,
                      "target column (required for random_forest; kept out of the features)");
    train->add_option("--ignore-column", train_cmd.ignore_columns, "column to leave out of the features (repeatable)");
    train->add_option("--param", train_params, "model parameter k=v, scikit-learn names (repeatable)");
    train->add_option("--seed", train_cmd.seed, "random_state");
    train->add_option("--threads", train_cmd.threads, "training threads (default: one per core)");
    train->add_option("--out", train_cmd.out, "model file to write")->required();

    app::EvaluateCommand eval_cmd;
    auto* evaluate = app.add_subcommand("evaluate", "Score a CSV file with a trained model and report its metrics");
    evaluate->add_option("--model", eval_cmd.model, "model file written by train")->required()->check(CLI::ExistingFile);
    evaluate->add_option("--data", eval_cmd.data, "CSV (.csv or .csv.gz) with the model's feature columns")
        ->required()
        ->check(CLI::ExistingFile);
    evaluate->add_option("--label-column", eval_cmd.label_column,
                         "truth column for metrics (default: the model's target; for anomalies 1 = anomaly)");
    evaluate->add_option("--ignore-column", eval_cmd.ignore_columns, "accepted for symmetry with train (unused columns are ignored anyway)");
    evaluate->add_option("--predictions", eval_cmd.predictions,
                         "output CSV, one row per input row: score (anomaly) or class and p_<class>")
        ->required();
    evaluate->add_option("--threads", eval_cmd.threads, "scoring threads (default: one per core)");
    app::RulesCheckCommand rules_check_cmd;
    auto* rules = app.add_subcommand("rules", "Work with Sigma detection rules");
    rules->require_subcommand(1);
    auto* rules_check = rules->add_subcommand("check", "Compile rules and report; exit 1 when any rule fails");
    rules_check->add_option("dirs", rules_check_cmd.dirs, "rule directories or files")->required();
    rules_check->add_flag("--json", rules_check_cmd.json, "one JSON object: total, compiled, failed[]");

    app::HuntCommand hunt_cmd;
    auto* hunt = app.add_subcommand("hunt", "Run the detection rules offline over event files; detections as JSON Lines");
    // One value per --rules (repeat it for more), so the event files are not taken as rules.
    hunt->add_option("--rules", hunt_cmd.rules, "rule directory or file (repeatable; default: the built-in pack)")
        ->expected(1)
        ->take_all();
    hunt->add_option("--input-format", hunt_cmd.input_format,
                     "json (a document, an array, NDJSON or documents in a row; default), ndjson, syslog or raw")
        ->check(CLI::IsMember({"json", "ndjson", "syslog", "raw"}));
    hunt->add_option("files", hunt_cmd.files, "event files")->required();
    app::DemoCommand demo_cmd;
    auto* demo = app.add_subcommand("demo", "Send a synthetic company's day and an attack story to a running server");
    demo->add_option("--url", demo_cmd.url, "server to send to (default http://127.0.0.1:8000)");
    demo->add_option("--api-key", demo_cmd.api_key, "API key of an analyst or admin (or env SECURITYAI_API_KEY)");
    demo->add_option("-u,--username", demo_cmd.username, "user to sign in as when no API key is given (default admin)");
    demo->add_option("--password", demo_cmd.password, "password (default: env SECURITYAI_ADMIN_PASSWORD)");
    demo->add_option("--duration", demo_cmd.duration_seconds,
                     "seconds over which the attack unfolds (default 20, 0 sends at once)")
        ->check(CLI::Range(0, 600));
    demo->add_option("--seed", demo_cmd.seed, "random seed of the synthetic environment (default 42)");
    demo->add_flag("-q,--quiet", demo_cmd.quiet, "no progress on stderr");

    std::string assets_file;
    auto* assets = app.add_subcommand("assets", "Manage the asset inventory");
    assets->require_subcommand(1);
    auto* assets_import = assets->add_subcommand(
        "import", "Import assets from CSV (header: name,ips,hostnames,type,criticality,internet_facing,owner,tags; "
                  "lists separated by ';'); existing names are updated");
    assets_import->add_option("file", assets_file, "CSV file")->required()->check(CLI::ExistingFile);
    add_common(*assets_import, common);

    auto* version_cmd = app.add_subcommand("version", "Print the version");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    if (logparse->parsed()) {
        try {
            return app::logparse(logparse_cmd);
        } catch (const std::exception& e) {
            return app::fail(e.what());
        }
    }
    if (train->parsed() || evaluate->parsed()) {
        try {
            if (evaluate->parsed()) {
                return app::evaluate(eval_cmd);
            }
            for (const auto& kv : train_params) {
                const auto eq = kv.find('=');
                if (eq == std::string::npos || eq == 0) {
                    return app::fail("--param wants k=v, not '" + kv + "'", 2);
                }
                train_cmd.params.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
            }
            return app::train(train_cmd);
        } catch (const std::exception& e) {
            return app::fail(e.what());
        }
    }
    if (version_cmd->parsed()) {
        std::cout << "securityai " << core::kVersion << "\n";
        return 0;
    }
    try {
        // Offline subcommands: no configuration, no store.
        if (rules_check->parsed()) {
            return app::rules_check(rules_check_cmd);
        }
        if (hunt->parsed()) {
            return app::hunt(hunt_cmd);
        }
    } catch (const std::exception& e) {
        return app::fail(e.what());
    }
    const bool serving = serve_cmd->parsed();
    auto config = load(common, serving ? &serve_flags : nullptr);
    if (!config) {
        return app::fail("invalid configuration: " + config.error().detail, 2);
    }
    try {
        if (serving) {
            return app::serve(*config);
        }
        if (migrate_cmd->parsed()) {
            return app::migrate(*config, status_only);
        }
        if (audit_verify->parsed()) {
            return app::audit_verify(*config);
        }
        if (ingest->parsed()) {
            return app::ingest(*config, ingest_cmd);
        }
        if (demo->parsed()) {
            return app::demo(demo_cmd);
        }
        if (assets_import->parsed()) {
            return app::assets_import(*config, assets_file);
        }
        for (auto* sub : user->get_subcommands()) {
            user_cmd.action = sub->get_name();
        }
        return app::user_command(*config, user_cmd);
    } catch (const std::exception& e) {
        return app::fail(e.what());
    }
}
