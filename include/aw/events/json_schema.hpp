// A compiled JSON Schema validator (draft-07 and draft 2020-12). A schema is compiled once into a
// validation program (references resolved, regexes and enum/const values prepared); validating
// an instance parses it once and walks the parsed document without copying it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <aw/events/result.hpp>

namespace aw::events {

enum class schema_draft { draft7, draft2020_12 };

struct schema_options {
  // Used when the root schema has no (known) "$schema".
  schema_draft default_draft = schema_draft::draft2020_12;
  // When true, "format" fails instances that break date-time, date, time, duration, email,
  // uuid, uri, uri-reference, hostname, ipv4 or ipv6; otherwise it is an annotation only.
  bool format_assertion = false;
  // Returns the text of a schema referenced by an absolute URI that is neither the schema itself
  // nor a known metaschema, or nullopt when it is unknown (compile then fails naming the URI).
  // Called only during compile().
  std::function<std::optional<std::string>(std::string_view uri)> resolve_remote;
};

// A JSON document parsed once, so that it can be checked against several schemas without being
// parsed again (and so that validation can be measured apart from parsing).
class json_document {
 public:
  // Fails with errc::invalid_argument when json is not one valid JSON value.
  [[nodiscard]] static result<json_document> parse(std::string_view json);

  json_document(json_document&&) noexcept;
  json_document& operator=(json_document&&) noexcept;
  json_document(const json_document&) = delete;
  json_document& operator=(const json_document&) = delete;
  ~json_document();

  struct state;  // the parsed form; defined in src/catalog
  [[nodiscard]] const state& parsed() const noexcept { return *state_; }

 private:
  explicit json_document(std::unique_ptr<state> s);
  std::unique_ptr<state> state_;
};

class json_schema {
 public:
  // Compiles schema_json. Fails with errc::invalid_argument naming the location when the schema is
  // not JSON, a keyword has the wrong type, a "$ref" cannot be resolved or a pattern is not
  // supported (lookarounds and backreferences cannot run in linear time).
  [[nodiscard]] static result<json_schema> compile(std::string_view schema_json,
                                                   const schema_options& options = {});

  // Validates one JSON document. Returns no errors when it is valid; otherwise the errors in the
  // "basic" output format. Malformed JSON yields one error at instance location "".
  // Thread-safe: a compiled schema is immutable and may be shared between threads.
  [[nodiscard]] std::vector<validation_error> validate(std::string_view instance_json) const;
  // Same decision as validate().empty(), without building any error.
  [[nodiscard]] bool is_valid(std::string_view instance_json) const;
  // The same over a document parsed beforehand; no parsing, no allocation on a valid instance.
  [[nodiscard]] std::vector<validation_error> validate(const json_document& instance) const;
  [[nodiscard]] bool is_valid(const json_document& instance) const;

  [[nodiscard]] schema_draft draft() const noexcept;

  // Copies share the immutable compiled program.
  json_schema(const json_schema&) = default;
  json_schema(json_schema&&) noexcept = default;
  json_schema& operator=(const json_schema&) = default;
  json_schema& operator=(json_schema&&) noexcept = default;
  ~json_schema() = default;

  struct program;  // the compiled form; defined in src/catalog

 private:
  explicit json_schema(std::shared_ptr<const program> program);
  std::shared_ptr<const program> program_;
};

}  // namespace aw::events
