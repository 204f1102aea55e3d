#include "pipeline/middleware.hpp"

#include "aw/events/context.hpp"

namespace aw::events::pipeline {

middleware catch_exceptions(bool permanent) {
  return [permanent](std::string_view, int, event_handler next) -> event_handler {
    return [permanent, next = std::move(next)](const received_event& e) -> result<void> {
      try {
        return next(e);
      } catch (const std::exception& ex) {
        return make_error(error{errc::handler_failed, std::string("handler threw: ") + ex.what(), !permanent, {}});
      } catch (...) {
        return make_error(error{errc::handler_failed, "handler threw a non-standard exception", !permanent, {}});
      }
    };
  };
}

middleware propagate_context() {
  return [](std::string_view, int, event_handler next) -> event_handler {
    return [next = std::move(next)](const received_event& e) -> result<void> {
      context_scope scope(event_context{e.event.meta.correlation_id, e.event.meta.trace});
      return next(e);
    };
  };
}

middleware validate_with_catalog(std::shared_ptr<const event_catalog> catalog) {
  return [catalog = std::move(catalog)](std::string_view, int, event_handler next) -> event_handler {
    return [catalog, next = std::move(next)](const received_event& e) -> result<void> {
      // Checked on every attempt: cheap next to the handler, and the data is never handed over unchecked.
      if (auto checked = catalog->validate_data(e.event.meta.type, e.event.meta.version, e.event.data); !checked) {
        auto failure = std::move(checked.error());
        failure.retriable_ = false;
        return make_error(std::move(failure));
      }
      return next(e);
    };
  };
}

event_handler compose(const std::vector<middleware>& outer_first, std::string_view type, int major,
                      event_handler handler) {
  for (auto it = outer_first.rbegin(); it != outer_first.rend(); ++it) handler = (*it)(type, major, std::move(handler));
  return handler;
}

}  // namespace aw::events::pipeline
