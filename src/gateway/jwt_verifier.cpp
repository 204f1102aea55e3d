#include "gateway/jwt_verifier.hpp"

#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "gateway/event_patterns.hpp"

namespace aw::events::gateway {

namespace {

struct pkey_deleter {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct md_ctx_deleter {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
struct bio_deleter {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct ecdsa_sig_deleter {
  void operator()(ECDSA_SIG* s) const noexcept { ECDSA_SIG_free(s); }
};

tl::unexpected<error> refuse(std::string why) { return make_error(errc::authorization_failed, std::move(why)); }

int base64url_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

result<std::string> read_file(const std::filesystem::path& file, std::string_view what) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(errc::invalid_argument, std::string(what) + " " + file.string() + ": cannot be read");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// A JSON number claim as whole seconds since the epoch (NumericDate, fractions truncated).
result<std::int64_t> numeric_date(simdjson::dom::element value, std::string_view name) {
  double seconds = 0;
  if (value.is_int64()) return value.get_int64().value();
  if (value.is_uint64()) return make_error(errc::authorization_failed, "claim " + std::string(name) + " is out of range");
  if (value.get_double().get(seconds) == simdjson::SUCCESS && seconds > -1e15 && seconds < 1e15) {
    return static_cast<std::int64_t>(seconds);
  }
  return refuse("claim " + std::string(name) + " must be a NumericDate (seconds since the epoch)");
}

result<std::vector<std::string>> pattern_list(simdjson::dom::element value, std::string_view pointer) {
  simdjson::dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS) {
    return make_error(errc::invalid_argument, "claim " + std::string(pointer) + " must be an array of event type patterns");
  }
  std::vector<std::string> patterns;
  std::size_t index = 0;
  for (auto item : array) {
    std::string_view text;
    const auto where = std::string(pointer) + "/" + std::to_string(index++);
    if (item.get_string().get(text) != simdjson::SUCCESS) {
      return make_error(errc::invalid_argument, "claim " + where + " must be a string");
    }
    if (auto ok = parse_event_pattern(text); !ok) {
      return make_error(errc::invalid_argument, "claim " + where + ": " + ok.error().message);
    }
    patterns.emplace_back(text);
  }
  return patterns;
}

}  // namespace

std::string_view to_string(jwt_algorithm alg) noexcept {
  switch (alg) {
    case jwt_algorithm::hs256: return "HS256";
    case jwt_algorithm::rs256: return "RS256";
    case jwt_algorithm::es256: return "ES256";
  }
  return "?";
}

bool base64url_decode(std::string_view text, std::string& out) {
  out.clear();
  if (text.size() % 4 == 1) return false;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    const int v = base64url_value(c);
    if (v < 0) return false;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    if (++count == 4) {
      out.push_back(static_cast<char>((bits >> 16) & 0xff));
      out.push_back(static_cast<char>((bits >> 8) & 0xff));
      out.push_back(static_cast<char>(bits & 0xff));
      bits = 0;
      count = 0;
    }
  }
  // Leftover bits must be zero so that one token has exactly one encoding.
  if (count == 2) {
    if (bits & 0xf) return false;
    out.push_back(static_cast<char>((bits >> 4) & 0xff));
  } else if (count == 3) {
    if (bits & 0x3) return false;
    out.push_back(static_cast<char>((bits >> 10) & 0xff));
    out.push_back(static_cast<char>((bits >> 2) & 0xff));
  }
  return true;
}

std::string base64url_encode(std::string_view bytes) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
                   (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                   static_cast<unsigned char>(bytes[i + 2]);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  if (i + 1 == bytes.size()) {
    const auto n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
  } else if (i + 2 == bytes.size()) {
    const auto n = (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
                   (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
  }
  return out;
}

result<void> jwt_policy::validate() const {
  if (issuer.empty()) return make_error(errc::invalid_argument, "--jwt-issuer is required: tokens must name their issuer");
  if (audience.empty()) {
    return make_error(errc::invalid_argument, "--jwt-audience is required: tokens must name this gateway's audience");
  }
  if (leeway < std::chrono::seconds(0) || leeway > std::chrono::seconds(60)) {
    return make_error(errc::invalid_argument, "jwt leeway must be 0..60 seconds");
  }
  return {};
}

struct jwt_verifier::key {
  jwt_algorithm algorithm = jwt_algorithm::hs256;
  std::string secret;  // HS256
  std::unique_ptr<EVP_PKEY, pkey_deleter> public_key;  // RS256 / ES256

  bool verify_signature(std::string_view signing_input, std::string_view signature) const {
    if (algorithm == jwt_algorithm::hs256) {
      unsigned char mac[EVP_MAX_MD_SIZE];
      unsigned int mac_size = 0;
      if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
               reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
               &mac_size) == nullptr) {
        return false;
      }
      return signature.size() == mac_size && CRYPTO_memcmp(mac, signature.data(), mac_size) == 0;
    }
    std::string der;
    if (algorithm == jwt_algorithm::es256) {
      // JWS carries R || S (32 bytes each); OpenSSL wants a DER ECDSA-Sig-Value.
      if (signature.size() != 64) return false;
      std::unique_ptr<ECDSA_SIG, ecdsa_sig_deleter> sig(ECDSA_SIG_new());
      BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()), 32, nullptr);
      BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()) + 32, 32, nullptr);
      if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return false;
      }
      const int size = i2d_ECDSA_SIG(sig.get(), nullptr);
      if (size <= 0) return false;
      der.resize(static_cast<std::size_t>(size));
      auto* cursor = reinterpret_cast<unsigned char*>(der.data());
      i2d_ECDSA_SIG(sig.get(), &cursor);
      signature = der;
    }
    std::unique_ptr<EVP_MD_CTX, md_ctx_deleter> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, public_key.get()) != 1) return false;
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
  }
};

jwt_verifier::jwt_verifier(std::shared_ptr<const key> k, jwt_policy policy) : key_(std::move(k)), policy_(std::move(policy)) {}
jwt_verifier::jwt_verifier(jwt_verifier&&) noexcept = default;
jwt_verifier& jwt_verifier::operator=(jwt_verifier&&) noexcept = default;
jwt_verifier::~jwt_verifier() = default;

jwt_algorithm jwt_verifier::algorithm() const noexcept { return key_->algorithm; }
const jwt_policy& jwt_verifier::policy() const noexcept { return policy_; }

result<jwt_verifier> jwt_verifier::from_secret(std::string secret, jwt_policy policy) {
  if (auto ok = policy.validate(); !ok) return make_error(ok.error());
  if (secret.ends_with("\r\n")) {
    secret.resize(secret.size() - 2);
  } else if (secret.ends_with('\n')) {
    secret.pop_back();
  }
  if (secret.size() < 32) {
    return make_error(errc::invalid_argument, "HS256 secret must be at least 32 bytes (RFC 7518 §3.2), got " +
                                                  std::to_string(secret.size()));
  }
  auto k = std::make_shared<key>();
  k->algorithm = jwt_algorithm::hs256;
  k->secret = std::move(secret);
  return jwt_verifier(std::move(k), std::move(policy));
}

result<jwt_verifier> jwt_verifier::from_secret_file(const std::filesystem::path& file, jwt_policy policy) {
  auto bytes = read_file(file, "--jwt-secret-file");
  if (!bytes) return make_error(bytes.error());
  auto made = from_secret(std::move(*bytes), std::move(policy));
  if (!made) return make_error(errc::invalid_argument, "--jwt-secret-file " + file.string() + ": " + made.error().message);
  return made;
}

result<jwt_verifier> jwt_verifier::from_public_key_pem(std::string_view pem, jwt_policy policy) {
  if (auto ok = policy.validate(); !ok) return make_error(ok.error());
  std::unique_ptr<BIO, bio_deleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return make_error(errc::internal, "cannot allocate an OpenSSL BIO");
  std::unique_ptr<EVP_PKEY, pkey_deleter> pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey) return make_error(errc::invalid_argument, "not a PEM public key (-----BEGIN PUBLIC KEY-----)");
  auto k = std::make_shared<key>();
  switch (EVP_PKEY_base_id(pkey.get())) {
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(pkey.get()) < 2048) {
        return make_error(errc::invalid_argument, "RSA key has " + std::to_string(EVP_PKEY_get_bits(pkey.get())) +
                                                      " bits; RS256 needs at least 2048");
      }
      k->algorithm = jwt_algorithm::rs256;
      break;
    case EVP_PKEY_EC: {
      char group[64] = {};
      std::size_t length = 0;
      if (EVP_PKEY_get_group_name(pkey.get(), group, sizeof group, &length) != 1 ||
          std::string_view(group, length) != "prime256v1") {
        return make_error(errc::invalid_argument, "EC key is on curve \"" + std::string(group, length) +
                                                      "\"; ES256 needs P-256 (prime256v1)");
      }
      k->algorithm = jwt_algorithm::es256;
      break;
    }
    default: return make_error(errc::invalid_argument, "public key is neither RSA nor EC P-256");
  }
  k->public_key = std::move(pkey);
  return jwt_verifier(std::move(k), std::move(policy));
}

result<jwt_verifier> jwt_verifier::from_public_key_file(const std::filesystem::path& file, jwt_policy policy) {
  auto bytes = read_file(file, "--jwt-public-key-file");
  if (!bytes) return make_error(bytes.error());
  auto made = from_public_key_pem(*bytes, std::move(policy));
  if (!made) {
    return make_error(made.error().code, "--jwt-public-key-file " + file.string() + ": " + made.error().message);
  }
  return made;
}

result<token_claims> jwt_verifier::verify(std::string_view token, std::chrono::system_clock::time_point now) const {
  if (token.empty()) return refuse("no token");
  if (token.size() > 8192) return refuse("token longer than 8192 bytes");
  const auto first_dot = token.find('.');
  const auto second_dot = first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos) {
    return refuse("token is not a JWS in compact form (header.payload.signature)");
  }
  std::string header_json, payload_json, signature;
  if (!base64url_decode(token.substr(0, first_dot), header_json)) return refuse("token header is not base64url");
  if (!base64url_decode(token.substr(first_dot + 1, second_dot - first_dot - 1), payload_json)) {
    return refuse("token payload is not base64url");
  }
  if (!base64url_decode(token.substr(second_dot + 1), signature)) return refuse("token signature is not base64url");

  simdjson::dom::parser parser;
  simdjson::dom::object header;
  if (parser.parse(header_json).get_object().get(header) != simdjson::SUCCESS) {
    return refuse("token header is not a JSON object");
  }
  std::string_view alg;
  if (header["alg"].get_string().get(alg) != simdjson::SUCCESS) return refuse("token header has no string \"alg\"");
  std::string lowered(alg);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lowered == "none") return refuse("unsigned tokens (alg \"none\") are refused");
  if (alg != to_string(key_->algorithm)) {
    return refuse("token alg \"" + std::string(alg.substr(0, 16)) + "\" does not match the configured key's " +
                  std::string(to_string(key_->algorithm)));
  }
  if (header["crit"].error() != simdjson::NO_SUCH_FIELD) return refuse("token header \"crit\" extensions are not supported");
  if (!key_->verify_signature(token.substr(0, second_dot), signature)) return refuse("token signature is invalid");

  // Signature good: the claims can be trusted as the issuer wrote them; now check they apply to us and now.
  simdjson::dom::object claims;
  if (parser.parse(payload_json).get_object().get(claims) != simdjson::SUCCESS) {
    return refuse("token payload is not a JSON object");
  }
  const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto leeway = policy_.leeway.count();
  token_claims out;
  simdjson::dom::element value;
  if (claims["exp"].get(value) != simdjson::SUCCESS) return refuse("token has no \"exp\" claim");
  auto exp = numeric_date(value, "exp");
  if (!exp) return make_error(exp.error());
  if (now_s >= *exp + leeway) return refuse("token expired");
  out.expires = std::chrono::system_clock::time_point(std::chrono::seconds(*exp));
  if (claims["nbf"].get(value) == simdjson::SUCCESS) {
    auto nbf = numeric_date(value, "nbf");
    if (!nbf) return make_error(nbf.error());
    if (now_s + leeway < *nbf) return refuse("token not yet valid (nbf)");
  }
  if (claims["iat"].get(value) == simdjson::SUCCESS) {
    auto iat = numeric_date(value, "iat");
    if (!iat) return make_error(iat.error());
    if (now_s + leeway < *iat) return refuse("token issued in the future (iat)");
  }
  std::string_view text;
  if (claims["iss"].get_string().get(text) != simdjson::SUCCESS || text != policy_.issuer) {
    return refuse("token issuer (iss) is not the configured issuer");
  }
  bool audience_ok = false;
  if (claims["aud"].get(value) == simdjson::SUCCESS) {
    if (value.get_string().get(text) == simdjson::SUCCESS) {
      audience_ok = text == policy_.audience;
    } else if (value.is_array()) {
      for (auto item : value.get_array()) {
        if (item.get_string().get(text) == simdjson::SUCCESS && text == policy_.audience) audience_ok = true;
      }
    }
  }
  if (!audience_ok) return refuse("token audience (aud) does not include the configured audience");
  if (claims["sub"].get(value) == simdjson::SUCCESS) {
    if (value.get_string().get(text) != simdjson::SUCCESS) return refuse("claim sub must be a string");
    out.subject = std::string(text);
  }
  if (claims["events"].get(value) == simdjson::SUCCESS) {
    simdjson::dom::object events;
    if (value.get_object().get(events) != simdjson::SUCCESS) {
      return make_error(errc::invalid_argument, "claim /events must be an object {\"subscribe\":[…],\"publish\":[…]}");
    }
    for (auto [name, member] : events) {
      if (name == "subscribe") {
        auto list = pattern_list(member, "/events/subscribe");
        if (!list) return make_error(list.error());
        out.subscribe = std::move(*list);
      } else if (name == "publish") {
        auto list = pattern_list(member, "/events/publish");
        if (!list) return make_error(list.error());
        out.publish = std::move(*list);
      } else {
        return make_error(errc::invalid_argument, "claim /events has unknown member \"" + std::string(name.substr(0, 32)) +
                                                      "\" (expected subscribe, publish)");
      }
    }
  }
  return out;
}

}  // namespace aw::events::gateway
