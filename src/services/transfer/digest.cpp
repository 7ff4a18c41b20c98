#include "services/transfer/digest.hpp"

#include <openssl/evp.h>

// xxHash compiled in here rather than Debian's libxxhash, which is built for
// SSE2 only (14 GB/s here): the AVX2 kernels are compiled too, each with the
// target attribute, and update() picks them when the CPU has AVX2 (29 GB/s).
// Both give the same XXH3-128, which is the wire format.
#define XXH_INLINE_ALL
#define XXH_DISPATCH_AVX2 1
#define XXH_TARGET_AVX2 __attribute__((__target__("avx2")))
#include <immintrin.h>
#include <xxhash.h>

#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <vector>

namespace sockit::transfer {

using codec::transfer::DigestKind;

namespace {

__attribute__((__target__("avx2"))) void xxh3_update_avx2(XXH3_state_t* state, const void* input,
                                                          size_t length) {
  XXH3_update(state, static_cast<const xxh_u8*>(input), length, XXH3_accumulate_512_avx2,
              XXH3_scrambleAcc_avx2);
}

const bool kHasAvx2 = __builtin_cpu_supports("avx2");

}  // namespace

struct Digest::State {
  XXH3_state_t* xxh = nullptr;
  EVP_MD_CTX* sha = nullptr;
  ~State() {
    if (xxh) XXH3_freeState(xxh);
    if (sha) EVP_MD_CTX_free(sha);
  }
};

Digest::Digest(DigestKind kind) : kind_(kind), state_(std::make_unique<State>()) {
  if (kind == DigestKind::xxh3_128) {
    state_->xxh = XXH3_createState();
    if (!state_->xxh || XXH3_128bits_reset(state_->xxh) != XXH_OK) throw std::bad_alloc();
  } else if (kind == DigestKind::sha256) {
    state_->sha = EVP_MD_CTX_new();
    if (!state_->sha || EVP_DigestInit_ex(state_->sha, EVP_sha256(), nullptr) != 1) throw std::bad_alloc();
  } else {
    throw std::invalid_argument("no digest algorithm");
  }
}

Digest::Digest(Digest&&) noexcept = default;
Digest& Digest::operator=(Digest&&) noexcept = default;
Digest::~Digest() = default;

void Digest::reset() {
  if (state_->xxh) {
    if (XXH3_128bits_reset(state_->xxh) != XXH_OK) throw std::bad_alloc();
  } else if (EVP_DigestInit_ex(state_->sha, EVP_sha256(), nullptr) != 1) {
    throw std::bad_alloc();
  }
}

void Digest::update(std::span<const char> bytes) {
  if (state_->xxh && kHasAvx2)
    xxh3_update_avx2(state_->xxh, bytes.data(), bytes.size());
  else if (state_->xxh)
    XXH3_128bits_update(state_->xxh, bytes.data(), bytes.size());
  else
    EVP_DigestUpdate(state_->sha, bytes.data(), bytes.size());
}

std::string Digest::value() const {
  if (state_->xxh) {
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(state_->xxh));
    return {reinterpret_cast<const char*>(canonical.digest), sizeof canonical.digest};
  }
  // Finishing a SHA-256 ends its context: finish a copy.
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> copy(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!copy || EVP_MD_CTX_copy_ex(copy.get(), state_->sha) != 1 ||
      EVP_DigestFinal_ex(copy.get(), out, &n) != 1)
    throw std::bad_alloc();
  return {reinterpret_cast<const char*>(out), n};
}

std::error_code digest_file_prefix(int fd, std::uint64_t length, Digest& digest) {
  std::vector<char> buffer(1024 * 1024);
  std::uint64_t done = 0;
  while (done < length) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), length - done));
    ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return {errno, std::system_category()};
    if (n == 0) return std::make_error_code(std::errc::io_error);  // shorter than it was
    digest.update({buffer.data(), static_cast<std::size_t>(n)});
    done += static_cast<std::uint64_t>(n);
  }
  return {};
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    out += kDigits[static_cast<unsigned char>(c) >> 4];
    out += kDigits[static_cast<unsigned char>(c) & 15];
  }
  return out;
}

}  // namespace sockit::transfer
