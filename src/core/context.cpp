#include "aw/events/context.hpp"

namespace aw::events {
namespace {
thread_local std::optional<event_context> current;
}

context_scope::context_scope(event_context ctx) : had_previous_(current.has_value()) {
  if (had_previous_) previous_ = std::move(*current);
  current = std::move(ctx);
}

context_scope::~context_scope() {
  if (had_previous_) current = std::move(previous_);
  else current.reset();
}

const event_context* current_context() noexcept { return current ? &*current : nullptr; }

}  // namespace aw::events
