// The transport conformance suite: one set of TEST_P(transport_conformance, ...) run against every
// transport (DESIGN.md §2), in the spirit of watermill's pubsub/tests/test_pubsub.go.
//
// How to run it against a transport — in the transport's test folder:
//
//   #include "transport/conformance/conformance_suite.hpp"
//
//   INSTANTIATE_TEST_SUITE_P(kafka, transport_conformance,
//       ::testing::Values(aw::events::testing::transport_fixture{
//           .name = "mock_kafka",
//           .make = [] { return std::shared_ptr<aw::events::transport>(...fresh transport...); },
//           .session_timeout = std::chrono::milliseconds(6000),
//           .enforce_retention = {},  // empty: the retention test is skipped
//       }),
//       aw::events::testing::fixture_name);
//
// and in its CMakeLists.txt: aw_add_test(... LIBS aw_transport_conformance). aw_transport_conformance is an
// OBJECT library, so the TEST_P registrations are linked in although nothing references them.
//
// make() is called once per test and should return an isolated transport (a fresh file, a fresh memory
// log); the tests also use unique topic and group names so a shared cluster works too.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <ostream>
#include <memory>
#include <string>

#include "aw/events/transport.hpp"

namespace aw::events::testing {

struct transport_fixture {
  std::string name;  // test-name suffix: [A-Za-z0-9_] only
  std::function<std::shared_ptr<transport>()> make;
  // Session timeout of the suite's consumers: short, but within what the transport accepts.
  std::chrono::milliseconds session_timeout{2000};
  // Age limit the made transports delete records after (the retention test writes older and newer ones).
  std::chrono::milliseconds retention{std::chrono::hours(1)};
  // Deletes expired records now; empty when the transport cannot be driven to do so (test skipped).
  std::function<result<void>(transport&)> enforce_retention;
};

inline std::string fixture_name(const ::testing::TestParamInfo<transport_fixture>& info) { return info.param.name; }

// How gtest prints the parameter in test listings and failures: its name, not its bytes.
inline void PrintTo(const transport_fixture& fixture, std::ostream* out) { *out << fixture.name; }

class transport_conformance : public ::testing::TestWithParam<transport_fixture> {};

// Helpers shared by the transports' own tests.
inline record make_record(std::string topic, std::string key, std::string value, std::int32_t partition = -1) {
  record rec;
  rec.topic = std::move(topic);
  rec.key = std::move(key);
  rec.value = std::move(value);
  rec.partition = partition;
  return rec;
}

// Produces one record and waits for its delivery report.
inline result<delivery_report> produce_one(producer& p, record rec) {
  auto done = std::make_shared<std::promise<result<delivery_report>>>();
  auto future = done->get_future();
  p.produce(std::move(rec), [done](result<delivery_report> r) { done->set_value(std::move(r)); });
  return future.get();
}

}  // namespace aw::events::testing

// The suite's test names live in the global namespace so INSTANTIATE_TEST_SUITE_P can name them unqualified.
using aw::events::testing::transport_conformance;
