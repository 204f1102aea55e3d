// Builds fast_regex DFAs: ECMA pattern -> syntax tree -> Thompson NFA -> subset construction. Any
// construct outside the subset makes build() return null, so RE2 keeps deciding those patterns.
#include "catalog/fast_regex.hpp"

#include <algorithm>
#include <bitset>
#include <cctype>
#include <map>
#include <string>

namespace aw::events::schema_detail {
namespace {

using char_set = std::bitset<128>;

struct ast {
  enum kind_t { set, concat, alternation, repeat } kind = concat;
  char_set chars;
  std::vector<ast> children;
  int min = 0, max = 0;  // repeat; max < 0: unbounded

  static ast of(kind_t k) {
    ast a;
    a.kind = k;
    return a;
  }
};

constexpr int max_repeat = 1000;
constexpr size_t max_nfa_states = 20000;

class parser {
 public:
  explicit parser(std::string_view p) : p_(p) {}

  bool parse(ast& out) {
    if (!parse_alternation(out)) return false;
    return i_ == p_.size();
  }

 private:
  bool parse_alternation(ast& out) {
    out = ast::of(ast::alternation);
    do {
      ast seq = ast::of(ast::concat);
      if (!parse_sequence(seq)) return false;
      out.children.push_back(std::move(seq));
    } while (i_ < p_.size() && p_[i_] == '|' && ++i_);
    if (out.children.size() == 1) {
      ast only = std::move(out.children[0]);
      out = std::move(only);
    }
    return true;
  }

  bool parse_sequence(ast& out) {
    while (i_ < p_.size() && p_[i_] != '|' && p_[i_] != ')') {
      ast atom;
      if (!parse_atom(atom)) return false;
      if (!parse_quantifier(atom)) return false;
      out.children.push_back(std::move(atom));
    }
    return true;
  }

  static ast single(char_set s) {
    ast a = ast::of(ast::set);
    a.chars = s;
    return a;
  }
  static char_set range(char lo, char hi) {
    char_set s;
    for (int c = lo; c <= hi; ++c) s.set(static_cast<size_t>(c));
    return s;
  }
  static char_set digits() { return range('0', '9'); }
  static char_set word() { return range('0', '9') | range('a', 'z') | range('A', 'Z') | range('_', '_'); }

  // One escaped character class or character after a backslash; false when unsupported.
  bool parse_escape(char_set& out, bool& is_class) {
    if (++i_ >= p_.size()) return false;
    const char e = p_[i_++];
    is_class = false;
    switch (e) {
      case 'd': out = digits(); is_class = true; return true;
      case 'w': out = word(); is_class = true; return true;
      case 'n': out = range('\n', '\n'); return true;
      case 't': out = range('\t', '\t'); return true;
      case 'r': out = range('\r', '\r'); return true;
      case 'f': out = range('\f', '\f'); return true;
      case 'v': out = range('\v', '\v'); return true;
      default: break;
    }
    // Identity escapes of ASCII punctuation only; letters and digits are classes, backreferences,
    // Unicode escapes or word boundaries, all left to RE2.
    const auto u = static_cast<unsigned char>(e);
    if (u < 0x80 && u > 0x20 && !std::isalnum(u)) {
      out = range(e, e);
      return true;
    }
    return false;
  }

  bool parse_atom(ast& out) {
    const char c = p_[i_];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || u < 0x20) return false;
    switch (c) {
      case '(': {
        ++i_;
        if (i_ < p_.size() && p_[i_] == '?') {
          if (i_ + 1 < p_.size() && p_[i_ + 1] == ':') {
            i_ += 2;
          } else {
            return false;  // lookarounds, named groups
          }
        }
        if (!parse_alternation(out)) return false;
        if (i_ >= p_.size() || p_[i_] != ')') return false;
        ++i_;
        return true;
      }
      case '[': return parse_class(out);
      case '\\': {
        char_set s;
        bool is_class;
        if (!parse_escape(s, is_class)) return false;
        out = single(s);
        return true;
      }
      case '.': case '^': case '$': case '*': case '+': case '?': case '{': case '}': case ']':
        return false;
      default:
        ++i_;
        out = single(range(c, c));
        return true;
    }
  }

  bool parse_class(ast& out) {
    ++i_;  // '['
    if (i_ < p_.size() && p_[i_] == '^') return false;  // negated: code-point semantics, RE2
    char_set s;
    while (i_ < p_.size() && p_[i_] != ']') {
      char_set member;
      bool is_class = false;
      char lo = 0;
      const auto u = static_cast<unsigned char>(p_[i_]);
      if (u >= 0x80 || u < 0x20) return false;
      if (p_[i_] == '\\') {
        if (!parse_escape(member, is_class)) return false;
        if (!is_class) lo = static_cast<char>(member._Find_first());
      } else if (p_[i_] == '[') {
        return false;  // a literal '[' is fine in ECMA, but rare: keep the subset small
      } else {
        lo = p_[i_++];
        member = range(lo, lo);
      }
      // A range "a-z" (a '-' first, last or next to a class escape is literal).
      if (!is_class && i_ + 1 < p_.size() && p_[i_] == '-' && p_[i_ + 1] != ']') {
        ++i_;
        char hi;
        if (p_[i_] == '\\') {
          char_set h;
          bool hi_class;
          if (!parse_escape(h, hi_class) || hi_class) return false;
          hi = static_cast<char>(h._Find_first());
        } else {
          hi = p_[i_++];
          if (static_cast<unsigned char>(hi) >= 0x80) return false;
        }
        if (hi < lo) return false;
        member = range(lo, hi);
      }
      s |= member;
    }
    if (i_ >= p_.size()) return false;
    ++i_;  // ']'
    out = single(s);
    return true;
  }

  bool parse_number(int& n) {
    size_t start = i_;
    n = 0;
    while (i_ < p_.size() && p_[i_] >= '0' && p_[i_] <= '9') {
      n = n * 10 + (p_[i_++] - '0');
      if (n > max_repeat) return false;
    }
    return i_ > start;
  }

  bool parse_quantifier(ast& atom) {
    if (i_ >= p_.size()) return true;
    int min, max;
    switch (p_[i_]) {
      case '*': min = 0; max = -1; ++i_; break;
      case '+': min = 1; max = -1; ++i_; break;
      case '?': min = 0; max = 1; ++i_; break;
      case '{': {
        ++i_;
        if (!parse_number(min)) return false;
        max = min;
        if (i_ < p_.size() && p_[i_] == ',') {
          ++i_;
          if (i_ < p_.size() && p_[i_] == '}') max = -1;
          else if (!parse_number(max) || max < min) return false;
        }
        if (i_ >= p_.size() || p_[i_] != '}') return false;
        ++i_;
        break;
      }
      default: return true;
    }
    if (i_ < p_.size() && p_[i_] == '?') ++i_;  // lazy: test() does not care
    if (i_ < p_.size() && (p_[i_] == '*' || p_[i_] == '+' || p_[i_] == '?' || p_[i_] == '{')) return false;
    ast r = ast::of(ast::repeat);
    r.min = min;
    r.max = max;
    r.children.push_back(std::move(atom));
    atom = std::move(r);
    return true;
  }

  std::string_view p_;
  size_t i_ = 0;
};

struct nfa_state {
  enum kind_t { step, split, match } kind = step;
  char_set chars;
  int out1 = -1, out2 = -1;
};

class nfa_builder {
 public:
  std::vector<nfa_state> states;
  bool overflow = false;

  int add(nfa_state s) {
    if (states.size() >= max_nfa_states) {
      overflow = true;
      return 0;
    }
    states.push_back(s);
    return static_cast<int>(states.size() - 1);
  }

  // The start state of `node` followed by `next`.
  int build(const ast& node, int next) {
    if (overflow) return 0;
    switch (node.kind) {
      case ast::set: return add({nfa_state::step, node.chars, next, -1});
      case ast::concat:
        for (auto it = node.children.rbegin(); it != node.children.rend(); ++it) next = build(*it, next);
        return next;
      case ast::alternation: {
        int s = build(node.children.back(), next);
        for (size_t i = node.children.size() - 1; i-- > 0;) s = add({nfa_state::split, {}, build(node.children[i], next), s});
        return s;
      }
      case ast::repeat: {
        const ast& child = node.children[0];
        int s;
        if (node.max < 0) {
          int loop = add({nfa_state::split, {}, -1, next});
          int body = build(child, loop);
          if (overflow) return 0;
          states[static_cast<size_t>(loop)].out1 = body;
          s = loop;
        } else {
          s = next;
          for (int k = node.min; k < node.max; ++k) s = add({nfa_state::split, {}, build(child, s), next});
        }
        for (int k = 0; k < node.min; ++k) s = build(child, s);
        return s;
      }
    }
    return next;
  }
};

void closure(const std::vector<nfa_state>& nfa, int s, std::vector<char>& seen, std::vector<int>& out) {
  std::vector<int> stack{s};
  while (!stack.empty()) {
    int x = stack.back();
    stack.pop_back();
    if (x < 0 || seen[static_cast<size_t>(x)]) continue;
    seen[static_cast<size_t>(x)] = 1;
    const auto& st = nfa[static_cast<size_t>(x)];
    if (st.kind == nfa_state::split) {
      stack.push_back(st.out2);
      stack.push_back(st.out1);
    } else {
      out.push_back(x);
    }
  }
}

}  // namespace

std::unique_ptr<fast_regex> fast_regex::build(std::string_view pattern) {
  bool anchored_start = false, anchored_end = false;
  if (!pattern.empty() && pattern.front() == '^') {
    anchored_start = true;
    pattern.remove_prefix(1);
  }
  if (!pattern.empty() && pattern.back() == '$') {
    size_t backslashes = 0;
    for (size_t i = pattern.size() - 1; i-- > 0 && pattern[i] == '\\';) ++backslashes;
    if (backslashes % 2 == 0) {
      anchored_end = true;
      pattern.remove_suffix(1);
    }
  }
  ast tree;
  if (!parser(pattern).parse(tree)) return nullptr;
  // "^a|b$" means "(^a)|(b$)": anchors next to a top-level alternation are left to RE2.
  if ((anchored_start || anchored_end) && tree.kind == ast::alternation) return nullptr;

  nfa_builder b;
  const int match = b.add({nfa_state::match, {}, -1, -1});
  const int start = b.build(tree, match);
  if (b.overflow) return nullptr;
  const auto& nfa = b.states;

  std::vector<int> start_set;
  {
    std::vector<char> seen(nfa.size());
    closure(nfa, start, seen, start_set);
    std::sort(start_set.begin(), start_set.end());
  }
  auto re = std::unique_ptr<fast_regex>(new fast_regex());
  re->anchored_end_ = anchored_end;
  std::map<std::vector<int>, uint32_t> ids;
  std::vector<std::vector<int>> sets;
  auto intern = [&](std::vector<int> set) -> int64_t {
    auto it = ids.find(set);
    if (it != ids.end()) return it->second;
    if (sets.size() >= max_states) return -1;
    auto id = static_cast<uint32_t>(sets.size());
    bool accepting = std::find(set.begin(), set.end(), match) != set.end();
    ids.emplace(set, id);
    sets.push_back(std::move(set));
    re->accept_.push_back(accepting ? 1 : 0);
    re->table_.resize(sets.size() * columns, dead);
    return id;
  };
  intern({});  // dead
  if (intern(start_set) != 1) return nullptr;
  re->start_ = 1;
  const uint32_t restart = anchored_start ? dead : 1;  // an unanchored search may begin at any byte
  std::vector<char> seen(nfa.size());
  for (size_t id = 1; id < sets.size(); ++id) {
    for (unsigned c = 0; c < 128; ++c) {
      std::fill(seen.begin(), seen.end(), 0);
      std::vector<int> next;
      for (int x : sets[id]) {
        const auto& st = nfa[static_cast<size_t>(x)];
        if (st.kind == nfa_state::step && st.chars.test(c)) closure(nfa, st.out1, seen, next);
      }
      if (!anchored_start)
        for (int x : start_set)
          if (!seen[static_cast<size_t>(x)]) {
            seen[static_cast<size_t>(x)] = 1;
            next.push_back(x);
          }
      std::sort(next.begin(), next.end());
      int64_t target = intern(std::move(next));
      if (target < 0) return nullptr;
      re->table_[id * columns + c] = static_cast<uint32_t>(target) * columns;
    }
    re->table_[id * columns + 128] = restart * columns;
  }
  return re;
}

}  // namespace aw::events::schema_detail
