// The gateway's JWT checks: the algorithm is the key's, every claim rule, and the grant claim's shape.
#include "gateway/jwt_verifier.hpp"

#include <gtest/gtest.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <chrono>
#include <memory>
#include <string>

namespace aw::events::gateway {
namespace {

using namespace std::chrono_literals;

const std::string secret = "0123456789abcdef0123456789abcdef";
const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
constexpr long now_s = 1'800'000'000;

jwt_policy policy() { return {"issuer-1", "gateway-1", 60s}; }

std::string claims(long exp = now_s + 300, const std::string& extra = "") {
  return R"({"iss":"issuer-1","aud":"gateway-1","sub":"editor","exp":)" + std::to_string(exp) +
         R"(,"events":{"subscribe":["content.book.*"],"publish":["content.book.edited"]})" + extra + "}";
}

std::string hs256(const std::string& payload, const std::string& key = secret,
                  const std::string& header = R"({"alg":"HS256","typ":"JWT"})") {
  const auto input = base64url_encode(header) + "." + base64url_encode(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac, &size);
  return input + "." + base64url_encode(std::string(reinterpret_cast<char*>(mac), size));
}

struct pkey_free {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using pkey = std::unique_ptr<EVP_PKEY, pkey_free>;

std::string public_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return pem;
}

std::string sign(EVP_PKEY* key, const std::string& payload, const std::string& alg) {
  const auto input = base64url_encode(R"({"alg":")" + alg + R"("})") + "." + base64url_encode(payload);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
  std::size_t size = 0;
  EVP_DigestSign(ctx, nullptr, &size, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string sig(size, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &size,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  sig.resize(size);
  EVP_MD_CTX_free(ctx);
  if (alg == "ES256") {  // DER -> R || S
    const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* parsed = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(parsed), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(parsed), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(parsed);
    sig = raw;
  }
  return input + "." + base64url_encode(sig);
}

jwt_verifier hs_verifier() { return *jwt_verifier::from_secret(secret, policy()); }

void expect_refused(const result<token_claims>& r, const std::string& why) {
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::authorization_failed) << r.error().message;
  EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
}

TEST(jwt_verifier, accepts_a_valid_hs256_token_and_reads_grants) {
  auto verified = hs_verifier().verify(hs256(claims()), now);
  ASSERT_TRUE(verified.has_value()) << verified.error().message;
  EXPECT_EQ(verified->subject, "editor");
  EXPECT_EQ(verified->subscribe, std::vector<std::string>{"content.book.*"});
  EXPECT_EQ(verified->publish, std::vector<std::string>{"content.book.edited"});
  EXPECT_EQ(verified->expires, std::chrono::system_clock::time_point(std::chrono::seconds(now_s + 300)));
}

TEST(jwt_verifier, secret_ignores_one_trailing_newline_and_refuses_short_keys) {
  auto with_newline = jwt_verifier::from_secret(secret + "\n", policy());
  ASSERT_TRUE(with_newline.has_value());
  EXPECT_TRUE(with_newline->verify(hs256(claims()), now).has_value());
  EXPECT_FALSE(jwt_verifier::from_secret("short\n", policy()).has_value());
  EXPECT_FALSE(jwt_verifier::from_secret(secret, {"", "aud", 60s}).has_value());
  EXPECT_FALSE(jwt_verifier::from_secret(secret, {"iss", "", 60s}).has_value());
  EXPECT_FALSE(jwt_verifier::from_secret(secret, {"iss", "aud", 61s}).has_value());
}

TEST(jwt_verifier, refuses_bad_signature_and_malformed_tokens) {
  const auto v = hs_verifier();
  expect_refused(v.verify(hs256(claims(), "another secret of thirty-two bytes!"), now), "signature");
  auto token = hs256(claims());
  token.back() = token.back() == 'A' ? 'B' : 'A';
  expect_refused(v.verify(token, now), "");
  expect_refused(v.verify("", now), "no token");
  expect_refused(v.verify("a.b", now), "compact form");
  expect_refused(v.verify("a.b.c.d", now), "compact form");
  expect_refused(v.verify("!!.e30.", now), "base64url");
  expect_refused(v.verify(base64url_encode("[1]") + ".e30.", now), "header");
}

TEST(jwt_verifier, refuses_alg_none_in_every_spelling_and_foreign_algorithms) {
  const auto v = hs_verifier();
  for (std::string alg : {"none", "None", "NONE", "nOnE"}) {
    const auto token = base64url_encode(R"({"alg":")" + alg + R"("})") + "." + base64url_encode(claims()) + ".";
    expect_refused(v.verify(token, now), "unsigned");
  }
  expect_refused(v.verify(hs256(claims(), secret, R"({"alg":"HS512"})"), now), "does not match");
  expect_refused(v.verify(hs256(claims(), secret, R"({"alg":"RS256"})"), now), "does not match");
  expect_refused(v.verify(hs256(claims(), secret, R"({"typ":"JWT"})"), now), "alg");
  expect_refused(v.verify(hs256(claims(), secret, R"({"alg":"HS256","crit":["exp"]})"), now), "crit");
}

TEST(jwt_verifier, checks_time_claims_with_leeway) {
  const auto v = hs_verifier();
  expect_refused(v.verify(hs256(claims(now_s - 61)), now), "expired");
  EXPECT_TRUE(v.verify(hs256(claims(now_s - 59)), now).has_value());  // within 60 s leeway
  expect_refused(v.verify(hs256(R"({"iss":"issuer-1","aud":"gateway-1"})"), now), "exp");
  expect_refused(v.verify(hs256(claims(now_s + 300, ",\"nbf\":" + std::to_string(now_s + 61))), now), "nbf");
  EXPECT_TRUE(v.verify(hs256(claims(now_s + 300, ",\"nbf\":" + std::to_string(now_s + 59))), now).has_value());
  expect_refused(v.verify(hs256(claims(now_s + 300, ",\"iat\":" + std::to_string(now_s + 120))), now), "iat");
  expect_refused(v.verify(hs256(R"({"iss":"issuer-1","aud":"gateway-1","exp":"soon"})"), now), "NumericDate");
  auto strict = *jwt_verifier::from_secret(secret, {"issuer-1", "gateway-1", 0s});
  expect_refused(strict.verify(hs256(claims(now_s)), now), "expired");
}

TEST(jwt_verifier, requires_exact_issuer_and_audience) {
  const auto v = hs_verifier();
  const auto exp = std::to_string(now_s + 300);
  expect_refused(v.verify(hs256(R"({"iss":"issuer-2","aud":"gateway-1","exp":)" + exp + "}"), now), "iss");
  expect_refused(v.verify(hs256(R"({"iss":"issuer-1x","aud":"gateway-1","exp":)" + exp + "}"), now), "iss");
  expect_refused(v.verify(hs256(R"({"aud":"gateway-1","exp":)" + exp + "}"), now), "iss");
  expect_refused(v.verify(hs256(R"({"iss":"issuer-1","aud":"gateway-2","exp":)" + exp + "}"), now), "aud");
  expect_refused(v.verify(hs256(R"({"iss":"issuer-1","exp":)" + exp + "}"), now), "aud");
  EXPECT_TRUE(v.verify(hs256(R"({"iss":"issuer-1","aud":["x","gateway-1"],"exp":)" + exp + "}"), now).has_value());
}

TEST(jwt_verifier, malformed_grants_are_invalid_argument_naming_the_pointer) {
  const auto v = hs_verifier();
  const auto exp = std::to_string(now_s + 300);
  const auto with_events = [&](const std::string& events) {
    return v.verify(hs256(R"({"iss":"issuer-1","aud":"gateway-1","exp":)" + exp + R"(,"events":)" + events + "}"), now);
  };
  auto r = with_events(R"({"subscribe":["content.Book.*"]})");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  EXPECT_NE(r.error().message.find("/events/subscribe/0"), std::string::npos) << r.error().message;
  r = with_events(R"({"publish":"content.*"})");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("/events/publish"), std::string::npos);
  r = with_events(R"({"read":[]})");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("read"), std::string::npos);
  r = with_events("[]");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::invalid_argument);
}

TEST(jwt_verifier, rs256_key_binds_the_algorithm) {
  pkey rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  ASSERT_TRUE(rsa);
  const auto pem = public_pem(rsa.get());
  auto v = jwt_verifier::from_public_key_pem(pem, policy());
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ(v->algorithm(), jwt_algorithm::rs256);
  EXPECT_TRUE(v->verify(sign(rsa.get(), claims(), "RS256"), now).has_value());
  // The classic confusion attack: HS256 MAC'd with the public key as the secret.
  expect_refused(v->verify(hs256(claims(), pem), now), "does not match");
  pkey other(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  expect_refused(v->verify(sign(other.get(), claims(), "RS256"), now), "signature");
}

TEST(jwt_verifier, es256_key_binds_the_algorithm) {
  pkey ec(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  ASSERT_TRUE(ec);
  auto v = jwt_verifier::from_public_key_pem(public_pem(ec.get()), policy());
  ASSERT_TRUE(v.has_value()) << v.error().message;
  EXPECT_EQ(v->algorithm(), jwt_algorithm::es256);
  EXPECT_TRUE(v->verify(sign(ec.get(), claims(), "ES256"), now).has_value());
  auto tampered = sign(ec.get(), claims(), "ES256");
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  expect_refused(v->verify(tampered, now), "");
  pkey rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  expect_refused(v->verify(sign(rsa.get(), claims(), "RS256"), now), "does not match");
}

TEST(jwt_verifier, refuses_unusable_public_keys) {
  EXPECT_FALSE(jwt_verifier::from_public_key_pem("not a key", policy()).has_value());
  pkey small(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(1024)));
  auto r = jwt_verifier::from_public_key_pem(public_pem(small.get()), policy());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("2048"), std::string::npos);
  pkey p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  r = jwt_verifier::from_public_key_pem(public_pem(p384.get()), policy());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("P-256"), std::string::npos);
}

TEST(base64url, round_trips_and_rejects_non_canonical_input) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00", 3)}) {
    std::string out;
    ASSERT_TRUE(base64url_decode(base64url_encode(s), out));
    EXPECT_EQ(out, s);
  }
  std::string out;
  EXPECT_FALSE(base64url_decode("Zm9v=", out));  // padding
  EXPECT_FALSE(base64url_decode("Zm+v", out));   // standard alphabet
  EXPECT_FALSE(base64url_decode("Z", out));      // impossible length
  EXPECT_FALSE(base64url_decode("Zh", out));     // non-zero leftover bits
}

}  // namespace
}  // namespace aw::events::gateway
