// aw-events bench: end-to-end throughput of aw-events against a baseline measured in the same run.
#include "cli.hpp"

namespace aw::cli {

void add_bench(CLI::App& root, global_options&, std::vector<command>&) {
  auto* app = root.add_subcommand("bench", "benchmarks with a same-run baseline");
  app->require_subcommand(1);
}

}  // namespace aw::cli
