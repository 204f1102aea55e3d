// Loading a catalog directory: the shipped examples load, and every kind of broken file is reported with
// its file and JSON Pointer. Also data validation through the loaded catalog and catalog-wide checks.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aw/events/catalog.hpp"

namespace aw::events {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const fs::path shipped = AW_CATALOG_DIR;

class catalog_loader_test : public ::testing::Test {
 protected:
  fs::path dir_;

  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("aw-catalog-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::copy(shipped, dir_, fs::copy_options::recursive);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string read(const std::string& file) {
    std::ifstream in(dir_ / file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  void write(const std::string& file, const std::string& text) {
    fs::create_directories((dir_ / file).parent_path());
    std::ofstream(dir_ / file) << text;
  }
  // Replaces the first (or last) occurrence of `from` in `file`.
  void edit(const std::string& file, std::string_view from, std::string_view to, bool last = false) {
    auto text = read(file);
    const auto at = last ? text.rfind(from) : text.find(from);
    ASSERT_NE(at, std::string::npos) << from << " not in " << file;
    text.replace(at, from.size(), to);
    write(file, text);
  }
  std::vector<catalog_problem> problems(compatibility_mode mode = compatibility_mode::backward) {
    return event_catalog::check_directory(dir_, mode);
  }
};

bool has_problem(const std::vector<catalog_problem>& problems, std::string_view file, std::string_view location,
                 std::string_view rule, std::string_view mentions = "") {
  for (const auto& p : problems) {
    if (p.file == file && p.location == location && p.rule == rule && p.message.find(mentions) != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::string dump(const std::vector<catalog_problem>& problems) {
  std::string out;
  for (const auto& p : problems) out += p.file + " " + p.location + " [" + p.rule + "] " + p.message + "\n";
  return out;
}

TEST_F(catalog_loader_test, shipped_catalog_loads_with_every_type_and_passes_every_mode) {
  auto catalog = event_catalog::load_directory(shipped);
  ASSERT_TRUE(catalog) << catalog.error().describe();
  std::vector<std::string> names;
  for (const auto* e : catalog->entries()) names.push_back(e->type + ".v" + std::to_string(e->major));
  EXPECT_EQ(names, (std::vector<std::string>{
                       "collaboration.document.edited.v1", "content.book.published.v1", "content.book.published.v2",
                       "content.chapter.updated.v1", "search.index.updated.v1", "subscription.payment.failed.v1",
                       "subscription.payment.succeeded.v1", "user.account.created.v1", "user.account.deleted.v1"}));
  const auto* book = catalog->find("content.book.published", 1);
  ASSERT_NE(book, nullptr);
  EXPECT_EQ(book->version, "1.1");
  ASSERT_EQ(book->history.size(), 1u);
  EXPECT_EQ(book->history[0].version, "1.0");
  ASSERT_TRUE(book->deprecated);
  EXPECT_EQ(book->deprecated->date, "2025-01-31");
  EXPECT_EQ(book->producer, "content");
  EXPECT_EQ(catalog->find("content.book.published", 3), nullptr);
  EXPECT_EQ(catalog->find("content.book.deleted", 1), nullptr);
  for (auto mode : {compatibility_mode::backward, compatibility_mode::backward_transitive}) {
    auto found = event_catalog::check_directory(shipped, mode);
    EXPECT_TRUE(found.empty()) << dump(found);
  }
}

TEST_F(catalog_loader_test, validate_data_locates_violations_under_data_and_picks_the_version) {
  auto catalog = event_catalog::load_directory(shipped);
  ASSERT_TRUE(catalog);
  const std::string good_v10 = R"({"book_id":"bk-abc123","author_id":"6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b","title":"T",)"
                               R"("isbn":"9781234567897","language":"en","genres":["fantasy"],"published_at":"2024-06-01T08:00:00.000Z"})";
  EXPECT_TRUE(catalog->validate_data("content.book.published", "1.0", good_v10));
  EXPECT_TRUE(catalog->validate_data("content.book.published", "1.1", good_v10));

  // 1.1 added "series": 1.0's closed schema does not know it.
  std::string with_series = good_v10;
  with_series.insert(with_series.size() - 1, R"(,"series":{"series_id":"sr-abcdef","position":1})");
  EXPECT_TRUE(catalog->validate_data("content.book.published", "1.1", with_series));
  auto old = catalog->validate_data("content.book.published", "1.0", with_series);
  ASSERT_FALSE(old);
  EXPECT_EQ(old.error().code, errc::schema_violation);
  EXPECT_EQ(old.error().details.at(0).instance_location, "/data/series");

  // Formats are assertions in the catalog.
  std::string bad_date = good_v10;
  bad_date.replace(bad_date.find("2024-06-01T08"), 13, "2024-13-01T08");
  auto dated = catalog->validate_data("content.book.published", "1.0", bad_date);
  ASSERT_FALSE(dated);
  EXPECT_EQ(dated.error().details.at(0).instance_location, "/data/published_at");
  EXPECT_EQ(dated.error().details.at(0).keyword_location, "/properties/published_at/format");

  auto duplicate_genres = good_v10;
  duplicate_genres.replace(duplicate_genres.find(R"(["fantasy"])"), 11, R"(["fantasy","fantasy"])");
  auto unique = catalog->validate_data("content.book.published", "1.1", duplicate_genres);
  ASSERT_FALSE(unique);
  EXPECT_EQ(unique.error().details.at(0).instance_location, "/data/genres");

  auto unknown = catalog->validate_data("content.book.burned", "1.0", "{}");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, errc::unknown_event_type);
  EXPECT_EQ(unknown.error().details.at(0).instance_location, "/meta/type");
  for (std::string_view version : {"3.0", "1.2", "x"}) {
    auto unsupported = catalog->validate_data("content.book.published", version, good_v10);
    ASSERT_FALSE(unsupported) << version;
    EXPECT_EQ(unsupported.error().code, errc::unsupported_version);
    EXPECT_EQ(unsupported.error().details.at(0).instance_location, "/meta/version");
    EXPECT_FALSE(unsupported.error().retriable());
  }
}

TEST_F(catalog_loader_test, validate_data_is_safe_from_many_threads) {
  auto catalog = event_catalog::load_directory(shipped);
  ASSERT_TRUE(catalog);
  const auto* sample_entry = catalog->find("search.index.updated", 1);
  ASSERT_NE(sample_entry, nullptr);
  const std::string data = R"({"index":"books","batch_id":"e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a8b","documents":["a"],"took_ms":1,"completed_at":"2024-06-01T08:00:01.730Z"})";
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (!catalog->validate_data("search.index.updated", "1.0", data)) ++failures;
        if (catalog->validate_data("search.index.updated", "1.0", "{\"index\":\"nope\"}")) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(catalog_loader_test, file_that_is_not_json_is_named) {
  write("content/chapter.updated.v1.json", "{\"type\": ");
  auto loaded = event_catalog::load_directory(dir_);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, errc::invalid_argument);
  EXPECT_THAT(loaded.error().message, HasSubstr("content/chapter.updated.v1.json"));
  EXPECT_TRUE(has_problem(problems(), "content/chapter.updated.v1.json", "", "json")) << dump(problems());
}

TEST_F(catalog_loader_test, missing_and_misspelt_fields_are_located) {
  edit("user/account.deleted.v1.json", R"("producer": "user",)", R"("produce": "user",)");
  auto found = problems();
  EXPECT_TRUE(has_problem(found, "user/account.deleted.v1.json", "", "format", "producer")) << dump(found);
  EXPECT_TRUE(has_problem(found, "user/account.deleted.v1.json", "/produce", "format")) << dump(found);
  auto loaded = event_catalog::load_directory(dir_);
  ASSERT_FALSE(loaded);
  EXPECT_FALSE(loaded.error().details.empty());
}

TEST_F(catalog_loader_test, field_values_are_checked_by_the_file_format) {
  edit("search/index.updated.v1.json", R"("retention_days": 2)", R"("retention_days": 0)");
  edit("content/chapter.updated.v1.json", R"("consumers": [)", R"("consumers": ["Search Team", )");
  auto found = problems();
  EXPECT_TRUE(has_problem(found, "search/index.updated.v1.json", "/topic/retention_days", "format")) << dump(found);
  EXPECT_TRUE(has_problem(found, "content/chapter.updated.v1.json", "/consumers/0", "format")) << dump(found);
}

TEST_F(catalog_loader_test, deprecation_date_must_be_a_real_day) {
  edit("content/book.published.v1.json", R"("date": "2025-01-31")", R"("date": "2025-02-30")");
  auto found = problems();
  EXPECT_TRUE(has_problem(found, "content/book.published.v1.json", "/deprecated/date", "format")) << dump(found);
  edit("content/book.published.v1.json", R"("date": "2025-02-30")", R"("date": "31.01.2025")");
  EXPECT_TRUE(has_problem(problems(), "content/book.published.v1.json", "/deprecated/date", "format"));
}

TEST_F(catalog_loader_test, type_and_file_name_must_agree) {
  fs::rename(dir_ / "user/account.deleted.v1.json", dir_ / "user/account.removed.v1.json");
  auto found = problems();
  EXPECT_TRUE(has_problem(found, "user/account.removed.v1.json", "/type", "naming", "user/account.deleted.v1.json"))
      << dump(found);
}

TEST_F(catalog_loader_test, major_version_must_match_the_file_name) {
  edit("content/chapter.updated.v1.json", R"("version": "1.0")", R"("version": "2.0")");
  auto found = problems();
  EXPECT_TRUE(has_problem(found, "content/chapter.updated.v1.json", "/type", "naming", "chapter.updated.v2.json"))
      << dump(found);
}

TEST_F(catalog_loader_test, malformed_versions_and_types_are_rejected) {
  edit("content/chapter.updated.v1.json", R"("version": "1.0")", R"("version": "1.01")");
  edit("search/index.updated.v1.json", R"("type": "search.index.updated")", R"("type": "Search.Index")");
  auto found = problems();
  EXPECT_TRUE(has_problem(found, "content/chapter.updated.v1.json", "/version", "format")) << dump(found);
  EXPECT_TRUE(has_problem(found, "search/index.updated.v1.json", "/type", "format")) << dump(found);
}

TEST_F(catalog_loader_test, producer_must_be_the_type_service) {
  edit("search/index.updated.v1.json", R"("producer": "search")", R"("producer": "content")");
  EXPECT_TRUE(has_problem(problems(), "search/index.updated.v1.json", "/producer", "naming", "\"search\""));
}

TEST_F(catalog_loader_test, sample_data_violating_the_schema_is_located_in_the_file) {
  edit("search/index.updated.v1.json", R"("took_ms": 184)", R"("took_ms": -1)");
  auto found = problems();
  EXPECT_TRUE(has_problem(found, "search/index.updated.v1.json", "/sample/data/took_ms", "sample", "minimum"))
      << dump(found);
}

TEST_F(catalog_loader_test, sample_breaking_the_envelope_or_disagreeing_with_the_entry_is_reported) {
  edit("user/account.deleted.v1.json", R"("correlation_id": "gdpr-req-2291")", R"("correlation_id": "")");
  edit("content/chapter.updated.v1.json", R"("version": "1.0",
      "timestamp")", R"("version": "1.3",
      "timestamp")");
  auto found = problems();
  EXPECT_TRUE(has_problem(found, "user/account.deleted.v1.json", "/sample/meta/correlation_id", "sample")) << dump(found);
  EXPECT_TRUE(has_problem(found, "content/chapter.updated.v1.json", "/sample/meta/version", "sample", "1.3"))
      << dump(found);
}

TEST_F(catalog_loader_test, schema_that_does_not_compile_is_reported) {
  edit("search/index.updated.v1.json", "\"took_ms\": {\n        \"type\": \"integer\",\n        \"minimum\": 0",
       "\"took_ms\": {\n        \"type\": \"integer\",\n        \"minimum\": \"zero\"");
  auto found = problems();
  EXPECT_TRUE(has_problem(found, "search/index.updated.v1.json", "/schema", "schema", "minimum")) << dump(found);
}

TEST_F(catalog_loader_test, history_must_be_older_minors_of_the_same_major) {
  edit("content/book.published.v1.json", R"("version": "1.0",
      "schema")", R"("version": "1.1",
      "schema")");
  auto found = problems();
  EXPECT_TRUE(has_problem(found, "content/book.published.v1.json", "/history/0/version", "version", "older than 1.1"))
      << dump(found);
}

TEST_F(catalog_loader_test, same_type_and_major_twice_is_reported) {
  fs::copy_file(dir_ / "search/index.updated.v1.json", dir_ / "search/copy.json");
  auto found = problems();
  EXPECT_TRUE(has_problem(found, "search/copy.json", "/type", "naming")) << dump(found);
}

TEST_F(catalog_loader_test, missing_directory_is_a_problem_not_a_crash) {
  auto found = event_catalog::check_directory(dir_ / "nowhere");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].rule, "io");
  EXPECT_FALSE(event_catalog::load_directory(dir_ / "nowhere"));
}

// content.book.published 1.0 -> 1.1 (history) with an incompatible 1.1 and a third minor.
TEST_F(catalog_loader_test, incompatible_minor_is_located_in_the_file_with_both_versions) {
  edit("content/book.published.v1.json", "\"maxItems\": 5", "\"maxItems\": 3", /*last=*/true);
  auto found = problems();
  ASSERT_EQ(found.size(), 1u) << dump(found);  // the sample has two genres, within 3: only the compatibility problem
  EXPECT_TRUE(has_problem(found, "content/book.published.v1.json", "/schema/properties/genres/maxItems",
                          "compatibility/range_narrowed", "maxItems 3"))
      << dump(found);
  EXPECT_EQ(found[0].version, "1.1");
  EXPECT_EQ(found[0].against, "1.0");
}

// Writes content.book.published v1 with minors 1.0, 1.1, 1.2 whose price types are the given schemas.
std::string three_minors(std::string_view v10, std::string_view v11, std::string_view v12) {
  auto schema = [](std::string_view price) {
    return std::string(R"({"type":"object","required":["book_id"],"properties":{"book_id":{"type":"string"})") +
           (price.empty() ? "" : std::string(R"(,"price":)") + std::string(price)) + "}}";
  };
  return R"({"type":"content.book.published","version":"1.2","description":"d","producer":"content","consumers":[],)"
         R"("history":[{"version":"1.0","schema":)" + schema(v10) + R"(},{"version":"1.1","schema":)" + schema(v11) +
         R"(}],"schema":)" + schema(v12) +
         R"(,"sample":{"meta":{"id":"0b6f2a4e-9c1d-4f3a-8b2e-5d6c7a8b9c0d","type":"content.book.published","version":"1.2",)"
         R"("timestamp":"2023-06-15T14:22:31.123Z","correlation_id":"req-1","source":"content","trace_context":)"
         R"({"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}},"data":{"book_id":"b"}}})";
}

TEST_F(catalog_loader_test, transitive_modes_compare_against_every_earlier_minor) {
  // 1.0 -> 1.1 drops price (open model: fine), 1.1 -> 1.2 brings it back as a string: each step is BACKWARD
  // compatible, but 1.2 cannot read 1.0's numbers.
  write("content/book.published.v1.json", three_minors(R"({"type":"number"})", "", R"({"type":"string"})"));
  fs::remove(dir_ / "content/book.published.v2.json");
  auto plain = problems(compatibility_mode::backward);
  EXPECT_TRUE(plain.empty()) << dump(plain);
  auto transitive = problems(compatibility_mode::backward_transitive);
  ASSERT_EQ(transitive.size(), 1u) << dump(transitive);
  EXPECT_EQ(transitive[0].location, "/schema/properties/price/type");
  EXPECT_EQ(transitive[0].rule, "compatibility/type_narrowed");
  EXPECT_EQ(transitive[0].version, "1.2");
  EXPECT_EQ(transitive[0].against, "1.0");
  EXPECT_EQ(problems(compatibility_mode::full_transitive).size(), 2u) << dump(problems(compatibility_mode::full_transitive));
}

TEST_F(catalog_loader_test, forward_and_full_modes_follow_the_direction_of_each_change) {
  // 1.0 -> 1.1 widens price (integer -> number), 1.1 -> 1.2 keeps it.
  write("content/book.published.v1.json", three_minors(R"({"type":"integer"})", R"({"type":"number"})", R"({"type":"number"})"));
  EXPECT_TRUE(problems(compatibility_mode::backward).empty());
  auto forward = problems(compatibility_mode::forward);
  ASSERT_EQ(forward.size(), 1u) << dump(forward);
  EXPECT_EQ(forward[0].location, "/history/1/schema/properties/price/type");
  EXPECT_EQ(forward[0].rule, "compatibility/type_widened");
  EXPECT_EQ(forward[0].version, "1.1");
  EXPECT_EQ(forward[0].against, "1.0");
  EXPECT_EQ(problems(compatibility_mode::full).size(), 1u);
  EXPECT_EQ(problems(compatibility_mode::full_transitive).size(), 2u);  // 1.2 vs 1.0 too
  EXPECT_TRUE(problems(compatibility_mode::none).empty());
}

}  // namespace
}  // namespace aw::events

namespace aw::events {
namespace {

// publish without --version: the latest minor of the highest major still in service.
TEST_F(catalog_loader_test, default_version_is_the_latest_minor_of_the_latest_major_in_service) {
  auto shipped_catalog = event_catalog::load_directory(dir_);
  ASSERT_TRUE(shipped_catalog) << shipped_catalog.error().describe();
  // content.book.published: 1.0, 1.1 (deprecated since 2025-01-31) and 2.0.
  EXPECT_EQ(shipped_catalog->default_version("content.book.published", "2024-01-01"), "2.0");
  EXPECT_EQ(shipped_catalog->default_version("content.book.published"), "2.0");
  EXPECT_EQ(shipped_catalog->default_version("no.such.type"), std::nullopt);

  // Retire major 2 on 2030-01-01: before that day it stays the default, from that day on major 1 is.
  edit("content/book.published.v2.json", "\"consumers\": [",
       "\"deprecated\": {\"date\": \"2030-01-01\", \"note\": \"Use v3.\"},\n  \"consumers\": [");
  auto retired = event_catalog::load_directory(dir_);
  ASSERT_TRUE(retired) << retired.error().describe();
  EXPECT_EQ(retired->default_version("content.book.published", "2029-12-31"), "2.0");
  // Every major retired from then on: the highest one is still the answer (a producer must write something).
  EXPECT_EQ(retired->default_version("content.book.published", "2030-01-01"), "2.0");

  // Major 1 retired only in 2031: between the two dates major 2 is retired and major 1 (1.1) is the default.
  edit("content/book.published.v1.json", "\"2025-01-31\"", "\"2031-01-01\"");
  auto both = event_catalog::load_directory(dir_);
  ASSERT_TRUE(both) << both.error().describe();
  EXPECT_EQ(both->default_version("content.book.published", "2029-12-31"), "2.0");
  EXPECT_EQ(both->default_version("content.book.published", "2030-06-01"), "1.1");
  EXPECT_EQ(both->default_version("content.book.published", "2031-01-01"), "2.0");
}

}  // namespace
}  // namespace aw::events
