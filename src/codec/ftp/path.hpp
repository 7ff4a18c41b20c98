// Virtual paths: what a client names (relative to its working directory or
// absolute from its root) made into one normalised absolute path inside the
// account's root. Purely lexical: "." and empty parts vanish, ".." removes a
// part and can never climb above "/". The file system then resolves the
// result beneath the root with openat2(RESOLVE_BENEATH), which handles
// symlinks; this layer only makes sure the *name* cannot leave.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sockit::codec::ftp {

inline constexpr std::size_t kMaxPath = 4096;

// `cwd` is a normalised absolute path ("/" or "/a/b"); `arg` is what the
// client sent. Nothing when the result would be longer than kMaxPath or
// `arg` holds a NUL.
std::optional<std::string> resolve_path(std::string_view cwd, std::string_view arg);

// "/a/b" -> "a/b"; "/" -> "." (for openat beneath the root).
std::string relative_to_root(std::string_view virtual_path);

// "/a/b" -> "/a"; "/a" -> "/"; "/" -> "/".
std::string parent_path(std::string_view virtual_path);
// "/a/b" -> "b"; "/" -> "".
std::string_view leaf_name(std::string_view virtual_path);

// True when `path` is `dir` or inside it (both normalised).
bool is_within(std::string_view path, std::string_view dir);

}  // namespace sockit::codec::ftp
