# Debian 12 packages (scripts/install-deps): Boost 1.81, OpenSSL 3, libsodium,
# CLI11, toml++, spdlog + fmt, libedit, xxHash.
find_package(Boost 1.81 REQUIRED COMPONENTS url)
find_package(Threads REQUIRED)
# zlib: gzip/deflate bodies for sockit get --compressed.
find_package(ZLIB REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus)
pkg_check_modules(LIBEDIT REQUIRED IMPORTED_TARGET libedit)
# xxHash: XXH3-128, the transfer checksum (fast enough to stay off the critical path).
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
# libsodium: argon2id password hashes for FTP accounts (crypto_pwhash_str).
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)

# Asio options shared by every target that includes it.
add_library(sockit_asio INTERFACE)
target_link_libraries(sockit_asio INTERFACE Boost::boost Threads::Threads)
target_compile_definitions(sockit_asio INTERFACE
  BOOST_ASIO_NO_DEPRECATED
  BOOST_ASIO_DISABLE_BOOST_COROUTINE)
