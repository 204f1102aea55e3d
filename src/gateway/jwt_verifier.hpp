// JWT verification for the gateway (RFC 7519 / 7515 compact form) with OpenSSL. The algorithm is bound to the
// configured key: HS256 for a shared secret, RS256 for an RSA public key, ES256 for a P-256 public key. The
// token's `alg` must name exactly that algorithm (so `none` in any spelling and an HS256 token MAC'd with our
// public key are refused), and the claims are checked here: `exp` required, `nbf`/`iat` with leeway, exact
// `iss`, `aud` containing our audience, and the `events` grant claim well formed.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "aw/events/result.hpp"

namespace aw::events::gateway {

enum class jwt_algorithm { hs256, rs256, es256 };
[[nodiscard]] std::string_view to_string(jwt_algorithm alg) noexcept;

struct jwt_policy {
  std::string issuer;    // required: `iss` must equal it
  std::string audience;  // required: `aud` (a string or an array) must contain it
  std::chrono::seconds leeway{60};  // clock skew allowed on exp/nbf/iat; at most 60 s
  [[nodiscard]] result<void> validate() const;
};

// What a verified token grants.
struct token_claims {
  std::string subject;  // `sub`, "" when absent
  std::chrono::system_clock::time_point expires;  // `exp` (without leeway)
  std::vector<std::string> subscribe;  // `events.subscribe` patterns, as written
  std::vector<std::string> publish;    // `events.publish` patterns, as written
};

class jwt_verifier {
 public:
  // HS256 with the file's bytes as the key (one trailing "\n" or "\r\n" ignored); at least 32 bytes.
  [[nodiscard]] static result<jwt_verifier> from_secret_file(const std::filesystem::path& file, jwt_policy policy);
  [[nodiscard]] static result<jwt_verifier> from_secret(std::string secret, jwt_policy policy);
  // RS256 (RSA >= 2048 bits) or ES256 (P-256), chosen by the PEM public key's type.
  [[nodiscard]] static result<jwt_verifier> from_public_key_file(const std::filesystem::path& file, jwt_policy policy);
  [[nodiscard]] static result<jwt_verifier> from_public_key_pem(std::string_view pem, jwt_policy policy);

  // Verifies signature and claims at `now`. Errors are errc::authorization_failed (bad token: the message says
  // why, never quoting the token) or errc::invalid_argument (the `events` claim is malformed: a bad grant).
  // Thread-safe.
  [[nodiscard]] result<token_claims> verify(std::string_view token, std::chrono::system_clock::time_point now) const;

  [[nodiscard]] jwt_algorithm algorithm() const noexcept;
  [[nodiscard]] const jwt_policy& policy() const noexcept;

  jwt_verifier(jwt_verifier&&) noexcept;
  jwt_verifier& operator=(jwt_verifier&&) noexcept;
  ~jwt_verifier();

 private:
  struct key;
  jwt_verifier(std::shared_ptr<const key> key, jwt_policy policy);
  std::shared_ptr<const key> key_;
  jwt_policy policy_;
};

// Strict base64url without padding (RFC 7515 §2); nullopt-like empty result with ok=false on bad input.
[[nodiscard]] bool base64url_decode(std::string_view text, std::string& out);
[[nodiscard]] std::string base64url_encode(std::string_view bytes);

}  // namespace aw::events::gateway
