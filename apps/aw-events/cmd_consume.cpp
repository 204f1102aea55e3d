// aw-events consume: the full consumer pipeline (validation, dedup, retry in place, dead letters to
// S.deadletter, status ledger, commit after success) with an --exec handler or JSON-lines output.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "aw/events/ids.hpp"
#include "aw/events/ledger.hpp"
#include "aw/events/subscriber.hpp"
#include "aw/events/instrument.hpp"
#include "cli.hpp"

extern char** environ;

namespace aw::cli {
namespace {

constexpr int exit_transient = 75;  // EX_TEMPFAIL, as in sysexits.h

struct consume_args {
  std::string group;
  std::string types;
  std::string exec;
  std::uint64_t max = 0;
  double idle_exit = 0;
  std::int64_t retry_initial_ms = 200;
  std::int64_t retry_max_ms = 30000;
  int max_attempts = 8;
  std::string ledger;  // "" = next to --store; "memory"; or a path
  bool from_latest = false;
};

struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

// Runs `/bin/sh -c cmd` with the envelope on stdin; the child's stdout goes to our stderr so our stdout stays
// machine output. Exit 0 = success, 75 = transient, anything else (a signal too) = permanent.
events::result<void> run_exec(const std::string& cmd, const events::received_event& e) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return events::transient(std::string("pipe: ") + std::strerror(errno));
  fd_guard read_end{fds[0]};
  fd_guard write_end{fds[1]};

  std::vector<std::string> env_strings;
  for (char** p = environ; *p != nullptr; ++p) {
    std::string_view v(*p);
    if (v.starts_with("AW_EVENT_ID=") || v.starts_with("AW_EVENT_TYPE=") || v.starts_with("AW_CORRELATION_ID=") ||
        v.starts_with("AW_ATTEMPT=") || v.starts_with("TRACEPARENT=")) {
      continue;
    }
    env_strings.emplace_back(v);
  }
  env_strings.push_back("AW_EVENT_ID=" + e.event.meta.id);
  env_strings.push_back("AW_EVENT_TYPE=" + e.event.meta.type);
  env_strings.push_back("AW_CORRELATION_ID=" + e.event.meta.correlation_id);
  env_strings.push_back("AW_ATTEMPT=" + std::to_string(e.attempt));
  env_strings.push_back("TRACEPARENT=" + events::to_traceparent(e.event.meta.trace));
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, read_end.fd, 0);
  posix_spawn_file_actions_adddup2(&actions, 2, 1);
  std::string shell = "/bin/sh";
  std::string dash_c = "-c";
  std::string command = cmd;
  char* argv[] = {shell.data(), dash_c.data(), command.data(), nullptr};
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, "/bin/sh", &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return events::transient(std::string("cannot start /bin/sh: ") + std::strerror(rc));
  ::close(read_end.fd);
  read_end.fd = -1;
  // The value as received (the envelope JSON), byte for byte. A handler that does not read stdin makes the
  // write fail with EPIPE (SIGPIPE is ignored): that is its business, not an error.
  const std::string& value = e.source->value;
  std::size_t written = 0;
  while (written < value.size()) {
    const auto n = ::write(write_end.fd, value.data() + written, value.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  ::close(write_end.fd);
  write_end.fd = -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return events::transient(std::string("waitpid: ") + std::strerror(errno));
  }
  if (WIFEXITED(status)) {
    const int code = WEXITSTATUS(status);
    if (code == 0) return {};
    if (code == exit_transient) return events::transient("--exec handler exited 75 (transient)");
    return events::permanent("--exec handler exited " + std::to_string(code));
  }
  if (WIFSIGNALED(status)) return events::permanent("--exec handler killed by signal " + std::to_string(WTERMSIG(status)));
  return events::permanent("--exec handler ended abnormally");
}

// "a.b.c" or "a.b.c@MAJOR": type and the majors to handle (empty = from the catalog, else 1).
struct type_spec {
  std::string type;
  std::vector<int> majors;
};

events::result<std::vector<type_spec>> parse_types(const std::string& list) {
  std::vector<type_spec> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    auto end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string item = list.substr(start, end - start);
    start = end + 1;
    if (item.empty()) continue;
    type_spec spec;
    if (auto at = item.find('@'); at != std::string::npos) {
      try {
        std::size_t used = 0;
        const int major = std::stoi(item.substr(at + 1), &used);
        if (used != item.size() - at - 1 || major < 1) throw std::invalid_argument("major");
        spec.majors.push_back(major);
      } catch (const std::exception&) {
        return events::make_error(events::errc::invalid_argument, "--type \"" + item + "\": expected TYPE or TYPE@MAJOR");
      }
      item.resize(at);
    }
    if (!events::is_event_type(item)) {
      return events::make_error(events::errc::invalid_argument,
                                "--type \"" + item + "\" is not an event type service.resource.action");
    }
    auto same = std::find_if(out.begin(), out.end(), [&](const type_spec& s) { return s.type == item; });
    if (same != out.end()) same->majors.insert(same->majors.end(), spec.majors.begin(), spec.majors.end());
    else {
      spec.type = std::move(item);
      out.push_back(std::move(spec));
    }
    if (end == list.size()) break;
  }
  if (out.empty()) return events::make_error(events::errc::invalid_argument, "--type: no event type given");
  return out;
}

int run_consume(const global_options& globals, const consume_args& args) {
  if (globals.service.empty()) {
    print_error("consume needs --service (the consuming service: dead letters go to <service>.deadletter)");
    return exit_usage;
  }
  auto types = parse_types(args.types);
  if (!types) {
    print_error(types.error().message);
    return exit_usage;
  }
  auto catalog = load_catalog(globals);
  if (!catalog) {
    print_error(error_json(catalog.error()));
    return exit_failure;
  }
  auto transport = globals.open_transport();
  if (!transport) {
    print_error(transport.error().describe());
    return exit_failure;
  }
  events::subscriber_config config;
  config.service = globals.service;
  config.group = args.group;
  config.catalog = *catalog;
  config.retry.initial = std::chrono::milliseconds(args.retry_initial_ms);
  config.retry.max = std::chrono::milliseconds(args.retry_max_ms);
  config.retry.max_attempts = args.max_attempts;
  config.consumer.client_id = "aw-events-consume";
  // Retries, dead letters, handler durations and duplicates go to /metrics (--metrics-listen).
  if (auto observer = events::make_metrics_observer(config.service, config.group)) {
    config.observer = std::move(*observer);
  } else {
    print_error("metrics: " + observer.error().describe());
    return exit_failure;
  }
  config.consumer.from_beginning = !args.from_latest;
  if (args.ledger == "memory") {
    config.ledger = events::make_memory_ledger();
  } else {
    events::sqlite_ledger_options options;
    options.path = args.ledger.empty() ? events::ledger_path_for_store(globals.store) : args.ledger;
    auto ledger = events::open_sqlite_ledger(options);
    if (!ledger) {
      print_error(ledger.error().describe());
      return exit_failure;
    }
    config.ledger = std::move(*ledger);
  }
  if (!args.exec.empty()) config.ledger_batch_events = 1;  // each --exec success is recorded before the next runs
  auto created = events::subscriber::create(*transport, std::move(config));
  if (!created) {
    print_error(created.error().describe());
    return exit_usage;
  }
  auto& subscriber = **created;
  events::event_handler handler;
  if (args.exec.empty()) {
    handler = [](const events::received_event& e) -> events::result<void> {
      print_line(events::encode(e.event));
      return {};
    };
  } else {
    handler = [cmd = args.exec](const events::received_event& e) { return run_exec(cmd, e); };
  }
  for (const auto& spec : *types) {
    auto majors = spec.majors;
    if (majors.empty() && *catalog) {
      for (const auto* entry : (*catalog)->entries()) {
        if (entry->type == spec.type) majors.push_back(entry->major);
      }
    }
    if (majors.empty()) majors.push_back(1);
    for (int major : majors) {
      if (auto ok = subscriber.on(spec.type, major, handler); !ok) {
        print_error(ok.error().message);
        return exit_usage;
      }
    }
  }
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done.load()) {
      if (stop_requested.load()) subscriber.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  events::subscriber::run_limits limits;
  if (args.max > 0) limits.max_events = args.max;
  if (args.idle_exit > 0) limits.idle_exit = std::chrono::milliseconds(static_cast<std::int64_t>(args.idle_exit * 1000));
  auto ran = subscriber.run(limits);
  done.store(true);
  watcher.join();
  if (!ran) {
    print_error(ran.error().describe());
    return exit_failure;
  }
  return exit_ok;
}

}  // namespace

void add_consume(CLI::App& root, global_options& globals, std::vector<command>& commands) {
  auto args = std::make_shared<consume_args>();
  auto* app = root.add_subcommand(
      "consume",
      "run the consumer pipeline: validation, dedup, retry in place, dead letters to <service>.deadletter, status "
      "ledger, commit after success. Without --exec each processed event is printed on stdout as one JSON line "
      "(the envelope); with --exec nothing is printed and the handler's stdout goes to stderr");
  app->add_option("--group", args->group, "consumer group")->required();
  app->add_option("--type", args->types, "event types to handle, comma-separated; TYPE@MAJOR for one major version "
                                         "(default: the catalog's majors, else 1)")
      ->required();
  app->add_option("--exec", args->exec,
                  "handler: /bin/sh -c CMD per event, envelope JSON on stdin, env AW_EVENT_ID, AW_EVENT_TYPE, "
                  "AW_CORRELATION_ID, AW_ATTEMPT, TRACEPARENT; exit 0 success, 75 transient, other permanent");
  app->add_option("--max", args->max, "exit after N records were finished (processed, dead-lettered or skipped)");
  app->add_option("--idle-exit", args->idle_exit, "exit after SEC seconds without a record");
  app->add_option("--retry-initial-ms", args->retry_initial_ms, "first retry backoff ceiling (full jitter)")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600000));
  app->add_option("--retry-max-ms", args->retry_max_ms, "backoff cap")->capture_default_str()->check(CLI::Range(1, 3600000));
  app->add_option("--max-attempts", args->max_attempts, "attempts in all before dead-lettering a transient failure")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app->add_option("--ledger", args->ledger,
                  "dedup/status ledger: a SQLite file (default: <store dir>/<store stem>.ledger.db) or \"memory\"");
  app->add_flag("--from-latest", args->from_latest, "a new group starts at the end (default: the beginning)");
  commands.push_back({"consume", app, [&globals, args] { return run_consume(globals, *args); }});
}

}  // namespace aw::cli
