// The caller's event context: correlation id and trace of the request or event being handled.
// A publisher takes both from here; a subscriber sets them while a handler runs, so events published
// from a handler carry the consumed event's correlation id and a child span of its trace.
#pragma once

#include <optional>
#include <string>

#include "aw/events/envelope.hpp"

namespace aw::events {

struct event_context {
  std::string correlation_id;
  std::optional<trace_context> trace;
};

// Installs ctx as the current thread's context until destroyed (scopes nest). Not movable.
class context_scope {
 public:
  explicit context_scope(event_context ctx);
  ~context_scope();
  context_scope(const context_scope&) = delete;
  context_scope& operator=(const context_scope&) = delete;

 private:
  event_context previous_;
  bool had_previous_;
};

// The current thread's context, or nullptr outside any scope.
[[nodiscard]] const event_context* current_context() noexcept;

}  // namespace aw::events
