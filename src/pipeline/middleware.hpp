// The handler-level stages of the consumer pipeline, each a middleware (handler → handler). The record-level
// stages (decode, dedup, retry in place, dead letter, status, offsets) live in the subscriber's loop because
// they own the consumer's partitions and offsets.
#pragma once

#include <memory>

#include "aw/events/catalog.hpp"
#include "aw/events/subscriber.hpp"

namespace aw::events::pipeline {

// An exception from the handler becomes a transient error (or a permanent one when so configured).
[[nodiscard]] middleware catch_exceptions(bool permanent);
// The event's correlation id and trace become the thread's context while the handler runs, so events
// published from the handler carry them.
[[nodiscard]] middleware propagate_context();
// The data is checked against the catalog before the handler sees it; a violation is permanent.
[[nodiscard]] middleware validate_with_catalog(std::shared_ptr<const event_catalog> catalog);

// Applies middlewares to a handler: the first of `outer_first` ends up outermost.
[[nodiscard]] event_handler compose(const std::vector<middleware>& outer_first, std::string_view type, int major,
                                    event_handler handler);

}  // namespace aw::events::pipeline
