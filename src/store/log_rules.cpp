#include "store/log_rules.hpp"

#include <algorithm>

namespace aw::events::store {

result<void> validate_topic_name(std::string_view topic) {
  if (topic.empty()) return make_error(errc::invalid_topic, "topic name is empty");
  if (topic.size() > 249) {
    return make_error(errc::invalid_topic, "topic name is longer than 249 characters: " + std::string(topic.substr(0, 40)) + "...");
  }
  if (topic == "." || topic == "..") return make_error(errc::invalid_topic, "topic name cannot be '.' or '..'");
  for (std::size_t i = 0; i < topic.size(); ++i) {
    const char c = topic[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) {
      return make_error(errc::invalid_topic, "topic name '" + std::string(topic) + "' has an illegal character at " +
                                                 std::to_string(i) + " (allowed: A-Z a-z 0-9 . _ -)");
    }
  }
  return {};
}

namespace {

void put_varint(std::uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool get_varint(std::string_view blob, std::size_t& pos, std::uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= blob.size()) return false;
    const auto byte = static_cast<unsigned char>(blob[pos++]);
    v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

void encode_headers(const std::vector<header>& headers, std::string& out) {
  out.clear();
  for (const auto& h : headers) {
    put_varint(h.name.size(), out);
    out.append(h.name);
    put_varint(h.value.size(), out);
    out.append(h.value);
  }
}

result<void> decode_headers(std::string_view blob, std::vector<header>& out) {
  out.clear();
  std::size_t pos = 0;
  while (pos < blob.size()) {
    header h;
    for (std::string* field : {&h.name, &h.value}) {
      std::uint64_t length = 0;
      const std::size_t at = pos;
      if (!get_varint(blob, pos, length) || length > blob.size() - pos) {
        return make_error(errc::storage_error, "damaged header blob: bad length at byte " + std::to_string(at));
      }
      field->assign(blob.substr(pos, length));
      pos += length;
    }
    out.push_back(std::move(h));
  }
  return {};
}

std::vector<std::int32_t> assigned_partitions(std::vector<std::string> members, const std::string& member,
                                              std::int32_t partitions) {
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  std::vector<std::int32_t> mine;
  const auto it = std::find(members.begin(), members.end(), member);
  if (it == members.end()) return mine;
  const auto index = static_cast<std::int32_t>(it - members.begin());
  const auto count = static_cast<std::int32_t>(members.size());
  for (std::int32_t p = index; p < partitions; p += count) mine.push_back(p);
  return mine;
}

}  // namespace aw::events::store
