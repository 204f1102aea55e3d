// Plain SQLite, the baseline of the embedded-store benchmarks: the same bytes, WAL, synchronous=NORMAL.
#pragma once

#include <string>
#include <vector>

#include "aw/events/transport.hpp"
#include "measure.hpp"

namespace aw::bench {

// Inserts every record (topic, partition, offset, timestamp, key, value, headers) in transactions of 1000.
measurement raw_sqlite_insert(const std::string& path, const std::vector<events::record>& records, std::string& error);
// Reads every row back in insertion order.
measurement raw_sqlite_scan(const std::string& path, std::string& error);

}  // namespace aw::bench
