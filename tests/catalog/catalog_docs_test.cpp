// The static HTML site of the catalog (write_docs_site): every type and version, deprecations, schema
// tables with nested paths, $refs and required marks, samples, HTML escaping, determinism, write errors.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aw/events/catalog.hpp"

namespace aw::events {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

const fs::path shipped = AW_CATALOG_DIR;

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every file of a directory by name, for byte comparisons.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& f : fs::directory_iterator(dir)) files[f.path().filename().string()] = read(f.path());
  return files;
}

// The table row of `path` on a page: from its <tr> to the matching </tr>; "" when absent.
std::string row(const std::string& page, const std::string& path) {
  const auto at = page.find("<td class=\"path\"><code>" + path + "</code></td>");
  if (at == std::string::npos) return "";
  const auto end = page.find("</tr>", at);
  return page.substr(at, end - at);
}

class catalog_docs_test : public ::testing::Test {
 protected:
  fs::path dir_;

  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("aw-docs-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir_, ec);
  }

  event_catalog load(const fs::path& catalog_dir) {
    auto catalog = event_catalog::load_directory(catalog_dir);
    EXPECT_TRUE(catalog) << (catalog ? "" : catalog.error().describe());
    return std::move(*catalog);
  }

  void write(const fs::path& file, const std::string& text) {
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
  }
};

TEST_F(catalog_docs_test, every_type_and_version_appears_grouped_by_service) {
  const auto catalog = load(shipped);
  const auto out = dir_ / "site";
  ASSERT_TRUE(write_docs_site(catalog, out.string()));
  const auto index = read(out / "index.html");
  ASSERT_FALSE(index.empty());
  EXPECT_TRUE(fs::exists(out / "style.css"));
  for (const auto* entry : catalog.entries()) {
    const auto page_name = entry->type + ".v" + std::to_string(entry->major) + ".html";
    EXPECT_THAT(index, HasSubstr("href=\"" + page_name + "\"")) << entry->type;
    EXPECT_THAT(index, HasSubstr(">v" + entry->version + "<")) << entry->type;
    const auto page = read(out / page_name);
    ASSERT_FALSE(page.empty()) << page_name;
    EXPECT_THAT(page, HasSubstr("<code>" + entry->type + "</code>"));
    EXPECT_THAT(page, HasSubstr("<dt>Producer</dt><dd>" + entry->producer + "</dd>"));
    for (const auto& consumer : entry->consumers) EXPECT_THAT(page, HasSubstr(consumer));
    for (const auto& version : entry->versions()) EXPECT_THAT(page, HasSubstr(version.version)) << page_name;
  }
  // One section per producing service, and the v1 page lists both minors with 1.1 current.
  for (const char* service : {"collaboration", "content", "search", "subscription", "user"})
    EXPECT_THAT(index, HasSubstr("<section class=\"service\" id=\"service-" + std::string(service) + "\">"));
  EXPECT_LT(index.find("id=\"service-collaboration\""), index.find("id=\"service-user\""));
  const auto v1 = read(out / "content.book.published.v1.html");
  EXPECT_THAT(v1, HasSubstr("<dt>Versions</dt><dd>1.0, 1.1 (current)</dd>"));
  EXPECT_THAT(v1, HasSubstr("Older minor: data schema v1.0"));
  EXPECT_THAT(v1, HasSubstr("partitions: 12"));
  EXPECT_THAT(v1, HasSubstr("<code>content</code> (one topic per service)"));
  EXPECT_THAT(v1, HasSubstr("href=\"content.book.published.v2.html\""));
  // The search box and its script are inline: nothing is fetched from the network.
  EXPECT_THAT(index, HasSubstr("<input id=\"search\""));
  EXPECT_THAT(index, HasSubstr("addEventListener('input'"));
  for (const auto& [name, text] : snapshot(out)) {
    EXPECT_THAT(text, Not(HasSubstr("url("))) << name;
    EXPECT_THAT(text, Not(HasSubstr("src=\"http"))) << name;
    EXPECT_THAT(text, Not(HasSubstr("href=\"http"))) << name;
  }
}

TEST_F(catalog_docs_test, deprecation_is_marked_with_date_and_note) {
  const auto catalog = load(shipped);
  ASSERT_TRUE(write_docs_site(catalog, dir_.string()));
  const auto index = read(dir_ / "index.html");
  EXPECT_THAT(index, HasSubstr("deprecated since 2025-01-31"));
  const auto v1 = read(dir_ / "content.book.published.v1.html");
  EXPECT_THAT(v1, HasSubstr("<div class=\"warning\"><strong>Deprecated</strong> since 2025-01-31: Use content.book.published v2"));
  const auto v2 = read(dir_ / "content.book.published.v2.html");
  EXPECT_THAT(v2, Not(HasSubstr("class=\"warning\"")));
  EXPECT_THAT(v2, HasSubstr("(deprecated)"));  // its link to the deprecated v1
  // Exactly one index entry carries the badge.
  std::size_t badges = 0;
  for (auto at = index.find("badge deprecated"); at != std::string::npos; at = index.find("badge deprecated", at + 1)) ++badges;
  EXPECT_EQ(badges, 1u);
}

TEST_F(catalog_docs_test, schema_table_expands_nested_objects_arrays_and_refs) {
  const auto catalog = load(shipped);
  ASSERT_TRUE(write_docs_site(catalog, dir_.string()));
  const auto v1 = read(dir_ / "content.book.published.v1.html");
  // Nested object property with its own required list.
  const auto position = row(v1, "series.position");
  EXPECT_THAT(position, HasSubstr("<td>integer</td>"));
  EXPECT_THAT(position, HasSubstr("class=\"req\">required"));
  EXPECT_THAT(position, HasSubstr("minimum: 1"));
  EXPECT_THAT(row(v1, "series"), HasSubstr("optional"));
  EXPECT_THAT(row(v1, "series"), HasSubstr("Added in 1.1"));
  EXPECT_THAT(row(v1, "book_id"), HasSubstr("class=\"req\">required"));
  EXPECT_THAT(row(v1, "book_id"), HasSubstr("pattern: ^bk-[0-9a-z]{6,32}$"));
  EXPECT_THAT(row(v1, "author_id"), HasSubstr("format: uuid"));
  EXPECT_THAT(row(v1, "title"), HasSubstr("maxLength: 300"));
  EXPECT_THAT(row(v1, "isbn"), HasSubstr("ISBN-13 without hyphens"));
  // Array items get a bracket path; enums list their values (HTML-escaped JSON strings).
  EXPECT_THAT(row(v1, "genres"), HasSubstr("unique items"));
  EXPECT_THAT(row(v1, "genres[]"), HasSubstr("one of: &quot;fantasy&quot;, &quot;science_fiction&quot;"));
  EXPECT_THAT(row(v1, "price"), HasSubstr("no other properties"));
  // $ref to $defs is followed: payment amount and the edit operations of an array of $refs.
  const auto payment = read(dir_ / "subscription.payment.succeeded.v1.html");
  EXPECT_THAT(row(payment, "amount"), HasSubstr("$ref #/$defs/money"));
  EXPECT_THAT(row(payment, "amount.currency"), HasSubstr("class=\"req\">required"));
  EXPECT_THAT(row(payment, "period.start"), HasSubstr("format: date"));
  const auto edited = read(dir_ / "collaboration.document.edited.v1.html");
  EXPECT_THAT(row(edited, "operations[]"), HasSubstr("$ref #/$defs/operation"));
  EXPECT_THAT(row(edited, "operations[]"), HasSubstr("<span class=\"muted\">—</span>"));  // items are not "optional"
  EXPECT_THAT(row(edited, "operations[].length"), HasSubstr("optional"));
  EXPECT_THAT(row(edited, "operations[].kind"), HasSubstr("class=\"req\">required"));
  EXPECT_THAT(row(edited, "operations[].text"), HasSubstr("maxLength: 10000"));
}

TEST_F(catalog_docs_test, recursive_refs_stop_and_say_so) {
  const auto catalog_dir = dir_ / "catalog";
  fs::copy(shipped, catalog_dir, fs::copy_options::recursive);
  // A comment tree: a node's replies are nodes again.
  auto text = read(catalog_dir / "search/index.updated.v1.json");
  const std::string schema_key = "\"schema\": {";
  const auto at = text.find(schema_key);
  ASSERT_NE(at, std::string::npos);
  text.insert(at + schema_key.size(),
              R"("$defs":{"node":{"type":"object","properties":{"replies":{"type":"array","items":{"$ref":"#/$defs/node"}},"loop":{"$ref":"#"}}}},)");
  const auto props = text.find("\"properties\": {", at);
  ASSERT_NE(props, std::string::npos);
  text.insert(props + std::string("\"properties\": {").size(), R"("tree":{"$ref":"#/$defs/node"},)");
  write(catalog_dir / "search/index.updated.v1.json", text);
  const auto catalog = load(catalog_dir);
  const auto out = dir_ / "site";
  ASSERT_TRUE(write_docs_site(catalog, out.string()));
  const auto page = read(out / "search.index.updated.v1.html");
  EXPECT_THAT(row(page, "tree"), HasSubstr("$ref #/$defs/node"));
  EXPECT_THAT(row(page, "tree.replies[]"), HasSubstr("recursive $ref #/$defs/node"));
  EXPECT_EQ(row(page, "tree.replies[].replies"), "");  // the cycle is not expanded again
  EXPECT_THAT(row(page, "tree.loop"), HasSubstr("$ref #"));
  EXPECT_THAT(row(page, "tree.loop.tree"), HasSubstr("recursive $ref #/$defs/node"));
}

TEST_F(catalog_docs_test, all_catalog_text_is_html_escaped) {
  const auto catalog_dir = dir_ / "catalog";
  fs::copy(shipped, catalog_dir, fs::copy_options::recursive);
  auto text = read(catalog_dir / "search/index.updated.v1.json");
  const std::string hostile = R"(<script>alert(\"x\")</script> & 'quoted' <b>bold</b>)";
  const auto description = text.find("\"description\": \"");
  ASSERT_NE(description, std::string::npos);
  const auto end = text.find("\",\n", description + 16);
  text.replace(description + 16, end - description - 16, hostile);
  // The sample carries markup too, in its free-text correlation id.
  const auto correlation = text.find("\"correlation_id\": \"");
  ASSERT_NE(correlation, std::string::npos);
  const auto correlation_end = text.find('"', correlation + 19);
  text.replace(correlation + 19, correlation_end - correlation - 19, "</pre><img src=x onerror=alert(1)>");
  write(catalog_dir / "search/index.updated.v1.json", text);
  const auto catalog = load(catalog_dir);
  const auto out = dir_ / "site";
  ASSERT_TRUE(write_docs_site(catalog, out.string()));
  for (const auto& name : {"index.html", "search.index.updated.v1.html"}) {
    const auto page = read(out / name);
    EXPECT_THAT(page, HasSubstr("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39; &lt;b&gt;bold&lt;/b&gt;"))
        << name;
    EXPECT_THAT(page, Not(HasSubstr("<script>alert"))) << name;
    EXPECT_THAT(page, Not(HasSubstr("<b>bold"))) << name;
  }
  const auto page = read(out / "search.index.updated.v1.html");
  EXPECT_THAT(page, HasSubstr("&quot;correlation_id&quot;: &quot;&lt;/pre&gt;&lt;img src=x onerror=alert(1)&gt;&quot;"));
  EXPECT_THAT(page, Not(HasSubstr("<img")));
  // The only script on any page is the search filter of the index.
  EXPECT_THAT(page, Not(HasSubstr("<script")));
}

TEST_F(catalog_docs_test, sample_is_pretty_printed) {
  const auto catalog = load(shipped);
  ASSERT_TRUE(write_docs_site(catalog, dir_.string()));
  const auto v1 = read(dir_ / "content.book.published.v1.html");
  EXPECT_THAT(v1, HasSubstr("<pre class=\"sample\">{\n  &quot;meta&quot;: {\n    &quot;id&quot;: &quot;9c8b7a6d-5e4f-4d3c-a2b1-0f9e8d7c6b5a&quot;,\n"));
  EXPECT_THAT(v1, HasSubstr("    &quot;genres&quot;: [\n      &quot;fantasy&quot;,\n      &quot;thriller&quot;\n    ],\n"));
  EXPECT_THAT(v1, HasSubstr("&quot;amount_minor&quot;: 1299,"));
}

TEST_F(catalog_docs_test, output_is_deterministic) {
  const auto catalog = load(shipped);
  ASSERT_TRUE(write_docs_site(catalog, (dir_ / "a").string()));
  const auto again = load(shipped);
  ASSERT_TRUE(write_docs_site(again, (dir_ / "b").string()));
  const auto a = snapshot(dir_ / "a");
  EXPECT_EQ(a.size(), catalog.entries().size() + 2);  // pages + index + style
  EXPECT_EQ(a, snapshot(dir_ / "b"));
  // Writing over an existing site gives the same bytes too.
  ASSERT_TRUE(write_docs_site(catalog, (dir_ / "a").string()));
  EXPECT_EQ(a, snapshot(dir_ / "a"));
}

TEST_F(catalog_docs_test, unwritable_output_fails_naming_the_path) {
  const auto catalog = load(shipped);
  fs::create_directories(dir_);
  const auto file = dir_ / "plain-file";
  write(file, "not a directory");
  auto result = write_docs_site(catalog, file.string());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, errc::invalid_argument);
  EXPECT_THAT(result.error().message, HasSubstr(file.string()));
  result = write_docs_site(catalog, (file / "below").string());
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, HasSubstr((file / "below").string()));
  if (::geteuid() != 0) {  // root ignores permissions
    const auto locked = dir_ / "locked";
    fs::create_directories(locked);
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
    result = write_docs_site(catalog, locked.string());
    fs::permissions(locked, fs::perms::owner_all);
    ASSERT_FALSE(result);
    EXPECT_THAT(result.error().message, HasSubstr(locked.string()));
  }
}

}  // namespace
}  // namespace aw::events
